"""Courses for members and visitors: reading, signing up, the waiting list, cancelling, feedback.

Staff work lives in course_form.py (creating and editing) and course_admin.py (running a course).
Every change to seats goes through bot/services/seats.py. A transaction that changes seats first
takes the course's waiting-list ticket (`lock_and_ticket`), which also locks the course row, so the
checks that follow see every sign-up and cancellation committed before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.services import seats
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.members import is_member
from bot.text import normalize_input
from db.models import Association, Course, Registration, utcnow
from db.models.courses import (
    CLOSED,
    DRAFT,
    OPEN,
    R_CANCELLED,
    REGISTERED,
    RELEASED,
    WAITING,
)

# A registration that holds a seat or a place in line; courses shown in lists.
ACTIVE = (REGISTERED, WAITING)
LISTED = (OPEN, CLOSED)


class InvalidAnswer(DomainError):
    """An answer (staff form, feedback comment) that cannot be stored; `reason` says why."""


class CourseUnavailable(DomainError):
    """Sign-up or cancellation refused: `reason` is closed, cancelled, finished or started."""


class MembersOnly(DomainError):
    """The course is for members; `details["association_id"]` says of which association."""


class AlreadySignedUp(DomainError):
    """The user already has a seat (reason "registered") or a place in the queue ("waiting")."""


@dataclass(frozen=True)
class SignUp:
    """The outcome of a sign-up: a seat, or a place on the waiting list."""

    registration: Registration
    course: Course
    position: int | None = None

    @property
    def waiting(self) -> bool:
        """True when the user was put on the waiting list."""
        return self.registration.status == WAITING


@dataclass(frozen=True)
class Cancellation:
    """A cancelled or released seat, and who moved up from the waiting list into it."""

    course: Course
    previous: str
    promoted: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------- reading


async def get_course(session: AsyncSession, course_id: int) -> Course:
    """A published course (drafts are invisible)."""
    course = await session.get(Course, course_id)
    if course is None or course.status == DRAFT:
        raise NotFound("course")
    return course


async def upcoming(
    session: AsyncSession,
    *,
    association_id: int | None = None,
    now: datetime | None = None,
    limit: int = 8,
    offset: int = 0,
) -> tuple[list[Course], int]:
    """Courses that have not started yet, soonest first, and how many there are in all."""
    moment = now or utcnow()
    where = [Course.status.in_(LISTED), Course.starts_at > moment]
    if association_id is not None:
        where.append(Course.association_id == association_id)
    total = int(await session.scalar(select(func.count()).select_from(Course).where(*where)) or 0)
    rows = await session.scalars(
        select(Course).where(*where).order_by(Course.starts_at, Course.id).limit(limit).offset(offset)
    )
    return list(rows), total


async def association_name(session: AsyncSession, association_id: int | None) -> str | None:
    """The name of a course's association (None for chamber-wide courses)."""
    if association_id is None:
        return None
    return await session.scalar(select(Association.name).where(Association.id == association_id))


async def registration_of(session: AsyncSession, course_id: int, user_id: int) -> Registration | None:
    """The user's row for this course, in whatever state."""
    return await session.scalar(
        select(Registration).where(Registration.course_id == course_id, Registration.user_id == user_id)
    )


async def waiting_position(session: AsyncSession, registration: Registration) -> int | None:
    """1 for the first person waiting; None when not waiting."""
    if registration.status != WAITING or registration.queue_no is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.course_id == registration.course_id,
            Registration.status == WAITING,
            Registration.queue_no <= registration.queue_no,
        )
    )
    return int(ahead or 0)


async def my_courses(
    session: AsyncSession, user_id: int, *, now: datetime | None = None
) -> list[tuple[Course, Registration, int | None]]:
    """The user's seats and waiting places in courses that have not ended, with waiting positions."""
    moment = now or utcnow()
    rows = await session.execute(
        select(Course, Registration)
        .join(Registration, Registration.course_id == Course.id)
        .where(
            Registration.user_id == user_id,
            Registration.status.in_(ACTIVE),
            Course.status.in_(LISTED),
            or_(Course.ends_at.is_(None), Course.ends_at > moment),
        )
        .order_by(Course.starts_at, Course.id)
    )
    result = []
    for course, registration in rows:
        result.append((course, registration, await waiting_position(session, registration)))
    return result


# ---------------------------------------------------------------------------- seats


async def sign_up(
    session: AsyncSession, course_id: int, user_id: int, *, now: datetime | None = None
) -> SignUp:
    """Give the user a seat, or (when full) a place on the waiting list."""
    moment = now or utcnow()
    # Lock first: every check below then sees the course as it is until this transaction ends.
    ticket = await seats.lock_and_ticket(session, course_id)
    if ticket is None:
        raise NotFound("course")
    course = await get_course(session, course_id)
    _check_open(course, moment)
    if course.members_only and not await is_member(session, user_id, course.association_id):
        raise MembersOnly("members_only", association_id=course.association_id)
    existing = await registration_of(session, course_id, user_id)
    if existing is not None and existing.status in ACTIVE:
        raise AlreadySignedUp(existing.status)
    seated = await seats.take_seat(session, course_id)
    if seated:
        # The row is locked by us, so the count we read plus our seat is the truth; no re-read.
        set_committed_value(course, "taken", course.taken + 1)
    registration = existing or Registration(course_id=course_id, user_id=user_id)
    registration.status = REGISTERED if seated else WAITING
    registration.queue_no = None if seated else ticket
    registration.promoted_at = None
    registration.attended = False
    if existing is None:
        session.add(registration)
    await session.flush()
    position = None if seated else await waiting_position(session, registration)
    return SignUp(registration, course, position)


def _check_open(course: Course, now: datetime) -> None:
    if course.status != OPEN:
        raise CourseUnavailable(course.status)
    if course.starts_at is None or course.starts_at <= now:
        raise CourseUnavailable("started")


async def cancel(
    session: AsyncSession,
    course_id: int,
    user_id: int,
    *,
    release: bool = False,
    now: datetime | None = None,
) -> Cancellation:
    """Cancel the user's seat or waiting place; a freed seat goes to the first person waiting.

    `release` is the same for a seat the user got from the waiting list and no longer wants.
    """
    moment = now or utcnow()
    if await seats.lock_and_ticket(session, course_id) is None:
        raise NotFound("course")
    course = await get_course(session, course_id)
    registration = await registration_of(session, course_id, user_id)
    if registration is None or registration.status not in ACTIVE:
        raise NotFound("registration")
    if course.status not in LISTED:
        raise CourseUnavailable(course.status)
    if course.starts_at is not None and course.starts_at <= moment:
        raise CourseUnavailable("started")
    previous = registration.status
    registration.status = RELEASED if release else R_CANCELLED
    registration.queue_no = None
    await session.flush()
    promoted: list[int] = []
    if previous == REGISTERED:
        await seats.free_seat(session, course_id)
        promoted = await promote(session, course_id, now=moment)
    await session.refresh(course)
    return Cancellation(course, previous, promoted)


async def promote(session: AsyncSession, course_id: int, *, now: datetime | None = None) -> list[int]:
    """Move people from the head of the waiting list into free seats; returns their user ids.

    Call only after `seats.lock_and_ticket` in the same transaction.
    """
    moment = now or utcnow()
    promoted: list[int] = []
    while True:
        first = await session.scalar(
            select(Registration)
            .where(Registration.course_id == course_id, Registration.status == WAITING)
            .order_by(Registration.queue_no, Registration.id)
            .limit(1)
        )
        if first is None or not await seats.take_seat(session, course_id, LISTED):
            return promoted
        first.status = REGISTERED
        first.queue_no = None
        first.promoted_at = moment
        await session.flush()
        promoted.append(first.user_id)


def words(raw: str, low: int, high: int, what: str) -> str:
    """Free text with its spaces tidied, between `low` and `high` letters long."""
    text = " ".join(normalize_input(raw).split())
    if len(text) < low:
        raise InvalidAnswer(f"{what}_too_short")
    if len(text) > high:
        raise InvalidAnswer(f"{what}_too_long")
    return text


# ---------------------------------------------------------------------------- feedback


async def save_rating(session: AsyncSession, course_id: int, user_id: int, rating: int) -> Registration:
    """An attendee's 1–5 rating (changing it is allowed)."""
    if not 1 <= rating <= 5:
        raise InvalidAnswer("rating")
    registration = await registration_of(session, course_id, user_id)
    if registration is None or not registration.attended:
        raise NotAllowed("not_attended")
    registration.rating = rating
    await session.flush()
    return registration


async def save_comment(session: AsyncSession, course_id: int, user_id: int, raw: str) -> Registration:
    """An attendee's optional comment, after their rating."""
    registration = await registration_of(session, course_id, user_id)
    if registration is None or not registration.attended or registration.rating is None:
        raise NotAllowed("not_attended")
    registration.comment = words(raw, 2, 1000, "comment")
    await session.flush()
    return registration


async def last_rated_course(session: AsyncSession, user_id: int) -> int | None:
    """The course the user rated last (their comment, if any, belongs to it)."""
    return await session.scalar(
        select(Registration.course_id)
        .where(Registration.user_id == user_id, Registration.rating.is_not(None))
        .order_by(Registration.updated_at.desc(), Registration.id.desc())
        .limit(1)
    )
