"""Bale mode: the main flows run against the fake Bot API with Bale's differences applied."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.config import BALE_API_BASE_URL, Settings, load_settings
from bot.context import BotApplication
from bot.platform import html_to_bale
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from fakeapi.transport import FakeRequest
from tests.conftest import TOKEN

TAG = re.compile(r"</?(b|i|a|code|pre)\b")


def test_html_to_bale() -> None:
    assert html_to_bale("<b>راهنما</b> &amp; <i>x</i>") == "*راهنما* & _x_"
    assert html_to_bale('<a href="https://t.me/x">کانال</a>') == "[کانال](https://t.me/x)"
    assert html_to_bale("&lt;b&gt;not a tag&lt;/b&gt;") == "<b>not a tag</b>"


def test_bale_urls_are_the_default_for_bale(database_url: str) -> None:
    settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, database_url=database_url, platform="bale"
    )
    assert settings.telegram_api_base_url == BALE_API_BASE_URL
    assert settings.is_bale


@pytest.fixture
async def bale_app(database_url: str, api: FakeTelegram) -> AsyncIterator[BotApplication]:
    settings: Settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, database_url=database_url, platform="bale"
    )
    app = build_application(settings, request=FakeRequest(api), get_updates_request=FakeRequest(api))
    await app.initialize()
    yield app
    await app.shutdown()
    await app.bot_data.engine.dispose()


async def test_main_flows_in_bale_mode(bale_app: BotApplication, api: FakeTelegram) -> None:
    user = Simulator(bale_app, api).user(8001, first_name="<سارا>")
    await user.command("/start")
    assert "سلام <سارا>" in user.last_text
    await user.press("راهنما")
    assert "*راهنما*" in user.messages[-1].content
    await user.command("/profile")
    for text in ("سارا رضایی", "0499370899", "09121234567", "کرمان"):
        await user.send(text)
    assert "*مشخصات شما*" in user.last_text and "کرمان" in user.last_text
    await user.command("/cancel")
    sends = [c for c in api.calls if c.method in ("sendMessage", "editMessageText")]
    assert sends
    assert all("parse_mode" not in c.params for c in sends)
    assert not [c.params["text"] for c in sends if TAG.search(str(c.params["text"]))]
