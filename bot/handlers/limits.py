"""What a user who floods the bot is told (the pacing itself is in bot/processing.py)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)


def flood_notice(application: Application[Any, Any, Any, Any, Any, Any]) -> Any:
    """A callback for the update processor: a polite Persian 'please slow down'."""

    async def notify(update: Update) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != chat.PRIVATE:
            return
        _ = application.bot_data.translations.gettext
        try:
            await application.bot.send_message(
                chat.id, _("You are sending messages very fast. Please wait a moment, then go on.")
            )
        except TelegramError as exc:
            log.warning("could not send the slow-down notice: %s", exc)

    return notify
