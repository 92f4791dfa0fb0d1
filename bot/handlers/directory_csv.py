"""Staff CSV work on the directory: export (⬇️ button) and import by sending the file to the bot."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits
from bot.handlers.common import answer, button, esc, keyboard
from bot.handlers.directory_staff import FIELD_LABELS, covers, not_yours, parts, user_id
from bot.handlers.guards import staff_only
from bot.i18n import N_, Gettext
from bot.services import association_csv, directory_drafts
from bot.services.association_csv import ImportReport, MalformedCsv
from bot.services.errors import NotFound

CSV_FILE = filters.Document.FileExtension("csv") | filters.Document.MimeType("text/csv")
MAX_CSV_BYTES = association_csv.MAX_BYTES

IMPORT_REASONS = {
    "too_short": N_("a value is too short ({field})"),
    "too_long": N_("a value is too long ({field})"),
    "bad_phone": N_("the phone number is not valid"),
    "bad_channel": N_("the channel is not @username or a link"),
    "bad_status": N_("unknown status (use active, forming, inactive or فعال، در حال تشکیل، غیرفعال)"),
    "bad_evidence": N_("unknown evidence kind (use experience, business_licence, home_permit)"),
    "not_yes_no": N_("{field} must be yes or no"),
    "not_a_number": N_("{field} must be a number"),
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
    "bad_csv": N_("The file is not valid CSV ({detail})."),
}


@staff_only
async def export(update: Update, context: BotContext) -> None:
    """dir:export: send every association as a CSV file."""
    _ = context.gettext
    if not covers(context, None):
        await not_yours(update, context)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    async with context.session() as session:
        data = await association_csv.export_csv(session)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(
        InputFile(data, filename="associations.csv"), caption=_("All associations, ready for Excel.")
    )


@staff_only
async def import_file(update: Update, context: BotContext) -> None:
    """A CSV file from staff: check it; apply at once, or ask first when near-duplicates turn up."""
    _ = context.gettext
    if not covers(context, None):
        await not_yours(update, context)
        return
    message = update.effective_message
    assert message is not None and message.document is not None
    if (message.document.file_size or 0) > MAX_CSV_BYTES:
        await answer(update, _(MALFORMED["too_big"]))
        return
    try:
        telegram_file = await message.document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        await answer(update, _("I could not download the file. Please send it again."))
        return
    try:
        async with context.session() as session, session.begin():
            report = await association_csv.import_csv(session, data, apply=False)
            if not report.near_duplicates:
                report = await association_csv.import_csv(session, data)
            else:
                draft = await directory_drafts.start(
                    session, user_id(update), directory_drafts.IMPORT, data=data.decode("utf-8-sig")
                )
    except MalformedCsv as exc:
        detail = MALFORMED.get(exc.reason, MALFORMED["bad_csv"])
        text = _(detail).format(
            line=fa_digits(str(exc.details.get("line", ""))), detail=esc(exc.details.get("detail", ""))
        )
        await answer(update, _("Nothing was imported.") + "\n" + text)
        return
    if report.applied:
        await answer(update, _report(_, report))
        return
    near = "\n".join(
        _("Line {line}: «{name}» is close to «{other}».").format(
            line=fa_digits(row.line), name=esc(row.name), other=esc(row.detail)
        )
        for row in report.near_duplicates
    )
    text = "\n".join(
        [
            _("⚠️ Some new names are close to associations we already have:"),
            near,
            _("Should these be added anyway? Nothing has been imported yet."),
        ]
    )
    markup = keyboard(
        [
            [button(_("Add them too"), f"dir:imp:all:{draft.id}")],
            [button(_("Import without them"), f"dir:imp:skip:{draft.id}")],
            [button(_("Cancel the import"), f"dir:imp:no:{draft.id}")],
        ]
    )
    await answer(update, text, markup)


@staff_only
async def import_decision(update: Update, context: BotContext) -> None:
    """dir:imp:all|skip|no:<draft>: finish an import that found near-duplicates."""
    _ = context.gettext
    _prefix, _kind, choice, raw_id = parts(update)
    try:
        async with context.session() as session, session.begin():
            draft = await directory_drafts.by_id(session, user_id(update), int(raw_id))
            data = draft.data.encode("utf-8")
            await directory_drafts.finish(session, draft)
            report = None
            if choice != "no":
                report = await association_csv.import_csv(session, data, allow_near=choice == "all")
    except NotFound:
        await answer(update, _("This import was already finished or cancelled."))
        return
    except MalformedCsv:
        await answer(update, _("Nothing was imported."))
        return
    await answer(
        update, _("Import cancelled; nothing was changed.") if report is None else _report(_, report)
    )


def _report(_: Gettext, report: ImportReport) -> str:
    lines = [
        _(
            "<b>Import finished</b>: {added} added, {updated} updated, {unchanged} unchanged, {rejected} rejected."
        ).format(
            added=fa_digits(report.count(association_csv.ADDED)),
            updated=fa_digits(report.count(association_csv.UPDATED)),
            unchanged=fa_digits(report.count(association_csv.UNCHANGED)),
            rejected=fa_digits(report.count(association_csv.REJECTED)),
        )
    ]
    labels = {
        association_csv.ADDED: _("added"),
        association_csv.UPDATED: _("updated"),
        association_csv.UNCHANGED: _("unchanged"),
        association_csv.REJECTED: _("rejected"),
    }
    for row in report.rows[:60]:
        line = _("Line {line}: {action} «{name}»").format(
            line=fa_digits(row.line), action=labels[row.action], name=esc(row.name or "—")
        )
        if row.action == association_csv.REJECTED:
            reason = IMPORT_REASONS.get(row.reason, IMPORT_REASONS["too_short"])
            field = (
                fa_digits(row.detail) if row.reason == "repeated_in_file" else esc(_field_name(_, row.detail))
            )
            line += " — " + _(reason).format(field=field)
        lines.append(line)
    if len(report.rows) > 60:
        lines.append(_("…and {more} more lines.").format(more=fa_digits(len(report.rows) - 60)))
    return "\n".join(lines)


def _field_name(_: Gettext, field: str) -> str:
    if field in FIELD_LABELS:
        return _(FIELD_LABELS[field])
    return field


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The export button, the import decision buttons and the CSV upload."""
    return [
        CallbackQueryHandler(export, pattern="^dir:export$"),
        CallbackQueryHandler(import_decision, pattern=r"^dir:imp:(all|skip|no):\d+$"),
        MessageHandler(filters.ChatType.PRIVATE & CSV_FILE, import_file),
    ]
