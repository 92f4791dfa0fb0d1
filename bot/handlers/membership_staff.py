"""Staff: an association's membership figures (members by status, dues paid and unpaid) as a message
and as an .xlsx with a right-to-left sheet; importing existing members from .xlsx or .csv with a
preview and a verdict per row, then an invitation link for each imported member."""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, jalali_day
from bot.i18n import N_, Gettext
from bot.kit.associations import choose_association
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, keyboard
from bot.kit.menu import MenuItem
from bot.kit.refusals import refused, staff_button
from bot.kit.reply import alert, answer, esc
from bot.kit.uploads import downloaded
from bot.services import member_import, membership_figures, terms
from bot.services.application_exports import covered_associations
from bot.services.errors import DomainError
from bot.text import normalize_numeric, to_ascii_digits
from bot.views import membership_terms as view

ROWS_SHOWN = 40
LINKS_SHOWN = 30
NOT_OURS = N_("This belongs to another association.")
FINISHED = N_("This import was already finished or cancelled.")
NO_MEMBER = N_("No member of your associations has that number.")
MEMBER_FILE = filters.Document.FileExtension("xlsx") | (
    (filters.Document.FileExtension("csv") | filters.Document.MimeType("text/csv"))
    & filters.CaptionRegex(r"^\s*(members|اعضا)")
)
VERDICTS = {
    member_import.NEW: N_("will be imported"),
    member_import.BAD: N_("not valid"),
    member_import.DUPLICATE: N_("duplicate"),
}
REASONS = {
    "national_id": N_("national ID"),
    "name": N_("name"),
    "number": N_("member number"),
    "date": N_("date"),
}
BAD_FILE = {
    "too_big": N_("The file is too big."),
    "unreadable": N_("The file could not be read. Send an .xlsx file or a UTF-8 .csv file."),
    "no_rows": N_("The file has no rows."),
    "columns": N_(
        "The file needs the columns name, national_id and member_number (or نام، کد ملی، شمارهٔ عضویت)."
    ),
}


@staff_only
async def dues_command(update: Update, context: BotContext) -> None:
    """/dues [association number]: the figures, or the associations to choose from."""
    _ = context.gettext
    await choose_association(
        update, context, _figures, _("Which association's membership figures?"), view.FIGURES
    )


@view.MEMBERSHIP.on(view.FIGURES)
@staff_only
async def figures_pressed(update: Update, context: BotContext, association_id: int) -> None:
    await _figures(update, context, association_id)


@refused(NOT_OURS, alert)
async def _figures(update: Update, context: BotContext, association_id: int) -> None:
    _ = context.gettext
    day = terms.today(context.bot_data.clock())
    found = await context.read(membership_figures.figures, context.staff, association_id, day)
    text = (
        view.figures_text(_, found)
        + "\n\n"
        + _(
            "To import existing members, send an .xlsx file (or a .csv file with the caption «اعضا») whose "
            "caption is «اعضا {number}»."
        ).format(number=fa_digits(association_id))
    )
    await answer(update, text, keyboard([[button(_("Dues spreadsheet"), view.SHEET(association_id))]]))


@staff_button(view.MEMBERSHIP, view.SHEET, refusal=NOT_OURS, reply=alert)
async def sheet_pressed(update: Update, context: BotContext, association_id: int) -> None:
    """The dues spreadsheet (.xlsx, right to left)."""
    _ = context.gettext
    day = terms.today(context.bot_data.clock())
    async with context.reading() as session:
        rows = await membership_figures.rows_of(session, context.staff, association_id, day)
        name = await membership_figures.association_name(session, association_id)
    data = membership_figures.spreadsheet(
        [
            _("Member number"),
            _("Name"),
            _("Status"),
            _("Valid until"),
            _("Dues"),
            _("Amount (rials)"),
            _("Receipt number"),
        ],
        [
            [
                row.number,
                row.name,
                _(view.STATUS[row.status]),
                jalali_day(row.term_end) if row.term_end else "",
                _("paid") if row.paid else _("unpaid"),
                row.amount_rials,
                row.receipt,
            ]
            for row in rows
        ],
        _("Dues"),
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(
            InputFile(data, filename=f"dues-{association_id}.xlsx"),
            caption=_("{name}: {count} members").format(name=esc(name), count=fa_number(len(rows))),
        )


# ---------------------------------------------------------------------------------------- import


def _association_of(caption: str, covered: list[int]) -> int | None:
    digits = "".join(ch for ch in normalize_numeric(caption) if ch.isdecimal())
    if digits:
        return int(digits)
    return covered[0] if len(covered) == 1 else None


def _preview(_: Gettext, name: str, verdicts: list[member_import.Verdict]) -> str:
    counts = {key: sum(1 for v in verdicts if v.verdict == key) for key in VERDICTS}
    lines = [
        _("<b>Members for {name}</b>").format(name=esc(name)),
        _("{new} to import, {bad} not valid, {duplicate} duplicates").format(
            new=fa_number(counts[member_import.NEW]),
            bad=fa_number(counts[member_import.BAD]),
            duplicate=fa_number(counts[member_import.DUPLICATE]),
        ),
        "",
    ]
    for verdict in verdicts[:ROWS_SHOWN]:
        reason = f" ({_(REASONS[verdict.reason])})" if verdict.reason in REASONS else ""
        lines.append(
            _("Row {line}: {name} — {verdict}").format(
                line=fa_digits(verdict.line),
                name=esc(verdict.name or "—"),
                verdict=_(VERDICTS[verdict.verdict]),
            )
            + reason
        )
    if len(verdicts) > ROWS_SHOWN:
        lines.append(_("… and {count} more rows").format(count=fa_number(len(verdicts) - ROWS_SHOWN)))
    return "\n".join(lines)


@staff_only
async def import_file(update: Update, context: BotContext) -> None:
    """A member file from staff: the preview; nothing is written until they choose."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.document is not None
    covered = [a.id for a in await context.read(covered_associations, context.staff)]
    association_id = _association_of(message.caption or "", covered)
    if association_id is None:
        await answer(update, _("Write the association's number in the caption, e.g. «اعضا ۱۲»."))
        return
    data = await downloaded(
        update, context, message.document, member_import.MAX_BYTES, _(BAD_FILE["too_big"])
    )
    if data is None:
        return
    xlsx = (message.document.file_name or "").lower().endswith(".xlsx")
    try:
        async with context.transaction() as session:
            staged, verdicts = await member_import.stage(
                session, context.staff, association_id, data, xlsx=xlsx
            )
            name = await membership_figures.association_name(session, association_id)
    except member_import.BadFile as exc:
        await answer(
            update, _("Nothing was imported.") + "\n" + _(BAD_FILE.get(exc.reason, BAD_FILE["unreadable"]))
        )
        return
    except DomainError:
        await answer(update, _("This belongs to another association."))
        return
    rows = [
        [
            button(_("Import"), view.IMPORT(staged.id)),
            button(_("Cancel the import"), view.IMPORT_CANCEL(staged.id)),
        ]
    ]
    await answer(
        update, _preview(_, name, verdicts) + "\n\n" + _("Nothing has been imported yet."), keyboard(rows)
    )


@staff_button(view.MEMBERSHIP, view.IMPORT, refusal=FINISHED)
async def import_pressed(update: Update, context: BotContext, import_id: int) -> None:
    """Import the new rows: each gets an invitation link to share with the member."""
    _ = context.gettext
    invites = await context.write(member_import.apply, context.staff, import_id)
    links = [(invite.full_name, invite.token) for invite in invites]
    username = context.bot.username or ""
    host = "ble.ir" if context.settings.is_bale else "t.me"
    lines = [
        _("{count} members were imported. Send each one their invitation link:").format(
            count=fa_number(len(links))
        )
    ]
    lines += [
        f"{esc(name)}: https://{host}/{username}?start=invite_{token}" for name, token in links[:LINKS_SHOWN]
    ]
    await answer(update, "\n".join(lines))
    if len(links) > LINKS_SHOWN and update.effective_chat is not None:
        data = membership_figures.spreadsheet(
            [_("Name"), _("Invitation link")],
            [[name, f"https://{host}/{username}?start=invite_{token}"] for name, token in links],
            _("Invitations"),
        )
        await update.effective_chat.send_document(InputFile(data, filename="invitations.xlsx"))


@staff_button(view.MEMBERSHIP, view.IMPORT_CANCEL, refusal=FINISHED)
async def import_cancelled(update: Update, context: BotContext, import_id: int) -> None:
    _ = context.gettext
    await context.write(member_import.cancel, context.staff, import_id)
    await answer(update, _("The import was cancelled; nothing was imported."))


# ---------------------------------------------------------------------------------------- revoking


@staff_only
@refused(NO_MEMBER, answer)
async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke <association number> <member number>: the member, and a button to revoke."""
    _ = context.gettext
    args = [to_ascii_digits(a) for a in context.args or []]
    if len(args) != 2 or not args[0].isdecimal():
        await answer(
            update, _("Send the association's number and the member number, e.g. /revoke ۱۲ ۱۲-۰۰۰۴۲")
        )
        return
    async with context.reading() as session:
        member = await membership_figures.find_member(session, context.staff, int(args[0]), args[1])
        name, _business = await membership_figures.member_name(session, member)
    day = terms.today(context.bot_data.clock())
    text = "\n".join(
        [
            f"<b>{esc(name)}</b>",
            view.term_line(_, member, day),
            _("Revoke this membership? It cannot be undone."),
        ]
    )
    await answer(update, text, keyboard([[button(_("Revoke the membership"), view.REVOKE(member.id))]]))


@staff_button(view.MEMBERSHIP, view.REVOKE, refusal=NOT_OURS)
async def revoke_pressed(update: Update, context: BotContext, member_id: int) -> None:
    _ = context.gettext
    await context.write(membership_figures.revoke, context.staff, member_id)
    await answer(update, _("The membership was revoked; its certificate no longer verifies as valid."))


FEATURE = Feature(
    name="membership_staff",
    handlers=lambda: [MessageHandler(filters.ChatType.PRIVATE & MEMBER_FILE, import_file)],
    commands=[
        Command("dues", N_("Membership figures and dues"), audience="staff", callback=dues_command),
        Command("revoke", N_("Revoke a membership"), audience="staff", listed=False, callback=revoke_command),
    ],
    menu=[MenuItem("dues", N_("Membership and dues"), 115, dues_command, audience="staff")],
)
