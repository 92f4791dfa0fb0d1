"""The dialogue council: issues members raise (a draft row while they write it) and who supports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, FormDraft, UTCDateTime, utcnow

TOPICS = ("taxes", "customs", "banking", "permits", "insurance", "other")

# Issue statuses: a draft while the member writes it, then the lifecycle staff move it through.
DRAFT, RECEIVED, UNDER_REVIEW, ON_AGENDA, ANSWERED, MERGED = (
    "draft",
    "received",
    "under_review",
    "on_agenda",
    "answered",
    "merged",
)
LIFECYCLE = (RECEIVED, UNDER_REVIEW, ON_AGENDA, ANSWERED)
OPEN_STATUSES = (RECEIVED, UNDER_REVIEW, ON_AGENDA)


class CouncilIssue(FormDraft, Base):
    """One problem a member raised for the dialogue council."""

    __tablename__ = "council_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The member who raised it (staff always see who; others only with `show_name`).
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    topic: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    attachment_kind: Mapped[str | None] = mapped_column(String(16))  # "photo" or "document"
    attachment_file_id: Mapped[str | None] = mapped_column(String(256))
    # Answered "may we show your name?"; NULL while not asked yet.
    show_name: Mapped[bool | None] = mapped_column(Boolean)
    raiser_name: Mapped[str | None] = mapped_column(String(256))
    # Assigned to an association (its staff follow it up); NULL: the chamber's own.
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"), index=True
    )
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("council_issues.id", ondelete="SET NULL"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CouncilSupport(Base):
    """A member supports an open issue (once per person); supporters get the answer too."""

    __tablename__ = "council_supports"
    __table_args__ = (UniqueConstraint("issue_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("council_issues.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouncilAnswerDraft(FormDraft, Base):
    """A staff member's answer or note being typed for an issue (one at a time per staff member)."""

    __tablename__ = "council_answer_drafts"

    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    issue_id: Mapped[int] = mapped_column(ForeignKey("council_issues.id", ondelete="CASCADE"))
    # The answer as typed (cleaned), kept until it is recorded on the issue with the same step.
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
