"""Seat counting for courses: atomic conditional UPDATEs, so no course is ever oversold.

Each function is one SQL statement. `take_seat` succeeds only while a seat is free and the course is
open; on SQLite every transaction already holds the write lock (BEGIN IMMEDIATE), on PostgreSQL the
UPDATE re-checks its WHERE clause against the latest committed row, so both are safe under any
concurrency. The `seats` CHECK constraint on the table backs this up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import Course
from db.models.courses import OPEN

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 5
# One queue per SQLite engine: SQLite runs one writer at a time anyway, and waiting here is first
# come, first served, while SQLite's busy handler is not (under a long queue it starved some
# transactions past the busy timeout). PostgreSQL needs no queue: the row lock orders them.
_GATES: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def lock_and_ticket(session: AsyncSession, course_id: int) -> int | None:
    """Hand out the next waiting-list ticket; the row stays locked until the transaction ends.

    Every seat-changing transaction starts with this, so on PostgreSQL they run one after another per
    course (a cancellation that frees a seat always sees a waiting-list entry made just before it).
    """
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id)
        .values(queue_seq=Course.queue_seq + 1)
        .returning(Course.queue_seq)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def take_seat(session: AsyncSession, course_id: int, statuses: tuple[str, ...] = (OPEN,)) -> bool:
    """Take one seat if one is free and the course is open: one conditional UPDATE.

    Promotion from the waiting list also passes CLOSED: closing stops new sign-ups, not the queue.
    """
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id, Course.taken < Course.capacity, Course.status.in_(statuses))
        .values(taken=Course.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def free_seat(session: AsyncSession, course_id: int) -> bool:
    """Give one seat back."""
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id, Course.taken > 0)
        .values(taken=Course.taken - 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def set_capacity(session: AsyncSession, course_id: int, capacity: int) -> bool:
    """Change the capacity, but never below the seats already taken."""
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id, Course.taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _gate(sessionmaker: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    engine = sessionmaker.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return None
    gate = _GATES.get(engine.sync_engine)
    if gate is None:
        gate = _GATES[engine.sync_engine] = asyncio.Lock()
    return gate


def _busy(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run one seat-changing transaction (`work`), committed when it returns.

    On SQLite these transactions queue in order in this process, and a transaction that still
    finds the database busy (another writer held it past the busy timeout) is retried from the
    start: it was rolled back, so nothing is lost or done twice. Domain errors pass straight through.
    """
    gate = _gate(sessionmaker)
    for attempt in range(1, RETRIES + 1):
        try:
            async with gate or contextlib.nullcontext(), sessionmaker() as session, session.begin():
                return await work(session)
        except OperationalError as exc:
            if not _busy(exc) or attempt == RETRIES:
                raise
            log.warning("Database busy; retrying a seat transaction (attempt %d)", attempt)
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")
