"""Fixtures and steps the dashboard's tests share: settings with an https PUBLIC_URL (for the Mini App buttons) while
the server listens on 127.0.0.1, the running server, a small HTTP client that keeps the session
cookie, login links asked for in the chat, Telegram-signed init data, an application with documents,
and a snapshot of every table (a refused request must change nothing)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.context import BotApplication
from bot.services.web_access import sign_init_data
from bot.web.pages import COOKIE
from bot.webhook import BotServer
from db.models import Base
from fakeapi.simulator import SimUser
from tests.conftest import ADMIN_ID, TOKEN
from tests.membership_support import CONTINUE_DOCS, NID, OWNER, SUBMIT

PUBLIC = "https://dash.example.ir"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The conftest's settings, with the dashboard's public address on https (Telegram's rule for
    Mini App buttons) and the server on any free port of 127.0.0.1."""
    return load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        database_url=database_url,
        admin_ids=frozenset({ADMIN_ID}),
        user_rate_limit=0,
        public_url=PUBLIC,
        web_port=0,
    )


@dataclass
class Web:
    """The running dashboard: its base address on 127.0.0.1, and the application behind it."""

    base: str
    app: BotApplication

    def local(self, url: str) -> str:
        """A public address (https://dash.example.ir/…) as served here."""
        parts = urlsplit(url)
        return self.base + parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
async def web(app: BotApplication) -> AsyncIterator[Web]:
    server = BotServer(app, app.bot_data.settings)
    await server.start()
    try:
        yield Web(f"http://127.0.0.1:{server.port}", app)
    finally:
        await server.stop()


@dataclass
class Client:
    """An HTTP client of the dashboard that keeps its session cookie by hand (the cookie is Secure,
    for the https PUBLIC_URL, and the server here is plain http on 127.0.0.1)."""

    web: Web
    http: aiohttp.ClientSession
    cookie: str = ""
    last: str = field(default="")

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        response = await self.http.request(
            method, self.web.base + path, headers=headers, allow_redirects=False, **kwargs
        )
        self.last = await response.text(errors="replace")
        if COOKIE in response.cookies:
            self.cookie = response.cookies[COOKIE].value
        return response

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.request("GET", path)

    async def post(self, path: str, data: dict[str, Any] | None = None) -> aiohttp.ClientResponse:
        return await self.request("POST", path, data=data or {})

    async def csrf(self, path: str = "/") -> str:
        """The session's form token, read from a page's hidden field."""
        await self.get(path)
        marker = 'name="csrf" value="'
        start = self.last.index(marker) + len(marker)
        return self.last[start : self.last.index('"', start)]


@pytest.fixture
async def client(web: Web) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as http:
        yield Client(web, http)


async def login_link(user: SimUser) -> str:
    """Ask for a login link with /dashboard in the chat; the link the button carries."""
    await user.command("/dashboard")
    message = user.last_message
    assert message is not None
    button = message.button("باز کردن پیشخوان در مرورگر")
    assert button is not None, message.buttons
    return str(button["url"])


async def sign_in(client: Client, user: SimUser) -> None:
    """The whole way in by link: the page, then its button."""
    path = urlsplit(await login_link(user)).path
    assert (await client.get(path)).status == 200
    response = await client.post(path)
    assert response.status == 303, client.last
    assert client.cookie


def init_data(user_id: int, *, age: float = 0.0, token: str = TOKEN, **extra: str) -> str:
    """Init data as Telegram signs it for the Mini App, `age` seconds old."""
    fields = {
        "auth_date": str(int(time.time() - age)),
        "query_id": f"AAH{user_id}",
        "user": json.dumps({"id": user_id, "first_name": "مریم", "language_code": "fa"}, ensure_ascii=False),
        **extra,
    }
    return sign_init_data(fields, token)


async def apply_with_documents(user: SimUser, association_id: int, name: str = "رضا احمدی") -> None:
    """An application sent with a photo and a PDF of a licence."""
    await user.command("/start", f"apply_{association_id}")
    await user.press(OWNER)
    for answer in (name, NID):
        await user.send(answer)
    await user.share_contact("989121234567", own=True)
    for answer in ("فرش دستباف ماهان", "بافت و فروش فرش دستباف", "کرمان", "۵"):
        await user.send(answer)
    await user.press("بدون مدرک دانشگاهی")
    await user.send_photo()
    await user.send_document("licence.pdf", "application/pdf", content=b"%PDF-1.4 licence")
    await user.press(CONTINUE_DOCS if CONTINUE_DOCS in user.buttons() else user.buttons()[0])
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text, user.last_text


async def snapshot(app: BotApplication) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the inbox of updates, which the bot writes on its own time)."""
    found = {}
    async with app.bot_data.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "inbox":
                continue
            keys = [c for c in table.primary_key.columns]
            rows = await session.execute(select(table).order_by(*keys))
            found[table.name] = [tuple(row) for row in rows]
    return found


def chromium_or_skip() -> None:
    """The browser tests need Debian's chromium: skipped without it, except in CI (`.ci/run`
    installs it there, and a missing browser must fail rather than pass silently)."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs it with apt-get)")
        pytest.skip(f"no {CHROMIUM} on this machine (apt-get install chromium); browser tests skipped")
