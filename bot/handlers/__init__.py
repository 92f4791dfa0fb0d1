"""Every feature's handlers, registered in one explicit order.

Order matters within group 0, where only the first matching handler runs:
1. conversations first, so a user in the middle of a form has their answer taken by that form;
2. then plain commands and buttons of each feature;
3. the catch-alls of `fallback` last, so nothing goes unanswered.
`presence` runs in its own earlier group, so it sees every update without stopping the rest.

A feature module may also define `schedule(application)` to add JobQueue jobs. Jobs only wake code
that reads the database (reminders, the outbox): the job queue itself is lost on restart.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.handlers import (
    announce,
    apply,
    broadcasts,
    council,
    courses,
    courses_form,
    courses_staff,
    directory,
    directory_csv,
    directory_staff,
    errors,
    fallback,
    news,
    presence,
    profile,
    rating,
    requests,
    review,
    staff,
    start,
    stats,
)
from bot.handlers.menu import Menu, MenuItem
from bot.i18n import Gettext

# The features, in registration order (see the module docstring).
# Staff conversations come before the applicants' forms, so a staff member who also has a form open
# gets their typed reason, news text or course details taken where they meant it.
FEATURES: list[ModuleType] = [
    review,
    news,
    announce,
    directory_staff,
    directory_csv,
    courses_form,
    courses_staff,
    council,
    apply,
    profile,
    directory,
    courses,
    requests,
    staff,
    stats,
    rating,
    broadcasts,
    start,
]


def menu_items() -> list[MenuItem]:
    """The main-menu items every feature contributes."""
    return [item for module in FEATURES for item in getattr(module, "MENU", [])]


def bot_commands(_: Gettext) -> list[BotCommand]:
    """The commands published with setMyCommands, with Persian descriptions."""
    seen: dict[str, str] = {}
    for module in [start, *FEATURES]:
        for command, description in getattr(module, "COMMANDS", []):
            seen.setdefault(command, _(description))
    return [BotCommand(command, description) for command, description in seen.items()]


def register(application: Application[Any, BotContext, Any, Any, Any, Any]) -> Menu:
    """Add every handler to the application; returns the main menu they make up."""
    application.add_handlers(presence.handlers(), group=presence.GROUP)
    for module in FEATURES:
        application.add_handlers(module.handlers())
    menu = Menu(menu_items())
    application.add_handlers(
        [
            CallbackQueryHandler(item.callback, pattern=f"^{item.data}$")
            for item in menu
            if not item.starts_conversation
        ]
    )
    application.add_handlers(fallback.handlers())
    application.add_error_handler(errors.on_error)
    for module in FEATURES:
        schedule = getattr(module, "schedule", None)
        if schedule is not None:
            schedule(application)
    return menu


__all__ = ["FEATURES", "Update", "bot_commands", "menu_items", "register"]
