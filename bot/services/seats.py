"""Seat counting for courses: atomic conditional UPDATEs, so no course is ever oversold.

Each function is one SQL statement. `take_seat` succeeds only while a seat is free and the course is
open; on SQLite every transaction already holds the write lock (BEGIN IMMEDIATE), on PostgreSQL the
UPDATE re-checks its WHERE clause against the latest committed row, so both are safe under any
concurrency. The `seats` CHECK constraint on the table backs this up.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course
from db.models.courses import OPEN


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
