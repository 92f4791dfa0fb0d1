"""The inbox's rows: updates stored before they are acknowledged, marked handled in the same
transaction as their effects, marked done once answered, parked when they keep failing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboxUpdate, utcnow
from db.session import rowcount


class AlreadyHandled(Exception):
    """This update's effects were committed before (a replay after a crash): nothing is applied twice."""


async def store(session: AsyncSession, updates: Sequence[tuple[int, str]]) -> set[int]:
    """Insert the updates the inbox does not hold yet (in one statement); the ids that were new."""
    if not updates:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [
        {"update_id": i, "payload": p, "received_at": now, "attempts": 0} for i, p in dict(updates).items()
    ]
    result = await session.execute(
        insert(InboxUpdate).values(rows).on_conflict_do_nothing().returning(InboxUpdate.update_id)
    )
    return set(result.scalars())


MARK_HANDLED = (
    update(InboxUpdate)
    .where(InboxUpdate.update_id == bindparam("handled_id"), InboxUpdate.handled_at.is_(None))
    .values(handled_at=bindparam("now", type_=InboxUpdate.handled_at.type))
)


async def mark_handled(session: AsyncSession, update_id: int) -> None:
    """In the update's own transaction: its effects and this mark commit together. Raises
    AlreadyHandled when they already did (the transaction must then roll back)."""
    connection = await session.connection()  # Core, built once: this runs with every update
    result = await connection.execute(MARK_HANDLED, {"handled_id": update_id, "now": utcnow()})
    if rowcount(result) == 1:
        return
    handled = await session.scalar(select(InboxUpdate.handled_at).where(InboxUpdate.update_id == update_id))
    if handled is not None:
        raise AlreadyHandled(update_id)


async def mark_done(session: AsyncSession, done: Iterable[int], parked: Mapping[int, str]) -> None:
    """Answered (or parked with its error): the update needs nothing more."""
    now = utcnow()
    ids = [i for i in dict.fromkeys(done) if i not in parked]
    if ids:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(ids))
            .values(done_at=now, handled_at=func.coalesce(InboxUpdate.handled_at, now))
            .execution_options(synchronize_session=False)
        )
    for update_id, error in parked.items():
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id)
            .values(done_at=now, parked_at=now, error=error[:500])
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Unfinished:
    """An update a crash left behind: `handled` means its effects committed but it was not answered."""

    update_id: int
    payload: str
    handled: bool
    attempts: int


async def unfinished(session: AsyncSession) -> list[Unfinished]:
    """Updates neither done nor parked, oldest first."""
    rows = await session.execute(
        select(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.handled_at, InboxUpdate.attempts)
        .where(InboxUpdate.done_at.is_(None))
        .order_by(InboxUpdate.update_id)
    )
    return [Unfinished(i, p, h is not None, a) for i, p, h, a in rows]


async def count_replay(session: AsyncSession, ids: Sequence[int]) -> None:
    """One more attempt for each replayed update (an update that crashes the process is parked)."""
    if ids:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(ids))
            .values(attempts=InboxUpdate.attempts + 1)
            .execution_options(synchronize_session=False)
        )


async def purge(session: AsyncSession, older_than: timedelta) -> int:
    """Delete updates done longer ago than the retention period; how many went."""
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.done_at < utcnow() - older_than, InboxUpdate.parked_at.is_(None)
        )
    )
    return rowcount(result)


@dataclass(frozen=True)
class Figures:
    """The inbox at a glance, for /stats and /healthz."""

    size: int
    unhandled: int
    oldest_unhandled: datetime | None
    parked: int


async def figures(session: AsyncSession) -> Figures:
    """Rows held, updates not answered yet and the oldest of them, updates parked."""
    size = int(await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)
    waiting = select(InboxUpdate).where(InboxUpdate.done_at.is_(None))
    unhandled = int(await session.scalar(select(func.count()).select_from(waiting.subquery())) or 0)
    oldest = await session.scalar(
        select(func.min(InboxUpdate.received_at)).where(InboxUpdate.done_at.is_(None))
    )
    parked = int(
        await session.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.parked_at.is_not(None))
        )
        or 0
    )
    return Figures(size, unhandled, oldest, parked)


async def parked_updates(session: AsyncSession, limit: int = 10) -> list[InboxUpdate]:
    """The latest parked updates, with their errors (for staff)."""
    rows = await session.scalars(
        select(InboxUpdate)
        .where(InboxUpdate.parked_at.is_not(None))
        .order_by(InboxUpdate.parked_at.desc())
        .limit(limit)
    )
    return list(rows)
