"""A bare PTB bot that answers with the very replies the real bot gives (texts, keyboards, edits),
recorded from the real bot first: no database, no handlers of ours. Against it, the real bot's
figure says what our own layers cost, not what building and serialising a 10-button menu costs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, TypeHandler

from benchmarks.harness import BareApp, Rig, bare_bot, simulated_users
from fakeapi.simulator import Simulator, UserUpdates
from fakeapi.state import JSON, FakeTelegram

Replies = dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]
REPLY_METHODS = ("sendMessage", "editMessageText", "answerCallbackQuery")


def signature(data: JSON) -> tuple[str, str]:
    """What makes two updates of the round the same: a command's text, or a button's data."""
    if "callback_query" in data:
        return ("press", str(data["callback_query"].get("data")))
    return ("text", str(data.get("message", {}).get("text", "")).split()[0])


async def record(rig: Rig, builders: Sequence[Callable[[UserUpdates], JSON]]) -> Replies:
    """Run one user through the round on the real bot and keep each update's Bot API calls."""
    (user,) = simulated_users(rig.api, 1, 1)
    replies: Replies = {}
    for build in builders:
        data = build(user)
        before = len(rig.api.calls)
        await rig.feed(data)
        calls = [c for c in rig.api.calls[before:] if c.method in REPLY_METHODS]
        replies[signature(data)] = [(c.method, dict(c.params)) for c in calls]
    return replies


def _markup(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return None
    if "inline_keyboard" in raw:
        return InlineKeyboardMarkup.de_json(raw, None)
    if "keyboard" in raw:
        return ReplyKeyboardMarkup.de_json(raw, None)
    if raw.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def _replayer(replies: Replies) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]:
    async def replay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        data = update.to_dict()
        calls = replies.get(signature(data), [])
        query = update.callback_query
        chat = update.effective_chat
        assert chat is not None
        pending = []
        for method, params in calls:
            markup = _markup(params.get("reply_markup"))
            text = str(params.get("text", ""))
            mode = ParseMode.HTML if params.get("parse_mode") else None
            if method == "answerCallbackQuery" and query is not None:
                pending.append(query.answer())
            elif method == "editMessageText" and query is not None and query.message is not None:
                pending.append(
                    context.bot.edit_message_text(
                        text,
                        chat_id=chat.id,
                        message_id=query.message.message_id,
                        parse_mode=mode,
                        reply_markup=markup,
                    )
                )
            elif method == "sendMessage":
                await asyncio.gather(*pending)  # the real bot answers a press before a new message
                pending = []
                await context.bot.send_message(chat.id, text, parse_mode=mode, reply_markup=markup)
        await asyncio.gather(*pending)

    return replay


def same_replies_app(
    replies: Replies,
) -> contextlib.AbstractAsyncContextManager[tuple[BareApp, FakeTelegram, Simulator]]:
    """The bare bot on the same fake transport, sending the recorded replies."""
    return bare_bot(TypeHandler(Update, _replayer(replies)))
