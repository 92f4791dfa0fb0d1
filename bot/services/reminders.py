"""Course reminders, derived from the database: the day before and an hour before the start.

Nothing is remembered in memory. Each run looks at the courses starting soon and puts a reminder
into the outbox under a fixed dedupe key (`course:<id>:reminder:24h` / `:1h`), so running it again
(a repeating job, or a new process after a restart) never queues a second copy, and a run after
downtime still queues whatever became due meanwhile. The outbox sender delivers them, paced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.outbox import create_broadcast, reachable
from db.models import Broadcast, Course, Registration, utcnow
from db.models.courses import CLOSED, OPEN, REGISTERED


@dataclass(frozen=True)
class Reminder:
    """One kind of reminder: its key suffix and how long before the start it goes out."""

    key: str
    before: timedelta


# Latest first: within the last hour only the 1-hour reminder is due (a stale "tomorrow" is not sent).
REMINDERS = (Reminder("1h", timedelta(hours=1)), Reminder("24h", timedelta(hours=24)))

Render = Callable[[Course, str], str]


def dedupe_key(course_id: int, key: str) -> str:
    """The outbox key that makes a reminder unique."""
    return f"course:{course_id}:reminder:{key}"


def due(course: Course, now: datetime) -> Reminder | None:
    """The reminder due for a course at `now`, if any: the latest window the clock is in."""
    if course.starts_at is None or now >= course.starts_at:
        return None
    for reminder in REMINDERS:
        if now >= course.starts_at - reminder.before:
            return reminder
    return None


async def queue_due(session: AsyncSession, render: Render, *, now: datetime | None = None) -> list[Broadcast]:
    """Put every reminder that is due now into the outbox (once); returns the broadcasts created."""
    moment = now or utcnow()
    horizon = moment + max(r.before for r in REMINDERS)
    courses = await session.scalars(
        select(Course)
        .where(Course.status.in_((OPEN, CLOSED)), Course.starts_at > moment, Course.starts_at <= horizon)
        .order_by(Course.starts_at)
    )
    created: list[Broadcast] = []
    for course in list(courses):
        reminder = due(course, moment)
        if reminder is None:
            continue
        key = dedupe_key(course.id, reminder.key)
        if await session.scalar(select(Broadcast.id).where(Broadcast.dedupe_key == key)) is not None:
            continue
        people = await session.scalars(
            select(Registration.user_id)
            .where(Registration.course_id == course.id, Registration.status == REGISTERED)
            .order_by(Registration.id)
        )
        recipients = await reachable(session, list(people))
        assert course.starts_at is not None
        created.append(
            await create_broadcast(
                session,
                kind="reminder",
                text=render(course, reminder.key),
                recipients=recipients,
                association_id=course.association_id,
                audience=f"course:{course.id}",
                dedupe_key=key,
                not_before=course.starts_at - reminder.before,
            )
        )
    return created
