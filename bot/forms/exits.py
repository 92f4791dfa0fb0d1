"""Ways out of any form: /cancel, /start and the main-menu buttons (every conversation has them)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.context import BotContext
from bot.kit.guards import allows, current_scope, public, refuse
from bot.kit.home import show_menu
from bot.kit.menu import MENU_PREFIX

END = ConversationHandler.END


@public
async def cancel(update: Update, context: BotContext) -> int:
    """Stop the current step; drafts stay saved, so the user can come back to them."""
    _ = context.gettext
    await show_menu(update, context, _("Cancelled. Your answers so far are saved.") + "\n" + _("Main menu"))
    return END


@public
async def restart(update: Update, context: BotContext) -> int:
    """/start in the middle of a form: leave it and greet (the same greeting as /start)."""
    welcome = context.bot_data.menu.welcome
    if welcome is not None:
        await welcome(update, context)
    else:
        await show_menu(update, context)
    return END


@public
async def menu_press(update: Update, context: BotContext) -> int | None:
    """A main-menu button pressed mid-form: leave the form and go where the button points. A staff
    item pressed by someone who is not staff (a forged button) is refused and leaves nothing."""
    query = update.callback_query
    item = context.bot_data.menu.get(query.data or "") if query is not None else None
    staff_item = item is not None and item.audience != "everyone"
    if item is not None and staff_item and not allows(await current_scope(update, context), item.audience):
        await refuse(update, context)
        return None  # the form stays where it was
    if item is None:
        await show_menu(update, context)
    elif item.starts_conversation:
        _ = context.gettext
        await show_menu(
            update,
            context,
            _("The previous step was left; your answers so far are saved.") + "\n" + _("Main menu"),
        )
    else:
        await item.callback(update, context)
    return END


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The fallbacks added to every conversation."""
    return [
        CommandHandler("cancel", cancel),
        CommandHandler("start", restart, filters=~filters.Regex(r"^/start\s+\S")),
        CallbackQueryHandler(
            menu_press, pattern=lambda data: isinstance(data, str) and data.startswith(MENU_PREFIX)
        ),
    ]
