"""Putting messages into the durable outbox; the sender (bot/services/sender.py) delivers them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, Delivery, User
from db.models.outbox import NOTICE, PENDING

# session.info key: this transaction queued outbox messages (the sender is woken after the commit).
OUTBOX_TOUCHED = "outbox"
Buttons = list[list[dict[str, str]]]  # an inline keyboard as plain data: [[{"text", "callback_data"}]]


async def create_broadcast(
    session: AsyncSession,
    *,
    kind: str,
    text: str,
    recipients: Iterable[int],
    created_by: int | None = None,
    association_id: int | None = None,
    audience: str = "",
    media_kind: str | None = None,
    media_file_id: str | None = None,
    buttons: Buttons | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    status: str = PENDING,
) -> Broadcast:
    """One broadcast row and one delivery row per distinct recipient, in the caller's transaction.

    With a `dedupe_key`, a broadcast that already exists under that key is returned unchanged, so
    callers that may run twice (reminders after a restart) never queue a second copy.
    """
    if dedupe_key is not None:
        existing = await session.scalar(select(Broadcast).where(Broadcast.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    broadcast = Broadcast(
        kind=kind,
        text=text,
        created_by=created_by,
        association_id=association_id,
        audience=audience,
        media_kind=media_kind,
        media_file_id=media_file_id,
        buttons=json.dumps(buttons, ensure_ascii=False) if buttons else None,
        dedupe_key=dedupe_key,
        not_before=not_before,
        status=status,
    )
    session.add(broadcast)
    await session.flush()
    await deliver_to(session, broadcast, recipients)
    return broadcast


async def deliver_to(session: AsyncSession, broadcast: Broadcast, recipients: Iterable[int]) -> int:
    """One delivery row per distinct recipient of a flushed broadcast (e.g. a draft announcement
    being sent); the sender is woken once the transaction commits. Returns how many were added."""
    session.info[OUTBOX_TOUCHED] = True
    unique = list(dict.fromkeys(recipients))
    if unique:
        await session.execute(
            insert(Delivery), [{"broadcast_id": broadcast.id, "user_id": user_id} for user_id in unique]
        )
    return len(unique)


async def reachable(session: AsyncSession, user_ids: Iterable[int], *, started: bool = False) -> list[int]:
    """Those of `user_ids` who have not blocked the bot (with `started`, only those who also started
    it), in the given order, without repeats."""
    ids = list(dict.fromkeys(user_ids))
    blocked: set[int] = set()
    known: set[int] = set()
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(User.id, User.blocked_bot).where(User.id.in_(ids[start : start + 500]))
        )
        for user_id, is_blocked in rows:
            (blocked if is_blocked else known).add(user_id)
    return [i for i in ids if i not in blocked and (not started or i in known)]


async def notify(
    session: AsyncSession,
    recipients: Sequence[int],
    text: str,
    *,
    buttons: Buttons | None = None,
    media_kind: str | None = None,
    media_file_id: str | None = None,
    association_id: int | None = None,
    dedupe_key: str | None = None,
) -> Broadcast | None:
    """A one-off notice (a decision, a new application for staff): sent by the notice sender soon
    after this transaction commits, never inline in someone else's turn. Nobody to tell: nothing.
    With a `dedupe_key` (a certificate's), a notice already queued under it is not queued again."""
    if not recipients:
        return None
    return await create_broadcast(
        session,
        kind=NOTICE,
        text=text,
        recipients=recipients,
        buttons=buttons,
        media_kind=media_kind,
        media_file_id=media_file_id,
        association_id=association_id,
        dedupe_key=dedupe_key,
    )
