"""The durable inbox: stored before acknowledged, handled once, replayed after a crash, answered
again when only the answer was lost, and a poisonous update parked without blocking its sender."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from telegram import Update
from telegram.ext import CommandHandler

from bot import polling, processing
from bot.context import BotApplication
from db.models import InboxUpdate, Profile
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID, AppFactory

VALID_NID = "0499370899"


async def _row(app: BotApplication, update_id: int) -> InboxUpdate | None:
    async with app.bot_data.reader() as session:
        return await session.get(InboxUpdate, update_id)


async def test_an_update_is_stored_then_marked_handled_and_done(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(9201)
    data = user.command_update("/profile")
    await sim.feed(data)
    await app.bot_data.inbox.flush()
    row = await _row(app, data["update_id"])
    assert row is not None and json.loads(row.payload)["update_id"] == data["update_id"]
    assert row.handled_at is not None and row.done_at is not None and row.parked_at is None


async def test_an_update_stored_but_not_handled_is_replayed_after_a_crash(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    first = await make_app()
    user = Simulator(first, api).user(9202)
    await user.command("/profile")
    await user.send("سیما صالحی")
    answer = user.text_update(VALID_NID)
    update = Update.de_json(answer, first.bot)
    assert await first.bot_data.inbox.store([update])  # stored, then the process dies
    second = await make_app()
    await second.start()
    try:
        await polling.replay(second)
        await second.update_queue.join()
        await api.wait_until(
            lambda: "شمارهٔ همراه" in (api.last_message(9202).content if api.last_message(9202) else "")
        )
    finally:
        await second.stop()
    async with second.bot_data.reader() as session:
        profile = await session.get(Profile, 9202)
    assert profile is not None and profile.national_id == VALID_NID


async def test_an_update_handled_but_not_answered_is_answered_again_not_applied_twice(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    first = await make_app()
    sim = Simulator(first, api)
    user = sim.user(9203)
    await user.command("/profile")
    name = user.text_update("سیما صالحی")
    await sim.feed(name)
    await first.bot_data.inbox.close()
    # The process died after the commit and before the "done" mark: the answer may not have gone out.
    async with first.bot_data.sessionmaker() as session, session.begin():
        row = await session.get(InboxUpdate, name["update_id"])
        assert row is not None and row.handled_at is not None
        row.done_at = None
    mark = user.mark()
    second = await make_app()
    await polling.replay(second)
    again = user.texts_since(mark)
    assert len(again) == 1 and "کد ملی" in again[0]  # the question the user is at now, once
    async with second.bot_data.reader() as session:
        profile = await session.get(Profile, 9203)
    assert profile is not None and profile.full_name == "سیما صالحی"
    await second.bot_data.inbox.flush()
    row = await _row(second, name["update_id"])
    assert row is not None and row.done_at is not None


async def test_a_poisonous_update_is_parked_and_the_next_message_is_answered(
    sim: Simulator, app: BotApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    calls = 0

    async def broken(*_args: object) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug")

    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler) and "help" in handler.commands:
                monkeypatch.setattr(handler, "callback", broken)
    user = sim.user(9204)
    data = user.command_update("/help")
    await sim.feed(data)
    assert calls == processing.FAILED_ATTEMPTS
    apologies = [m for m in user.messages if "مشکلی از طرف ما" in m.content]
    assert len(apologies) == 1  # told once, not at every attempt
    await app.bot_data.inbox.flush()
    row = await _row(app, data["update_id"])
    assert row is not None and row.parked_at is not None and "a bug" in (row.error or "")
    await user.command("/start")  # the same user is not blocked by it
    assert "خوش آمدید" in user.last_text
    admin = sim.user(ADMIN_ID)
    await admin.command("/stats")
    assert "a bug" in admin.last_text


async def test_old_updates_are_deleted_after_the_retention_period(
    sim: Simulator, app: BotApplication
) -> None:
    from datetime import timedelta

    from db.models import utcnow

    user = sim.user(9205)
    await user.command("/help")
    await app.bot_data.inbox.flush()
    async with app.bot_data.sessionmaker() as session, session.begin():
        for row in await session.scalars(select(InboxUpdate)):
            row.done_at = utcnow() - timedelta(days=30)
    assert await app.bot_data.inbox.purge() >= 1
    figures = await app.bot_data.inbox.figures()
    assert figures.size == 0 and figures.unhandled == 0


async def test_a_process_killed_before_it_reached_an_update_does_not_count_against_it(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    """Restarts (or standbys taking over) that die before handling a stored update do not wear it out;
    handling that began and never finished does (the update is then replayed alone, first), and it
    is parked after MAX_REPLAYS."""
    from bot.inbox import MAX_REPLAYS

    first = await make_app()
    user = Simulator(first, api).user(9205)
    update = Update.de_json(user.command_update("/profile"), first.bot)
    assert await first.bot_data.inbox.store([update])
    for _ in range(MAX_REPLAYS + 2):  # started, read the inbox, killed before handling anything
        restarted = await make_app()
        replay, _answer = await restarted.bot_data.inbox.unfinished(restarted.bot)
        assert [u.update_id for u in replay] == [update.update_id]
    row = await _row(first, update.update_id)
    assert row is not None and row.attempts == 0 and row.parked_at is None
    for _ in range(MAX_REPLAYS):  # handling began each time, and the process died inside it
        restarted = await make_app()
        replay, _answer = await restarted.bot_data.inbox.unfinished(restarted.bot)
        assert [u.update_id for u in replay] == [update.update_id]
        await restarted.bot_data.inbox.begin(update.update_id)
    assert last_suspect(restarted, update.update_id)
    last = await make_app()
    replay, _answer = await last.bot_data.inbox.unfinished(last.bot)
    assert replay == [] and not last_suspect(last, update.update_id)
    await last.bot_data.inbox.flush()
    row = await _row(last, update.update_id)
    assert row is not None and row.attempts == MAX_REPLAYS and row.parked_at is not None


def last_suspect(app: BotApplication, update_id: int) -> bool:
    return app.bot_data.inbox.suspect(update_id)
