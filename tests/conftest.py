"""Fixtures: a real database (a SQLite file, or PostgreSQL when TEST_DATABASE_URL is set), the real
Application from build_application(), and a fake Bot API in place of Telegram's HTTP transport."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.context import BotApplication
from db.migrate import upgrade
from db.models import Base
from db.session import transaction_open
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from fakeapi.transport import FakeRequest

TOKEN = "123456:TEST-token-for-the-fake-api"
ADMIN_ID = 900_001
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per run: a SQLite file to copy, or a fresh PostgreSQL database."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)
        return
    name = f"tashakkol_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_sql(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin_sql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin_sql(url: str, statement: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def database_url(migrated_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database for one test."""
    if not POSTGRES_URL:
        path = tmp_path / "bot.db"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    await _admin_sql(migrated_template, f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    yield migrated_template


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for the fake API, one admin, the test database."""
    return load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        database_url=database_url,
        admin_ids=frozenset({ADMIN_ID}),
        # Tests send many updates from one user back to back; pacing is tested on its own (test_floods).
        user_rate_limit=0,
    )


@pytest.fixture
def api() -> Iterator[FakeTelegram]:
    """The in-process Bot API. Every test also checks that the bot never called it while a database
    transaction of the calling task was open (a reply is sent after the commit, never inside it)."""
    fake = FakeTelegram()
    fake.request_guard = _no_open_transaction
    yield fake
    assert not fake.violations, "Bot API called inside a database transaction:\n" + "\n".join(fake.violations)


def _no_open_transaction(method: str) -> str | None:
    return f"{method} while a transaction was open" if transaction_open() else None


AppFactory = Callable[[], Awaitable[BotApplication]]


@pytest.fixture
async def make_app(settings: Settings, api: FakeTelegram) -> AsyncIterator[AppFactory]:
    """Build (and rebuild) the real Application on the same database and fake API."""
    built: list[BotApplication] = []

    async def factory() -> BotApplication:
        if built and built[-1].running:
            await built[-1].stop()
        app = build_application(settings, request=FakeRequest(api), get_updates_request=FakeRequest(api))
        await app.initialize()
        built.append(app)
        return app

    yield factory
    for app in built:
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.bot_data.engine.dispose()


@pytest.fixture
async def app(make_app: AppFactory) -> BotApplication:
    """The real Application, initialised."""
    return await make_app()


@pytest.fixture
def sim(app: BotApplication, api: FakeTelegram) -> Simulator:
    """Users that talk to the application through the fake API."""
    return Simulator(app, api)
