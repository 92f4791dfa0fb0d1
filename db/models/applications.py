"""Membership applications (a draft row updated per step), their documents, the decision log,
staff decisions in progress, and users' data-deletion requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, FormDraft, UTCDateTime, utcnow

# Application statuses.
DRAFT, SUBMITTED, MORE_INFO, APPROVED, REJECTED, WITHDRAWN = (
    "draft",
    "submitted",
    "more_info",
    "approved",
    "rejected",
    "withdrawn",
)
STATUSES = (DRAFT, SUBMITTED, MORE_INFO, APPROVED, REJECTED, WITHDRAWN)
# Still in progress: at most one of these per person per association.
OPEN_STATUSES = (DRAFT, SUBMITTED, MORE_INFO)
# The applicant may change answers.
EDITABLE_STATUSES = (DRAFT, MORE_INFO)

BUSINESS_OWNER, HOME_BUSINESS = "business_owner", "home_business"
APPLICANT_TYPES = (BUSINESS_OWNER, HOME_BUSINESS)

# Education levels; "no_degree" is an ordinary answer like any other.
NO_DEGREE, DIPLOMA, ASSOCIATE, BACHELOR, MASTER, DOCTORATE = (
    "no_degree",
    "diploma",
    "associate",
    "bachelor",
    "master",
    "doctorate",
)
EDUCATION_LEVELS = (NO_DEGREE, DIPLOMA, ASSOCIATE, BACHELOR, MASTER, DOCTORATE)
UNIVERSITY_DEGREES = (ASSOCIATE, BACHELOR, MASTER, DOCTORATE)

_OPEN = "status IN ('draft', 'submitted', 'more_info')"


class Application(FormDraft, Base):
    """One person's application to one association, from the first answer to the decision."""

    __tablename__ = "applications"
    __table_args__ = (
        # One open application per person per association, even under a race.
        Index(
            "uq_applications_open",
            "user_id",
            "association_id",
            unique=True,
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL once the applicant's data was deleted at their request (the decision stays, anonymised).
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    tracking_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    applicant_type: Mapped[str | None] = mapped_column(String(16))
    full_name: Mapped[str | None] = mapped_column(String(256))
    national_id: Mapped[str | None] = mapped_column(String(10))
    mobile: Mapped[str | None] = mapped_column(String(16))
    business_name: Mapped[str | None] = mapped_column(String(200))
    activity: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(128))
    experience_years: Mapped[int | None] = mapped_column(Integer)
    education: Mapped[str | None] = mapped_column(String(16))
    # "" means "answered: I have none" (home businesses only); NULL means not asked yet.
    permit_number: Mapped[str | None] = mapped_column(String(40))
    documents_done: Mapped[bool] = mapped_column(Boolean, default=False)
    # An application to an association being formed: its applicant becomes a founding member.
    founding: Mapped[bool] = mapped_column(Boolean, default=False)
    # Comma-separated fields staff asked to be answered again (more information).
    requested_fields: Mapped[str] = mapped_column(String(300), default="")
    last_reason: Mapped[str | None] = mapped_column(Text)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def requested(self) -> list[str]:
        """The fields staff asked about that the applicant has not answered again yet."""
        return [field for field in self.requested_fields.split(",") if field]


class ApplicationDocument(Base):
    """A licence or permit the applicant sent, as a Telegram file id (the bot can send it on)."""

    __tablename__ = "application_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # "photo" or "document"
    mime: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApplicationEvent(Base):
    """The audit log: who did what to an application, when and why. Rows are never deleted."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingDecision(FormDraft, Base):
    """A staff member's reject / more-information decision waiting for its reason (or fields)."""

    __tablename__ = "pending_decisions"

    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))
    fields: Mapped[str] = mapped_column(String(300), default="")
    fields_done: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


DELETION_PENDING, DELETION_DONE, DELETION_DECLINED = "pending", "done", "declined"


class DeletionRequest(Base):
    """A user asked the chamber to delete their data; staff confirm or decline."""

    __tablename__ = "deletion_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), default=DELETION_PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
