"""Course tickets and check-in at the door.

A seat's ticket carries a signed code (bot/documents/codes.py), written on the registration the
first time the ticket is shown. Staff check people in three ways that all end in `_check_in`: a photo
of the ticket's QR code, the code typed, or a name ticked in the participant list. The first
check-in is kept (when and by whom); a second one says when the first was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.documents.codes import CodeKind, new_code, verify_code
from bot.services.course_admin import staff_course
from bot.services.courses import association_name
from bot.services.errors import DomainError, NotFound
from bot.services.staff import StaffScope
from db.models import CheckInDesk, Course, Profile, Registration, User
from db.models.base import utcnow
from db.models.courses import CANCELLED, REGISTERED

DESK_HOURS = 24  # a desk left open stops taking photos and codes after this


class CheckInRefused(DomainError):
    """A ticket that cannot be checked in here: `unknown`, `other_course`, `not_registered`
    (a cancelled or released seat, or still waiting), `course_cancelled`, `no_desk`."""


@dataclass(frozen=True)
class Ticket:
    """What a ticket shows."""

    course: Course
    association: str | None
    name: str
    code: str


@dataclass(frozen=True)
class CheckIn:
    """The result of a check-in: who, and whether this was the first time (else when that was)."""

    registration: Registration
    name: str
    first: bool
    at: datetime
    course: Course | None = None  # of the ticket, when refused as another course's


async def person_name(session: AsyncSession, user_id: int) -> str:
    """The name to print: the profile's full name, else the Telegram first name."""
    name = await session.scalar(select(Profile.full_name).where(Profile.user_id == user_id))
    if name:
        return name
    return await session.scalar(select(User.first_name).where(User.id == user_id)) or ""


async def ticket(session: AsyncSession, user_id: int, course_id: int, key: bytes) -> Ticket:
    """The user's ticket for a course they have a seat in (its code written the first time)."""
    registration = await session.scalar(
        select(Registration).where(Registration.course_id == course_id, Registration.user_id == user_id)
    )
    course = await session.get(Course, course_id)
    if registration is None or course is None or registration.status != REGISTERED:
        raise NotFound("ticket")
    if course.status == CANCELLED:
        raise CheckInRefused("course_cancelled")
    if registration.ticket_code is None:
        registration.ticket_code = new_code(key, CodeKind.TICKET)
        await session.flush()
    return Ticket(
        course,
        await association_name(session, course.association_id),
        await person_name(session, user_id),
        registration.ticket_code,
    )


# ---------------------------------------------------------------------------- the desk


async def open_desk(session: AsyncSession, actor: StaffScope, course_id: int) -> Course:
    """Start checking people in at this course's door (one desk per staff member at a time)."""
    course = await staff_course(session, actor, course_id)
    if course.status == CANCELLED:
        raise CheckInRefused("course_cancelled")
    desk = await session.get(CheckInDesk, actor.user_id)
    if desk is None:
        session.add(CheckInDesk(user_id=actor.user_id, course_id=course_id, opened_at=utcnow()))
    else:
        desk.course_id, desk.opened_at = course_id, utcnow()
    await session.flush()
    return course


async def desk_course(session: AsyncSession, user_id: int) -> int | None:
    """The course whose door this user is checking people in at, if a desk is open."""
    desk = await session.get(CheckInDesk, user_id)
    if desk is None or desk.opened_at < utcnow() - timedelta(hours=DESK_HOURS):
        return None
    return desk.course_id


async def close_desk(session: AsyncSession, user_id: int) -> None:
    """Stop taking photos and codes as tickets."""
    await session.execute(delete(CheckInDesk).where(CheckInDesk.user_id == user_id))


# ---------------------------------------------------------------------------- checking in


async def _check_in(session: AsyncSession, actor: StaffScope, registration: Registration) -> CheckIn:
    name = await person_name(session, registration.user_id)
    if registration.status != REGISTERED:
        raise CheckInRefused("not_registered", name=name)
    if registration.checked_in_at is not None:
        return CheckIn(registration, name, False, registration.checked_in_at)
    registration.attended = True
    registration.checked_in_at = utcnow()
    registration.checked_in_by = actor.user_id
    await session.flush()
    return CheckIn(registration, name, True, registration.checked_in_at)


async def check_in_code(
    session: AsyncSession, actor: StaffScope, course_id: int, text: str, key: bytes
) -> CheckIn:
    """Check in the holder of a ticket (its code scanned or typed) at this course's door."""
    course = await staff_course(session, actor, course_id)
    if course.status == CANCELLED:
        raise CheckInRefused("course_cancelled")
    code = verify_code(key, CodeKind.TICKET, text)
    registration = (
        await session.scalar(select(Registration).where(Registration.ticket_code == code)) if code else None
    )
    if registration is None:
        raise CheckInRefused("unknown")
    if registration.course_id != course_id:
        other = await session.get(Course, registration.course_id)
        raise CheckInRefused("other_course", title=other.title if other else "")
    return await _check_in(session, actor, registration)


async def check_in_from_desk(session: AsyncSession, actor: StaffScope, text: str, key: bytes) -> CheckIn:
    """A code scanned or typed at the staff member's open desk."""
    course_id = await desk_course(session, actor.user_id)
    if course_id is None:
        raise CheckInRefused("no_desk")
    return await check_in_code(session, actor, course_id, text, key)
