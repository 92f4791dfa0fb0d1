"""Staff control of broadcasts (news, announcements, course reminders): list, report, pause, resume,
cancel — each only within the staff member's scope. Drafts and one-off notices (`kind="notice"`,
sent by the notice sender) are not broadcasts here: they are never listed nor reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audiences
from bot.services.errors import DomainError, NotFound
from bot.services.sender import Report, report
from bot.services.staff import StaffScope
from db.models import Broadcast, Delivery
from db.models.outbox import CANCELLED, D_PENDING, D_SKIPPED, DONE, NOTICE, PAUSED, PENDING, RUNNING

__all__ = ["CANCELLED", "DONE", "PAUSED", "PENDING", "RUNNING", "Broadcast", "Report"]

DRAFT = "draft"  # an announcement still being written (bot/services/announcements.py)


@dataclass(frozen=True)
class Status:
    """A broadcast as its report shows it: the row, its figures, and whom it is for."""

    broadcast: Broadcast
    report: Report
    audience: str | None  # the audience kind's label (a msgid); None when unknown
    target: str | None  # the association or course it is aimed at


def _listed(scope: StaffScope, broadcast: Broadcast) -> bool:
    return broadcast.status != DRAFT and broadcast.kind != NOTICE and scope.covers(broadcast.association_id)


async def get(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Broadcast:
    """A broadcast the staff member may see (NotFound otherwise: no hint that it exists)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or not _listed(scope, broadcast):
        raise NotFound("unknown_broadcast")
    return broadcast


async def describe(session: AsyncSession, broadcast: Broadcast) -> tuple[str | None, str | None]:
    """Whom a broadcast is for: its audience kind's label (a msgid) and the association or course."""
    try:
        chosen = audiences.parse(broadcast.audience) if broadcast.audience else None
    except DomainError:
        return None, None
    if chosen is None:
        return None, None
    return audiences.REGISTRY[chosen.kind].label, await audiences.target_name(session, chosen)


async def status(session: AsyncSession, broadcast: Broadcast) -> Status:
    """The report of a broadcast with its audience in words."""
    label, target = await describe(session, broadcast)
    return Status(broadcast, await report(session, broadcast.id), label, target)


async def show(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Status:
    """One broadcast's report, for a staff member who may see it."""
    return await status(session, await get(session, scope, broadcast_id))


async def recent(session: AsyncSession, scope: StaffScope, limit: int = 10) -> list[tuple[Broadcast, Report]]:
    """The latest broadcasts within the scope, newest first, each with its report."""
    query = select(Broadcast).where(Broadcast.status != DRAFT, Broadcast.kind != NOTICE)
    if not scope.covers(None):
        query = query.where(Broadcast.association_id.in_(scope.association_ids or {-1}))
    rows = list(await session.scalars(query.order_by(Broadcast.id.desc()).limit(limit)))
    return [(b, await report(session, b.id)) for b in rows]


async def pause(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Status:
    """Stop after the batch in flight; nothing is lost."""
    broadcast = await get(session, scope, broadcast_id)
    if broadcast.status not in (PENDING, RUNNING):
        raise DomainError("not_running")
    broadcast.status = PAUSED
    await session.flush()
    return await status(session, broadcast)


async def resume(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Status:
    """Carry on where it paused."""
    broadcast = await get(session, scope, broadcast_id)
    if broadcast.status != PAUSED:
        raise DomainError("not_paused")
    broadcast.status = RUNNING if broadcast.started_at is not None else PENDING
    await session.flush()
    return await status(session, broadcast)


async def cancel(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Status:
    """Give up the rest: every delivery not yet attempted is skipped."""
    broadcast = await get(session, scope, broadcast_id)
    if broadcast.status not in (PENDING, RUNNING, PAUSED):
        raise DomainError("not_running")
    broadcast.status = CANCELLED
    broadcast.finished_at = datetime.now(UTC)
    await session.execute(
        update(Delivery)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == D_PENDING)
        .values(status=D_SKIPPED, last_error="cancelled")
    )
    await session.flush()
    return await status(session, broadcast)


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the message that shows this broadcast's progress."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id)
    )
