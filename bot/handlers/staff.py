"""/staff add|remove|list: admins manage who is staff. After each change the person's command menu
is refreshed (bot/command_menus.py), once the change is committed."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import admin_only
from bot.kit.reply import esc
from bot.services import staff as staff_service
from bot.services.errors import DomainError
from bot.text import normalize_input

# The words of the command, in English or Persian.
ACTIONS = {
    "add": "add",
    "افزودن": "add",
    "remove": "remove",
    "حذف": "remove",
    "list": "list",
    "فهرست": "list",
}
ADMIN_WORDS = ("admin", "مدیرسامانه", "مدیر")
LTR = "\u200e"  # keeps a command's slash on its left inside Persian text


def _usage(_: Gettext) -> str:
    command = LTR + "/staff"
    return "\n".join(
        [
            _("How to use this command:"),
            _("• a chamber staff member: {command} add USER"),
            _("• the staff of one association: {command} add USER ASSOCIATION"),
            _("• an admin: {command} add USER admin"),
            _("• no longer staff: {command} remove USER"),
            _("• the list: {command} list"),
            _(
                "USER is the person's numeric Telegram id; ASSOCIATION is the association's number, shown in "
                "the staff list and the CSV export. Persian digits are fine."
            ),
        ]
    ).format(command=command)


@admin_only
async def staff_command(update: Update, context: BotContext) -> None:
    """Dispatch /staff subcommands; refresh the person's command menu after a change."""
    _ = context.gettext
    message = update.effective_message
    if message is None:
        return
    args = [normalize_input(a) for a in context.args or []]
    action = ACTIONS.get(args[0].lower(), "") if args else ""
    changed: int | None = None
    if action == "list":
        text = await _list(context)
    elif action in ("add", "remove") and len(args) >= 2 and args[1].isdecimal():
        text, changed = await _change(context, action, int(args[1]), args[2:])
    else:
        text = _usage(_)
    await message.reply_text(text)
    if changed is not None:
        await context.bot_data.commands.refresh(context.bot, [changed])


def _id(value: int) -> str:
    return isolate_ltr(fa_digits(value))


async def _list(context: BotContext) -> str:
    _ = context.gettext
    grants = await context.read(staff_service.list_staff)
    admins = "، ".join(_id(i) for i in sorted(context.settings.admin_ids))
    lines = [_("Admins from the settings: {ids}").format(ids=admins or "—")]
    for grant in grants:
        if grant.role == staff_service.ADMIN:
            lines.append(_("{id}: admin").format(id=_id(grant.telegram_id)))
        elif grant.association_id is None:
            lines.append(_("{id}: chamber staff").format(id=_id(grant.telegram_id)))
        else:
            lines.append(
                _("{id}: staff of {name} (association number {number})").format(
                    id=_id(grant.telegram_id),
                    name=esc(grant.association or "—"),
                    number=_id(grant.association_id),
                )
            )
    if not grants:
        lines.append(_("No staff have been added yet."))
    return "\n".join(lines)


async def _change(
    context: BotContext, action: str, telegram_id: int, rest: list[str]
) -> tuple[str, int | None]:
    """The change in one transaction; the answer, and whose menu to refresh (None: nothing changed)."""
    _ = context.gettext
    target = _id(telegram_id)
    scope = rest[0].lower() if rest else ""
    if scope and scope not in ADMIN_WORDS and not scope.isdecimal():
        return _usage(_), None
    try:
        async with context.transaction() as session:
            if action == "remove":
                removed = await staff_service.remove_staff(session, context.staff, telegram_id)
            else:
                await staff_service.add_staff(
                    session,
                    context.staff,
                    telegram_id,
                    association_id=int(scope) if scope.isdecimal() else None,
                    admin=scope in ADMIN_WORDS,
                )
    except DomainError as exc:
        if exc.reason == "cannot_remove_self":
            return _("You cannot remove yourself."), None
        if exc.reason == "unknown_association":
            return _("There is no association with that number."), None
        return _("Sorry, this is only for the chamber's staff."), None
    if action == "add":
        return _("{id} is now staff.").format(id=target), telegram_id
    if not removed:
        return _("{id} was not staff.").format(id=target), None
    return _("{id} is no longer staff.").format(id=target), telegram_id


FEATURE = Feature(
    name="staff",
    commands=[Command("staff", N_("Manage staff"), audience="admin", callback=staff_command)],
)
