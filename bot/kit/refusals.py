"""A button or command whose service said no (a DomainError): the person is told why, in one line."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.i18n import Gettext
from bot.kit.callbacks import Action, Router
from bot.kit.guards import staff_only
from bot.kit.reply import alert_and_say
from bot.services.errors import DomainError

Callback = Callable[..., Coroutine[Any, Any, Any]]
Explain = str | Callable[[Gettext, DomainError], str]  # a msgid, or why from the error itself
Reply = Callable[[Update, str], Awaitable[object]]  # alert_and_say, alert, answer


def refused(explain: Explain, reply: Reply = alert_and_say) -> Callable[[Callback], Callback]:
    """Wrap a callback: a DomainError it raises becomes `reply(update, why)` (by default an alert on
    the button plus a message that stays), and the callback returns None."""

    def wrap(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def run(update: Update, context: BotContext, *args: Any) -> Any:
            try:
                return await callback(update, context, *args)
            except DomainError as exc:
                _ = context.gettext
                await reply(update, _(explain) if isinstance(explain, str) else explain(_, exc))
                return None

        return run

    return wrap


def staff_button(
    router: Router, *actions: Action, refusal: Explain, reply: Reply = alert_and_say
) -> Callable[[Callback], Callback]:
    """A staff button: routed on `router` for each action, staff only, a refusal told by `reply`."""

    def register(callback: Callback) -> Callback:
        guarded = staff_only(refused(refusal, reply)(callback))
        for action in actions:
            router.on(action)(guarded)
        return guarded

    return register
