"""/start, /help, /cancel, the menu, unknown input, the error handler and setMyCommands."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.app import publish_commands
from bot.context import BotApplication
from db.models import User
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram


async def test_start_greets_by_name_with_the_persian_menu(sim: Simulator) -> None:
    user = sim.user(1001, first_name="زهرا")
    await user.command("/start")
    assert "سلام زهرا" in user.last_text
    labels = user.buttons()
    assert "راهنما" in labels and "مشخصات من" in labels


async def test_start_escapes_the_name(sim: Simulator) -> None:
    user = sim.user(1002, first_name="<b>x</b>&")
    await user.command("/start")
    assert "<b>x</b>&" in user.last_text  # shown literally, not as markup


async def test_every_user_is_recorded(sim: Simulator, app: BotApplication) -> None:
    await sim.user(1003, first_name="مریم", username="maryam").command("/start")
    async with app.bot_data.sessionmaker() as session:
        row = await session.scalar(select(User).where(User.id == 1003))
    assert row is not None and row.first_name == "مریم" and row.username == "maryam"
    assert row.blocked_bot is False


async def test_help_by_command_and_button(sim: Simulator) -> None:
    user = sim.user(1004)
    await user.command("/help")
    assert "راهنما" in user.last_text and "مدرک دانشگاهی لازم نیست" in user.last_text
    await user.command("/start")
    await user.press("راهنما")
    assert "مدرک دانشگاهی لازم نیست" in user.last_text


async def test_unknown_text_gets_a_hint(sim: Simulator) -> None:
    user = sim.user(1005)
    await user.send("سلام، قیمت دلار چند است؟")
    assert "منظور شما روشن نشد" in user.last_text


async def test_unknown_kinds_get_a_hint(sim: Simulator) -> None:
    user = sim.user(1006)
    await user.send_sticker()
    assert "منظور شما روشن نشد" in user.last_text
    await user.send_location()
    assert "منظور شما روشن نشد" in user.last_text


async def test_forged_button_is_answered(sim: Simulator) -> None:
    user = sim.user(1007)
    await user.press_data("nonsense:42")
    assert user.answers and "معتبر نیست" in str(user.answers[-1].params.get("text") or "")


async def test_cancel_outside_a_conversation(sim: Simulator) -> None:
    user = sim.user(1008)
    await user.command("/cancel")
    assert "کاری در جریان نیست" in user.last_text


async def test_set_my_commands_in_persian(app: BotApplication, api: FakeTelegram) -> None:
    await publish_commands(app)
    calls = api.calls_to("setMyCommands")
    assert calls
    commands = {c["command"]: c["description"] for c in calls[-1].params["commands"]}
    assert commands["start"] == "منوی اصلی"
    assert commands["cancel"] == "لغو مرحلهٔ جاری"
    assert {call.params.get("language_code") for call in calls} >= {None, "fa"}


async def test_a_crashing_handler_is_logged_and_apologised_for(
    sim: Simulator, app: BotApplication, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telegram.ext import CommandHandler

    async def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    patched = 0
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler) and "help" in handler.commands:
                monkeypatch.setattr(handler, "callback", broken)
                patched += 1
    assert patched == 1
    user = sim.user(1009)
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await user.command("/help")
    assert "مشکلی از طرف ما پیش آمد" in user.last_text
    assert any("Unhandled error on update" in r.getMessage() and r.exc_info for r in caplog.records)
    assert "boom" not in user.last_text


async def test_one_log_line_per_update(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    user = sim.user(1010)
    with caplog.at_level(logging.INFO, logger="bot.updates"):
        await user.command("/help")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert len(lines) == 1
    line = lines[0]
    assert "handler=start.help_" in line and "outcome=ok" in line and "duration_ms=" in line
    assert "1010" not in line  # the user id is pseudonymised


async def test_a_button_on_a_message_that_is_gone_gets_a_new_message(sim: Simulator) -> None:
    user = sim.user(1011)
    await user.press_data("menu:help", message_id=99_999)  # no such message: the edit fails
    assert "مدرک دانشگاهی لازم نیست" in user.last_text
    sim.assert_no_errors()
