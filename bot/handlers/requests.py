"""“My requests” (each application with its status and history), /status <code>, /mydata and the
request to delete one's data (chamber staff confirm)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.handlers import applications_view as view
from bot.handlers.common import answer, button, esc, keyboard
from bot.handlers.guards import public, staff_only
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_, Gettext
from bot.services import applications as service
from bot.services import privacy
from bot.services.errors import NotAllowed, NotFound
from bot.services.staff import ADMIN, scope_of
from db.models import Application, Association, Staff

log = logging.getLogger(__name__)

COMMANDS = [
    ("requests", N_("My requests")),
    ("status", N_("Status of an application by its tracking code")),
    ("mydata", N_("Everything the bot stores about me")),
]
MAX_TEXT = 3800


async def _names(context: BotContext) -> dict[int, str]:
    async with context.session() as session:
        return {a.id: a.name for a in await session.scalars(select(Association))}


async def _describe(context: BotContext, application: Application, name: str) -> str:
    _ = context.gettext
    async with context.session() as session:
        events = await service.history(session, application.id)
        member = (
            await service.membership_of(session, application) if application.status == "approved" else None
        )
    lines = [
        f"<b>{esc(name)}</b>",
        _("Tracking code: {code}").format(code=view.code_text(application.tracking_code)),
        _("Status: {status}").format(status=_(view.STATUS.get(application.status, application.status))),
    ]
    if application.last_reason and application.status in ("rejected", "more_info"):
        lines.append(_("Reason: {reason}").format(reason=esc(application.last_reason)))
    if member is not None:
        lines.append(_("Member number: {number}").format(number=isolate_ltr(fa_digits(member.member_number))))
    lines += ["  " + view.event_line(_, event) for event in events]
    return "\n".join(lines)


@public
async def my_requests(update: Update, context: BotContext) -> None:
    """The user's applications, newest first, with status and history."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.session() as session:
        applications = await service.of_user(session, user.id)
    names = await _names(context)
    if not applications:
        await answer(
            update,
            _("You have no applications yet."),
            keyboard([[button(_("Membership application"), "menu:apply")], [button(_("Main menu"), HOME)]]),
        )
        return
    parts = [_("<b>My requests</b>")]
    rows = []
    for application in applications[:10]:
        parts.append(await _describe(context, application, names.get(application.association_id, "—")))
        if application.status in ("draft", "more_info"):
            rows.append(
                [
                    button(
                        _("Continue: {name}").format(name=names.get(application.association_id, "—")),
                        f"apply:resume:{application.id}",
                    )
                ]
            )
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
        await message.reply_text(_("Send the tracking code after the command, e.g. /status ۲۳۴۵۶۷۸۹"))
        return
    async with context.session() as session:
        application = await service.by_code(session, "".join(context.args))
        allowed = application is not None and application.user_id == user.id
        if application is not None and not allowed:
            scope = await scope_of(session, user.id, context.settings.admin_ids)
            allowed = scope.covers(application.association_id)
    if application is None or not allowed:
        await message.reply_text(_("No application of yours has that tracking code. Please check the code."))
        return
    names = await _names(context)
    await message.reply_text(
        await _describe(context, application, names.get(application.association_id, "—"))
    )


# ---------------------------------------------------------------------------------------- privacy


def _my_data_text(_: Gettext, data: privacy.MyData, names: dict[int, str]) -> str:
    lines = [_("<b>What the bot stores about you</b>")]
    if data.user is not None:
        lines.append(
            _("Telegram account: {name} (ID {id}), first seen {date}").format(
                name=esc(data.user.first_name),
                id=isolate_ltr(fa_digits(data.user.id)),
                date=jalali_date(data.user.first_seen),
            )
        )
    if data.profile is not None:
        p = data.profile
        lines.append(
            _("Profile: {name}, national ID {nid}, mobile {mobile}, city {city}").format(
                name=esc(p.full_name or "—"),
                nid=isolate_ltr(fa_digits(p.national_id or "—")),
                mobile=isolate_ltr(fa_digits(p.mobile or "—")),
                city=esc(p.city or "—"),
            )
        )
    for stored in data.applications:
        a = stored.application
        lines.append("")
        lines.append(
            _("Application to {name} — {status}").format(
                name=esc(names.get(a.association_id, "—")), status=_(view.STATUS.get(a.status, a.status))
            )
        )
        lines.append(view.summary(_, a, names.get(a.association_id, "—"), len(stored.documents)))
    for member in data.memberships:
        lines.append(
            _("Member of {name}, number {number}, since {date}").format(
                name=esc(names.get(member.association_id, "—")),
                number=isolate_ltr(fa_digits(member.member_number)),
                date=jalali_date(member.started_at),
            )
        )
    if data.subscriptions:
        lines.append(_("News subscriptions: {count}").format(count=fa_digits(len(data.subscriptions))))
    if data.founding_interests:
        lines.append(
            _("Founding-member interests: {count}").format(count=fa_digits(len(data.founding_interests)))
        )
    lines.append("")
    lines.append(
        _("The attached file has all of it. You can ask for your data to be deleted with the button below.")
    )
    return "\n".join(lines)


@public
async def mydata_command(update: Update, context: BotContext) -> None:
    """/mydata: a readable summary plus a JSON file with everything stored about the user."""
    _ = context.gettext
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    async with context.session() as session:
        data = await privacy.my_data(session, user.id)
    names = await _names(context)
    text = _my_data_text(_, data, names)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "…"
    await chat.send_message(text, reply_markup=keyboard([[button(_("Delete my data"), "privacy:delete")]]))
    await chat.send_document(InputFile(privacy.as_json(data), filename="mydata.json"))


@public
async def delete_pressed(update: Update, context: BotContext) -> None:
    """'Delete my data': ask to confirm."""
    _ = context.gettext
    await answer(
        update,
        _(
            "Delete your data? Your profile, drafts, documents and memberships will be deleted once chamber staff confirm. "
            "Decisions already made stay only as anonymous records."
        ),
        keyboard([[button(_("Yes, ask for deletion"), "privacy:delete:yes")], [button(_("No"), HOME)]]),
    )


@public
async def delete_confirmed(update: Update, context: BotContext) -> None:
    """The user confirmed: record the request and tell chamber staff."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.session() as session, session.begin():
        request, new = await privacy.request_deletion(session, user.id)
        staff = list(
            await session.scalars(
                select(Staff.telegram_id).where(Staff.association_id.is_(None) | (Staff.role == ADMIN))
            )
        )
    await answer(update, _("Your request was recorded. You will be told when it is done."))
    if not new:
        return
    text = _("User {id} asked for their data to be deleted.").format(id=isolate_ltr(fa_digits(user.id)))
    markup = keyboard(
        [
            [
                button(_("Confirm deletion"), f"privacy:ok:{request.id}"),
                button(_("Decline"), f"privacy:no:{request.id}"),
            ]
        ]
    )
    for chat_id in dict.fromkeys([*sorted(context.settings.admin_ids), *staff]):
        try:
            await context.bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("could not tell %s about deletion request %s: %s", chat_id, request.id, exc)


@staff_only
async def deletion_decided(update: Update, context: BotContext) -> None:
    """`privacy:ok:<id>` / `privacy:no:<id>` (chamber staff only)."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    _prefix, verdict, raw_id = query.data.split(":")
    try:
        async with context.session() as session, session.begin():
            if verdict == "ok":
                user_id = await privacy.confirm_deletion(session, context.staff, int(raw_id))
            else:
                request = await privacy.decline_deletion(session, context.staff, int(raw_id))
                user_id = request.user_id or 0
    except privacy.AlreadyHandled:
        await query.answer(_("This request was already handled."), show_alert=True)
        return
    except NotAllowed:
        await query.answer(_("Only chamber staff can decide this."), show_alert=True)
        return
    except NotFound:
        await query.answer(_("This button is no longer valid. Send /start for the menu."), show_alert=True)
        return
    if verdict == "ok":
        await answer(update, _("The data was deleted."))
        tell = _("Your data was deleted, as you asked.")
    else:
        await answer(update, _("The request was declined."))
        tell = _("Your request to delete your data was declined. Please contact the chamber.")
    try:
        await context.bot.send_message(user_id, tell)
    except TelegramError as exc:
        log.warning("could not tell %s about their deletion request: %s", user_id, exc)


MENU = [MenuItem("requests", N_("My requests"), 50, my_requests)]


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """My requests, /status, /mydata and the deletion request."""
    return [
        CommandHandler("requests", my_requests),
        CommandHandler("status", status_command),
        CommandHandler("mydata", mydata_command),
        CallbackQueryHandler(delete_pressed, pattern="^privacy:delete$"),
        CallbackQueryHandler(delete_confirmed, pattern="^privacy:delete:yes$"),
        CallbackQueryHandler(deletion_decided, pattern=r"^privacy:(ok|no):\d+$"),
    ]
