"""How people relate to associations: members, news subscribers, would-be founding members."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow


class Member(Base):
    """A member of an association (made by an approved application, or imported by staff)."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("association_id", "user_id"),
        UniqueConstraint("association_id", "member_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # NULL for a founding member of an association still being formed (numbered when it is active).
    member_number: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    founding: Mapped[bool] = mapped_column(Boolean, default=False)
    # The application that made this membership, if any (set by the membership feature).
    application_id: Mapped[int | None] = mapped_column(Integer)
    # The membership term (Jalali rules in bot/services/terms.py): paid up to and including term_end.
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date, index=True)
    # Revoked by staff: never valid again, whatever the term says.
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The public code on the certificate and card (/start verify_<code>); reveals nothing by itself.
    verify_code: Mapped[str | None] = mapped_column(String(24), unique=True)


class Subscription(Base):
    """A user follows an association's news (association_id NULL: all news)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "association_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FoundingInterest(Base):
    """'I want to be a founding member' of an association that is being formed."""

    __tablename__ = "founding_interests"
    __table_args__ = (UniqueConstraint("association_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
