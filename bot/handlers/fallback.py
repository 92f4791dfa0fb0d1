"""What the bot says when nothing else understood the message or button (registered last)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.kit.guards import public
from bot.kit.home import show_menu


@public
async def unknown_message(update: Update, context: BotContext) -> None:
    """A short Persian hint with the menu it points to, never silence."""
    _ = context.gettext
    if update.effective_message is None:
        return
    await show_menu(
        update, context, _("Sorry, I did not understand that. Please choose from the menu below.")
    )


@public
async def unknown_button(update: Update, context: BotContext) -> None:
    """A button nobody handles (old, or forged): say so instead of spinning forever."""
    _ = context.gettext
    query = update.callback_query
    if query is not None:
        await query.answer(_("This button is no longer valid. Send /start for the menu."), show_alert=True)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Catch-alls for private chats; groups and channels are left alone."""
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(private & ~filters.UpdateType.EDITED & ~filters.StatusUpdate.ALL, unknown_message),
        CallbackQueryHandler(unknown_button),
    ]
