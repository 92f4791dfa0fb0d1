"""Record every user who contacts the bot (before any other handler runs)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, TypeHandler

from bot.context import BotContext
from bot.kit.guards import public
from bot.services.users import Contact, record_contact

GROUP = -10


@public
async def record(update: Update, context: BotContext) -> None:
    """Upsert the sender, at most once per few minutes unless their details changed."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    contact = Contact(user.id, user.first_name, user.last_name, user.username, user.language_code)
    seen = context.bot_data.seen
    if not seen.needs_write(contact):
        return
    async with context.transaction(bookkeeping=True) as session:
        await record_contact(session, contact)
    seen.remember(contact)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """One handler that sees every update, in its own group so the others still run."""
    return [TypeHandler(Update, record)]
