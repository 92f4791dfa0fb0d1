"""The association directory: pages by status, one association's page, search, founding-member
interest and applications, and the staff changes (add, edit a field, change status: an association
that becomes active numbers its founding members)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import association_fields as fields
from bot.services import decisions, members, subscriptions
from bot.services.errors import DomainError, NotFound
from bot.services.staff import scope_of
from bot.text import collation_key, normalize_numeric, search_key
from db.models import Application, Association, FoundingInterest, Member, Profile
from db.models.applications import APPROVED, MORE_INFO, SUBMITTED
from db.models.associations import ACTIVE, EVIDENCE_KINDS, FORMING, INACTIVE, STATUSES
from db.session import rowcount

# What the directory's handlers show (they never import the database layer).
__all__ = ["ACTIVE", "APPROVED", "EVIDENCE_KINDS", "FORMING", "INACTIVE", "STATUSES", "Association"]

PAGE_SIZE = 8
ALL = "all"
FILTERS = (ALL, *STATUSES)

# Search: rapidfuzz WRatio on search keys; see docs/directory.md for why this scorer and cut-off.
SEARCH_CUTOFF = 70.0
SEARCH_LIMIT = 10


@dataclass(frozen=True)
class Page:
    """One page of the directory."""

    items: list[Association]
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number + 1 < self.pages


async def page(session: AsyncSession, status: str = ALL, number: int = 0) -> Page:
    """Page `number` (from 0) of the associations with `status` (or all), in Persian alphabetical order;
    a number out of range gives the nearest page."""
    query = select(Association.id, Association.name_key)
    if status != ALL:
        if status not in STATUSES:
            raise DomainError("bad_status")
        query = query.where(Association.status == status)
    # A chamber has tens of associations (the country 17,000): sorting the keys here is cheap and
    # gives the Persian order no database collation offers on both SQLite and PostgreSQL.
    keys = sorted((collation_key(row[1]), row[0]) for row in await session.execute(query))
    total = len(keys)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(number, 0), pages - 1)
    ids = [id_ for _, id_ in keys[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]]
    rows = {row.id: row for row in await session.scalars(select(Association).where(Association.id.in_(ids)))}
    return Page([rows[id_] for id_ in ids], number, pages, total)


async def get(session: AsyncSession, association_id: int) -> Association:
    """One association (NotFound if there is none)."""
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("unknown_association")
    return association


async def in_order(session: AsyncSession) -> list[Association]:
    """Every association, in Persian alphabetical order (for lists to pick one from)."""
    return sorted(await session.scalars(select(Association)), key=lambda a: collation_key(a.name))


@dataclass(frozen=True)
class Card:
    """An association's page for one user: the association and the facts around it (staff covering
    it also get the founding-member figures)."""

    association: Association
    members: int
    subscribed: bool
    interested: bool
    staff: bool = False
    interests: int = 0  # people who said they want to be founding members
    founding_waiting: int = 0  # founding-member applications waiting for a decision


async def card(session: AsyncSession, association_id: int, user_id: int, admin_ids: Collection[int]) -> Card:
    """What the association's page shows this user (NotFound if the association is gone)."""
    association = await get(session, association_id)
    staff = (await scope_of(session, user_id, admin_ids)).covers(association_id)
    waiting = 0
    if staff and association.status == FORMING:
        waiting = await _count(
            select(func.count())
            .select_from(Application)
            .where(
                Application.association_id == association_id,
                Application.founding.is_(True),
                Application.status.in_((SUBMITTED, MORE_INFO)),
            ),
            session,
        )
    return Card(
        association,
        members=await members.member_count(session, association_id),
        subscribed=await subscriptions.is_subscribed(session, user_id, association_id),
        interested=await has_interest(session, user_id, association_id),
        staff=staff,
        interests=await interest_count(session, association_id) if staff else 0,
        founding_waiting=waiting,
    )


async def _count(query: Any, session: AsyncSession) -> int:
    return int(await session.scalar(query) or 0)


async def search(session: AsyncSession, text: str, limit: int = SEARCH_LIMIT) -> list[Association]:
    """Associations matching `text`, closest first (by name, then category and description)."""
    query = search_key(text)
    if not query:
        return []
    rows = list(await session.scalars(select(Association)))
    by_id = {row.id: row for row in rows}
    numeric = normalize_numeric(text)
    exact = [by_id[int(numeric)]] if numeric.isdecimal() and int(numeric) in by_id else []
    names = {row.id: row.name_key for row in rows}
    others = {row.id: search_key(f"{row.category} {row.description}") for row in rows}
    scores: dict[int, float] = {}
    for choices, weight in ((names, 1.0), (others, 0.9)):
        # Also without spaces, so «صادر کنندگان» meets «صادرکنندگان» (ZWNJ is already a space).
        compact = {key: value.replace(" ", "") for key, value in choices.items()}
        for probe, pool in ((query, choices), (query.replace(" ", ""), compact)):
            for _, score, key in process.extract(
                probe, pool, scorer=fuzz.WRatio, score_cutoff=SEARCH_CUTOFF, limit=None
            ):
                scores[key] = max(scores.get(key, 0.0), score * weight)
    ranked = sorted(scores, key=lambda key: (-scores[key], collation_key(names[key])))
    found = exact + [by_id[key] for key in ranked if by_id[key] not in exact]
    return found[:limit]


# ---------------------------------------------------------------- founding members


async def register_interest(session: AsyncSession, user_id: int, association_id: int) -> bool:
    """'I want to be a founding member'; True if newly recorded. Only for associations being formed."""
    association = await get(session, association_id)
    if association.status != FORMING:
        raise DomainError("not_forming")
    existing = await session.scalar(
        select(FoundingInterest.id).where(
            FoundingInterest.association_id == association_id, FoundingInterest.user_id == user_id
        )
    )
    if existing is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(FoundingInterest(association_id=association_id, user_id=user_id))
    except IntegrityError:  # the same user pressed twice at once
        return False
    return True


async def withdraw_interest(session: AsyncSession, user_id: int, association_id: int) -> bool:
    """Take back a founding-member interest; True if there was one."""
    result = await session.execute(
        delete(FoundingInterest).where(
            FoundingInterest.association_id == association_id, FoundingInterest.user_id == user_id
        )
    )
    return bool(rowcount(result))


async def has_interest(session: AsyncSession, user_id: int, association_id: int) -> bool:
    """Whether the user said they want to be a founding member."""
    query = select(FoundingInterest.id).where(
        FoundingInterest.association_id == association_id, FoundingInterest.user_id == user_id
    )
    return await session.scalar(query) is not None


async def interest_count(session: AsyncSession, association_id: int) -> int:
    """How many people want to be founding members."""
    query = (
        select(func.count())
        .select_from(FoundingInterest)
        .where(FoundingInterest.association_id == association_id)
    )
    return await _count(query, session)


INTERESTED = "interested"


@dataclass(frozen=True)
class Founder:
    """Someone on an association's founding-members list: an applicant (`status` is the application's:
    approved, submitted or more_info) or someone who only said they are interested."""

    user_id: int | None
    full_name: str | None
    mobile: str | None
    city: str | None
    status: str = INTERESTED
    tracking_code: str | None = None


@dataclass(frozen=True)
class FoundingList:
    """An association's founding-members list, for its staff."""

    association: Association
    applicants: list[Founder] = field(default_factory=list)  # approved first, then waiting
    interested: list[Founder] = field(default_factory=list)  # not (yet) applied, earliest first


async def founding_list(session: AsyncSession, association_id: int) -> FoundingList:
    """Founding-member applications (approved and waiting) and the interested who have not applied."""
    association = await get(session, association_id)
    applications = await session.scalars(
        select(Application)
        .where(
            Application.association_id == association_id,
            Application.founding.is_(True),
            Application.status.in_((APPROVED, SUBMITTED, MORE_INFO)),
        )
        .order_by(Application.submitted_at, Application.id)
    )
    applicants = sorted(
        (Founder(a.user_id, a.full_name, a.mobile, a.city, a.status, a.tracking_code) for a in applications),
        key=lambda founder: founder.status != APPROVED,
    )
    applied = {a.user_id for a in applicants}
    rows = await session.execute(
        select(FoundingInterest.user_id, Profile.full_name, Profile.mobile, Profile.city)
        .outerjoin(Profile, Profile.user_id == FoundingInterest.user_id)
        .where(FoundingInterest.association_id == association_id)
        .order_by(FoundingInterest.created_at, FoundingInterest.id)
    )
    interested = [Founder(row[0], row[1], row[2], row[3]) for row in rows if row[0] not in applied]
    return FoundingList(association, applicants, interested)


# ---------------------------------------------------------------- staff changes


async def name_taken(session: AsyncSession, name: str, exclude_id: int | None = None) -> Association | None:
    """The association whose normalised name equals `name`'s, if any."""
    query = select(Association).where(Association.name_key == search_key(name))
    if exclude_id is not None:
        query = query.where(Association.id != exclude_id)
    return await session.scalar(query.limit(1))


async def create(
    session: AsyncSession, name: str, description: str = "", status: str = FORMING, **values: Any
) -> Association:
    """Add an association (the caller has already shown staff any near-duplicate)."""
    name = fields.clean("name", name)
    if await name_taken(session, name) is not None:
        raise DomainError("name_taken")
    association = Association(
        name=name,
        name_key=search_key(name),
        description=fields.clean("description", description),
        status=fields.parse_status(status),
        **values,
    )
    try:
        async with session.begin_nested():  # two staff adding the same name at once
            session.add(association)
    except IntegrityError:
        raise DomainError("name_taken") from None
    return association


async def set_field(session: AsyncSession, association_id: int, name: str, value: Any) -> Association:
    """Store one already-cleaned field (association_fields.clean); DomainError('name_taken')."""
    association = await get(session, association_id)
    if name not in fields.FIELDS or name == "status":
        raise DomainError("unknown_field")
    if name == "name":
        if await name_taken(session, value, exclude_id=association_id) is not None:
            raise DomainError("name_taken")
        association.name_key = search_key(value)
    setattr(association, name, value)
    await session.flush()
    return association


async def toggle(session: AsyncSession, association_id: int, name: str) -> Association:
    """Flip a yes/no rule: a degree required, evidence required."""
    association = await get(session, association_id)
    if name not in ("degree_required", "evidence_required"):
        raise DomainError("unknown_field")
    setattr(association, name, not getattr(association, name))
    await session.flush()
    return association


@dataclass(frozen=True)
class StatusChange:
    """A new status; `founders` are the founding members numbered because the association became active."""

    association: Association
    founders: list[Member]


async def set_status(session: AsyncSession, association_id: int, status: str) -> StatusChange:
    """Change the status. Forming → active: the founding members get member numbers in the same
    transaction (the caller tells each of them through the outbox)."""
    association = await get(session, association_id)
    if status not in STATUSES:
        raise DomainError("bad_status")
    became_active = association.status == FORMING and status == ACTIVE
    association.status = status
    await session.flush()
    founders = await decisions.number_founders(session, association_id) if became_active else []
    return StatusChange(association, founders)


async def toggle_evidence(session: AsyncSession, association_id: int, kind: str) -> Association:
    """Accept, or stop accepting, one kind of evidence instead of a degree."""
    association = await get(session, association_id)
    if kind not in EVIDENCE_KINDS:
        raise DomainError("bad_evidence")
    kinds = set(association.evidence_kinds) ^ {kind}
    association.accepted_evidence = ",".join(k for k in EVIDENCE_KINDS if k in kinds)
    await session.flush()
    return association
