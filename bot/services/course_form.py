"""The staff form for a course: drafts saved answer by answer, validation (Jalali dates), publishing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import JalaliParseError, parse_jalali
from bot.services import seats
from bot.services.course_admin import staff_course
from bot.services.courses import CourseUnavailable, InvalidAnswer, promote, words
from bot.services.errors import NotAllowed, NotFound
from bot.services.staff import StaffScope
from bot.text import normalize_input, to_ascii_digits
from db.models import Association, Course, CourseEdit, utcnow
from db.models.courses import CANCELLED, DRAFT, FINISHED, OPEN

# The questions of the form, in the order they are asked.
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

MAX_CAPACITY = 10_000

MAX_FEE = 10**12

MAX_LENGTH = timedelta(days=366)

_CLOCK_ONLY = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*$")

_URL = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)


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
    if not text.isdecimal():
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
        course.title = words(raw, 3, 200, "title")
    elif name == "description":
        course.description = words(raw, 3, 2000, "description")
    elif name == "teacher":
        course.teacher = words(raw, 3, 200, "teacher")
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
    course.place, course.online_url = words(text, 3, 300, "place"), None


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
