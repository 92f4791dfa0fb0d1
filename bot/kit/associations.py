"""`/command [association number]` for staff: which association the command is about."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import BotContext
from bot.kit.callbacks import Action
from bot.kit.markup import button, keyboard
from bot.kit.reply import answer
from bot.services.application_exports import covered_associations
from bot.text import normalize_numeric

Show = Callable[[Update, BotContext, int], Awaitable[object]]
BUTTONS_SHOWN = 40


async def choose_association(
    update: Update, context: BotContext, show: Show, question: str, action: Action
) -> None:
    """`show` the association whose number follows the command, or the staff member's only one;
    else `question` (translated) with a button `action(id)` for each association they cover."""
    _ = context.gettext
    args = [normalize_numeric(a) for a in context.args or []]
    if args and args[0].isdecimal():
        await show(update, context, int(args[0]))
        return
    covered = await context.read(covered_associations, context.staff)
    if len(covered) == 1:
        await show(update, context, covered[0].id)
        return
    if not covered:
        await answer(update, _("You are not staff of any association."))
        return
    await answer(
        update, question, keyboard([[button(a.name, action(a.id))] for a in covered[:BUTTONS_SHOWN]])
    )
