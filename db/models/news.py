"""News items that staff publish (chamber-wide or for one association); drafts until published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, FormDraft, UTCDateTime, utcnow


class NewsItem(FormDraft, Base):
    """One news item; `published_at` is NULL while its author is still writing it (a draft)."""

    __tablename__ = "news_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL: chamber-wide news.
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    # HTML rendered from the staff member's Telegram formatting (entities), already escaped.
    text: Mapped[str] = mapped_column(Text, default="")
    media_kind: Mapped[str | None] = mapped_column(String(16))  # "photo" or "document"
    media_file_id: Mapped[str | None] = mapped_column(String(200))
    # The draft's scope has been chosen (association_id NULL is a real choice: chamber-wide).
    scope_chosen: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
