"""What a feature module contributes to the application, as one typed record."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotApplication, BotContext
from bot.kit.callbacks import Router
from bot.kit.menu import MenuItem

Audience = Literal["everyone", "staff", "admin"]


@dataclass(frozen=True)
class Command:
    """A command published in Telegram's command menu: to everyone, or per chat to staff/admins."""

    name: str
    description: str  # msgid
    audience: Audience = "everyone"
    # Shown in Telegram's command menu; a command reached from the main menu's buttons (or a deep
    # link) can stay unlisted, so a newcomer's list stays short (about ten).
    listed: bool = True


@dataclass(frozen=True)
class Feature:
    """A feature: its handlers (in order), the routers of its buttons outside any conversation,
    its commands, main-menu items and jobs."""

    name: str
    handlers: Callable[[], Sequence[BaseHandler[Update, BotContext, Any]]] = tuple
    routes: Sequence[Router] = ()
    commands: Sequence[Command] = ()
    menu: Sequence[MenuItem] = ()
    schedule: Callable[[BotApplication], None] | None = None
