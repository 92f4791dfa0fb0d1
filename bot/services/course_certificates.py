"""Attendance certificates of a course: issued to every attendee when the course is marked held,
verified by anyone from their code, reissued (the name corrected) or revoked by staff.

Issuing is idempotent: an attendee who already holds a valid certificate of the course gets no
second one, so pressing again, or a restart, sends nothing new. The PDF itself is drawn when the
outbox sends it (bot/handlers/course_documents.py), from the row: nothing personal is stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.documents.codes import CodeKind, new_code, verify_code
from bot.services.course_admin import staff_course
from bot.services.courses import association_name
from bot.services.errors import DomainError, NotFound
from bot.services.staff import StaffScope
from bot.services.tickets import person_name
from db.models import Course, CourseCertificate, Registration
from db.models.base import utcnow
from db.models.courses import FINISHED, REGISTERED

KIND = CodeKind.COURSE_CERTIFICATE
REVOKED, REISSUED = "revoked", "reissued"


class CertificateRefused(DomainError):
    """`not_held` (the course is not marked held), `not_attended`, `revoked` (already)."""


@dataclass(frozen=True)
class Verification:
    """What anyone may learn from a code: valid, revoked or unknown; the name and course if known."""

    state: str  # "valid", "revoked", "unknown"
    name: str = ""
    course: str = ""
    association: str | None = None
    issued_at: datetime | None = None


@dataclass(frozen=True)
class CertificateData:
    """Everything a certificate shows."""

    certificate: CourseCertificate
    course: Course
    association: str | None


def _valid(course_id: int, user_id: int) -> object:
    return (
        (CourseCertificate.course_id == course_id)
        & (CourseCertificate.user_id == user_id)
        & CourseCertificate.revoked_at.is_(None)
    )


async def _issue(
    session: AsyncSession, course_id: int, user_id: int, key: bytes, issued_by: int | None
) -> CourseCertificate:
    certificate = CourseCertificate(
        code=new_code(key, KIND),
        course_id=course_id,
        user_id=user_id,
        name=await person_name(session, user_id),
        issued_at=utcnow(),
        issued_by=issued_by,
    )
    session.add(certificate)
    await session.flush()
    return certificate


async def held_course(session: AsyncSession, course_id: int) -> Course | None:
    """The course, when it is marked held (certificates are issued only then)."""
    course = await session.get(Course, course_id)
    return course if course is not None and course.status == FINISHED else None


async def issue_missing(
    session: AsyncSession, course_id: int, key: bytes, *, issued_by: int | None = None
) -> list[CourseCertificate]:
    """A certificate for each attendee of a held course who has no valid one yet (new ones only)."""
    if await held_course(session, course_id) is None:
        return []
    attendees = await session.scalars(
        select(Registration.user_id)
        .where(
            Registration.course_id == course_id,
            Registration.status == REGISTERED,
            Registration.attended.is_(True),
        )
        .order_by(Registration.id)
    )
    holders = set(
        await session.scalars(
            select(CourseCertificate.user_id).where(
                CourseCertificate.course_id == course_id, CourseCertificate.revoked_at.is_(None)
            )
        )
    )
    return [
        await _issue(session, course_id, user_id, key, issued_by)
        for user_id in attendees
        if user_id not in holders
    ]


async def certificates_of(
    session: AsyncSession, actor: StaffScope, course_id: int
) -> list[CourseCertificate]:
    """A course's certificates that still hold, for staff (in the order they were issued)."""
    await staff_course(session, actor, course_id)
    rows = await session.scalars(
        select(CourseCertificate)
        .where(CourseCertificate.course_id == course_id, CourseCertificate.revoked_at.is_(None))
        .order_by(CourseCertificate.id)
    )
    return list(rows)


async def _staff_certificate(
    session: AsyncSession, actor: StaffScope, certificate_id: int
) -> CourseCertificate:
    certificate = await session.get(CourseCertificate, certificate_id)
    if certificate is None:
        raise NotFound("certificate")
    await staff_course(session, actor, certificate.course_id)
    if certificate.revoked_at is not None:
        raise CertificateRefused("revoked")
    return certificate


async def revoke(session: AsyncSession, actor: StaffScope, certificate_id: int) -> CourseCertificate:
    """Revoke a certificate: its code then verifies as revoked."""
    certificate = await _staff_certificate(session, actor, certificate_id)
    certificate.revoked_at, certificate.revoked_reason = utcnow(), REVOKED
    await session.flush()
    return certificate


async def reissue(
    session: AsyncSession, actor: StaffScope, certificate_id: int, key: bytes
) -> tuple[CourseCertificate, Course]:
    """A new certificate with the holder's current name (corrected in their profile), and its
    course; the old one's code then verifies as replaced."""
    old = await _staff_certificate(session, actor, certificate_id)
    old.revoked_at, old.revoked_reason = utcnow(), REISSUED
    await session.flush()
    course = await staff_course(session, actor, old.course_id)
    return await _issue(session, old.course_id, old.user_id, key, actor.user_id), course


async def data(session: AsyncSession, code: str) -> CertificateData | None:
    """A certificate with its course, for drawing it (None: no such code)."""
    certificate = await session.scalar(select(CourseCertificate).where(CourseCertificate.code == code))
    if certificate is None:
        return None
    course = await session.get(Course, certificate.course_id)
    if course is None:
        return None
    return CertificateData(certificate, course, await association_name(session, course.association_id))


async def verify(session: AsyncSession, text: str, key: bytes) -> Verification:
    """Anyone's check of a code: valid or revoked (with the name and the course), or unknown."""
    code = verify_code(key, KIND, text)
    found = await data(session, code) if code else None
    if found is None:
        return Verification("unknown")
    certificate = found.certificate
    return Verification(
        "valid" if certificate.revoked_at is None else "revoked",
        certificate.name,
        found.course.title,
        found.association,
        certificate.issued_at,
    )
