"""Courses for members and visitors: reading, signing up, the waiting list, cancelling.

A sign-up is two statements and takes no lock of its own: the conditional seat UPDATE
(`seats.take_seat`, which also checks that the course is open, has not started and, for a
members-only course, that the user is a member) and the registration INSERT (a seat, or a place on
the waiting list while the course is still full). The waiting-list position is computed when it is
shown: the people waiting are ordered by when they signed up (`created_at`, then `id`).

Staff work lives in course_form.py (creating and editing) and course_admin.py (running a course);
feedback in course_feedback.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement

from bot.services import seats
from bot.services.errors import DomainError, InvalidAnswer, NotFound
from bot.text import normalize_input
from db.models import Association, Course, Member, Registration, utcnow
from db.models.base import UTCDateTime
from db.models.courses import (
    CANCELLED,
    CLOSED,
    DRAFT,
    FINISHED,
    OPEN,
    R_CANCELLED,
    REGISTERED,
    RELEASED,
    WAITING,
)
from db.session import rowcount

# The rows and words the course handlers read (they never import the database layer).
__all__ = [
    "CANCELLED",
    "CLOSED",
    "DRAFT",
    "FINISHED",
    "OPEN",
    "REGISTERED",
    "WAITING",
    "Course",
    "Registration",
]

# A registration that holds a seat or a place in line; courses shown in lists.
ACTIVE = (REGISTERED, WAITING)
LISTED = (OPEN, CLOSED)
ATTEMPTS = 5  # a sign-up that raced a freed seat tries again (each try is the two statements)


class CourseUnavailable(DomainError):
    """Sign-up or cancellation refused: `reason` is closed, cancelled, finished or started."""


class MembersOnly(DomainError):
    """The course is for members; `details["association_id"]` says of which association."""


class AlreadySignedUp(DomainError):
    """The user already has a seat (reason "registered") or a place in the queue ("waiting")."""


@dataclass(frozen=True)
class SignUp:
    """The outcome of a sign-up: a seat, or a place on the waiting list (its position is read when
    the card is shown)."""

    course_id: int
    user_id: int
    registration_id: int
    waiting: bool


@dataclass(frozen=True)
class Cancellation:
    """A cancelled or released seat, and who moved up from the waiting list into it."""

    course: Course
    previous: str
    promoted: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Card:
    """What a course card shows to one user."""

    course: Course
    association: str | None
    registration: Registration | None
    position: int | None

    @property
    def can_join(self) -> bool:
        """Sign-up is open and the user holds no seat or place in line."""
        active = self.registration is not None and self.registration.status in ACTIVE
        started = self.course.starts_at is None or self.course.starts_at <= utcnow()
        return self.course.status == OPEN and not started and not active


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
) -> tuple[list[Course], int, str | None]:
    """Courses that have not started yet, soonest first; how many there are in all; the name of
    the association when the list is one association's."""
    moment = now or utcnow()
    where = [Course.status.in_(LISTED), Course.starts_at > moment]
    if association_id is not None:
        where.append(Course.association_id == association_id)
    total = int(await session.scalar(select(func.count()).select_from(Course).where(*where)) or 0)
    rows = await session.scalars(
        select(Course).where(*where).order_by(Course.starts_at, Course.id).limit(limit).offset(offset)
    )
    return list(rows), total, await association_name(session, association_id)


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


def _in_line_before(registration: Registration) -> ColumnElement[bool]:
    """Waiting rows of the same course that are ahead of `registration` (or it itself)."""
    return and_(
        Registration.course_id == registration.course_id,
        Registration.status == WAITING,
        or_(
            Registration.created_at < registration.created_at,
            and_(Registration.created_at == registration.created_at, Registration.id <= registration.id),
        ),
    )


async def waiting_position(session: AsyncSession, registration: Registration) -> int | None:
    """1 for the first person waiting; None when not waiting."""
    if registration.status != WAITING:
        return None
    ahead = await session.scalar(
        select(func.count()).select_from(Registration).where(_in_line_before(registration))
    )
    return int(ahead or 0)


async def card(session: AsyncSession, course_id: int, user_id: int) -> Card:
    """A published course as `user_id` sees it: with their seat or place in line."""
    course = await get_course(session, course_id)
    registration = await registration_of(session, course_id, user_id)
    position = await waiting_position(session, registration) if registration is not None else None
    return Card(course, await association_name(session, course.association_id), registration, position)


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
    return [
        (course, registration, await waiting_position(session, registration)) for course, registration in rows
    ]


# ---------------------------------------------------------------------------- signing up


def _may_join() -> list[ColumnElement[bool]]:
    """What a course row must satisfy for the user (`:user_id`) to sign up at `:now`: open, not
    started, and for a members-only course a membership (of its association; of any association
    for a chamber-wide course)."""
    member = exists().where(
        MEMBERS.c.user_id == bindparam("user_id"),
        or_(COURSES.c.association_id.is_(None), MEMBERS.c.association_id == COURSES.c.association_id),
    )
    return [
        COURSES.c.status == OPEN,
        COURSES.c.starts_at > bindparam("now", type_=UTCDateTime),
        or_(COURSES.c.members_only == false(), member),
    ]


COURSES, MEMBERS, REGISTRATIONS = (cast(Table, model.__table__) for model in (Course, Member, Registration))
# Built once: a sign-up only binds its values (no statement to build, its compiled form is cached).
TAKE_SEAT = (
    update(COURSES)
    .where(COURSES.c.id == bindparam("course_id"), COURSES.c.taken < COURSES.c.capacity, *_may_join())
    .values(taken=COURSES.c.taken + 1)
)


@functools.cache
def _register_statement(dialect: str, seated: bool) -> Executable:
    """The registration INSERT … SELECT … ON CONFLICT of a sign-up: a seat just taken, or a place
    in line while the course is still full (the revival of a cancelled row counts as an INSERT)."""
    columns: dict[str, ColumnElement[Any]] = {
        "course_id": bindparam("course_id", type_=Integer),
        "user_id": bindparam("user_id", type_=BigInteger),
        "status": literal(REGISTERED if seated else WAITING),
        "queue_no": null(),
        "promoted_at": null(),
        "attended": false(),
        "created_at": bindparam("joined", type_=UTCDateTime),
        "updated_at": bindparam("joined", type_=UTCDateTime),
    }
    source = select(*columns.values()).where(COURSES.c.id == bindparam("course_id"))
    if not seated:
        # Still full, and on PostgreSQL hold the course row (shared) until commit: a cancellation
        # that frees a seat waits for this entry and then promotes it, or (if it came first) this
        # statement sees the free seat and writes nothing, and the sign-up takes the seat instead.
        source = source.where(COURSES.c.taken >= COURSES.c.capacity, *_may_join())
        source = source.with_for_update(read=True, of=COURSES)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(REGISTRATIONS).from_select(list(columns), source)
    return statement.on_conflict_do_update(
        index_elements=["course_id", "user_id"],
        set_={name: statement.excluded[name] for name in columns if name not in ("course_id", "user_id")},
        where=REGISTRATIONS.c.status.not_in(ACTIVE),
    ).returning(REGISTRATIONS.c.id)


async def sign_up(
    session: AsyncSession, course_id: int, user_id: int, *, now: datetime | None = None
) -> SignUp:
    """Give the user a seat, or (when full) a place on the waiting list: two statements."""
    moment = now or utcnow()
    connection = await session.connection()
    values = {"course_id": course_id, "user_id": user_id, "now": moment}
    for _attempt in range(ATTEMPTS):
        seated = rowcount(await connection.execute(TAKE_SEAT, values)) == 1
        # The place in line is the time of the INSERT, read after the UPDATE: on SQLite that holds
        # the write lock, so the order of the line is the order of the commits.
        register = _register_statement(connection.dialect.name, seated)
        written = await connection.execute(register, values | {"joined": now or utcnow()})
        registration_id = written.scalar()
        if registration_id is not None:
            return SignUp(course_id, user_id, int(registration_id), waiting=not seated)
        # Nothing written: find out why (rare: a refusal, or a seat freed between the statements).
        await _refusal(session, course_id, user_id, moment, seated=seated)
    raise DomainError("busy")


async def _refusal(
    session: AsyncSession, course_id: int, user_id: int, now: datetime, *, seated: bool
) -> None:
    """Why a sign-up wrote nothing (raised), or return to try again (a seat was freed meanwhile)."""
    existing = await registration_of(session, course_id, user_id)
    if existing is not None and existing.status in ACTIVE:
        raise AlreadySignedUp(existing.status)  # the transaction rolls back, and the seat with it
    course = await session.get(Course, course_id, populate_existing=True)
    if course is None or course.status == DRAFT:
        raise NotFound("course")
    if course.status != OPEN:
        raise CourseUnavailable(course.status)
    if course.starts_at is None or course.starts_at <= now:
        raise CourseUnavailable("started")
    if course.members_only and not await _is_member(session, user_id, course.association_id):
        raise MembersOnly("members_only", association_id=course.association_id)
    if seated:
        raise AssertionError("a seat was taken but the registration was not written")


async def _is_member(session: AsyncSession, user_id: int, association_id: int | None) -> bool:
    query = select(Member.id).where(Member.user_id == user_id)
    if association_id is not None:
        query = query.where(Member.association_id == association_id)
    return await session.scalar(query.limit(1)) is not None


# ---------------------------------------------------------------------------- leaving and moving up


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
    course = await get_course(session, course_id)
    if course.status not in LISTED:
        raise CourseUnavailable(course.status)
    if course.starts_at is not None and course.starts_at <= moment:
        raise CourseUnavailable("started")
    for _attempt in range(ATTEMPTS):
        registration = await registration_of(session, course_id, user_id)
        if registration is None or registration.status not in ACTIVE:
            raise NotFound("registration")
        previous = registration.status
        # Only from the state just read: a promotion at the same moment makes us read it again.
        if await _move(session, registration.id, previous, RELEASED if release else R_CANCELLED):
            break
        session.expire(registration)
    else:
        raise DomainError("busy")
    promoted: list[int] = []
    if previous == REGISTERED:
        await seats.free_seat(session, course_id)
        promoted = await promote(session, course_id, now=moment)
    await session.refresh(course)
    return Cancellation(course, previous, promoted)


async def _move(
    session: AsyncSession, registration_id: int, previous: str, status: str, **values: object
) -> bool:
    """Change a registration's state only if it is still `previous` (one conditional UPDATE)."""
    result = await session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.status == previous)
        .values(status=status, queue_no=None, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def promote(session: AsyncSession, course_id: int, *, now: datetime | None = None) -> list[int]:
    """Move people from the head of the waiting list into free seats; returns their user ids.

    Call after the change that freed seats (which holds the course row on PostgreSQL until commit).
    """
    moment = now or utcnow()
    promoted: list[int] = []
    while True:
        first = await session.scalar(
            select(Registration)
            .where(Registration.course_id == course_id, Registration.status == WAITING)
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        )
        if first is None or not await seats.take_seat(session, course_id, LISTED):
            return promoted
        if await _move(session, first.id, WAITING, REGISTERED, promoted_at=moment):
            promoted.append(first.user_id)
        else:
            await seats.free_seat(session, course_id)  # they left the line just now: the next one
        session.expire(first)


def words(raw: str, low: int, high: int) -> str:
    """Free text with its spaces tidied, between `low` and `high` letters long (reasons "too_short",
    "too_long" with `limit`)."""
    text = " ".join(normalize_input(raw).split())
    if len(text) < low:
        raise InvalidAnswer("too_short")
    if len(text) > high:
        raise InvalidAnswer("too_long", limit=high)
    return text
