"""«My requests» (each application with its status and history) and /status <tracking code>."""

from __future__ import annotations

from datetime import date

from telegram import Update

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import answer, esc, sender
from bot.services import applications, terms
from bot.services.applications import Followed
from bot.views import membership as view
from bot.views import membership_terms as terms_view

MAX_TEXT = 3800


def describe(_: Gettext, seen: Followed, day: date | None = None) -> str:
    """One application: association, code, status (founding members said so), reason, history."""
    application = seen.application
    lines = [
        f"<b>{esc(seen.association)}</b>",
        _("Tracking code: {code}").format(code=view.code_text(application.tracking_code)),
        _("Status: {status}").format(status=view.status_text(_, application)),
    ]
    if application.last_reason and application.status in ("rejected", "more_info"):
        lines.append(_("Reason: {reason}").format(reason=esc(application.last_reason)))
    if seen.member is not None and seen.member.member_number:
        lines.append(
            _("Member number: {number}").format(number=isolate_ltr(fa_digits(seen.member.member_number)))
        )
    elif seen.member is not None and seen.member.founding:
        lines.append(_("Founding member: your member number comes when the association starts its work."))
    if seen.member is not None and seen.member.term_end is not None and day is not None:
        lines.append(terms_view.term_line(_, seen.member, day))
    lines += ["  " + view.event_line(_, event) for event in seen.events]
    return "\n".join(lines)


@public
async def my_requests(update: Update, context: BotContext) -> None:
    """The user's applications, newest first, with status and history."""
    _ = context.gettext
    found = await context.read(applications.followed, sender(update))
    if not found:
        await answer(
            update,
            _("You have no applications yet."),
            keyboard([[button(_("Membership application"), "menu:apply")], [button(_("Main menu"), HOME)]]),
        )
        return
    day = terms.today(context.bot_data.clock())
    parts = [_("<b>My requests</b>")] + [describe(_, seen, day) for seen in found]
    rows = [
        [button(_("Continue: {name}").format(name=seen.association), view.RESUME(seen.application.id))]
        for seen in found
        if seen.application.status in ("draft", "more_info")
    ]
    rows.append([button(_("Main menu"), HOME)])
    await answer(update, "\n\n".join(parts)[:MAX_TEXT], keyboard(rows))


@public
async def status_command(update: Update, context: BotContext) -> None:
    """/status <code>: one application, to its applicant (or its association's staff)."""
    _ = context.gettext
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    if not context.args:
        await message.reply_text(_("Send the tracking code after the command, for example: /status ۲۳۴۵۶۷۸۹"))
        return
    async with context.reading() as session:
        seen = await applications.followed_by_code(
            session, "".join(context.args), user.id, context.settings.admin_ids
        )
    if seen is None:
        await message.reply_text(_("No application of yours has that tracking code. Please check the code."))
        return
    await message.reply_text(describe(_, seen, terms.today(context.bot_data.clock())))


FEATURE = Feature(
    name="requests",
    commands=[
        Command("requests", N_("My requests"), listed=False, callback=my_requests),
        Command("status", N_("Follow an application by its tracking code"), callback=status_command),
    ],
    menu=[MenuItem("requests", N_("My requests"), 50, my_requests)],
)
