"""The update processor's guards: a redelivered update after a restart, a flooding user, a busy SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

import db.session
from bot.app import build_application
from bot.config import Settings
from bot.context import BotApplication
from bot.processing import USER_BACKLOG, PerUserUpdateProcessor
from bot.services import profile as profile_service
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from fakeapi.transport import FakeRequest
from tests.conftest import AppFactory


async def test_an_update_redelivered_after_a_restart_is_handled_once(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    first = await make_app()
    sim = Simulator(first, api)
    user = sim.user(3301)
    await user.command("/profile")
    name = user.text_update("سیما صالحی")
    await sim.feed(name)
    await first.shutdown()  # writes the handled ids
    sent_before = len(user.messages)

    second = await make_app()
    again = Simulator(second, api)
    await again.feed(name)  # the Bot API delivers the same update again
    assert len(again.user(3301).messages) == sent_before
    await again.user(3301).send("0499370899")  # the conversation is where it was
    assert "شمارهٔ همراه" in again.user(3301).last_text


@pytest.fixture
async def paced_app(settings: Settings, api: FakeTelegram) -> AsyncIterator[BotApplication]:
    paced = settings.model_copy(update={"user_rate_limit": 10.0})
    app = build_application(paced, request=FakeRequest(api), get_updates_request=FakeRequest(api))
    await app.initialize()
    yield app
    await app.shutdown()
    await app.bot_data.engine.dispose()


async def test_a_flooding_user_is_paced_and_told_without_slowing_others(
    paced_app: BotApplication, api: FakeTelegram
) -> None:
    sim = Simulator(paced_app, api)
    flooder, other = sim.user(3401), sim.user(3402)
    for i in range(60):
        sim.enqueue(flooder, f"پیام {i}")
    sim.enqueue_command(other, "/help")
    await sim.drain()
    notices = [m for m in flooder.messages if "خیلی سریع" in m.content]
    assert len(notices) == 1
    processor = paced_app.update_processor
    assert isinstance(processor, PerUserUpdateProcessor)
    assert processor.dropped == 60 - USER_BACKLOG
    hints = [m for m in flooder.messages if "منظور شما روشن نشد" in m.content]
    assert len(hints) == USER_BACKLOG  # those let through were all answered
    # The other user's answer did not wait for the flood to be worked off.
    assert "راهنما" in other.last_text
    assert other.messages[-1].seq < hints[-1].seq
    sim.assert_no_errors()


async def test_an_update_that_met_a_busy_database_is_run_again(
    app: BotApplication, api: FakeTelegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL locks rows and waits")
    monkeypatch.setattr(db.session, "SQLITE_BUSY_TIMEOUT_MS", 100)
    await app.bot_data.engine.dispose()  # new connections get the short busy timeout
    sim = Simulator(app, api)
    user = sim.user(3501)
    await user.command("/profile")
    locked, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    locked.wait(5)
    asyncio.get_running_loop().call_later(0.5, release.set)
    await user.send("سیما صالحی")
    holder.join(5)
    assert "کد ملی" in user.last_text
    assert not [m for m in user.messages if "مشکلی از طرف ما" in m.content]
    async with app.bot_data.sessionmaker() as session:
        profile = await profile_service.get_profile(session, 3501)
    assert profile is not None and profile.full_name == "سیما صالحی"
