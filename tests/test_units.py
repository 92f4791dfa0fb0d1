"""Units of work: a form step is one transaction, reads take no write lock, the conversation state is
written once, and nothing talks to the Bot API while a transaction is open."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.context import BotApplication
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram


@contextmanager
def counted(app: BotApplication) -> Iterator[dict[str, int]]:
    """Transactions begun (write and read) and statements run by this task (the update is processed
    in it; the inbox's batched writer and the senders are tasks of their own) while the block runs."""
    counts = {"write": 0, "read": 0, "statements": 0}
    engine = app.bot_data.engine.sync_engine
    task = asyncio.current_task()

    def begun(connection: Any) -> None:
        if asyncio.current_task() is task:
            counts["read" if connection.get_execution_options().get("tashakkol_read_only") else "write"] += 1

    def statement(*_args: Any) -> None:
        if asyncio.current_task() is task:
            counts["statements"] += 1

    event.listen(engine, "begin", begun)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        event.remove(engine, "begin", begun)
        event.remove(engine, "before_cursor_execute", statement)


async def test_a_form_step_is_one_write_transaction(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(9101)
    await user.command("/profile")
    await user.send("سیما صالحی")  # the user is now known (presence wrote them) and in the form
    with counted(app) as counts:
        await user.send("0499370899")
    # the step itself; the inbox's store is group-committed by its own task (the ack path) and the
    # done mark is written later in batches
    assert counts["write"] == 1, counts
    assert counts["read"] == 0, counts
    assert "شمارهٔ همراه" in user.last_text


async def test_entering_a_form_writes_its_state_in_the_same_transaction(
    sim: Simulator, app: BotApplication
) -> None:
    user = sim.user(9102)
    await user.command("/start")
    with counted(app) as counts:
        await user.command("/profile")
    assert counts["write"] == 1, counts  # the step, with the conversation state staged in it


async def test_a_menu_tap_reads_without_the_write_lock(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(9103)
    await user.command("/start")
    with counted(app) as counts:
        await user.press("درخواست‌های من")
    assert counts["write"] == 0, counts  # nothing but the inbox's store, in its own task
    assert counts["read"] >= 1, counts


async def test_the_guard_sees_a_bot_api_call_inside_a_transaction(
    app: BotApplication, api: FakeTelegram
) -> None:
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(__import__("sqlalchemy").text("SELECT 1"))
        await app.bot.send_message(9104, "inside")
    assert api.violations == ["sendMessage while a transaction was open"]
    api.violations.clear()  # this test made one on purpose
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(__import__("sqlalchemy").text("SELECT 1"))
    await app.bot.send_message(9104, "after")
    assert api.violations == []
