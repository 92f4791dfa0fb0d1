"""What a feature module contributes to the application, as one typed record."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext
from bot.kit.callbacks import Router
from bot.kit.menu import MENU_PREFIX, MenuItem

Audience = Literal["everyone", "staff", "admin"]
Handler = BaseHandler[Update, BotContext, Any]
Callback = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]


class Conversation(Protocol):
    """Anything that builds one PTB handler for itself (a form's conversation)."""

    def handler(self) -> Handler: ...


@dataclass(frozen=True)
class Command:
    """A command published in Telegram's command menu: to everyone, or per chat to staff/admins."""

    name: str
    description: str  # msgid
    audience: Audience = "everyone"
    # Shown in Telegram's command menu; a command reached from the main menu's buttons (or a deep
    # link) can stay unlisted, so a newcomer's list stays short (about ten).
    listed: bool = True
    # What answers the command, when a plain CommandHandler does (the feature registers it).
    callback: Callback | None = None


@dataclass(frozen=True)
class Feature:
    """A feature: its conversations, its other handlers, the routers of its buttons outside any
    conversation, its commands, main-menu items and jobs."""

    name: str
    handlers: Callable[[], Sequence[Handler]] = tuple
    routes: Sequence[Router] = ()
    commands: Sequence[Command] = ()
    menu: Sequence[MenuItem] = ()
    schedule: Callable[[BotApplication], None] | None = None
    conversations: Sequence[Conversation] = ()

    def all_handlers(self) -> list[Handler]:
        """In registration order: the conversations, the other handlers, then the commands."""
        return [
            *(conversation.handler() for conversation in self.conversations),
            *self.handlers(),
            *(CommandHandler(c.name, c.callback) for c in self.commands if c.callback is not None),
        ]


def start_link(prefix: str, callback: Callback) -> Handler:
    """`/start <prefix><number>`: a t.me link's start parameter, answered by `callback`."""
    return CommandHandler("start", callback, filters=filters.Regex(rf"^/start\s+{prefix}\d+$"))


def opened_by(callback: Callback, command: str, menu_key: str | None = None) -> list[Handler]:
    """A conversation's usual entries: its command and its main-menu button (`menu:<key>`)."""
    pattern = f"^{MENU_PREFIX}{menu_key or command}$"
    return [CommandHandler(command, callback), CallbackQueryHandler(callback, pattern=pattern)]
