"""Staff decisions on applications: approve, reject, or ask for more (first decision wins), the
membership an approval makes (founding members included), and the queue of applications waiting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import terms
from bot.services.actor import Actor
from bot.services.applications import FIELDS, AlreadyDecided, log_event, member_number
from bot.services.drafts import DraftStore
from bot.services.errors import InvalidAnswer
from bot.services.staff import StaffScope, covered
from bot.text import normalize_input
from db.models import Application, Association, Member, PendingDecision, utcnow
from db.models.applications import APPROVED, MORE_INFO, REJECTED, SUBMITTED
from db.models.associations import FORMING
from db.session import rowcount

DECISIONS = (APPROVED, REJECTED, MORE_INFO)
REASON_LIMITS = (3, 1000)


@dataclass(frozen=True)
class Decided:
    """A decision that stands, with what the staff member's and the applicant's messages need."""

    application: Application
    association: str
    member: Member | None


async def for_staff(session: AsyncSession, scope: StaffScope, application_id: int) -> Application:
    """An application the staff member may see (their association's, or any for chamber staff)."""
    return await covered(
        session, scope, Application, application_id, what="application", refusal="not_covered"
    )


async def decide(
    session: AsyncSession,
    scope: StaffScope,
    application_id: int,
    decision: str,
    reason: str | None = None,
    fields: Sequence[str] = (),
    now: datetime | None = None,
) -> Decided:
    """Approve, reject or ask for more information; the first decision wins, later ones raise
    AlreadyDecided. Approval makes the applicant a member (a founding member of an association
    being formed)."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    application = await for_staff(session, scope, application_id)
    asked = [f for f in fields if f in FIELDS]
    if decision == MORE_INFO and not asked:
        raise InvalidAnswer("no_fields")
    if decision in (REJECTED, MORE_INFO) and not (reason or "").strip():
        raise InvalidAnswer("no_reason")
    values: dict[str, object] = {
        "status": decision,
        "decided_at": utcnow(),
        "decided_by": scope.user_id,
        "last_reason": (reason or "").strip() or None,
    }
    if decision == MORE_INFO:
        values["requested_fields"] = ",".join(asked)
        if "documents" in asked:
            values["documents_done"] = False
    # The conditional UPDATE is the race guard: only one decision can find the row still submitted.
    result = await session.execute(
        update(Application)
        .where(Application.id == application_id, Application.status == SUBMITTED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        await session.refresh(application)
        raise AlreadyDecided(application.status, status=application.status)
    await session.refresh(application)
    log_event(session, application, scope.user_id, decision, application.last_reason)
    member = await _make_member(session, application, now or utcnow()) if decision == APPROVED else None
    association = await session.get(Association, application.association_id)
    return Decided(application, association.name if association is not None else "—", member)


async def _make_member(session: AsyncSession, application: Application, now: datetime) -> Member | None:
    if application.user_id is None:
        return None
    member = await session.scalar(
        select(Member).where(
            Member.association_id == application.association_id, Member.user_id == application.user_id
        )
    )
    if member is None:
        # Derived from the application id, so two approvals at once never collide. A founding
        # member of an association still being formed is numbered when it becomes active (one that
        # became active while the application waited is active now: numbered at once).
        association = await session.get(Association, application.association_id)
        forming = association is not None and association.status == FORMING
        member = Member(
            association_id=application.association_id,
            user_id=application.user_id,
            member_number=None if application.founding and forming else member_number(application),
            founding=application.founding,
            started_at=utcnow(),
            application_id=application.id,
        )
        session.add(member)
        await session.flush()
        # The first membership term starts at approval (founding members included).
        await terms.start_first_term(session, member, terms.today(now))
    return member


async def number_founders(session: AsyncSession, association_id: int) -> list[Member]:
    """An association became active: its founding members get member numbers like any member."""
    founders = list(
        await session.scalars(
            select(Member)
            .where(Member.association_id == association_id, Member.member_number.is_(None))
            .order_by(Member.started_at, Member.id)
        )
    )
    for member in founders:
        member.member_number = (
            member_number(application)
            if member.application_id is not None
            and (application := await session.get(Application, member.application_id)) is not None
            else f"{association_id}-F{member.id:04d}"
        )
    await session.flush()
    return founders


# ---------------------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class Page:
    """One page of pending applications."""

    items: list[Application]
    total: int
    offset: int


async def pending(session: AsyncSession, scope: StaffScope, offset: int = 0, limit: int = 5) -> Page:
    """Submitted applications the staff member covers, oldest first."""
    query = select(Application).where(Application.status == SUBMITTED)
    if not (scope.is_admin or scope.chamber_wide):
        query = query.where(Application.association_id.in_(scope.association_ids or {-1}))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(Application.submitted_at, Application.id).offset(max(0, offset)).limit(limit)
    )
    return Page(list(rows), total, max(0, offset))


# ---------------------------------------------------------------------------------------- the reason form


def clean_reason(raw: str) -> str:
    """A reason staff give the applicant (typed, or one of the templates)."""
    text = normalize_input(raw).strip()
    if len(text) < REASON_LIMITS[0]:
        raise InvalidAnswer("reason_too_short")
    if len(text) > REASON_LIMITS[1]:
        raise InvalidAnswer("reason_too_long")
    return text


class PendingDecisions(DraftStore[PendingDecision]):
    """A reject or more-information decision waiting for its reason (and the fields to ask about)."""

    async def current(self, session: AsyncSession, actor: Actor) -> PendingDecision | None:
        return await session.get(PendingDecision, actor.user_id)

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> PendingDecision:
        application = await for_staff(session, actor.scope, int(target["application_id"]))
        if application.status != SUBMITTED:
            raise AlreadyDecided(application.status, status=application.status)
        pending_row = await session.get(PendingDecision, actor.user_id)
        if pending_row is not None:
            await session.delete(pending_row)
            await session.flush()
        pending_row = PendingDecision(
            staff_id=actor.user_id, application_id=application.id, decision=str(target["decision"]), fields=""
        )
        session.add(pending_row)
        await session.flush()
        return pending_row

    def value(self, draft: PendingDecision, field: str) -> object | None:
        if field == "fields":
            return [f for f in draft.fields.split(",") if f]
        return getattr(draft, field, None)

    def is_answered(self, draft: PendingDecision, field: str) -> bool:
        if field == "fields":
            return draft.fields_done and bool(draft.fields)
        return bool(getattr(draft, field, None))

    async def save(
        self, session: AsyncSession, draft: PendingDecision, field: str, value: object, actor: Actor
    ) -> None:
        setattr(draft, field, value)

    async def reopen(self, session: AsyncSession, draft: PendingDecision, field: str, actor: Actor) -> None:
        if field == "fields":
            draft.fields_done = False

    async def toggle(
        self, session: AsyncSession, draft: PendingDecision, field: str, key: str, actor: Actor
    ) -> None:
        chosen = [f for f in draft.fields.split(",") if f]
        chosen = [f for f in chosen if f != key] if key in chosen else [*chosen, key]
        draft.fields = ",".join(f for f in FIELDS if f in chosen)

    async def finish(self, session: AsyncSession, draft: PendingDecision, field: str, actor: Actor) -> None:
        if field == "fields" and not draft.fields:
            raise InvalidAnswer("no_fields")
        draft.fields_done = True

    async def extras(
        self, session: AsyncSession, draft: PendingDecision, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        application = await session.get(Application, draft.application_id)
        return {"tracking_code": application.tracking_code if application is not None else None}


PENDING = PendingDecisions()


async def decide_pending(session: AsyncSession, draft: PendingDecision, actor: Actor) -> Decided:
    """Submit a pending decision: decide with its reason (and fields), then forget it."""
    decided = await decide(
        session,
        actor.scope,
        draft.application_id,
        draft.decision,
        draft.reason,
        [f for f in draft.fields.split(",") if f],
    )
    await session.delete(draft)
    return decided
