"""The staff dashboard's sign-ins: one-time tickets (login links, Mini App init data already used) and
the browser sessions they open. Only digests of the secrets are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow

# Ticket kinds: a login link sent in the chat, and Telegram init data that opened a session once.
LINK, INIT_DATA = "link", "init_data"


class WebTicket(Base):
    """A one-time way in: usable until `expires_at`, once (`used_at` set by a conditional UPDATE)."""

    __tablename__ = "web_tickets"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie's digest, whose it is, its CSRF token and when it ends."""

    __tablename__ = "web_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # LINK or INIT_DATA
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
