"""/export: an association's members and applications as spreadsheet files (its staff only)."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.formatting import fa_digits
from bot.i18n import N_
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, keyboard
from bot.kit.reply import alert, answer, esc, send_files
from bot.services import application_exports as exports
from bot.services.errors import NotAllowed, NotFound
from bot.text import normalize_numeric
from bot.views import exports as sheets
from bot.views import membership as view


@staff_only
async def export_command(update: Update, context: BotContext) -> None:
    """/export [association number]: the files, or a list of the associations to choose from."""
    _ = context.gettext
    args = [normalize_numeric(a) for a in context.args or []]
    if args and args[0].isdecimal():
        await _export(update, context, int(args[0]))
        return
    covered = await context.read(exports.covered_associations, context.staff)
    if not covered:
        await answer(update, _("You are not staff of any association."))
        return
    await answer(
        update,
        _("Which association's members and applications?"),
        keyboard([[button(a.name, view.EXPORT(a.id))] for a in covered]),
    )


@view.REVIEW.on(view.EXPORT)
@staff_only
async def export_pressed(update: Update, context: BotContext, association_id: int) -> None:
    """`review:export:<id>`."""
    await _export(update, context, association_id)


async def _export(update: Update, context: BotContext, association_id: int) -> None:
    _ = context.gettext
    try:
        found = await context.read(exports.export, context.staff, association_id)
    except NotAllowed:
        await alert(update, _("This application is not one of your associations'."))
        return
    except NotFound:
        await answer(update, _("There is no association with that number."))
        return
    caption = _("{name}: {members} members, {applications} applications").format(
        name=esc(found.association.name),
        members=fa_digits(len(found.members)),
        applications=fa_digits(len(found.applications)),
    )
    await send_files(
        update,
        (sheets.member_sheet(_, found), f"members-{association_id}.csv", caption),
        (sheets.application_sheet(_, found), f"applications-{association_id}.csv", None),
    )


FEATURE = Feature(
    name="review_export",
    commands=[
        Command("export", N_("Export members and applications"), audience="staff", callback=export_command)
    ],
)
