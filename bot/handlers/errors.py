"""The global error handler: log with the update id, tell the user in Persian, never show a trace."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot import observe
from bot.context import BotContext
from bot.inbox import AlreadyHandled
from bot.services.errors import is_database_busy

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: BotContext) -> None:
    """Log every handler exception and apologise to the user it happened to."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, AlreadyHandled):
        log.info("Update %s was handled before a restart; answering it from where the user is now", update_id)
        observe.mark_already_handled()
        return
    if is_database_busy(error) and observe.request_retry():
        log.warning("Database busy on update %s; it will be run again", update_id)
        return
    observe.mark_error(error)
    if isinstance(error, (TimedOut, NetworkError, RetryAfter)):
        log.warning("Bot API trouble on update %s: %r", update_id, error)
    else:
        log.error("Unhandled error on update %s", update_id, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None or isinstance(error, Forbidden):
        return
    if not observe.first_attempt():
        return  # the user was told at the first attempt; this one is a silent retry
    _ = context.gettext
    text = _("Sorry, something went wrong on our side. Please try again in a moment.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await update.effective_chat.send_message(text)
    except Exception:  # the Bot API itself may be what failed; the error is already logged
        log.warning("Could not tell the user about the error on update %s", update_id, exc_info=True)
