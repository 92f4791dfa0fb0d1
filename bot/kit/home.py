"""The main menu screen: shown by /start, the home button and every way out of a form."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.kit.guards import shown_scope
from bot.kit.reply import answer


async def show_menu(update: Update, context: BotContext, text: str | None = None) -> None:
    """Show the main menu (editing the pressed message when a button brought us here); staff also
    see their own section of it."""
    _ = context.gettext
    scope = await shown_scope(update, context)
    markup = context.bot_data.menu.markup(_, staff=scope.is_staff, admin=scope.is_admin)
    await answer(update, text or _("Main menu"), markup)
