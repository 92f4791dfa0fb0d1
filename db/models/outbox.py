"""The durable outbox: one row per broadcast (news, announcement, reminder) and one per recipient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, FormDraft, UTCDateTime, utcnow

# The kind of a one-off message to one or a few people (sent ahead of broadcasts, not listed as one).
NOTICE = "notice"
# Broadcast states.
PENDING, RUNNING, PAUSED, CANCELLED, DONE = "pending", "running", "paused", "cancelled", "done"
# Delivery states: `sending` is written before the Bot API call, `sent` after it.
D_PENDING, D_SENDING, D_SENT, D_FAILED, D_BLOCKED, D_SKIPPED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "blocked",
    "skipped",
)


class Broadcast(FormDraft, Base):
    """Something to send to many people, paced by the sender."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "news", "announcement", "reminder"
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id", ondelete="SET NULL"))
    audience: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")  # already-rendered HTML
    media_kind: Mapped[str | None] = mapped_column(String(16))  # "photo" or "document"
    media_file_id: Mapped[str | None] = mapped_column(String(200))
    buttons: Mapped[str | None] = mapped_column(Text)  # an inline keyboard as JSON (notices)
    # Makes creation idempotent (e.g. "course:5:reminder:24h"): a second create is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One recipient of one broadcast, and what happened."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("broadcast_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=D_PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In flight when the bot stopped, then sent again: this copy may have arrived twice.
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
