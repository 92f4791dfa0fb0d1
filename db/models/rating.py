"""Association ratings: a staff score (0–100) per association, period and indicator, with a short note."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow

# The national chamber's five indicators, in the order they are shown and typed.
GOVERNANCE, POLICY, MEMBERSHIP, REGULATION, SERVICES = (
    "governance",
    "policy",
    "membership",
    "regulation",
    "services",
)
INDICATORS = (GOVERNANCE, POLICY, MEMBERSHIP, REGULATION, SERVICES)


class RatingScore(Base):
    """One indicator's score for one association in one period ("1405", "1405-H1" or "1405-H2")."""

    __tablename__ = "rating_scores"
    __table_args__ = (UniqueConstraint("association_id", "period", "indicator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(8), index=True)
    indicator: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_by: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
