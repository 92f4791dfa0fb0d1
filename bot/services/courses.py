"""Courses: drafting and publishing (staff), signing up, the waiting list, attendance and feedback.

Every change to seats goes through bot/services/seats.py. A transaction that changes seats first
takes the course's waiting-list ticket (`lock_and_ticket`), which also locks the course row, so the
checks that follow see every sign-up and cancellation committed before it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.formatting import JalaliParseError, parse_jalali
from bot.services import seats
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.members import is_member
from bot.services.staff import StaffScope
from bot.text import normalize_input, to_ascii_digits
from db.models import Association, Course, CourseEdit, Profile, Registration, utcnow
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

# The questions of the staff form, in the order they are asked.
FIELDS = (
    "title",
    "description",
    "teacher",
    "starts_at",
    "ends_at",
    "place",
    "capacity",
    "members_only",
    "fee",
)
TEXT_FIELDS = tuple(f for f in FIELDS if f != "members_only")
ACTIVE = (REGISTERED, WAITING)
LISTED = (OPEN, CLOSED)
MAX_CAPACITY = 10_000
MAX_FEE = 10**12
MAX_LENGTH = timedelta(days=366)
_CLOCK_ONLY = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*$")
_URL = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)


class InvalidAnswer(DomainError):
    """A staff answer that cannot be stored; `reason` says why."""


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


@dataclass(frozen=True)
class Feedback:
    """Feedback results of one course."""

    attended: int
    answers: int
    average: float | None
    counts: dict[int, int]
    comments: list[str]


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


# ---------------------------------------------------------------------------- staff: the form


async def staff_course(session: AsyncSession, actor: StaffScope, course_id: int) -> Course:
    """A course (draft or not) that this staff member may manage."""
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("course")
    if not actor.covers(course.association_id):
        raise NotAllowed("not_your_association")
    return course


async def staff_courses(session: AsyncSession, actor: StaffScope, *, limit: int = 30) -> list[Course]:
    """Published courses this staff member manages, newest start first."""
    query = select(Course).where(Course.status != DRAFT)
    if not (actor.is_admin or actor.chamber_wide):
        query = query.where(Course.association_id.in_(actor.association_ids or {-1}))
    rows = await session.scalars(query.order_by(Course.starts_at.desc(), Course.id.desc()).limit(limit))
    return list(rows)


async def associations_for(session: AsyncSession, actor: StaffScope) -> list[Association]:
    """Associations this staff member may create courses for."""
    query = select(Association).order_by(Association.name)
    if not (actor.is_admin or actor.chamber_wide):
        query = query.where(Association.id.in_(actor.association_ids or {-1}))
    return list(await session.scalars(query))


async def start_draft(session: AsyncSession, actor: StaffScope, association_id: int | None) -> Course:
    """A new draft course (or the user's unfinished one for the same association)."""
    if not actor.covers(association_id):
        raise NotAllowed("not_your_association")
    if association_id is not None and await session.get(Association, association_id) is None:
        raise NotFound("association")
    current = await editing(session, actor.user_id)
    if current is not None and current[0].creating and current[1].association_id == association_id:
        return current[1]
    course = Course(association_id=association_id, created_by=actor.user_id, status=DRAFT)
    session.add(course)
    await session.flush()
    await _point_at(session, actor.user_id, course.id, creating=True)
    return course


async def start_edit(session: AsyncSession, actor: StaffScope, course_id: int) -> Course:
    """Point the staff member's next answer at an existing course."""
    course = await staff_course(session, actor, course_id)
    if course.status in (CANCELLED, FINISHED):
        raise CourseUnavailable(course.status)
    await _point_at(session, actor.user_id, course.id, creating=course.status == DRAFT)
    return course


async def _point_at(session: AsyncSession, user_id: int, course_id: int, *, creating: bool) -> None:
    pointer = await session.get(CourseEdit, user_id)
    if pointer is None:
        session.add(CourseEdit(user_id=user_id, course_id=course_id, creating=creating))
    else:
        pointer.course_id = course_id
        pointer.creating = creating
    await session.flush()


async def editing(session: AsyncSession, user_id: int) -> tuple[CourseEdit, Course] | None:
    """The course this staff member is filling in, if any."""
    pointer = await session.get(CourseEdit, user_id)
    if pointer is None:
        return None
    course = await session.get(Course, pointer.course_id)
    return (pointer, course) if course is not None else None


async def stop_editing(session: AsyncSession, user_id: int) -> None:
    """Forget which course the staff member was filling in."""
    pointer = await session.get(CourseEdit, user_id)
    if pointer is not None:
        await session.delete(pointer)
        await session.flush()


def next_missing(course: Course) -> str | None:
    """The first unanswered question of a draft, or None when it can be published."""
    answered = {
        "title": bool(course.title),
        "description": bool(course.description),
        "teacher": bool(course.teacher),
        "starts_at": course.starts_at is not None,
        "ends_at": course.ends_at is not None,
        "place": bool(course.place or course.online_url),
        "capacity": course.capacity > 0,
        "members_only": course.members_answered,
        "fee": course.fee_answered,
    }
    return next((f for f in FIELDS if not answered[f]), None)


def _words(raw: str, low: int, high: int, what: str) -> str:
    text = " ".join(normalize_input(raw).split())
    if len(text) < low:
        raise InvalidAnswer(f"{what}_too_short")
    if len(text) > high:
        raise InvalidAnswer(f"{what}_too_long")
    return text


def parse_start(raw: str, tz: str, now: datetime) -> datetime:
    """A start date and time typed in Jalali (any digits), in the future."""
    if ":" not in to_ascii_digits(raw):
        raise InvalidAnswer("time_missing")
    try:
        moment = parse_jalali(raw, tz)
    except JalaliParseError as exc:
        raise InvalidAnswer(f"date_{exc.reason}") from None
    if moment <= now:
        raise InvalidAnswer("in_past")
    return moment


def parse_end(raw: str, starts_at: datetime | None, tz: str) -> datetime:
    """The end: a full Jalali date and time, or only a time on the day the course starts."""
    if starts_at is None:
        raise InvalidAnswer("start_first")
    clock = _CLOCK_ONLY.match(to_ascii_digits(normalize_input(raw)))
    if clock is not None:
        hour, minute = int(clock[1]), int(clock[2])
        if hour > 23 or minute > 59:
            raise InvalidAnswer("date_time")
        local = starts_at.astimezone(ZoneInfo(tz))
        moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(starts_at.tzinfo)
    else:
        if ":" not in to_ascii_digits(raw):
            raise InvalidAnswer("time_missing")
        try:
            moment = parse_jalali(raw, tz)
        except JalaliParseError as exc:
            raise InvalidAnswer(f"date_{exc.reason}") from None
    if moment <= starts_at:
        raise InvalidAnswer("end_before_start")
    if moment - starts_at > MAX_LENGTH:
        raise InvalidAnswer("too_long_course")
    return moment


def parse_amount(raw: str, high: int, what: str) -> int:
    """A whole number typed with any digits and thousands separators."""
    text = to_ascii_digits(normalize_input(raw)).replace(",", "").replace("٬", "").replace(" ", "")
    if text in ("-", "—"):
        text = "0"
    if not text.isdigit():
        raise InvalidAnswer(f"{what}_not_number")
    value = int(text)
    if value > high:
        raise InvalidAnswer(f"{what}_too_big")
    return value


async def save_answer(
    session: AsyncSession,
    actor: StaffScope,
    course_id: int,
    name: str,
    raw: str,
    *,
    tz: str,
    now: datetime | None = None,
) -> tuple[Course, list[int]]:
    """Validate and store one answer; returns the course and anyone a capacity increase moved up."""
    moment = now or utcnow()
    course = await staff_course(session, actor, course_id)
    if course.status in (CANCELLED, FINISHED):
        raise CourseUnavailable(course.status)
    promoted: list[int] = []
    if name == "title":
        course.title = _words(raw, 3, 200, "title")
    elif name == "description":
        course.description = _words(raw, 3, 2000, "description")
    elif name == "teacher":
        course.teacher = _words(raw, 3, 200, "teacher")
    elif name == "starts_at":
        starts = parse_start(raw, tz, moment)
        if course.ends_at is not None and course.ends_at <= starts:
            # Keep the length of the course when its start moves.
            length = course.ends_at - (course.starts_at or course.ends_at)
            course.ends_at = starts + (length if length > timedelta(0) else timedelta(hours=2))
        course.starts_at = starts
    elif name == "ends_at":
        course.ends_at = parse_end(raw, course.starts_at, tz)
    elif name == "place":
        _set_place(course, raw)
    elif name == "capacity":
        promoted = await _set_capacity(session, course, parse_amount(raw, MAX_CAPACITY, "capacity"), moment)
    elif name == "fee":
        fee = parse_amount(raw, MAX_FEE, "fee")
        course.fee_rials = fee or None
        course.fee_answered = True
    else:
        raise ValueError(f"unknown course field {name!r}")
    await session.flush()
    return course, promoted


def _set_place(course: Course, raw: str) -> None:
    text = " ".join(normalize_input(raw).split())
    if text.lower().startswith(("http://", "https://", "www.")):
        url = text if "://" in text else "https://" + text
        if not _URL.match(url) or len(url) > 300:
            raise InvalidAnswer("bad_url")
        course.online_url, course.place = url, None
        return
    course.place, course.online_url = _words(text, 3, 300, "place"), None


async def _set_capacity(session: AsyncSession, course: Course, capacity: int, now: datetime) -> list[int]:
    if capacity < 1:
        raise InvalidAnswer("capacity_zero")
    if course.status == DRAFT:
        course.capacity = capacity
        return []
    await seats.lock_and_ticket(session, course.id)
    if not await seats.set_capacity(session, course.id, capacity):
        await session.refresh(course)
        raise InvalidAnswer("capacity_below_taken", taken=course.taken)
    promoted = await promote(session, course.id, now=now)
    await session.refresh(course)
    return promoted


async def set_members_only(session: AsyncSession, actor: StaffScope, course_id: int, value: bool) -> Course:
    """Open the course to everyone, or to members only."""
    course = await staff_course(session, actor, course_id)
    course.members_only = value
    course.members_answered = True
    await session.flush()
    return course


async def publish(session: AsyncSession, actor: StaffScope, course_id: int) -> Course:
    """Turn a complete draft into an open course."""
    course = await staff_course(session, actor, course_id)
    if course.status != DRAFT:
        raise CourseUnavailable(course.status)
    missing = next_missing(course)
    if missing is not None:
        raise InvalidAnswer("incomplete", field=missing)
    course.status = OPEN
    await stop_editing(session, actor.user_id)
    await session.flush()
    return course


# ---------------------------------------------------------------------------- staff: running it


async def set_status(session: AsyncSession, actor: StaffScope, course_id: int, status: str) -> Course:
    """Close (no new sign-ups) or reopen a course."""
    course = await staff_course(session, actor, course_id)
    allowed = {CLOSED: (OPEN,), OPEN: (CLOSED,)}
    if status not in allowed or course.status not in allowed[status]:
        raise CourseUnavailable(course.status)
    await seats.lock_and_ticket(session, course_id)
    course.status = status
    await session.flush()
    return course


async def cancel_course(session: AsyncSession, actor: StaffScope, course_id: int) -> tuple[Course, list[int]]:
    """Cancel a course; returns every registrant (seat or waiting) to tell."""
    course = await staff_course(session, actor, course_id)
    if course.status not in LISTED:
        raise CourseUnavailable(course.status)
    await seats.lock_and_ticket(session, course_id)
    course.status = CANCELLED
    rows = await session.scalars(
        select(Registration.user_id)
        .where(Registration.course_id == course_id, Registration.status.in_(ACTIVE))
        .order_by(Registration.id)
    )
    await session.flush()
    return course, list(rows)


async def finish(session: AsyncSession, actor: StaffScope, course_id: int) -> tuple[Course, list[int]]:
    """Mark a course as held; returns the attendees who have not given feedback yet."""
    course = await staff_course(session, actor, course_id)
    if course.status not in LISTED:
        raise CourseUnavailable(course.status)
    course.status = FINISHED
    await session.flush()
    rows = await session.scalars(
        select(Registration.user_id)
        .where(
            Registration.course_id == course_id,
            Registration.attended.is_(True),
            Registration.rating.is_(None),
        )
        .order_by(Registration.id)
    )
    return course, list(rows)


async def participants(
    session: AsyncSession, course_id: int, status: str = REGISTERED
) -> list[tuple[Registration, Profile | None]]:
    """Registrations in one state (waiting ones in queue order) with the people's profiles."""
    order = (Registration.queue_no, Registration.id) if status == WAITING else (Registration.id,)
    rows = await session.execute(
        select(Registration, Profile)
        .outerjoin(Profile, Profile.user_id == Registration.user_id)
        .where(Registration.course_id == course_id, Registration.status == status)
        .order_by(*order)
    )
    return [(registration, profile) for registration, profile in rows]


async def toggle_attendance(session: AsyncSession, actor: StaffScope, registration_id: int) -> Registration:
    """Mark a participant present (or not, when pressed again)."""
    registration = await session.get(Registration, registration_id)
    if registration is None or registration.status != REGISTERED:
        raise NotFound("registration")
    course = await staff_course(session, actor, registration.course_id)
    if course.status == CANCELLED:
        raise CourseUnavailable(course.status)
    registration.attended = not registration.attended
    await session.flush()
    return registration


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
    registration.comment = _words(raw, 2, 1000, "comment")
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


async def feedback(session: AsyncSession, course_id: int) -> Feedback:
    """Attendance and rating results of a course."""
    rows = list(
        await session.scalars(
            select(Registration).where(Registration.course_id == course_id, Registration.attended.is_(True))
        )
    )
    ratings = [r.rating for r in rows if r.rating is not None]
    counts = {n: ratings.count(n) for n in range(5, 0, -1)}
    average = sum(ratings) / len(ratings) if ratings else None
    comments = [r.comment for r in rows if r.comment]
    return Feedback(len(rows), len(ratings), average, counts, comments)


def to_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with a BOM, so spreadsheet programs show Persian text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


async def counts(session: AsyncSession, course_id: int) -> tuple[int, int]:
    """How many have a seat and how many are waiting."""
    rows = await session.execute(
        select(Registration.status, func.count())
        .where(Registration.course_id == course_id, Registration.status.in_(ACTIVE))
        .group_by(Registration.status)
    )
    found = {status: int(n) for status, n in rows}
    return found.get(REGISTERED, 0), found.get(WAITING, 0)
