"""The staff form for a course, as the form engine's store: a draft course filled in answer by
answer, validation (Jalali dates with any digits, whole numbers), publishing; and "edit one answer"
of a published course (a higher capacity moves people up from the waiting list).

The draft is the staff member's `course_edits` row: which course they are filling in (a draft, or a
published course being edited) and which question they are answering (`form_field`); the answers
live on the course row itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import JalaliParseError, parse_jalali
from bot.services import seats
from bot.services.actor import Actor
from bot.services.course_admin import changeable_course, counts
from bot.services.courses import CourseUnavailable, association_name, promote, words
from bot.services.drafts import DraftStore
from bot.services.errors import InvalidAnswer, NotAllowed, NotFound
from bot.services.numbers import whole_number
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
MAX_CAPACITY = 10_000
MAX_FEE = 10**12
MAX_LENGTH = timedelta(days=366)
_CLOCK_ONLY = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*$")
_URL = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)


@dataclass(frozen=True)
class Saved:
    """A draft published, or one answer of a published course changed; with the staff card's figures."""

    course: Course
    association: str | None
    published: bool
    registered: int
    waiting: int
    tz: str
    promoted: list[int] = field(default_factory=list)  # moved up from the waiting list by this change


# ---------------------------------------------------------------------------- cleaning answers


def clean_title(raw: str) -> str:
    return words(raw, 3, 200)


def clean_description(raw: str) -> str:
    return words(raw, 3, 2000)


def clean_teacher(raw: str) -> str:
    return words(raw, 3, 200)


def clean_capacity(raw: str) -> int:
    """A number of seats: any digits, thousands separators, «۳۰ نفر»; at least one."""
    value = whole_number(raw, units=("نفر", "جا", "صندلی"), limit=MAX_CAPACITY)
    if value < 1:
        raise InvalidAnswer("capacity_zero")
    return value


def clean_fee(raw: str) -> int:
    """A fee in rials: any digits, thousands separators, «… ریال»; 0 (or a dash) when free."""
    if normalize_input(raw).strip() in ("-", "—"):
        return 0
    return whole_number(raw, units=("ریال",), limit=MAX_FEE)


def _parse_moment(raw: str, tz: str) -> datetime:
    if ":" not in to_ascii_digits(raw):
        raise InvalidAnswer("time_missing")
    try:
        return parse_jalali(raw, tz)
    except JalaliParseError as exc:
        raise InvalidAnswer(f"date_{exc.reason}") from None


def parse_start(raw: str, tz: str, now: datetime) -> datetime:
    """A start date and time typed in Jalali (any digits), in the future."""
    moment = _parse_moment(raw, tz)
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
        moment = _parse_moment(raw, tz)
    if moment <= starts_at:
        raise InvalidAnswer("end_before_start")
    if moment - starts_at > MAX_LENGTH:
        raise InvalidAnswer("too_long_course")
    return moment


def _set_place(course: Course, raw: str) -> None:
    text = " ".join(normalize_input(raw).split())
    if text.lower().startswith(("http://", "https://", "www.")):
        url = text if "://" in text else "https://" + text
        if not _URL.match(url) or len(url) > 300:
            raise InvalidAnswer("bad_url")
        course.online_url, course.place = url, None
        return
    course.place, course.online_url = words(text, 3, 300), None


# ---------------------------------------------------------------------------- the store


class CourseStore(DraftStore[CourseEdit]):
    """The course a staff member is filling in (a draft) or changing one answer of (published)."""

    async def current(self, session: AsyncSession, actor: Actor) -> CourseEdit | None:
        pointer = await session.get(CourseEdit, actor.user_id)
        if pointer is None or not actor.scope.covers(pointer.course.association_id):
            return None
        return pointer

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> CourseEdit:
        """`target`: `association_id` (0 for chamber-wide) to start a course, or `course_id` (and
        `field`) to continue a draft or change one answer of a published course."""
        if "course_id" in target:
            course = await changeable_course(session, actor.scope, int(target["course_id"]))
            name = str(target.get("field") or "")
            return await _point_at(session, actor, course, name if name in FIELDS else None)
        association_id = int(target.get("association_id") or 0) or None
        if not actor.scope.covers(association_id):
            raise NotAllowed("not_your_association")
        if association_id is not None and await session.get(Association, association_id) is None:
            raise NotFound("association")
        # The staff member's unfinished draft for the same association is taken up again.
        draft = await session.scalar(
            select(Course)
            .where(
                Course.status == DRAFT,
                Course.created_by == actor.user_id,
                Course.association_id.is_(None)
                if association_id is None
                else Course.association_id == association_id,
            )
            .order_by(Course.id.desc())
            .limit(1)
        )
        if draft is None:
            draft = Course(association_id=association_id, created_by=actor.user_id, status=DRAFT)
            session.add(draft)
            await session.flush()
        return await _point_at(session, actor, draft, None)

    def value(self, draft: CourseEdit, field: str) -> object | None:
        course = draft.course
        if field == "place":
            return course.place or course.online_url or None
        if field == "capacity":
            return course.capacity or None
        if field == "members_only":
            return ("1" if course.members_only else "0") if course.members_answered else None
        if field == "fee":
            return (course.fee_rials or 0) if course.fee_answered else None
        value = getattr(course, field, None)
        return value if value != "" else None

    async def save(
        self, session: AsyncSession, draft: CourseEdit, field: str, value: object, actor: Actor
    ) -> None:
        course = draft.course
        if course.status in (CANCELLED, FINISHED):
            raise CourseUnavailable(course.status)
        if field in ("title", "description", "teacher"):
            setattr(course, field, str(value))
        elif field == "starts_at":
            starts = parse_start(str(value), actor.tz, utcnow())
            if course.ends_at is not None and course.ends_at <= starts:
                # Keep the length of the course when its start moves.
                length = course.ends_at - (course.starts_at or course.ends_at)
                course.ends_at = starts + (length if length > timedelta(0) else timedelta(hours=2))
            course.starts_at = starts
        elif field == "ends_at":
            course.ends_at = parse_end(str(value), course.starts_at, actor.tz)
        elif field == "place":
            _set_place(course, str(value))
        elif field == "capacity":
            await _set_capacity(session, course, int(str(value)))
        elif field == "members_only":
            course.members_only, course.members_answered = value == "1", True
        elif field == "fee":
            course.fee_rials, course.fee_answered = int(str(value)) or None, True
        else:
            raise ValueError(f"unknown course field {field!r}")
        await session.flush()

    async def extras(
        self, session: AsyncSession, draft: CourseEdit, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        return {"association": await association_name(session, draft.course.association_id), "tz": actor.tz}

    async def discard(self, session: AsyncSession, draft: CourseEdit, actor: Actor) -> None:
        course = draft.course
        await session.delete(draft)
        await session.flush()
        if course.status == DRAFT:
            await session.delete(course)
        await session.flush()


STORE = CourseStore()


async def _point_at(session: AsyncSession, actor: Actor, course: Course, field: str | None) -> CourseEdit:
    pointer = await session.get(CourseEdit, actor.user_id)
    if pointer is None:
        pointer = CourseEdit(user_id=actor.user_id, course_id=course.id)
        session.add(pointer)
    pointer.course = course
    pointer.creating = course.status == DRAFT
    pointer.form_field = field
    await session.flush()
    return pointer


async def _set_capacity(session: AsyncSession, course: Course, capacity: int) -> None:
    if course.status == DRAFT:
        course.capacity = capacity
        return
    changed = await seats.set_capacity(session, course.id, capacity)
    await session.refresh(course)
    if not changed:
        raise InvalidAnswer("capacity_below_taken", taken=course.taken)


def is_published(draft: CourseEdit) -> bool:
    """An answer of a published course is being changed (it is saved at once, no review)."""
    return draft.course.status != DRAFT


async def submit(session: AsyncSession, draft: CourseEdit, actor: Actor) -> Saved:
    """Publish a complete draft; or, for a published course, end the edit (and give seats freed by a
    higher capacity to the people waiting)."""
    course = draft.course
    if course.status in (CANCELLED, FINISHED):
        raise CourseUnavailable(course.status)
    published = course.status == DRAFT
    promoted: list[int] = []
    if published:
        course.status = OPEN
    else:
        promoted = await promote(session, course.id)
    await session.delete(draft)
    await session.flush()
    await session.refresh(course)
    registered, waiting = await counts(session, course.id)
    name = await association_name(session, course.association_id)
    return Saved(course, name, published, registered, waiting, actor.tz, promoted)
