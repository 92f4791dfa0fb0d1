"""The chamber's trade associations (تشکل‌ها) and their membership rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow

ACTIVE, FORMING, INACTIVE = "active", "forming", "inactive"
STATUSES = (ACTIVE, FORMING, INACTIVE)

# Evidence an association may accept instead of a university degree.
EVIDENCE_EXPERIENCE = "experience"
EVIDENCE_BUSINESS_LICENCE = "business_licence"
EVIDENCE_HOME_PERMIT = "home_permit"
EVIDENCE_KINDS = (EVIDENCE_EXPERIENCE, EVIDENCE_BUSINESS_LICENCE, EVIDENCE_HOME_PERMIT)


class Association(Base):
    """A trade association: what it is, how to reach it, and who may join."""

    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Normalised name (bot.text.search_key) for search and the near-duplicate guard.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE, index=True)
    category: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    channel: Mapped[str | None] = mapped_column(String(200))
    # Membership rules. The chamber eased them: no degree unless the association insists.
    degree_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Comma-separated EVIDENCE_KINDS accepted instead of a degree.
    accepted_evidence: Mapped[str] = mapped_column(String(100), default=",".join(EVIDENCE_KINDS))
    min_experience_years: Mapped[int] = mapped_column(Integer, default=0)
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    yearly_fee_rials: Mapped[int | None] = mapped_column(BigInteger)
    # The membership term: NULL to the end of the Jalali year (the default), or this many months.
    term_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def evidence_kinds(self) -> list[str]:
        """The accepted evidence as a list."""
        return [kind for kind in self.accepted_evidence.split(",") if kind]
