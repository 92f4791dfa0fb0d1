"""Seat counting for courses: conditional UPDATEs, so no course is ever oversold and no lock is needed.

Each function is one SQL statement. `take_seat` succeeds only while a seat is free (and the course
is in one of the given states); on SQLite every write transaction holds the write lock from its
start (BEGIN IMMEDIATE), on PostgreSQL the UPDATE waits for a concurrent change of the same row and
re-checks its WHERE clause against the committed row, so both are exact under any concurrency. The
`seats` CHECK constraint on the table backs this up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from bot.services.errors import is_database_busy
from db.models import Course
from db.models.courses import OPEN
from db.session import rowcount

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 5


async def take_seat(
    session: AsyncSession,
    course_id: int,
    statuses: tuple[str, ...] = (OPEN,),
    *conditions: ColumnElement[bool],
) -> bool:
    """Take one seat if one is free and the course is in `statuses` (and `conditions` hold).

    Promotion from the waiting list also passes CLOSED: closing stops new sign-ups, not the queue.
    """
    result = await session.execute(
        update(Course)
        .where(
            Course.id == course_id, Course.taken < Course.capacity, Course.status.in_(statuses), *conditions
        )
        .values(taken=Course.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def free_seat(session: AsyncSession, course_id: int) -> bool:
    """Give one seat back (on PostgreSQL this also holds the course row until the transaction ends,
    so a waiting-list entry being added waits for it and then sees the free seat)."""
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id, Course.taken > 0)
        .values(taken=Course.taken - 1)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def set_capacity(session: AsyncSession, course_id: int, capacity: int) -> bool:
    """Change the capacity, but never below the seats already taken."""
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id, Course.taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run one seat transaction (`work`) outside the bot (benchmarks, tools), committed when it returns.

    A transaction that found SQLite busy (another writer held it past the busy timeout) is retried
    from the start: it was rolled back, so nothing is lost or done twice. The bot's handlers use
    `context.transaction()`, whose update is run again by the error handler in the same case.
    Domain errors pass straight through.
    """
    for attempt in range(1, RETRIES + 1):
        try:
            async with sessionmaker() as session, session.begin():
                return await work(session)
        except Exception as exc:
            if not is_database_busy(exc) or attempt == RETRIES:
                raise
            log.warning("Database busy; retrying a seat transaction (attempt %d)", attempt)
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")
