"""After a crash: an update whose effects were committed but whose answer never went out is answered
again from where the user is now (the question their form is at, or the menu), never applied twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.context import BotContext
from bot.forms.conversation import FormHandler, conversation_key
from bot.kit.home import show_menu


def answer_again(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> Callable[[Update], Awaitable[None]]:
    """The processor's hook for such an update."""

    async def run(update: Update) -> None:
        if update.effective_chat is None or update.effective_user is None:
            return
        context = BotContext.from_update(update, application)
        key = conversation_key(update)
        for group in application.handlers.values():
            for handler in group:
                if isinstance(handler, FormHandler) and key in handler._conversations:
                    await handler.form_ui.show_current(update, context)
                    return
        _ = context.gettext
        await show_menu(update, context, _("Your last message was received.") + "\n" + _("Main menu"))

    return run
