"""Announcements (a draft broadcast composed step by step) and staff control of broadcasts:
list, report, pause, resume, cancel — each only within the staff member's scope."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import strip_html
from bot.services import audiences
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.sender import Report, report
from bot.services.staff import StaffScope
from bot.text import drop_controls
from db.models import Broadcast, Delivery
from db.models.outbox import CANCELLED, D_PENDING, D_SKIPPED, DONE, PAUSED, PENDING, RUNNING

DRAFT = "draft"  # an announcement still being composed: no deliveries, the sender ignores it
ANNOUNCEMENT = "announcement"
TEXT_LIMIT = 3800
CAPTION_LIMIT = 1000


class InvalidAnnouncement(DomainError):
    """An announcement answer that cannot be stored."""


# ---------------------------------------------------------------------------- drafts


async def start_draft(session: AsyncSession, scope: StaffScope) -> Broadcast:
    """A fresh announcement draft for this staff member (older unfinished ones are dropped)."""
    if not scope.is_staff:
        raise NotAllowed("not_staff")
    await session.execute(
        delete(Broadcast).where(Broadcast.created_by == scope.user_id, Broadcast.status == DRAFT)
    )
    draft = Broadcast(kind=ANNOUNCEMENT, status=DRAFT, created_by=scope.user_id)
    session.add(draft)
    await session.flush()
    return draft


async def current_draft(session: AsyncSession, author_id: int) -> Broadcast:
    draft = await session.scalar(
        select(Broadcast)
        .where(Broadcast.created_by == author_id, Broadcast.status == DRAFT)
        .order_by(Broadcast.id.desc())
        .limit(1)
    )
    if draft is None:
        raise NotFound("no_draft")
    return draft


async def set_text(session: AsyncSession, author_id: int, html_text: str, plain_length: int) -> Broadcast:
    """The message, as HTML rendered from the author's Telegram formatting (already escaped)."""
    if plain_length < 1 or not html_text.strip():
        raise InvalidAnnouncement("text_empty")
    if plain_length > TEXT_LIMIT:
        raise InvalidAnnouncement("text_too_long", limit=TEXT_LIMIT)
    draft = await current_draft(session, author_id)
    draft.text = drop_controls(html_text)
    await session.flush()
    return draft


async def set_media(
    session: AsyncSession, author_id: int, kind: str | None, file_id: str | None
) -> Broadcast:
    """Attach a photo or document (the text becomes its caption), or nothing."""
    draft = await current_draft(session, author_id)
    if kind is not None:
        if kind not in ("photo", "document") or not file_id:
            raise InvalidAnnouncement("bad_media")
        if len(strip_html(draft.text)) > CAPTION_LIMIT:
            raise InvalidAnnouncement("too_long_for_media", limit=CAPTION_LIMIT)
    draft.media_kind = kind
    draft.media_file_id = file_id if kind is not None else None
    await session.flush()
    return draft


async def set_audience(
    session: AsyncSession, scope: StaffScope, audience: audiences.Audience
) -> tuple[Broadcast, int]:
    """Choose the audience (checked against the scope); returns the draft and how many it reaches."""
    await audiences.check(session, scope, audience)
    draft = await current_draft(session, scope.user_id)
    count = len(await audiences.recipients(session, scope, audience))
    draft.audience = audience.spec
    draft.association_id = audience.association_id
    await session.flush()
    return draft, count


async def confirm(
    session: AsyncSession, scope: StaffScope, progress_chat_id: int | None
) -> tuple[Broadcast, int]:
    """Queue the draft: resolve its audience again now (it may have grown) and add the deliveries."""
    draft = await current_draft(session, scope.user_id)
    if not draft.text or not draft.audience:
        raise InvalidAnnouncement("incomplete")
    audience = audiences.parse(draft.audience)
    recipients = await audiences.recipients(session, scope, audience)
    if recipients:
        await session.execute(
            insert(Delivery), [{"broadcast_id": draft.id, "user_id": user_id} for user_id in recipients]
        )
    draft.status = PENDING if recipients else DONE
    draft.created_at = datetime.now(UTC)
    draft.progress_chat_id = progress_chat_id
    if not recipients:
        draft.finished_at = draft.created_at
    await session.flush()
    return draft, len(recipients)


# ---------------------------------------------------------------------------- control


def _visible(scope: StaffScope, broadcast: Broadcast) -> bool:
    return scope.covers(broadcast.association_id)


async def get(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Broadcast:
    """A broadcast the staff member may see (NotFound otherwise: no hint that it exists)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status == DRAFT or not _visible(scope, broadcast):
        raise NotFound("unknown_broadcast")
    return broadcast


async def recent(session: AsyncSession, scope: StaffScope, limit: int = 10) -> list[tuple[Broadcast, Report]]:
    """The latest broadcasts within the scope, newest first, each with its report."""
    query = select(Broadcast).where(Broadcast.status != DRAFT)
    if not scope.covers(None):
        query = query.where(Broadcast.association_id.in_(scope.association_ids))
    rows = list(await session.scalars(query.order_by(Broadcast.id.desc()).limit(limit)))
    return [(b, await report(session, b.id)) for b in rows]


async def pause(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Broadcast:
    """Stop after the batch in flight; nothing is lost."""
    broadcast = await get(session, scope, broadcast_id)
    if broadcast.status not in (PENDING, RUNNING):
        raise DomainError("not_running")
    broadcast.status = PAUSED
    await session.flush()
    return broadcast


async def resume(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Broadcast:
    """Carry on where it paused."""
    broadcast = await get(session, scope, broadcast_id)
    if broadcast.status != PAUSED:
        raise DomainError("not_paused")
    broadcast.status = RUNNING if broadcast.started_at is not None else PENDING
    await session.flush()
    return broadcast


async def cancel(session: AsyncSession, scope: StaffScope, broadcast_id: int) -> Broadcast:
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
    return broadcast


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the message that shows this broadcast's progress."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id)
    )
