"""Staff CSV work on the directory: export (English or Persian headings) and import by sending the
file to the bot: a preview with a verdict per row, then the staff member's choice."""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits
from bot.handlers import directory_view as view
from bot.handlers.directory_staff import chamber_wide
from bot.i18n import N_, Gettext
from bot.kit.feature import Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, keyboard
from bot.kit.reply import answer, esc, send_file, sender
from bot.kit.uploads import downloaded
from bot.services import association_csv
from bot.services.association_csv import ADDED, REJECTED, UNCHANGED, UPDATED, ImportReport, MalformedCsv
from bot.services.errors import NotFound

CSV_FILE = filters.Document.FileExtension("csv") | filters.Document.MimeType("text/csv")
ROWS_SHOWN = 60

IMPORT_REASONS = {
    "too_short": N_("a value is too short ({field})"),
    "too_long": N_("a value is too long ({field})"),
    "bad_phone": N_("the phone number is not valid"),
    "bad_channel": N_("the channel is not @username or a link"),
    "bad_status": N_("unknown status (use active, forming, inactive or فعال، در حال تأسیس، غیرفعال)"),
    "bad_evidence": N_("unknown evidence kind (use experience, business_licence, home_permit)"),
    "not_yes_no": N_("{field} must be yes or no"),
    "not_a_number": N_("{field} must be a number"),
    "decimal": N_("{field} must be a whole number"),
    "range": N_("{field} must be one number, not a range"),
    "too_large": N_("{field} is too large"),
    "repeated_in_file": N_("the same association is already on line {field}"),
    "near_duplicate": N_("close to the existing association «{field}»"),
}
MALFORMED = {
    "not_utf8": N_("The file is not UTF-8 text. In Excel choose «CSV UTF-8» when saving."),
    "empty": N_("The file is empty."),
    "too_big": N_("The file is too large (at most 1 MB)."),
    "too_many_rows": N_("The file has too many rows (at most 5000)."),
    "unknown_columns": N_("Unknown columns: {detail}. Export the directory to get the right columns."),
    "repeated_column": N_("A column appears twice in the header."),
    "no_name_column": N_("There is no «name» column."),
    "ragged_row": N_("Line {line} has a different number of cells from the header."),
    "open_quote": N_(
        "A quotation mark opened on line {line} is never closed. Close it, or remove it, and send the file again."
    ),
    "stray_quote": N_(
        "On line {line} a cell has text after its closing quotation mark. Put the whole cell in quotation "
        "marks, and write a quotation mark inside it twice."
    ),
    "bad_csv": N_("The file could not be read as CSV (near line {line}). Save it again as «CSV UTF-8»."),
}
DONE = {ADDED: N_("added"), UPDATED: N_("updated"), UNCHANGED: N_("unchanged"), REJECTED: N_("rejected")}
PLANNED = {
    ADDED: N_("will be added"),
    UPDATED: N_("will be updated"),
    UNCHANGED: N_("unchanged"),
    REJECTED: N_("will not be imported"),
}


@view.DIR.on(view.EXPORT)
@staff_only
async def export(update: Update, context: BotContext) -> None:
    """`dir:export`: every association as a CSV file (English headings and codes)."""
    await _export(update, context, persian=False)


@view.DIR.on(view.EXPORT_FA)
@staff_only
async def export_persian(update: Update, context: BotContext) -> None:
    """`dir:exportfa`: the same with Persian headings and words (it imports back just the same)."""
    await _export(update, context, persian=True)


async def _export(update: Update, context: BotContext, *, persian: bool) -> None:
    _ = context.gettext
    if not await chamber_wide(update, context):
        return
    data = await context.read(association_csv.export_csv, persian=persian)
    name = "associations-fa.csv" if persian else "associations.csv"
    await send_file(update, data, name, _("All associations, ready for Excel."))


@staff_only
async def import_file(update: Update, context: BotContext) -> None:
    """A CSV file from staff: nothing changes until they choose, after the preview."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and message.document is not None and user is not None
    if not await chamber_wide(update, context):
        return
    data = await downloaded(
        update, context, message.document, association_csv.MAX_BYTES, _(MALFORMED["too_big"])
    )
    if data is None:
        return
    try:
        staged = await context.write(association_csv.stage, user.id, data)
    except MalformedCsv as exc:
        text = _(MALFORMED.get(exc.reason, MALFORMED["bad_csv"])).format(
            line=fa_digits(str(exc.details.get("line", ""))), detail=esc(exc.details.get("detail", ""))
        )
        await answer(update, _("Nothing was imported.") + "\n" + text)
        return
    report, draft = staged.report, staged.draft_id
    if draft is None:
        await answer(update, _report(_, report, PLANNED) + "\n" + _("There is nothing to import."))
        return
    rows = [[button(_("Import"), view.IMPORT("skip", draft))]]
    if report.near_duplicates:
        rows = [
            [button(_("Add them too"), view.IMPORT("all", draft))],
            [button(_("Import without them"), view.IMPORT("skip", draft))],
        ]
        question = _(
            "⚠️ Some new names are close to associations we already have. Should they be added anyway?"
        )
    else:
        question = _("Import these changes?")
    rows.append([button(_("Cancel the import"), view.IMPORT("no", draft))])
    text = "\n".join([_report(_, report, PLANNED), "", question, _("Nothing has been imported yet.")])
    await answer(update, text, keyboard(rows))


@view.DIR.on(view.IMPORT)
@staff_only
async def import_decision(update: Update, context: BotContext, choice: str, draft_id: int) -> None:
    """`dir:imp:all|skip|no:<draft>`: import the previewed file, or drop it."""
    _ = context.gettext
    if not await chamber_wide(update, context):
        return
    try:
        report = await context.write(association_csv.decide, sender(update), draft_id, choice)
    except NotFound:
        await answer(update, _("This import was already finished or cancelled."))
        return
    await answer(
        update, _("Import cancelled; nothing was changed.") if report is None else _report(_, report, DONE)
    )


def _report(_: Gettext, report: ImportReport, verbs: dict[str, str]) -> str:
    counts = {action: fa_digits(report.count(action)) for action in (ADDED, UPDATED, UNCHANGED, REJECTED)}
    heading = (
        _(
            "<b>Import finished</b>: {added} added, {updated} updated, {unchanged} unchanged, {rejected} rejected."
        )
        if report.applied
        else _(
            "<b>Preview</b>: {added} to add, {updated} to update, {unchanged} unchanged, {rejected} rejected."
        )
    )
    lines = [heading.format(**counts)]
    for row in report.rows[:ROWS_SHOWN]:
        line = _("Line {line}: {action} «{name}»").format(
            line=fa_digits(row.line), action=_(verbs[row.action]), name=esc(row.name or "—")
        )
        if row.action == REJECTED:
            field = (
                row.detail if row.reason in ("repeated_in_file", "near_duplicate") else _field(_, row.detail)
            )
            reason = IMPORT_REASONS.get(row.reason, IMPORT_REASONS["too_short"])
            line += " — " + _(reason).format(
                field=esc(fa_digits(field) if row.reason == "repeated_in_file" else field)
            )
        lines.append(line)
    if len(report.rows) > ROWS_SHOWN:
        lines.append(_("…and {more} more lines.").format(more=fa_digits(len(report.rows) - ROWS_SHOWN)))
    return "\n".join(lines)


def _field(_: Gettext, name: str) -> str:
    return _(view.FIELD_LABELS[name]) if name in view.FIELD_LABELS else name


# The CSV upload (the buttons are on the directory's router).
FEATURE = Feature(
    name="directory_csv", handlers=lambda: [MessageHandler(filters.ChatType.PRIVATE & CSV_FILE, import_file)]
)
