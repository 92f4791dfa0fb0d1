"""Staff review of applications: the notification on submission, /review, approve / reject /
more information (reason typed or picked from templates), and CSV exports of an association."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.handlers import applications_view as view
from bot.handlers.common import END, answer, button, columns, conversation, esc, keyboard
from bot.handlers.guards import staff_only
from bot.i18n import N_, Gettext
from bot.services import applications as service
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.text import normalize_numeric
from db.models import Application, Association, PendingDecision
from db.models.applications import APPROVED, MORE_INFO, REJECTED

log = logging.getLogger(__name__)

COMMANDS = [
    ("review", N_("Review applications (staff)")),
    ("export", N_("Export members and applications (staff)")),
]

REASON = "review:reason"
PAGE_SIZE = 5

REJECT_TEMPLATES = (
    N_("The documents sent are not readable."),
    N_("The activity described is not in this association's field."),
    N_("The information given is incomplete or does not match."),
)
INFO_TEMPLATES = (
    N_("Please send a clear photo of your licence or permit."),
    N_("Please check and correct your national ID."),
    N_("Please describe your activity in more detail."),
)


# ---------------------------------------------------------------------------------------- rendering


async def _details(context: BotContext, application_id: int) -> tuple[Application, str, list[Any]] | None:
    async with context.session() as session:
        application = await session.get(Application, application_id)
        if application is None:
            return None
        association = await session.get(Association, application.association_id)
        documents = await service.documents_of(session, application.id)
    return application, (association.name if association else "—"), documents


def _staff_text(_: Gettext, application: Application, name: str, documents: int) -> str:
    lines = [_("<b>Membership application</b>"), view.summary(_, application, name, documents)]
    if application.submitted_at is not None:
        lines.append(_("Sent: {date}").format(date=jalali_date(application.submitted_at)))
    lines.append(
        _("Status: {status}").format(status=_(view.STATUS.get(application.status, application.status)))
    )
    return "\n".join(lines)


def _decision_buttons(_: Gettext, application_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [button(_("Approve"), f"review:approve:{application_id}")],
            [
                button(_("Reject"), f"review:reject:{application_id}"),
                button(_("Ask for more information"), f"review:info:{application_id}"),
            ],
        ]
    )


async def _send_documents(context: BotContext, chat_id: int, documents: list[Any]) -> None:
    for document in documents:
        if document.kind == "photo":
            await context.bot.send_photo(chat_id, document.file_id)
        else:
            await context.bot.send_document(chat_id, document.file_id)


async def notify_submission(context: BotContext, application_id: int) -> None:
    """Tell the association's staff and the admins about a (re)submitted application."""
    _ = context.gettext
    details = await _details(context, application_id)
    if details is None:
        return
    application, name, documents = details
    async with context.session() as session:
        recipients = await service.recipients(session, application.association_id, context.settings.admin_ids)
    text = _("A new application to review.") + "\n" + _staff_text(_, application, name, len(documents))
    for chat_id in recipients:
        if chat_id == application.user_id:
            continue
        try:
            await context.bot.send_message(chat_id, text, reply_markup=_decision_buttons(_, application.id))
            await _send_documents(context, chat_id, documents)
        except TelegramError as exc:  # one unreachable staff member must not stop the others
            log.warning("could not notify %s of application %s: %s", chat_id, application.id, exc)


# ---------------------------------------------------------------------------------------- listing


async def _list(update: Update, context: BotContext, offset: int) -> None:
    _ = context.gettext
    async with context.session() as session:
        page = await service.pending(session, context.staff, offset, PAGE_SIZE)
        names = {a.id: a.name for a in await session.scalars(select(Association))}
    if page.total == 0:
        await answer(update, _("No applications are waiting for review."))
        return
    lines = [
        _("<b>Applications waiting for review</b> ({first}–{last} of {total}, oldest first)").format(
            first=fa_digits(page.offset + 1),
            last=fa_digits(page.offset + len(page.items)),
            total=fa_digits(page.total),
        )
    ]
    rows = []
    for item in page.items:
        lines.append(
            f"{view.code_text(item.tracking_code)} — {esc(item.full_name or '—')} — "
            f"{esc(names.get(item.association_id, '—'))} — {jalali_date(item.submitted_at) if item.submitted_at else '—'}"
        )
        rows.append(
            [
                button(
                    _("Open {code}").format(code=fa_digits(item.tracking_code or "")),
                    f"review:open:{item.id}",
                )
            ]
        )
    nav = []
    if page.offset > 0:
        nav.append(button(_("Previous"), f"review:page:{max(0, page.offset - PAGE_SIZE)}"))
    if page.offset + len(page.items) < page.total:
        nav.append(button(_("Next"), f"review:page:{page.offset + PAGE_SIZE}"))
    rows.append(nav)
    await answer(update, "\n".join(lines), keyboard(rows))


@staff_only
async def review_command(update: Update, context: BotContext) -> int:
    """/review: pending applications of the staff member's associations."""
    await _list(update, context, 0)
    return END


@staff_only
async def page_pressed(update: Update, context: BotContext) -> int:
    """`review:page:<offset>`."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await _list(update, context, int(query.data.rsplit(":", 1)[-1]))
    return END


@staff_only
async def open_pressed(update: Update, context: BotContext) -> int:
    """`review:open:<id>`: the application, its documents and the decision buttons."""
    _ = context.gettext
    application_id = _id(update)
    try:
        async with context.session() as session:
            await service.for_staff(session, context.staff, application_id)
    except (NotFound, NotAllowed):
        await _refuse(update, context)
        return END
    details = await _details(context, application_id)
    assert details is not None
    application, name, documents = details
    markup = _decision_buttons(_, application.id) if application.status == "submitted" else None
    await answer(update, _staff_text(_, application, name, len(documents)), markup, edit=False)
    if update.effective_chat is not None:
        await _send_documents(context, update.effective_chat.id, documents)
    return END


# ---------------------------------------------------------------------------------------- decisions


def _id(update: Update) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    return int(query.data.rsplit(":", 1)[-1])


async def _tell_staff(update: Update, text: str) -> None:
    """An alert on the pressed button plus a message that stays in the chat."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def _refuse(update: Update, context: BotContext) -> None:
    _ = context.gettext
    text = _("This application is not one of your associations'.")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def _decide(
    update: Update,
    context: BotContext,
    application_id: int,
    decision: str,
    reason: str | None,
    fields: list[str],
) -> int:
    _ = context.gettext
    try:
        async with context.session() as session, session.begin():
            application = await service.decide(
                session, context.staff, application_id, decision, reason, fields
            )
            if decision != APPROVED:
                pending = await session.get(PendingDecision, context.staff.user_id)
                if pending is not None:
                    await session.delete(pending)
            member = await service.membership_of(session, application) if decision == APPROVED else None
            association = await session.get(Association, application.association_id)
    except service.AlreadyDecided as exc:
        status = str(exc.details.get("status", ""))
        text = _("This application was already decided by someone else: {status}").format(
            status=_(view.STATUS.get(status, status))
        )
        await _tell_staff(update, text)
        await _drop_pending(context)
        return END
    except (NotFound, NotAllowed):
        await _refuse(update, context)
        return END
    name = association.name if association else "—"
    done = {
        APPROVED: _("Approved. {name} has a new member."),
        REJECTED: _("Rejected. The applicant was told the reason."),
        MORE_INFO: _("More information was asked for. The applicant was told."),
    }[decision].format(name=esc(name))
    await answer(
        update,
        _("Application {code}: {done}").format(code=view.code_text(application.tracking_code), done=done),
    )
    await _tell_applicant(context, application, name, member.member_number if member else None, member)
    return END


async def _tell_applicant(
    context: BotContext, application: Application, name: str, number: str | None, member: Any
) -> None:
    _ = context.gettext
    if application.user_id is None:
        return
    code = view.code_text(application.tracking_code)
    markup = None
    if application.status == APPROVED:
        text = _(
            "Congratulations! Your application to {name} (tracking code {code}) was approved.\n"
            "Member number: {number}\nMembership starts: {date}"
        ).format(
            name=esc(name),
            code=code,
            number=isolate_ltr(fa_digits(number or "—")),
            date=jalali_date(member.started_at) if member is not None else "—",
        )
    elif application.status == REJECTED:
        text = _(
            "Your application to {name} (tracking code {code}) was not approved.\nReason: {reason}\n"
            "You may apply again once this is resolved."
        ).format(name=esc(name), code=code, reason=esc(application.last_reason or "—"))
    else:
        fields = "، ".join(_(view.LABELS[f]) for f in application.requested if f in view.LABELS)
        text = _(
            "The association {name} needs more information about your application (tracking code {code}).\n"
            "Message: {reason}\nPlease update: {fields}"
        ).format(name=esc(name), code=code, reason=esc(application.last_reason or "—"), fields=fields)
        markup = keyboard([[button(_("Update my application"), f"apply:resume:{application.id}")]])
    try:
        await context.bot.send_message(application.user_id, text, reply_markup=markup)
    except TelegramError as exc:  # the decision stands; they also see it in "My requests"
        log.warning("could not tell applicant %s: %s", application.user_id, exc)


@staff_only
async def approve_pressed(update: Update, context: BotContext) -> int:
    """`review:approve:<id>`."""
    return await _decide(update, context, _id(update), APPROVED, None, [])


async def _start_pending(update: Update, context: BotContext, decision: str) -> PendingDecision | None:
    application_id = _id(update)
    try:
        async with context.session() as session, session.begin():
            application = await service.for_staff(session, context.staff, application_id)
            if application.status != "submitted":
                raise service.AlreadyDecided(application.status, status=application.status)
            pending = await session.get(PendingDecision, context.staff.user_id)
            if pending is None:
                pending = PendingDecision(staff_id=context.staff.user_id)
                session.add(pending)
            pending.application_id = application_id
            pending.decision = decision
            pending.fields = ""
            await session.flush()
            return pending
    except service.AlreadyDecided as exc:
        _ = context.gettext
        status = str(exc.details.get("status", ""))
        text = _("This application was already decided by someone else: {status}").format(
            status=_(view.STATUS.get(status, status))
        )
        await _tell_staff(update, text)
        return None
    except (NotFound, NotAllowed):
        await _refuse(update, context)
        return None


def _templates(_: Gettext, templates: tuple[str, ...]) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(_(t), f"review:t:{i}")] for i, t in enumerate(templates)]
        + [[button(_("Cancel"), "review:x")]]
    )


@staff_only
async def reject_pressed(update: Update, context: BotContext) -> str | int:
    """`review:reject:<id>`: pick a reason or type one."""
    _ = context.gettext
    if await _start_pending(update, context, REJECTED) is None:
        return END
    await answer(
        update,
        _("Why is it rejected? Pick a reason or type your own."),
        _templates(_, REJECT_TEMPLATES),
        edit=False,
    )
    return REASON


def _field_picker(_: Gettext, chosen: list[str]) -> InlineKeyboardMarkup:
    marks = [
        button(("✓ " if f in chosen else "") + _(view.LABELS[f]), f"review:f:{f}")
        for f in service.FIELDS
        if f != "applicant_type"
    ]
    return keyboard([*columns(marks), [button(_("Next"), "review:why")], [button(_("Cancel"), "review:x")]])


@staff_only
async def info_pressed(update: Update, context: BotContext) -> str | int:
    """`review:info:<id>`: which answers should the applicant give again?"""
    _ = context.gettext
    if await _start_pending(update, context, MORE_INFO) is None:
        return END
    await answer(
        update,
        _("Which answers should the applicant give again? Choose, then press Next."),
        _field_picker(_, []),
        edit=False,
    )
    return END


@staff_only
async def field_pressed(update: Update, context: BotContext) -> str | int:
    """`review:f:<field>`: toggle a field."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    field = query.data.rsplit(":", 1)[-1]
    async with context.session() as session, session.begin():
        pending = await session.get(PendingDecision, context.staff.user_id)
        if pending is None or pending.decision != MORE_INFO or field not in service.FIELDS:
            await query.answer(
                _("This button is no longer valid. Send /start for the menu."), show_alert=True
            )
            return END
        chosen = [f for f in pending.fields.split(",") if f]
        chosen = [f for f in chosen if f != field] if field in chosen else [*chosen, field]
        pending.fields = ",".join(chosen)
    await answer(
        update,
        _("Which answers should the applicant give again? Choose, then press Next."),
        _field_picker(_, chosen),
    )
    return END


@staff_only
async def why_pressed(update: Update, context: BotContext) -> str | int:
    """`review:why`: fields chosen; now the message to the applicant."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    async with context.session() as session:
        pending = await session.get(PendingDecision, context.staff.user_id)
    if pending is None or pending.decision != MORE_INFO:
        await query.answer(_("This button is no longer valid. Send /start for the menu."), show_alert=True)
        return END
    if not pending.fields:
        await query.answer(_("Choose at least one answer first."), show_alert=True)
        return END
    await answer(
        update,
        _("What should the applicant be told? Pick a message or type your own."),
        _templates(_, INFO_TEMPLATES),
    )
    return REASON


async def _with_pending(update: Update, context: BotContext, reason: str) -> int:
    _ = context.gettext
    async with context.session() as session:
        pending = await session.get(PendingDecision, context.staff.user_id)
    if pending is None:
        await answer(update, _("This button is no longer valid. Send /start for the menu."))
        return END
    fields = [f for f in pending.fields.split(",") if f]
    return await _decide(update, context, pending.application_id, pending.decision, reason, fields)


@staff_only
async def template_pressed(update: Update, context: BotContext) -> int:
    """`review:t:<n>`: a reason from the templates."""
    _ = context.gettext
    async with context.session() as session:
        pending = await session.get(PendingDecision, context.staff.user_id)
    templates = INFO_TEMPLATES if pending is not None and pending.decision == MORE_INFO else REJECT_TEMPLATES
    index = _id(update)
    if not 0 <= index < len(templates):
        await answer(update, _("This button is no longer valid. Send /start for the menu."))
        return END
    return await _with_pending(update, context, _(templates[index]))


@staff_only
async def typed_reason(update: Update, context: BotContext) -> int | str:
    """A reason typed by the staff member."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    reason = " ".join(message.text.split())
    if len(reason) < 3:
        await message.reply_text(_("Please type a reason of a few words."))
        return REASON
    return await _with_pending(update, context, reason[:1000])


async def _drop_pending(context: BotContext) -> None:
    async with context.session() as session, session.begin():
        pending = await session.get(PendingDecision, context.staff.user_id)
        if pending is not None:
            await session.delete(pending)


@staff_only
async def cancel_pressed(update: Update, context: BotContext) -> int:
    """`review:x`: no decision after all."""
    _ = context.gettext
    await _drop_pending(context)
    await answer(update, _("No decision was made."))
    return END


# ---------------------------------------------------------------------------------------- exports


@staff_only
async def export_command(update: Update, context: BotContext) -> int:
    """/export [association id]: CSV files of members and applications."""
    _ = context.gettext
    args = [normalize_numeric(a) for a in context.args or []]
    if args and args[0].isdecimal():
        await _export(update, context, int(args[0]))
        return END
    async with context.session() as session:
        associations = [a for a in await session.scalars(select(Association).order_by(Association.name))]
    covered = [a for a in associations if context.staff.covers(a.id)]
    if not covered:
        await answer(update, _("You are not staff of any association."))
        return END
    await answer(
        update,
        _("Which association's members and applications?"),
        keyboard([[button(a.name, f"review:export:{a.id}")] for a in covered]),
    )
    return END


@staff_only
async def export_pressed(update: Update, context: BotContext) -> int:
    """`review:export:<id>`."""
    await _export(update, context, _id(update))
    return END


async def _export(update: Update, context: BotContext, association_id: int) -> None:
    _ = context.gettext
    try:
        async with context.session() as session:
            association = await session.get(Association, association_id)
            if association is None:
                raise NotFound("association")
            members = await service.member_rows(session, context.staff, association_id)
            applications = await service.application_rows(session, context.staff, association_id)
    except NotAllowed:
        await _refuse(update, context)
        return
    except NotFound:
        await answer(update, _("There is no association with that number."))
        return
    member_csv = service.to_csv(
        [
            _("Member number"),
            _("Full name"),
            _("National ID"),
            _("Mobile"),
            _("City"),
            _("Start date"),
            _("User ID"),
        ],
        [
            [
                row.member.member_number,
                row.application.full_name if row.application else "",
                row.application.national_id if row.application else "",
                row.application.mobile if row.application else "",
                row.application.city if row.application else "",
                jalali_date(row.member.started_at),
                row.member.user_id,
            ]
            for row in members
        ],
    )
    application_csv = service.to_csv(
        [_("Tracking code"), _("Status")]
        + [_(view.LABELS[f]) for f in service.FIELDS if f != "documents"]
        + [_("Sent"), _("Decided"), _("Reason")],
        [
            [
                a.tracking_code,
                _(view.STATUS.get(a.status, a.status)),
                _(view.TYPES.get(a.applicant_type or "", a.applicant_type or "")),
                a.full_name,
                a.national_id,
                a.mobile,
                a.business_name,
                a.activity,
                a.city,
                a.experience_years,
                _(view.EDUCATION.get(a.education or "", a.education or "")),
                a.permit_number,
                jalali_date(a.submitted_at) if a.submitted_at else "",
                jalali_date(a.decided_at) if a.decided_at else "",
                a.last_reason,
            ]
            for a in applications
        ],
    )
    chat = update.effective_chat
    if chat is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    caption = _("{name}: {members} members, {applications} applications").format(
        name=esc(association.name), members=fa_digits(len(members)), applications=fa_digits(len(applications))
    )
    await chat.send_document(InputFile(member_csv, filename=f"members-{association_id}.csv"), caption=caption)
    await chat.send_document(InputFile(application_csv, filename=f"applications-{association_id}.csv"))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The staff review conversation (a typed reason is its only waiting step) and /export."""
    return [
        conversation(
            "review",
            entry_points=[
                CommandHandler("review", review_command),
                CommandHandler("export", export_command),
                CallbackQueryHandler(page_pressed, pattern=r"^review:page:\d+$"),
                CallbackQueryHandler(open_pressed, pattern=r"^review:open:\d+$"),
                CallbackQueryHandler(approve_pressed, pattern=r"^review:approve:\d+$"),
                CallbackQueryHandler(reject_pressed, pattern=r"^review:reject:\d+$"),
                CallbackQueryHandler(info_pressed, pattern=r"^review:info:\d+$"),
                CallbackQueryHandler(field_pressed, pattern=r"^review:f:\w+$"),
                CallbackQueryHandler(why_pressed, pattern="^review:why$"),
                CallbackQueryHandler(template_pressed, pattern=r"^review:t:\d+$"),
                CallbackQueryHandler(cancel_pressed, pattern="^review:x$"),
                CallbackQueryHandler(export_pressed, pattern=r"^review:export:\d+$"),
            ],
            states={
                REASON: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED, typed_reason)
                ]
            },
        )
    ]


__all__ = ["DomainError", "handlers", "notify_submission"]
