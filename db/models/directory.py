"""Staff work in progress on the directory: an association being added, a field being edited, a CSV
waiting for confirmation. Kept in the database so a restart mid-step loses nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, FormDraft, UTCDateTime, utcnow


class DirectoryDraft(FormDraft, Base):
    """One staff member's pending directory step (`kind`: add | edit | assign | import)."""

    __tablename__ = "directory_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    association_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(32))
    # add: JSON of the answers so far; import: the CSV text.
    data: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
