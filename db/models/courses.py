"""Training courses, who signed up (or waits) for them, attendance and feedback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, FormDraft, UTCDateTime, utcnow

# Course states; a `draft` is a course a staff member is still filling in.
DRAFT, OPEN, CLOSED, CANCELLED, FINISHED = "draft", "open", "closed", "cancelled", "finished"
# Registration states.
REGISTERED, WAITING, R_CANCELLED, RELEASED = "registered", "waiting", "cancelled", "released"


class Course(Base):
    """A training course of one association (or of the whole chamber when association_id is NULL)."""

    __tablename__ = "courses"
    # The database itself refuses an oversold course, whatever the code above it does.
    __table_args__ = (CheckConstraint("taken >= 0 AND taken <= capacity", name="seats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    teacher: Mapped[str] = mapped_column(String(200), default="")
    # NULL only while the course is a draft.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    # Seats taken: changed only by conditional UPDATEs (bot/services/seats.py).
    taken: Mapped[int] = mapped_column(Integer, default=0)
    # No longer used (it handed out waiting-list tickets and locked the row for each sign-up).
    queue_seq: Mapped[int] = mapped_column(Integer, default=0)
    members_only: Mapped[bool] = mapped_column(Boolean, default=False)
    fee_rials: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    # Set for a draft when the staff member said "no fee" / answered the members-only question.
    fee_answered: Mapped[bool] = mapped_column(Boolean, default=False)
    members_answered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def seats_left(self) -> int:
        """Free seats (never negative)."""
        return max(0, self.capacity - self.taken)


class Registration(Base):
    """One person and one course: a seat, a place on the waiting list, or a cancelled sign-up."""

    __tablename__ = "course_registrations"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # No longer used: the waiting list is in the order of `created_at` (then `id`).
    queue_no: Mapped[int | None] = mapped_column(Integer)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # When the user (last) signed up: a sign-up after a cancellation joins the end of the line.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The signed code of this seat's ticket (bot/documents/codes.py), written when it is first shown.
    ticket_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    # When and by whom the person was checked in at the door (attended: True since then).
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[int | None] = mapped_column(BigInteger)


class CourseEdit(FormDraft, Base):
    """Which course (and whether a new one) a staff member is filling in: survives restarts."""

    __tablename__ = "course_edits"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    creating: Mapped[bool] = mapped_column(Boolean, default=True)
    # Loaded with the row: the form reads and writes the course's answers through it.
    course: Mapped[Course] = relationship(lazy="joined", innerjoin=True)


class CheckInDesk(Base):
    """A staff member checking people in at one course's door: their photos and typed codes are
    tickets until they leave (or after a day). A row, so a restart keeps the desk open."""

    __tablename__ = "course_checkin_desks"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseCertificate(Base):
    """An attendance certificate: its verification code, the name printed on it, and whether it
    still holds (revoked, or replaced by a reissued one)."""

    __tablename__ = "course_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "revoked" (by staff) or "reissued" (a corrected copy replaced it).
    revoked_reason: Mapped[str | None] = mapped_column(String(16))
