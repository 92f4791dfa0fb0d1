"""Properties of the registered handlers as a whole: persistent conversations, unique states, guards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.context import BotApplication
from bot.kit.guards import guard_of

# Commands and button prefixes that belong to staff; each handler for them must carry a guard.
STAFF_COMMANDS = {"staff", "stats"}


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


def test_every_button_pattern_is_anchored(app: BotApplication) -> None:
    loose = [
        h.pattern.pattern  # type: ignore[union-attr]
        for h in _all(app)
        if isinstance(h, CallbackQueryHandler)
        and h.pattern is not None
        and not str(getattr(h.pattern, "pattern", h.pattern)).startswith("^")
    ]
    assert not loose
