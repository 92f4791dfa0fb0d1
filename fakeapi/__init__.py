"""A fake Telegram Bot API for tests and benchmarks: state, in-process transport, HTTP server, users.

Typical use::

    state = FakeTelegram()
    app = build_application(settings, request=FakeRequest(state), get_updates_request=FakeRequest(state))
    await app.initialize()
    sim = Simulator(app, state)
    ali = sim.user(1001)
    await ali.command("start")
    assert "خوش آمدید" in ali.last_text
"""

from fakeapi.errors import ApiError
from fakeapi.records import Call, PreCheckoutAnswer, StoredFile, StoredMessage
from fakeapi.server import FakeBotAPIServer
from fakeapi.simulator import (
    HttpSimUser,
    Simulator,
    SimUser,
    UserUpdates,
    group_chat_dict,
    make_update_dict,
    private_chat_dict,
    user_dict,
)
from fakeapi.state import FakeTelegram
from fakeapi.transport import FakeRequest
from fakeapi.wire import BOT_ID, BOT_USERNAME

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "ApiError",
    "Call",
    "FakeBotAPIServer",
    "FakeRequest",
    "FakeTelegram",
    "HttpSimUser",
    "PreCheckoutAnswer",
    "SimUser",
    "Simulator",
    "StoredFile",
    "StoredMessage",
    "UserUpdates",
    "group_chat_dict",
    "make_update_dict",
    "private_chat_dict",
    "user_dict",
]
