"""Who a broadcast goes to: a registry of audience kinds, each resolving to reachable user ids.

An audience is a kind plus (for most kinds) an association, written `kind:<id>` (or `kind`).
Staff may choose only audiences within their scope: association staff their own associations'
people, admins and chamber staff everyone. Other features add kinds with `register(...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import members, outbox, subscriptions, terms
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.staff import StaffScope
from bot.text import collation_key
from db.models import Application, Association, Course, FoundingInterest, Member, Registration, User, utcnow
from db.models.applications import DRAFT, HOME_BUSINESS, MORE_INFO, SUBMITTED, WITHDRAWN
from db.models.associations import ACTIVE, FORMING
from db.models.courses import CLOSED, OPEN, REGISTERED, WAITING

Resolver = Callable[[AsyncSession, int | None], Awaitable[list[int]]]
# For kinds aimed at something other than an association (a course): the choices, as
# (id, label, owning association id or None), and the owner of one id (NotFound if there is none).
Targets = Callable[[AsyncSession], Awaitable[list[tuple[int, str, int | None]]]]
Owner = Callable[[AsyncSession, int], Awaitable[int | None]]
Namer = Callable[[AsyncSession, int], Awaitable[str | None]]


@dataclass(frozen=True)
class AudienceKind:
    """One way of choosing recipients."""

    key: str
    label: str  # msgid (N_), shown on the audience buttons
    resolve: Resolver
    # "required": an association must be chosen; "optional": an association or all; "none": no association.
    association: str = "required"
    # Association statuses this kind applies to (founding interest: associations being formed).
    statuses: tuple[str, ...] = (ACTIVE, FORMING)
    # Set for kinds whose id names something else (a course) owned by an association.
    targets: Targets | None = None
    owner: Owner | None = None
    name_of: Namer | None = None  # the name of one such target (a course's title)

    @property
    def takes_target(self) -> bool:
        """Whether an association (or a course…) is chosen after the kind."""
        return self.association != "none"


@dataclass(frozen=True)
class Audience:
    """A chosen audience: a kind and, where the kind takes one, an association."""

    kind: str
    # The association chosen, or for kinds with `owner` (courses) the id of that thing.
    association_id: int | None = None

    @property
    def spec(self) -> str:
        """Stored on the broadcast (`broadcasts.audience`)."""
        return self.kind if self.association_id is None else f"{self.kind}:{self.association_id}"


REGISTRY: dict[str, AudienceKind] = {}


def register(kind: AudienceKind) -> None:
    """Add (or replace) an audience kind; later features call this for their own kinds."""
    REGISTRY[kind.key] = kind


def parse(spec: str) -> Audience:
    """`members:5` → Audience("members", 5); raises DomainError for anything malformed."""
    kind, _, rest = spec.partition(":")
    if kind not in REGISTRY:
        raise DomainError("unknown_audience")
    if rest and not rest.isdecimal():
        raise DomainError("unknown_audience")
    return Audience(kind, int(rest) if rest else None)


def kinds_for(scope: StaffScope) -> list[AudienceKind]:
    """The kinds this staff member may use at all."""
    return [kind for kind in REGISTRY.values() if kind.association != "none" or scope.covers(None)]


async def check(session: AsyncSession, scope: StaffScope, audience: Audience) -> Association | None:
    """Raise NotAllowed/NotFound/DomainError unless `scope` may send to `audience`."""
    kind = REGISTRY.get(audience.kind)
    if kind is None:
        raise DomainError("unknown_audience")
    if kind.association == "none" and audience.association_id is not None:
        raise DomainError("unknown_audience")
    if kind.association == "required" and audience.association_id is None:
        raise DomainError("association_required")
    if kind.owner is not None and audience.association_id is not None:
        if not scope.covers(await kind.owner(session, audience.association_id)):
            raise NotAllowed("not_your_association")
        return None
    # covers(None) is true only for admins and chamber-wide staff.
    if not scope.covers(audience.association_id):
        raise NotAllowed("not_your_association")
    if audience.association_id is None:
        return None
    association = await session.get(Association, audience.association_id)
    if association is None:
        raise NotFound("unknown_association")
    if association.status not in kind.statuses:
        raise DomainError("wrong_status")
    return association


async def recipients(session: AsyncSession, scope: StaffScope, audience: Audience) -> list[int]:
    """The reachable user ids of an audience, after checking that `scope` may reach it."""
    await check(session, scope, audience)
    ids = await REGISTRY[audience.kind].resolve(session, audience.association_id)
    return await outbox.reachable(session, ids, started=True)


async def owner_of(session: AsyncSession, audience: Audience) -> int | None:
    """The association a broadcast to this audience belongs to (a course's association for a course;
    None: chamber-wide): who among the staff may see and control it."""
    kind = REGISTRY.get(audience.kind)
    if kind is not None and kind.owner is not None and audience.association_id is not None:
        return await kind.owner(session, audience.association_id)
    return audience.association_id


async def target_name(session: AsyncSession, audience: Audience) -> str | None:
    """The name of the association (or course…) an audience is aimed at; None for none or all."""
    kind = REGISTRY.get(audience.kind)
    if kind is None or audience.association_id is None:
        return None
    if kind.name_of is not None:
        return await kind.name_of(session, audience.association_id)
    association = await session.get(Association, audience.association_id)
    return association.name if association is not None else None


async def targets_for(session: AsyncSession, scope: StaffScope, kind: AudienceKind) -> list[tuple[int, str]]:
    """What this staff member may pick for this kind: (id, label) of associations, or of courses."""
    if kind.targets is not None:
        return [(i, label) for i, label, owner in await kind.targets(session) if scope.covers(owner)]
    return [(a.id, a.name) for a in await associations_for(session, scope, kind)]


async def associations_for(session: AsyncSession, scope: StaffScope, kind: AudienceKind) -> list[Association]:
    """Associations this staff member may pick for this kind, in Persian alphabetical order."""
    rows = await session.scalars(select(Association).where(Association.status.in_(kind.statuses)))
    return sorted((a for a in rows if scope.covers(a.id)), key=lambda a: collation_key(a.name))


# ---------------------------------------------------------------------------- the kinds built here


async def _everyone(session: AsyncSession, association_id: int | None) -> list[int]:
    return list(await session.scalars(select(User.id).where(User.blocked_bot.is_(False)).order_by(User.id)))


async def _members(session: AsyncSession, association_id: int | None) -> list[int]:
    return await members.member_ids(session, association_id)


async def _founders(session: AsyncSession, association_id: int | None) -> list[int]:
    query = select(FoundingInterest.user_id).where(FoundingInterest.association_id == association_id)
    return list(await session.scalars(query.order_by(FoundingInterest.id)))


async def _subscribers(session: AsyncSession, association_id: int | None) -> list[int]:
    return await subscriptions.subscribers(session, association_id)


async def _pending_applicants(session: AsyncSession, association_id: int | None) -> list[int]:
    query = select(Application.user_id).where(
        Application.association_id == association_id, Application.status.in_((SUBMITTED, MORE_INFO))
    )
    return [i for i in await session.scalars(query.order_by(Application.id)) if i is not None]


async def _home_business(session: AsyncSession, association_id: int | None) -> list[int]:
    query = select(Application.user_id).where(
        Application.applicant_type == HOME_BUSINESS, Application.status.not_in((DRAFT, WITHDRAWN))
    )
    if association_id is not None:
        query = query.where(Application.association_id == association_id)
    return [i for i in await session.scalars(query.order_by(Application.id)) if i is not None]


async def _course_registrants(session: AsyncSession, course_id: int | None) -> list[int]:
    query = select(Registration.user_id).where(
        Registration.course_id == course_id, Registration.status.in_((REGISTERED, WAITING))
    )
    return list(await session.scalars(query.order_by(Registration.status, Registration.id)))


async def _courses(session: AsyncSession) -> list[tuple[int, str, int | None]]:
    query = select(Course.id, Course.title, Course.association_id).where(Course.status.in_((OPEN, CLOSED)))
    return [(i, title, owner) for i, title, owner in await session.execute(query.order_by(Course.starts_at))]


async def _course_owner(session: AsyncSession, course_id: int) -> int | None:
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("unknown_course")
    return course.association_id


async def _course_title(session: AsyncSession, course_id: int) -> str | None:
    course = await session.get(Course, course_id)
    return course.title if course is not None else None


EVERYONE = "everyone"
MEMBERS = "members"
FOUNDERS = "founders"
SUBSCRIBERS = "subscribers"

register(AudienceKind(EVERYONE, N_("Everyone who started the bot"), _everyone, association="none"))
register(AudienceKind(MEMBERS, N_("Members of an association"), _members))
register(
    AudienceKind(
        FOUNDERS, N_("Founding-member interest (forming association)"), _founders, statuses=(FORMING,)
    )
)
register(AudienceKind(SUBSCRIBERS, N_("News subscribers"), _subscribers, association="optional"))
register(AudienceKind("pending", N_("Applicants with a pending application"), _pending_applicants))
register(
    AudienceKind("home_business", N_("Home-business applicants"), _home_business, association="optional")
)
register(
    AudienceKind(
        "course",
        N_("Registrants of a course (and its waiting list)"),
        _course_registrants,
        targets=_courses,
        owner=_course_owner,
        name_of=_course_title,
    )
)


async def _members_by_term(session: AsyncSession, association_id: int | None, wanted: str) -> list[int]:
    day = terms.today(utcnow())
    query = select(Member).where(Member.association_id == association_id, Member.revoked.is_(False))
    rows = await session.scalars(query.order_by(Member.id))
    return [m.user_id for m in rows if terms.status_of(m, day) == wanted]


async def _due_members(session: AsyncSession, association_id: int | None) -> list[int]:
    return await _members_by_term(session, association_id, terms.DUE)


async def _lapsed_members(session: AsyncSession, association_id: int | None) -> list[int]:
    return await _members_by_term(session, association_id, terms.LAPSED)


register(AudienceKind("renewal_due", N_("Members due for renewal"), _due_members))
register(AudienceKind("lapsed", N_("Members whose membership lapsed"), _lapsed_members))
