"""Running the sender with the application, its live progress message, and /broadcasts for staff.

`schedule(application)` adds a repeating JobQueue job that starts the sender task (and restarts it
if it ever died) and wakes it; the task ends by itself once `application.stop()` begins.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    TelegramError,
)
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.delivery import acquire_send_slot
from bot.formatting import fa_digits, fa_number, isolate_ltr, jalali_datetime
from bot.handlers.common import answer, button, esc, keyboard
from bot.handlers.guards import staff_only
from bot.i18n import N_, Gettext
from bot.services import audiences
from bot.services import broadcasts as control
from bot.services import sender as sender_service
from bot.services.errors import DomainError
from bot.services.sender import Report
from db.models import Broadcast
from db.models.outbox import CANCELLED, DONE, PAUSED, PENDING, RUNNING

log = logging.getLogger(__name__)

COMMANDS = [("broadcasts", N_("Broadcasts and their reports (staff)"))]
WAKE_INTERVAL = 10.0  # seconds between the job's wake-ups (due reminders, a task that died)

STATUS = {
    PENDING: N_("waiting"),
    RUNNING: N_("sending"),
    PAUSED: N_("paused"),
    CANCELLED: N_("cancelled"),
    DONE: N_("finished"),
}
KIND = {
    "news": N_("News"),
    "announcement": N_("Announcement"),
    "reminder": N_("Course reminder"),
    "council": N_("Dialogue council"),
}
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def runner_of(application: AnyApplication) -> Any:
    """The application's delivery runtime (bot/delivery.py)."""
    return application.bot_data.delivery


# ---------------------------------------------------------------------------- progress and reports


def render_report(_: Gettext, broadcast: Broadcast, report: Report, rate: float) -> str:
    """The progress / final report text."""
    kind = _(KIND.get(broadcast.kind, N_("Announcement")))
    status = _(STATUS.get(report.status or broadcast.status, N_("waiting")))
    lines = [
        _("<b>{kind} #{id}</b> — {status}").format(kind=kind, id=fa_digits(broadcast.id), status=status),
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
        minutes, secs = divmod(seconds, 60)
        lines.append(
            _("About {minutes} min {seconds} s left").format(
                minutes=fa_digits(minutes), seconds=fa_digits(secs)
            )
        )
    if broadcast.not_before is not None and report.status == PENDING:
        lines.append(_("Starts at {when}").format(when=jalali_datetime(broadcast.not_before)))
    if broadcast.audience:
        lines.append(_("Audience: {audience}").format(audience=_audience(_, broadcast.audience)))
    return "\n".join(lines)


def _audience(_: Gettext, spec: str) -> str:
    """`members:5` as «Members of an association (۵)»; an unknown spec shown as it is, escaped."""
    try:
        chosen = audiences.parse(spec)
    except DomainError:
        return isolate_ltr(esc(spec))
    label = _(audiences.REGISTRY[chosen.kind].label)
    return label if chosen.association_id is None else f"{label} ({fa_digits(chosen.association_id)})"


def control_markup(_: Gettext, broadcast_id: int, status: str) -> InlineKeyboardMarkup | None:
    """Pause / resume / cancel buttons for a broadcast still going."""
    row = []
    if status in (PENDING, RUNNING):
        row.append(button(_("Pause"), f"bc:pause:{broadcast_id}"))
    if status == PAUSED:
        row.append(button(_("Resume"), f"bc:resume:{broadcast_id}"))
    if status in (PENDING, RUNNING, PAUSED):
        row.append(button(_("Cancel sending"), f"bc:cancel:{broadcast_id}"))
    row.append(button(_("Refresh"), f"bc:show:{broadcast_id}"))
    return keyboard([row])


def _rate(application: AnyApplication) -> float:
    return float(application.bot_data.delivery.rate)


async def show_progress(application: AnyApplication, broadcast: Broadcast, report: Report) -> None:
    """Edit the broadcast's progress message (the sender calls this at most every few seconds)."""
    chat_id, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
    if chat_id is None or message_id is None:
        return
    _ = application.bot_data.translations.gettext
    # An edit counts against the same budget as the messages.
    await acquire_send_slot(application)
    try:
        await application.bot.edit_message_text(
            render_report(_, broadcast, report, _rate(application)),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=control_markup(_, broadcast.id, report.status),
            parse_mode=ParseMode.HTML,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("progress message of broadcast %s: %s", broadcast.id, exc.message)
    except TelegramError as exc:
        log.warning("progress message of broadcast %s: %s", broadcast.id, exc.message)


async def start_progress(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Send the live progress message for a just-queued broadcast and wake the sender."""
    _ = context.gettext
    async with context.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        report = await sender_service.report(session, broadcast_id)
    if broadcast is None or update.effective_chat is None:
        return
    message = await update.effective_chat.send_message(
        render_report(_, broadcast, report, _rate(context.application)),
        reply_markup=control_markup(_, broadcast_id, report.status),
    )
    async with context.session() as session, session.begin():
        await control.set_progress_message(session, broadcast_id, message.chat_id, message.message_id)
    runner_of(context.application).wake()


# ---------------------------------------------------------------------------- /broadcasts and buttons


@staff_only
async def list_broadcasts(update: Update, context: BotContext) -> None:
    """/broadcasts: the latest broadcasts this staff member may see, with their figures."""
    _ = context.gettext
    async with context.session() as session:
        rows = await control.recent(session, context.staff)
    if not rows:
        await answer(update, _("No broadcasts yet."))
        return
    lines = [_("<b>Latest broadcasts</b>")]
    buttons = []
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
        buttons.append(
            button(_("Report #{id}").format(id=fa_digits(broadcast.id)), f"bc:show:{broadcast.id}")
        )
    await answer(update, "\n".join(lines), keyboard([buttons[i : i + 3] for i in range(0, len(buttons), 3)]))


def _id_of(update: Update) -> int | None:
    data = update.callback_query.data if update.callback_query is not None else None
    tail = (data or "").rsplit(":", 1)[-1]
    return int(tail) if tail.isdecimal() else None


async def _show(update: Update, context: BotContext, broadcast_id: int, note: str = "") -> None:
    _ = context.gettext
    async with context.session() as session:
        try:
            broadcast = await control.get(session, context.staff, broadcast_id)
        except DomainError:
            await answer(update, _("That broadcast was not found."))
            return
        report = await sender_service.report(session, broadcast_id)
    text = render_report(_, broadcast, report, _rate(context.application))
    await answer(update, (note + "\n" if note else "") + text, control_markup(_, broadcast_id, report.status))


@staff_only
async def show(update: Update, context: BotContext) -> None:
    """A broadcast's report (with controls while it is still going)."""
    broadcast_id = _id_of(update)
    if broadcast_id is not None:
        await _show(update, context, broadcast_id)


@staff_only
async def act(update: Update, context: BotContext) -> None:
    """Pause, resume or cancel (cancel asks once more)."""
    _ = context.gettext
    query = update.callback_query
    broadcast_id = _id_of(update)
    if query is None or broadcast_id is None:
        return
    action = (query.data or "").split(":")[1]
    if action == "cancel":
        markup = keyboard(
            [
                [
                    button(_("Yes, cancel the rest"), f"bc:cancelok:{broadcast_id}"),
                    button(_("No, keep sending"), f"bc:show:{broadcast_id}"),
                ]
            ]
        )
        await answer(update, _("Cancel this broadcast? Those not yet sent will not get it."), markup)
        return
    operations = {"pause": control.pause, "resume": control.resume, "cancelok": control.cancel}
    notes = {
        "pause": _("Paused. Nothing is lost; resume whenever you like."),
        "resume": _("Resumed."),
        "cancelok": _("Cancelled. The rest will not be sent."),
    }
    try:
        async with context.session() as session, session.begin():
            await operations[action](session, context.staff, broadcast_id)
    except DomainError as exc:
        if exc.reason == "unknown_broadcast":
            await answer(update, _("That broadcast was not found."))
            return
        await _show(update, context, broadcast_id, _("That is not possible now."))
        return
    runner_of(context.application).wake()
    await _show(update, context, broadcast_id, notes[action])


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/broadcasts and the report/control buttons."""
    return [
        CommandHandler("broadcasts", list_broadcasts),
        CallbackQueryHandler(show, pattern=r"^bc:show:\d+$"),
        CallbackQueryHandler(act, pattern=r"^bc:(pause|resume|cancel|cancelok):\d+$"),
    ]
