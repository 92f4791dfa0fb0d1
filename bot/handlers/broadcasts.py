"""Broadcast control for staff: the live progress message of a broadcast, «Broadcast reports»
(/broadcasts: the latest, with their figures) and pause / resume / cancel. The senders themselves
run in bot/delivery.py; writing a news item or an announcement is in news_post.py and announce.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application

from bot.context import BotContext
from bot.delivery import acquire_send_slot
from bot.formatting import fa_digits, fa_number, jalali_datetime
from bot.i18n import N_, Gettext
from bot.kit.callbacks import Action, Router
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, columns, keyboard
from bot.kit.menu import MenuItem
from bot.kit.reply import answer, esc
from bot.services import broadcasts as control
from bot.services.broadcasts import PAUSED, PENDING, RUNNING, Broadcast, Report, Status
from bot.services.errors import DomainError, NotFound
from bot.services.staff import StaffScope
from bot.views.broadcasts import KIND, STATUS, time_left

log = logging.getLogger(__name__)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Operation = Callable[[AsyncSession, StaffScope, int], Awaitable[Status]]

ROUTES = Router("bc")
SHOW = ROUTES.action("show", int)
PAUSE = ROUTES.action("pause", int)
RESUME = ROUTES.action("resume", int)
CANCEL = ROUTES.action("cancel", int)  # asks once more
CANCEL_OK = ROUTES.action("cancelok", int)


# ---------------------------------------------------------------------------- progress and reports


def render_report(_: Gettext, shown: Status, rate: float) -> str:
    """The progress / final report of a broadcast."""
    broadcast, report = shown.broadcast, shown.report
    lines = [
        _("<b>{kind} #{id}</b> — {status}").format(
            kind=_(KIND.get(broadcast.kind, N_("Announcement"))),
            id=fa_digits(broadcast.id),
            status=_(STATUS.get(report.status or broadcast.status, N_("waiting"))),
        )
    ]
    if shown.audience is not None:
        audience = _(shown.audience) + (f": {esc(shown.target)}" if shown.target else "")
        lines.append(_("Audience: {audience}").format(audience=audience))
    lines += [
        _("Recipients: {n}").format(n=fa_number(report.total)),
        _("Sent: {n}").format(n=fa_number(report.sent)),
        _("Blocked the bot: {n}").format(n=fa_number(report.blocked)),
        _("Failed: {n}").format(n=fa_number(report.failed)),
    ]
    if report.interrupted:
        lines.append(
            _("Of those, interrupted by a restart (not sent again): {n}").format(
                n=fa_number(report.interrupted)
            )
        )
    if report.skipped:
        lines.append(_("Not sent (cancelled): {n}").format(n=fa_number(report.skipped)))
    lines.append(_("Remaining: {n}").format(n=fa_number(report.remaining)))
    if report.remaining and report.status in (PENDING, RUNNING):
        seconds = int(report.remaining / max(rate, 0.1)) + 1
        lines.append(_("Time left: {time}").format(time=time_left(_, seconds)))
    if broadcast.not_before is not None and report.status == PENDING:
        lines.append(_("Starts at {when}").format(when=jalali_datetime(broadcast.not_before)))
    return "\n".join(lines)


def control_markup(_: Gettext, broadcast_id: int, status: str) -> InlineKeyboardMarkup:
    """Pause / resume / cancel for a broadcast still going, and refresh."""
    row = []
    if status in (PENDING, RUNNING):
        row.append(button(_("Pause"), PAUSE(broadcast_id)))
    if status == PAUSED:
        row.append(button(_("Resume"), RESUME(broadcast_id)))
    if status in (PENDING, RUNNING, PAUSED):
        row.append(button(_("Cancel sending"), CANCEL(broadcast_id)))
    row.append(button(_("Refresh"), SHOW(broadcast_id)))
    return keyboard([row])


def _rate(application: AnyApplication) -> float:
    return float(application.bot_data.delivery.rate)


async def show_progress(application: AnyApplication, broadcast: Broadcast, report: Report) -> None:
    """Edit the broadcast's progress message (the sender calls this at most every few seconds)."""
    chat_id, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
    if chat_id is None or message_id is None:
        return
    async with application.bot_data.reader() as session:
        audience, target = await control.describe(session, broadcast)
    await _edit_progress(application, chat_id, message_id, Status(broadcast, report, audience, target))


async def _edit_progress(application: AnyApplication, chat_id: int, message_id: int, shown: Status) -> None:
    _ = application.bot_data.translations.gettext
    await acquire_send_slot(application)  # an edit counts against the same budget as the messages
    try:
        await application.bot.edit_message_text(
            render_report(_, shown, _rate(application)),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=control_markup(_, shown.broadcast.id, shown.report.status),
            parse_mode=ParseMode.HTML,
        )
    except TelegramError as exc:
        if not (isinstance(exc, BadRequest) and "not modified" in exc.message.lower()):
            log.warning("progress message of broadcast %s: %s", shown.broadcast.id, exc.message)


async def start_progress(update: Update, context: BotContext, broadcast: Broadcast) -> None:
    """The live progress message of a just-queued broadcast (the sender edits it from now on)."""
    _ = context.gettext
    chat = update.effective_chat
    if chat is None:
        return
    shown = await context.read(control.status, broadcast)
    rate = _rate(context.application)
    message = await chat.send_message(
        render_report(_, shown, rate), reply_markup=control_markup(_, broadcast.id, shown.report.status)
    )
    async with context.transaction() as session:
        await control.set_progress_message(session, broadcast.id, message.chat_id, message.message_id)
    # The sender may have got on before it knew the message: show where the broadcast stands now.
    now = await context.read(control.status, broadcast)
    if now.report != shown.report:
        await _edit_progress(context.application, message.chat_id, message.message_id, now)


# ---------------------------------------------------------------------------- reports and control


@staff_only
async def list_broadcasts(update: Update, context: BotContext) -> None:
    """/broadcasts and «Broadcast reports»: the latest this staff member may see, with their figures."""
    _ = context.gettext
    rows = await context.read(control.recent, context.staff)
    if not rows:
        await answer(update, _("No broadcasts yet."))
        return
    lines = [_("<b>Latest broadcasts</b>")]
    for broadcast, report in rows:
        lines.append(
            _(
                "#{id} {kind} ({status}), {when}: sent {sent} of {total}, blocked {blocked}, failed {failed}"
            ).format(
                id=fa_digits(broadcast.id),
                kind=_(KIND.get(broadcast.kind, N_("Announcement"))),
                status=_(STATUS.get(broadcast.status, N_("waiting"))),
                when=jalali_datetime(broadcast.created_at),
                sent=fa_number(report.sent),
                total=fa_number(report.total),
                blocked=fa_number(report.blocked),
                failed=fa_number(report.failed),
            )
        )
    buttons = [button(_("Report #{id}").format(id=fa_digits(b.id)), SHOW(b.id)) for b, _r in rows]
    await answer(update, "\n".join(lines), keyboard(columns(buttons, 3)))


async def _show(update: Update, context: BotContext, shown: Status, note: str = "") -> None:
    _ = context.gettext
    text = render_report(_, shown, _rate(context.application))
    markup = control_markup(_, shown.broadcast.id, shown.report.status)
    await answer(update, (note + "\n" if note else "") + text, markup)


@ROUTES.on(SHOW)
@staff_only
async def show(update: Update, context: BotContext, broadcast_id: int) -> None:
    """A broadcast's report (with its controls while it is still going)."""
    try:
        shown = await context.read(control.show, context.staff, broadcast_id)
    except NotFound:
        await answer(update, context.gettext("That broadcast was not found."))
        return
    await _show(update, context, shown)


@ROUTES.on(CANCEL)
@staff_only
async def ask_cancel(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Cancel asks once more."""
    _ = context.gettext
    markup = keyboard(
        [
            [
                button(_("Yes, cancel the rest"), CANCEL_OK(broadcast_id)),
                button(_("No, keep sending"), SHOW(broadcast_id)),
            ]
        ]
    )
    await answer(update, _("Cancel this broadcast? Those not yet sent will not get it."), markup)


def _operation(action: Action, operate: Operation, note: str) -> None:
    """Pause, resume or cancel (after «Yes, cancel the rest»), then the report with a note."""

    async def operation(update: Update, context: BotContext, broadcast_id: int) -> None:
        _ = context.gettext
        try:
            shown = await context.write(operate, context.staff, broadcast_id)
        except NotFound:
            await answer(update, _("That broadcast was not found."))
            return
        except DomainError:
            shown = await context.read(control.show, context.staff, broadcast_id)
            note_now = _("That is not possible now.")
        else:
            context.bot_data.delivery.wake()  # resumed: at once; paused or cancelled: it looks again
            note_now = _(note)
        await _show(update, context, shown, note_now)

    operation.__name__ = operation.__qualname__ = action.name
    ROUTES.on(action)(staff_only(operation))


_operation(PAUSE, control.pause, N_("Paused. Nothing is lost; resume whenever you like."))
_operation(RESUME, control.resume, N_("Resumed."))
_operation(CANCEL_OK, control.cancel, N_("Cancelled. The rest will not be sent."))


FEATURE = Feature(
    name="broadcasts",
    routes=[ROUTES],
    commands=[Command("broadcasts", N_("Broadcast reports"), audience="staff", callback=list_broadcasts)],
    menu=[MenuItem("broadcasts", N_("Broadcast reports"), 122, list_broadcasts, audience="staff")],
)
