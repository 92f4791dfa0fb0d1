"""Properties of the registered handlers as a whole: persistent conversations, unique states, guards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from telegram import CallbackQuery, Update, User
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.context import BotApplication
from bot.kit.callbacks import MAX_INT, BadCallback, RoutedHandler, Router, routers_of
from bot.kit.guards import guard_of
from bot.registry import features

# Commands that belong to staff (declared so in their Feature records); each handler must be guarded.
STAFF_COMMANDS = {c.name for f in features() for c in f.commands if c.audience != "everyone"}


def _walk(handlers: list[BaseHandler[Any, Any, Any]]) -> Iterator[BaseHandler[Any, Any, Any]]:
    for handler in handlers:
        yield handler
        if isinstance(handler, ConversationHandler):
            yield from _walk(handler.entry_points)
            for state_handlers in handler.states.values():
                yield from _walk(state_handlers)
            yield from _walk(handler.fallbacks)


def _all(app: BotApplication) -> list[BaseHandler[Any, Any, Any]]:
    return [h for group in app.handlers.values() for h in _walk(list(group))]


def test_every_conversation_is_persistent_and_named(app: BotApplication) -> None:
    conversations = [h for h in _all(app) if isinstance(h, ConversationHandler)]
    assert conversations
    names = [c.name for c in conversations]
    assert all(c.persistent for c in conversations)
    assert len(names) == len(set(names)), names


def test_state_names_are_unique_across_conversations(app: BotApplication) -> None:
    seen: dict[object, str] = {}
    for conversation in (h for h in _all(app) if isinstance(h, ConversationHandler)):
        for state in conversation.states:
            assert state not in seen, f"state {state!r} is used by {seen[state]} and {conversation.name}"
            seen[state] = str(conversation.name)


def test_staff_commands_are_guarded(app: BotApplication) -> None:
    unguarded = [
        sorted(h.commands)
        for h in _all(app)
        if isinstance(h, CommandHandler) and h.commands & STAFF_COMMANDS and guard_of(h.callback) is None
    ]
    assert not unguarded


def test_staff_commands_are_declared(app: BotApplication) -> None:
    assert {"staff", "stats", "review", "dashboard"} <= STAFF_COMMANDS


def test_every_button_pattern_is_anchored(app: BotApplication) -> None:
    """A button handler is a router (matched by its whole prefix) or an anchored regular expression."""
    loose: list[str] = []
    for h in _all(app):
        if not isinstance(h, CallbackQueryHandler) or h.pattern is None:
            continue
        if isinstance(h, RoutedHandler):
            for router in routers_of(h):
                assert not router.missing(), router.missing()
                # The prefix is matched whole: `apply:x` is the apply router's, `applyx:x` is not.
                assert h.check_update(_press(f"{router.prefix}:x"))
                assert not h.check_update(_press(f"{router.prefix}x:x"))
                assert not h.check_update(_press(f"x{router.prefix}:x"))
            continue
        if callable(h.pattern):
            # A test of its own (the forms' exits: `data.startswith("menu:")`): nothing foreign passes.
            for foreign in ("zz:1", "xmenu:home", " menu:home"):
                assert not h.check_update(_press(foreign)), (h.pattern, foreign)
            continue
        if not str(getattr(h.pattern, "pattern", h.pattern)).startswith("^"):
            loose.append(str(h.pattern))
    assert not loose


def _press(data: str) -> Update:
    user = User(1, "x", is_bot=False)
    return Update(1, callback_query=CallbackQuery("1", user, "private", data=data))


def test_integer_arguments_out_of_a_columns_range_are_refused() -> None:
    """Callback ids are INTEGER row ids: a forged 2**31 or 2**63 is refused before any query."""
    router = Router("t")
    action = router.action("a", int)
    assert action.parse([str(MAX_INT)]) == (MAX_INT,)
    for forged in (str(MAX_INT + 1), str(2**63), "9" * 19, "-1", "1.5", "۱۲", ""):
        with pytest.raises(BadCallback):
            action.parse([forged])
