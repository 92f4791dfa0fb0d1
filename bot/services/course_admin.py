"""Staff running a course: their courses, close/reopen, cancel, finish, lists, attendance, feedback."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import jalali_datetime
from bot.services.courses import ACTIVE, LISTED, CourseUnavailable, association_name
from bot.services.errors import NotFound
from bot.services.staff import StaffScope, covered
from bot.text import collation_key
from db.models import Association, Course, Profile, Registration
from db.models.base import utcnow
from db.models.courses import CANCELLED, CLOSED, DRAFT, FINISHED, OPEN, REGISTERED, WAITING


@dataclass(frozen=True)
class StaffCard:
    """A course as staff see it: with its association and how many have a seat or wait."""

    course: Course
    association: str | None
    registered: int
    waiting: int


@dataclass(frozen=True)
class NewCourseChoices:
    """Whom a staff member may create a course for: associations in Persian order, and whether
    chamber-wide courses too."""

    associations: list[Association]
    chamber_wide: bool

    @property
    def only(self) -> int | None:
        """The one choice there is (0: chamber-wide), or None when there is a choice to make."""
        if self.chamber_wide and not self.associations:
            return 0
        if len(self.associations) == 1 and not self.chamber_wide:
            return self.associations[0].id
        return None


@dataclass(frozen=True)
class Feedback:
    """Feedback results of one course."""

    attended: int
    answers: int
    average: float | None
    counts: dict[int, int]
    comments: list[str]


async def staff_course(session: AsyncSession, actor: StaffScope, course_id: int) -> Course:
    """A course (draft or not) that this staff member may manage."""
    return await covered(session, actor, Course, course_id, what="course", refusal="not_your_association")


async def staff_courses(session: AsyncSession, actor: StaffScope, *, limit: int = 30) -> list[Course]:
    """Published courses this staff member manages, newest start first."""
    query = select(Course).where(Course.status != DRAFT)
    if not (actor.is_admin or actor.chamber_wide):
        query = query.where(Course.association_id.in_(actor.association_ids or {-1}))
    rows = await session.scalars(query.order_by(Course.starts_at.desc(), Course.id.desc()).limit(limit))
    return list(rows)


async def changeable_course(session: AsyncSession, actor: StaffScope, course_id: int) -> Course:
    """A course this staff member may still change (not cancelled, not held)."""
    course = await staff_course(session, actor, course_id)
    if course.status in (CANCELLED, FINISHED):
        raise CourseUnavailable(course.status)
    return course


async def staff_card(session: AsyncSession, actor: StaffScope, course_id: int) -> StaffCard:
    """A course this staff member manages, with its counts."""
    course = await staff_course(session, actor, course_id)
    registered, waiting = await counts(session, course_id)
    return StaffCard(course, await association_name(session, course.association_id), registered, waiting)


async def new_course_choices(session: AsyncSession, actor: StaffScope) -> NewCourseChoices:
    """Associations this staff member may create courses for, in Persian alphabetical order."""
    query = select(Association)
    if not (actor.is_admin or actor.chamber_wide):
        query = query.where(Association.id.in_(actor.association_ids or {-1}))
    rows = sorted(await session.scalars(query), key=lambda a: collation_key(a.name))
    return NewCourseChoices(rows, actor.covers(None))


async def set_status(session: AsyncSession, actor: StaffScope, course_id: int, status: str) -> Course:
    """Close (no new sign-ups) or reopen a course."""
    course = await staff_course(session, actor, course_id)
    allowed = {CLOSED: (OPEN,), OPEN: (CLOSED,)}
    if status not in allowed or course.status not in allowed[status]:
        raise CourseUnavailable(course.status)
    course.status = status
    await session.flush()
    return course


async def cancel_course(session: AsyncSession, actor: StaffScope, course_id: int) -> tuple[Course, list[int]]:
    """Cancel a course; returns every registrant (seat or waiting) to tell."""
    course = await staff_course(session, actor, course_id)
    if course.status not in LISTED:
        raise CourseUnavailable(course.status)
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
    order = (Registration.created_at, Registration.id) if status == WAITING else (Registration.id,)
    rows = await session.execute(
        select(Registration, Profile)
        .outerjoin(Profile, Profile.user_id == Registration.user_id)
        .where(Registration.course_id == course_id, Registration.status == status)
        .order_by(*order)
    )
    return [(registration, profile) for registration, profile in rows]


async def participants_table(
    session: AsyncSession, course_id: int, status: str, tz: str
) -> list[list[object]]:
    """The rows of a participants (or waiting-list) file: number, name, mobile, national ID, city,
    Telegram ID, when they signed up, and for participants whether they attended, their rating (1–5)
    and their comment."""
    table: list[list[object]] = []
    for number, (registration, profile) in enumerate(await participants(session, course_id, status), start=1):
        person = [
            getattr(profile, name, None) or "" for name in ("full_name", "mobile", "national_id", "city")
        ]
        row: list[object] = [
            number,
            *person,
            registration.user_id,
            jalali_datetime(registration.created_at, tz),
        ]
        feedback = [registration.attended, registration.rating or "", registration.comment or ""]
        table.append([*row, *feedback] if status == REGISTERED else row)
    return table


async def toggle_attendance(session: AsyncSession, actor: StaffScope, registration_id: int) -> Registration:
    """The participant list (chat or dashboard): a press checks the person in, the same record as a
    ticket at the door (bot/services/tickets.py); a press on someone checked in undoes it."""
    registration = await session.get(Registration, registration_id)
    if registration is None or registration.status != REGISTERED:
        raise NotFound("registration")
    course = await staff_course(session, actor, registration.course_id)
    if course.status == CANCELLED:
        raise CourseUnavailable(course.status)
    if registration.attended:
        registration.attended = False
        registration.checked_in_at = registration.checked_in_by = None
    else:
        registration.attended = True
        registration.checked_in_at = utcnow()
        registration.checked_in_by = actor.user_id
    await session.flush()
    return registration


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
