"""Who may open the staff dashboard, and how: a one-time login link sent in the chat, or the init data
Telegram signs when the Mini App opens; each opens a browser session (a cookie) for staff only.

Init data is checked exactly as Telegram's Mini Apps documentation says ("Validating data received via
the Mini App", https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app): the
data-check-string is every received field but `hash`, sorted by key, as `key=value` lines joined by
"\\n"; the secret key is HMAC-SHA-256 of the bot token keyed with the constant "WebAppData"; the data
is Telegram's when the hex HMAC-SHA-256 of the data-check-string under that key equals `hash`. We also
refuse an `auth_date` older than an hour, and init data that already opened a session (a replay).

Only SHA-256 digests of links and cookies are stored: a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotAllowed
from bot.services.staff import StaffScope, scope_of
from db.models import WebSession, WebTicket, utcnow
from db.models.web import INIT_DATA, LINK
from db.session import rowcount

LINK_LIFETIME = timedelta(minutes=10)
INIT_DATA_LIFETIME = timedelta(hours=1)
SESSION_LIFETIME = timedelta(hours=12)
# Expired tickets and sessions are kept this long after (what was refused stays explainable a while).
KEEP_EXPIRED = timedelta(days=1)


class SignInRefused(DomainError):
    """Reasons: "forged" (bad signature or malformed), "expired", "used" (a replay), "unknown"."""


@dataclass(frozen=True)
class TelegramUser:
    """Who the verified init data says opened the Mini App."""

    id: int
    first_name: str
    auth_date: datetime
    hash: str


@dataclass(frozen=True)
class Opened:
    """A new browser session: the cookie's secret (only here, never stored) and its CSRF token."""

    token: str
    csrf: str
    user_id: int
    expires_at: datetime


@dataclass(frozen=True)
class Signed:
    """A signed-in browser, as each request sees it."""

    user_id: int
    csrf: str
    via: str
    expires_at: datetime


def digest(secret: str) -> str:
    """The stored form of a link's or cookie's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------------------------------- init data


def verify_init_data(
    init_data: str, bot_token: str, *, now: datetime | None = None, max_age: timedelta = INIT_DATA_LIFETIME
) -> TelegramUser:
    """The user Telegram vouches for in `init_data` (the Mini App's `Telegram.WebApp.initData`);
    SignInRefused("forged") or ("expired") otherwise."""
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise SignInRefused("forged") from None
    received = fields.pop("hash", "")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret_key, check.encode(), hashlib.sha256).hexdigest()
    if not received or not hmac.compare_digest(expected, received.lower()):
        raise SignInRefused("forged")
    try:
        user = json.loads(fields["user"])
        user_id = int(user["id"])
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
    except (KeyError, ValueError, TypeError):
        raise SignInRefused("forged") from None
    moment = now or datetime.now(UTC)
    if moment - auth_date > max_age or auth_date - moment > timedelta(minutes=5):
        raise SignInRefused("expired")
    return TelegramUser(user_id, str(user.get("first_name", "")), auth_date, received.lower())


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """Init data signed like Telegram signs it (for tests and local trials of the Mini App)."""
    from urllib.parse import urlencode

    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    signature = hmac.new(secret_key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": signature})


# ---------------------------------------------------------------------------------------- signing in


async def _staff(session: AsyncSession, user_id: int, admin_ids: Collection[int]) -> StaffScope:
    scope = await scope_of(session, user_id, admin_ids)
    if not scope.is_staff:
        raise NotAllowed("not_staff")
    return scope


async def issue_link(session: AsyncSession, scope: StaffScope, *, now: datetime | None = None) -> str:
    """A login link's secret for this staff member: usable once, for ten minutes."""
    if not scope.is_staff:
        raise NotAllowed("not_staff")
    moment = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebTicket(
            digest=digest(token),
            kind=LINK,
            user_id=scope.user_id,
            created_at=moment,
            expires_at=moment + LINK_LIFETIME,
        )
    )
    await session.flush()
    return token


async def check_link(session: AsyncSession, token: str, *, now: datetime | None = None) -> WebTicket:
    """A login link that may still be used (for the page that asks to confirm); raises otherwise."""
    ticket = await session.get(WebTicket, digest(token))
    if ticket is None or ticket.kind != LINK:
        raise SignInRefused("unknown")
    if ticket.used_at is not None:
        raise SignInRefused("used")
    if ticket.expires_at <= (now or utcnow()):
        raise SignInRefused("expired")
    return ticket


async def redeem_link(
    session: AsyncSession, token: str, admin_ids: Collection[int], *, now: datetime | None = None
) -> Opened:
    """Use a login link (once: a conditional UPDATE decides between two tabs) and open a session."""
    moment = now or utcnow()
    ticket = await check_link(session, token, now=moment)
    await _staff(session, ticket.user_id, admin_ids)
    result = await session.execute(
        update(WebTicket)
        .where(WebTicket.digest == ticket.digest, WebTicket.used_at.is_(None))
        .values(used_at=moment)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise SignInRefused("used")
    return await _open(session, ticket.user_id, LINK, moment)


async def redeem_init_data(
    session: AsyncSession, user: TelegramUser, admin_ids: Collection[int], *, now: datetime | None = None
) -> Opened:
    """Open a session for verified init data, once per init data (a second use is a replay)."""
    moment = now or utcnow()
    await _staff(session, user.id, admin_ids)
    key = digest(f"init_data:{user.hash}")
    if await session.get(WebTicket, key) is not None:
        raise SignInRefused("used")
    try:
        async with session.begin_nested():  # two requests with the same init data: the key decides
            session.add(
                WebTicket(
                    digest=key,
                    kind=INIT_DATA,
                    user_id=user.id,
                    created_at=moment,
                    expires_at=user.auth_date + INIT_DATA_LIFETIME,
                    used_at=moment,
                )
            )
    except IntegrityError:
        raise SignInRefused("used") from None
    return await _open(session, user.id, INIT_DATA, moment)


async def _open(session: AsyncSession, user_id: int, via: str, moment: datetime) -> Opened:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = moment + SESSION_LIFETIME
    session.add(
        WebSession(
            digest=digest(token), user_id=user_id, csrf=csrf, via=via, created_at=moment, expires_at=expires
        )
    )
    await sweep(session, moment)
    await session.flush()
    return Opened(token, csrf, user_id, expires)


async def sweep(session: AsyncSession, now: datetime) -> None:
    """Forget tickets and sessions that expired more than a day ago (done with each sign-in)."""
    await session.execute(delete(WebTicket).where(WebTicket.expires_at < now - KEEP_EXPIRED))
    await session.execute(delete(WebSession).where(WebSession.expires_at < now - KEEP_EXPIRED))


# ---------------------------------------------------------------------------------------- sessions


async def signed_in(session: AsyncSession, token: str, *, now: datetime | None = None) -> Signed | None:
    """The browser session a cookie names, while it lasts."""
    if not token:
        return None
    row = await session.get(WebSession, digest(token))
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    return Signed(row.user_id, row.csrf, row.via, row.expires_at)


async def sign_out(session: AsyncSession, token: str) -> None:
    """End a browser session."""
    await session.execute(delete(WebSession).where(WebSession.digest == digest(token)))


async def sessions_of(session: AsyncSession, user_id: int) -> list[WebSession]:
    """A person's open sessions, newest first (for tests and for ending them when staff leave)."""
    rows = await session.scalars(
        select(WebSession).where(WebSession.user_id == user_id).order_by(WebSession.created_at.desc())
    )
    return list(rows)
