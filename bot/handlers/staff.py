"""/staff add|remove|list: admins manage who is staff."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.handlers.guards import admin_only
from bot.i18n import N_, Gettext
from bot.services import staff as staff_service
from bot.services.errors import DomainError
from bot.text import normalize_numeric

COMMANDS = [("staff", N_("Manage staff (admins)"))]


def _usage(_: Gettext) -> str:
    return "\n".join(
        [
            _("Usage:"),
            _("/staff add USER_ID — chamber staff"),
            _("/staff add USER_ID ASSOCIATION_ID — staff of one association"),
            _("/staff add USER_ID admin — an admin"),
            _("/staff remove USER_ID"),
            _("/staff list"),
        ]
    )


@admin_only
async def staff_command(update: Update, context: BotContext) -> None:
    """Dispatch /staff subcommands."""
    _ = context.gettext
    message = update.effective_message
    if message is None:
        return
    args = [
        normalize_numeric(a) if a[:1].isdecimal() or a[:1] in "۰۱۲۳۴۵۶۷۸۹" else a for a in context.args or []
    ]
    action = args[0].lower() if args else ""
    if action == "list":
        text = await _list(context)
    elif action in ("add", "remove") and len(args) >= 2 and args[1].isdecimal():
        text = await _change(context, action, int(args[1]), args[2:])
    else:
        text = _usage(_)
    await message.reply_text(text)


async def _list(context: BotContext) -> str:
    _ = context.gettext
    async with context.session() as session:
        grants = await staff_service.list_staff(session)
    lines = [_("Admins from the settings: {ids}").format(ids=_ids(context.settings.admin_ids) or "—")]
    for grant in grants:
        if grant.role == staff_service.ADMIN:
            lines.append(_("{id}: admin").format(id=isolate_ltr(fa_digits(grant.telegram_id))))
        elif grant.association_id is None:
            lines.append(_("{id}: chamber staff").format(id=isolate_ltr(fa_digits(grant.telegram_id))))
        else:
            lines.append(
                _("{id}: staff of association {association}").format(
                    id=isolate_ltr(fa_digits(grant.telegram_id)), association=fa_digits(grant.association_id)
                )
            )
    if not grants:
        lines.append(_("No staff have been added yet."))
    return "\n".join(lines)


def _ids(ids: frozenset[int]) -> str:
    return "، ".join(isolate_ltr(fa_digits(i)) for i in sorted(ids))


async def _change(context: BotContext, action: str, telegram_id: int, rest: list[str]) -> str:
    _ = context.gettext
    target = isolate_ltr(fa_digits(telegram_id))
    try:
        async with context.session() as session, session.begin():
            if action == "remove":
                removed = await staff_service.remove_staff(session, context.staff, telegram_id)
                if not removed:
                    return _("{id} was not staff.").format(id=target)
                return _("{id} is no longer staff.").format(id=target)
            scope = rest[0].lower() if rest else ""
            if scope and scope != "admin" and not scope.isdecimal():
                return _usage(_)
            await staff_service.add_staff(
                session,
                context.staff,
                telegram_id,
                association_id=int(scope) if scope.isdecimal() else None,
                admin=scope == "admin",
            )
    except DomainError as exc:
        if exc.reason == "cannot_remove_self":
            return _("You cannot remove yourself.")
        if exc.reason == "unknown_association":
            return _("There is no association with that number.")
        return _("Sorry, this is only for the chamber's staff.")
    return _("{id} is now staff.").format(id=target)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The /staff command."""
    return [CommandHandler("staff", staff_command)]
