"""/start, /help and the main menu."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.handlers.common import answer, esc
from bot.handlers.guards import public
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_

COMMANDS = [("start", N_("Main menu")), ("help", N_("Help")), ("cancel", N_("Cancel the current step"))]


@public
async def start(update: Update, context: BotContext) -> None:
    """Greet the user by name and show the main menu."""
    _ = context.gettext
    user = update.effective_user
    name = esc(user.first_name) if user is not None else ""
    text = _("Hello {name}! Welcome to the bot of the chamber's trade associations.").format(name=name)
    await show_menu(update, context, text + "\n" + _("What would you like to do?"))


async def show_menu(update: Update, context: BotContext, text: str | None = None) -> None:
    """Show the main menu (editing the pressed message when a button brought us here)."""
    _ = context.gettext
    await answer(update, text or _("Main menu"), context.bot_data.menu.markup(_))


@public
async def home(update: Update, context: BotContext) -> None:
    """The 'main menu' button."""
    await show_menu(update, context)


@public
async def help_(update: Update, context: BotContext) -> None:
    """What the bot does and how to use it."""
    _ = context.gettext
    text = "\n".join(
        [
            _("<b>Help</b>"),
            _("This bot serves the trade associations of the chamber of commerce."),
            _(
                "Use the menu buttons to browse associations, apply for membership, sign up for courses and read the news."
            ),
            _("/start shows the main menu; /cancel stops the current step (your answers so far are kept)."),
            _("A university degree is not required for membership unless an association's own rules say so."),
        ]
    )
    await answer(update, text, context.bot_data.menu.markup(_))


@public
async def cancel_outside(update: Update, context: BotContext) -> None:
    """/cancel when nothing is in progress."""
    _ = context.gettext
    await show_menu(update, context, _("Nothing is in progress.") + "\n" + _("Main menu"))


MENU = [MenuItem("help", N_("Help"), 90, help_)]


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/start without a deep-link argument, /help and the home button."""
    return [
        CommandHandler("start", start, filters=~filters.Regex(r"^/start\s+\S")),
        CommandHandler("help", help_),
        CommandHandler("cancel", cancel_outside),
        CallbackQueryHandler(home, pattern=f"^{HOME}$"),
    ]
