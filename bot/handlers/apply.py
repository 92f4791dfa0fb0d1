"""The membership application conversation: every answer goes to a draft row at once, so leaving,
/cancel or a restart resumes at the same step. Entry: the menu, an association card, a deep link."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.handlers import applications_view as view
from bot.handlers import review
from bot.handlers.common import END, advance, answer, button, columns, conversation, esc, keyboard
from bot.handlers.guards import public
from bot.handlers.menu import HOME, MenuItem
from bot.handlers.profile import PERSON_ERRORS
from bot.i18n import N_, Gettext
from bot.services import applications as service
from bot.services import eligibility
from bot.services import profile as profile_service
from bot.services.errors import DomainError, NotFound
from bot.services.validators import ValidationError
from db.models import Application, Association, Profile

COMMANDS = [("apply", N_("Apply for membership"))]

NAME = "apply"
STATES = {field: f"apply:{field}" for field in service.FIELDS}
CHOOSE = "apply:choose"
SUMMARY = "apply:summary"
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer

QUESTIONS = {
    "applicant_type": N_("Are you applying as a business owner or as a home business?"),
    "full_name": N_("Please type your full name (first and last name)."),
    "national_id": N_("Please type your 10-digit national ID (کد ملی)."),
    "mobile": N_("Please share your mobile number with the button below, or type it (e.g. 0912 345 6789)."),
    "business_name": N_("What is the name of your business? (For a home business, the name you sell under.)"),
    "activity": N_("What does your business do? (e.g. handmade carpets, pistachio packaging)"),
    "city": N_("Which city is your business in?"),
    "experience_years": N_(
        "How many years of work experience do you have in this field? Type a number (0 is fine)."
    ),
    "education": N_(
        "What is your education? A university degree is not required: every answer is accepted the same way."
    ),
    "permit_number": N_("If you have a home-business permit, type its number. If not, press the button."),
    "documents": N_(
        "If you have a business licence or a home-business permit, send a photo or PDF of it here "
        "(up to 10 MB each). When you are done, press the button."
    ),
}
ERRORS = {
    **PERSON_ERRORS,
    "business_name_too_short": N_("That business name is too short. Please type it again."),
    "business_name_too_long": N_("That business name is too long (at most 100 letters)."),
    "business_name_no_letters": N_("A business name needs some letters. Please type it again."),
    "activity_too_short": N_("Please describe your activity in a few words."),
    "activity_too_long": N_("That is too long (at most 200 letters). Please describe it more briefly."),
    "activity_no_letters": N_("Please describe your activity in words."),
    "years_not_number": N_(
        "Please type the number of years as a number, e.g. ۳ (or 0 if you are just starting)."
    ),
    "years_too_many": N_("That is more years than seems possible. Please type it again."),
    "permit": N_("A permit number has 3 to 40 letters or digits. Please type it again, or press the button."),
    "choice": N_("Please choose one of the buttons."),
    "use_buttons": N_("Please answer with the buttons above."),
    "type": N_(
        "Only a photo, or a PDF / JPEG / PNG file, can be accepted. Please send the licence or permit again."
    ),
    "size": N_("That file is larger than 10 MB. Please send a smaller photo or file."),
    "too_many": N_("You have already sent 5 files, which is the most. Press the button to continue."),
}
LTR_FIELDS = ("national_id", "mobile")


def _error(_: Gettext, field: str, exc: DomainError) -> str:
    key = exc.reason if exc.reason in ERRORS else field
    return _(ERRORS.get(key, ERRORS["choice"]))


# ---------------------------------------------------------------------------------------- asking


async def _send(update: Update, text: str, markup: Any = None) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text, reply_markup=markup)


def _choice_markup(
    _: Gettext, field: str, application: Application, doc_required: bool
) -> InlineKeyboardMarkup:
    if field == "applicant_type":
        return keyboard([[button(_(label), f"apply:type:{key}")] for key, label in view.TYPES.items()])
    if field == "education":
        return keyboard(
            columns([button(_(label), f"apply:edu:{key}") for key, label in view.EDUCATION.items()])
        )
    if field == "permit_number":
        return keyboard([[button(_("I don't have a permit number"), "apply:skip:permit")]])
    done = _("Done, continue") if doc_required else _("Continue (with or without a document)")
    rows = [[button(done, "apply:docs:done")]]
    if doc_required:
        rows += _alternatives(_, application)
    return keyboard(rows)


def _alternatives(_: Gettext, application: Application) -> list[list[InlineKeyboardButton]]:
    """Ways out of a missing document other than sending one: never a dead end."""
    rows = [[button(_("Change my years of experience"), "apply:edit:experience_years")]]
    if application.applicant_type == "home_business":
        rows.append([button(_("Type my permit number"), "apply:edit:permit_number")])
    return rows


async def ask(update: Update, context: BotContext, application: Application, field: str) -> str:
    """Ask for `field`, showing the current answer and a one-tap default where there is one."""
    _ = context.gettext
    lines = [_(QUESTIONS[field])]
    documents = 0
    doc_required = False
    async with context.session() as session:
        if field == "documents":
            documents = len(await service.documents_of(session, application.id))
            doc_required = await service.document_required(session, application)
            if doc_required:
                lines.append(_("For this association a document is needed, because:"))
                lines.append(view.shortfall_text(_, await service.verdict(session, application)))
        profile = await profile_service.get_profile(session, application.user_id or 0)
    if field in application.requested and application.last_reason:
        lines.insert(0, _("The association asked: {reason}").format(reason=esc(application.last_reason)))
    if service.is_answered(application, field) and field != "documents":
        lines.append(_("Current answer: {value}").format(value=view.value_text(_, application, field)))
    if field == "documents" and documents:
        lines.append(_("Files received so far: {count}").format(count=fa_digits(documents)))
    text = "\n".join(lines)
    if field in ("applicant_type", "education", "permit_number", "documents"):
        await _send(update, text, _choice_markup(_, field, application, doc_required))
    else:
        await _send(update, text, _reply_keyboard(_, field, profile))
    return STATES[field]


def _reply_keyboard(
    _: Gettext, field: str, profile: Profile | None
) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """A one-tap answer from the saved profile (and the share-contact button for the mobile)."""
    row: list[KeyboardButton] = []
    if field == "mobile":
        row.append(KeyboardButton(_("Share my number"), request_contact=True))
    saved = getattr(profile, field, None) if field in service.PROFILE_FIELDS and profile is not None else None
    if saved:
        row.append(KeyboardButton(saved))
    if not row:
        return ReplyKeyboardRemove()
    return ReplyKeyboardMarkup([row], resize_keyboard=True, one_time_keyboard=True)


async def proceed(update: Update, context: BotContext, application: Application) -> str:
    """Ask the next unanswered (or asked-for) field, else show the summary."""
    field = service.next_step(application)
    if field is None:
        return await show_summary(update, context, application)
    return await ask(update, context, application, field)


async def show_summary(update: Update, context: BotContext, application: Application) -> str:
    """Every answer with 'edit a field', 'submit' and 'discard'."""
    _ = context.gettext
    async with context.session() as session:
        association = await session.get(Association, application.association_id)
        documents = len(await service.documents_of(session, application.id))
        verdict = await service.verdict(session, application)
    name = association.name if association is not None else "—"
    lines = [_("<b>Your application — please check it</b>"), view.summary(_, application, name, documents)]
    if not verdict.eligible:
        lines.append("")
        lines.append(view.shortfall_text(_, verdict))
    markup = keyboard(
        [
            [button(_("Submit"), "apply:submit")],
            [button(_("Edit a field"), "apply:editmenu")],
            [button(_("Discard this application"), "apply:discard")],
        ]
    )
    if update.message is not None:
        await update.message.reply_text(_("Saved."), reply_markup=ReplyKeyboardRemove())
    await answer(update, "\n".join(lines), markup, edit=False)
    return SUMMARY


# ---------------------------------------------------------------------------------------- entry


@public
async def choose(update: Update, context: BotContext) -> str:
    """The menu item: continue a draft, or pick an association to apply to."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.session() as session:
        drafts = [a for a in await service.of_user(session, user.id) if a.status in ("draft", "more_info")]
        associations = await service.active_associations(session)
        names = {a.id: a.name for a in associations}
        for draft in drafts:
            if draft.association_id not in names:
                other = await session.get(Association, draft.association_id)
                names[draft.association_id] = other.name if other else "—"
    rows = [
        [button(_("Continue: {name}").format(name=names[d.association_id]), f"apply:resume:{d.id}")]
        for d in drafts
    ]
    rows += [
        [button(a.name, f"apply:start:{a.id}")]
        for a in associations
        if a.id not in {d.association_id for d in drafts}
    ]
    rows.append([button(_("Main menu"), HOME)])
    if not associations and not drafts:
        text = _("No association is taking applications at the moment.")
    else:
        text = _("Which association would you like to join? A university degree is not required.")
    await answer(update, text, keyboard(rows))
    return CHOOSE


async def start_for(update: Update, context: BotContext, association_id: int) -> str | int:
    """Open (or resume) the user's application to one association."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session, session.begin():
            application = await service.open_draft(session, user.id, association_id)
    except service.AlreadyMember as exc:
        await answer(
            update,
            _("You are already a member of {name}. Member number: {number}").format(
                name=esc(exc.details["association"]),
                number=isolate_ltr(fa_digits(str(exc.details["member_number"]))),
            ),
            edit=False,
        )
        return END
    except service.AlreadyPending as exc:
        sent = exc.details["submitted_at"]
        await answer(
            update,
            _(
                "You already have an application to {name} waiting for review (tracking code {code}, sent {date}). "
                "You will be told the outcome here."
            ).format(
                name=esc(exc.details["association"]),
                code=view.code_text(str(exc.details["tracking_code"] or "")),
                date=jalali_date(sent) if isinstance(sent, datetime) else "—",
            ),
            keyboard([[button(_("My requests"), "menu:requests")]]),
            edit=False,
        )
        return END
    except service.NotAccepting:
        await answer(update, _("This association is not taking applications at the moment."), edit=False)
        return END
    except NotFound:
        await answer(update, _("There is no association with that number."), edit=False)
        return END
    return await proceed(update, context, application)


@public
async def start_pressed(update: Update, context: BotContext) -> str | int:
    """`apply:start:<id>` from the list or an association card."""
    query = update.callback_query
    assert query is not None and query.data is not None
    return await start_for(update, context, int(query.data.rsplit(":", 1)[-1]))


@public
async def deep_link(update: Update, context: BotContext) -> str | int:
    """`/start apply_<id>`."""
    message = update.effective_message
    assert message is not None and message.text is not None
    match = re.search(r"apply_(\d+)", message.text)
    assert match is not None
    return await start_for(update, context, int(match.group(1)))


@public
async def resume(update: Update, context: BotContext) -> str | int:
    """`apply:resume:<id>`: back to a draft, or to the fields staff asked about."""
    _ = context.gettext
    query = update.callback_query
    user = update.effective_user
    assert query is not None and query.data is not None and user is not None
    try:
        async with context.session() as session, session.begin():
            application = await service.editable(session, user.id, int(query.data.rsplit(":", 1)[-1]))
    except DomainError:
        await query.answer(_("This application can no longer be changed."), show_alert=True)
        return END
    return await proceed(update, context, application)


# ---------------------------------------------------------------------------------------- answers


async def _draft(update: Update, context: BotContext) -> Application | None:
    user = update.effective_user
    assert user is not None
    async with context.session() as session:
        return await service.current_draft(session, user.id)


async def _no_draft(update: Update, context: BotContext) -> int:
    _ = context.gettext
    await answer(
        update, _("There is no application in progress. Choose “Membership application” in the menu.")
    )
    return END


async def _save(update: Update, context: BotContext, field: str, raw: str) -> str | int:
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session, session.begin():
            application = await service.current_draft(session, user.id)
            if application is None:
                return await _no_draft(update, context)
            application = await service.save_answer(session, application, field, raw)
            following = service.next_step(application)
            await advance(session, update, NAME, STATES[following] if following else SUMMARY)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, service.AlreadyDecided):
            return await _no_draft(update, context)
        await answer(update, _error(_, field, exc))
        return STATES[field]
    return await proceed(update, context, application)


def _text_step(field: str) -> Any:
    @public
    async def step(update: Update, context: BotContext) -> str | int:
        message = update.effective_message
        assert message is not None and message.text is not None
        return await _save(update, context, field, message.text)

    step.__name__ = f"apply_{field}"
    return step


@public
async def contact_step(update: Update, context: BotContext) -> str | int:
    """A shared contact: only the sender's own number is accepted."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    if message.contact.user_id != user.id:
        await answer(update, context.gettext(ERRORS["not_own_contact"]))
        return STATES["mobile"]
    return await _save(update, context, "mobile", message.contact.phone_number)


@public
async def choice_pressed(update: Update, context: BotContext) -> str | int:
    """`apply:type:<key>` and `apply:edu:<key>`."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _prefix, kind, value = query.data.split(":", 2)
    field = "applicant_type" if kind == "type" else "education"
    return await _save(update, context, field, value)


@public
async def skip_permit(update: Update, context: BotContext) -> str | int:
    """A home business without a permit number."""
    user = update.effective_user
    assert user is not None
    async with context.session() as session, session.begin():
        application = await service.current_draft(session, user.id)
        if application is None:
            return await _no_draft(update, context)
        await service.skip_permit(session, application)
    return await proceed(update, context, application)


@public
async def document_step(update: Update, context: BotContext) -> str | int:
    """A photo or a file of a licence or permit."""
    _ = context.gettext
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if message.photo:
        photo = message.photo[-1]
        item: dict[str, Any] = {
            "file_id": photo.file_id,
            "file_unique_id": photo.file_unique_id,
            "kind": "photo",
            "mime": "image/jpeg",
            "size": photo.file_size,
        }
    elif message.document is not None:
        doc = message.document
        item = {
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "kind": "document",
            "mime": doc.mime_type,
            "size": doc.file_size,
        }
    else:
        await answer(update, _(ERRORS["type"]))
        return STATES["documents"]
    try:
        async with context.session() as session, session.begin():
            application = await service.current_draft(session, user.id)
            if application is None:
                return await _no_draft(update, context)
            await service.add_document(session, application, **item)
            count = len(await service.documents_of(session, application.id))
    except service.BadDocument as exc:
        await answer(update, _(ERRORS.get(exc.reason, ERRORS["type"])))
        return STATES["documents"]
    await answer(
        update,
        _("Received ({count} so far). Send another, or press the button to continue.").format(
            count=fa_digits(count)
        ),
        keyboard([[button(_("Done, continue"), "apply:docs:done")]]),
    )
    return STATES["documents"]


@public
async def documents_done(update: Update, context: BotContext) -> str | int:
    """Leave the upload step (refused with what would qualify when a document is needed)."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session, session.begin():
            application = await service.current_draft(session, user.id)
            if application is None:
                return await _no_draft(update, context)
            application = await service.finish_documents(session, application)
    except service.NotEligible as exc:
        verdict = exc.details["verdict"]
        application_now = await _draft(update, context)
        assert application_now is not None
        await answer(
            update,
            _("A document is still needed.") + "\n" + view.shortfall_text(_, verdict),  # type: ignore[arg-type]
            keyboard(_alternatives(_, application_now)),
            edit=False,
        )
        return STATES["documents"]
    return await proceed(update, context, application)


@public
async def wrong_kind(update: Update, context: BotContext) -> None:
    """Something other than what the step expects."""
    _ = context.gettext
    await answer(
        update, _("Please answer with a text message, or send /cancel to stop (your answers are kept).")
    )


@public
async def use_buttons(update: Update, context: BotContext) -> None:
    """Text where a button is expected."""
    await answer(update, context.gettext(ERRORS["use_buttons"]))


@public
async def not_a_document(update: Update, context: BotContext) -> None:
    """Text or a sticker at the upload step."""
    _ = context.gettext
    await answer(update, _(ERRORS["type"]) + "\n" + _("Or press the button to continue."))


# ---------------------------------------------------------------------------------------- summary


@public
async def edit_menu(update: Update, context: BotContext) -> str | int:
    """'Edit a field': one button per field."""
    _ = context.gettext
    application = await _draft(update, context)
    if application is None:
        return await _no_draft(update, context)
    fields = [f for f in service.FIELDS if service.applies(application, f)]
    buttons = [button(_(view.LABELS[f]), f"apply:edit:{f}") for f in fields]
    await answer(
        update,
        _("Which answer would you like to change?"),
        keyboard([*columns(buttons), [button(_("Back to the summary"), "apply:summary")]]),
    )
    return SUMMARY


@public
async def edit_field(update: Update, context: BotContext) -> str | int:
    """`apply:edit:<field>`: ask that field again; after the answer, back to the summary."""
    query = update.callback_query
    assert query is not None and query.data is not None
    field = query.data.rsplit(":", 1)[-1]
    application = await _draft(update, context)
    if application is None:
        return await _no_draft(update, context)
    if field not in STATES or not service.applies(application, field):
        await query.answer()
        return SUMMARY
    if field == "documents":
        async with context.session() as session, session.begin():
            draft = await session.get(Application, application.id)
            assert draft is not None
            draft.documents_done = False
            await session.flush()
        application.documents_done = False
    return await ask(update, context, application, field)


@public
async def back_to_summary(update: Update, context: BotContext) -> str | int:
    """`apply:summary`."""
    application = await _draft(update, context)
    if application is None:
        return await _no_draft(update, context)
    return await proceed(update, context, application)


@public
async def submit(update: Update, context: BotContext) -> str | int:
    """Send the application; the staff of the association are told at once."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session, session.begin():
            application = await service.current_draft(session, user.id)
            if application is None:
                return await _no_draft(update, context)
            application = await service.submit(session, application)
            association = await session.get(Association, application.association_id)
    except service.Incomplete:
        application_now = await _draft(update, context)
        assert application_now is not None
        return await proceed(update, context, application_now)
    except service.NotEligible as exc:
        verdict: eligibility.Verdict = exc.details["verdict"]  # type: ignore[assignment]
        rows = []
        if any(s.need == eligibility.EVIDENCE for s in verdict.shortfalls):
            rows.append([button(_("Change my years of experience"), "apply:edit:experience_years")])
            rows.append([button(_("Send a document"), "apply:edit:documents")])
        rows.append([button(_("Edit a field"), "apply:editmenu")])
        rows.append([button(_("Discard this application"), "apply:discard")])
        await answer(
            update,
            _("The application cannot be sent yet.") + "\n" + view.shortfall_text(_, verdict),
            keyboard(rows),
            edit=False,
        )
        return SUMMARY
    name = association.name if association is not None else "—"
    await answer(
        update,
        _(
            "Your application to {name} was sent. Tracking code: {code}\n"
            "Keep this code. You will be told the outcome here; you can also see it in “My requests” or with /status."
        ).format(name=esc(name), code=view.code_text(application.tracking_code)),
        keyboard([[button(_("Main menu"), HOME)]]),
    )
    await review.notify_submission(context, application.id)
    return END


@public
async def discard(update: Update, context: BotContext) -> str | int:
    """'Discard': ask to confirm."""
    _ = context.gettext
    await answer(
        update,
        _("Discard this application? Your answers will be deleted."),
        keyboard(
            [[button(_("Yes, discard it"), "apply:discard:yes")], [button(_("No, keep it"), "apply:summary")]]
        ),
    )
    return SUMMARY


@public
async def discard_confirmed(update: Update, context: BotContext) -> int:
    """Delete the draft (or withdraw one staff already saw)."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.session() as session, session.begin():
        application = await service.current_draft(session, user.id)
        if application is None:
            return await _no_draft(update, context)
        await service.discard(session, application, user.id)
    await answer(update, _("The application was discarded."), keyboard([[button(_("Main menu"), HOME)]]))
    return END


# ---------------------------------------------------------------------------------------- wiring


def _states() -> dict[object, list[BaseHandler[Update, BotContext, Any]]]:
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, wrong_kind)
    buttons_only = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, use_buttons)
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        STATES[f]: [MessageHandler(TEXT, _text_step(f)), other]
        for f in service.FIELDS
        if f not in ("applicant_type", "education", "documents")
    }
    states[STATES["mobile"]].insert(0, MessageHandler(filters.CONTACT, contact_step))
    states[STATES["applicant_type"]] = [buttons_only]
    states[STATES["education"]] = [buttons_only]
    states[STATES["documents"]] = [
        MessageHandler(filters.PHOTO | filters.Document.ALL, document_step),
        MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, not_a_document),
    ]
    states[CHOOSE] = [buttons_only]
    states[SUMMARY] = [buttons_only]
    return states


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The application conversation. Its buttons are entry points too, so they work after /cancel
    or a restart; each works out the next step from the draft row, not from memory."""
    return [
        conversation(
            NAME,
            entry_points=[
                CommandHandler("start", deep_link, filters=filters.Regex(r"^/start\s+apply_\d+$")),
                CommandHandler("apply", choose),
                CallbackQueryHandler(choose, pattern="^menu:apply$"),
                CallbackQueryHandler(start_pressed, pattern=r"^apply:start:\d+$"),
                CallbackQueryHandler(resume, pattern=r"^apply:resume:\d+$"),
                CallbackQueryHandler(choice_pressed, pattern=r"^apply:(type|edu):\w+$"),
                CallbackQueryHandler(skip_permit, pattern="^apply:skip:permit$"),
                CallbackQueryHandler(documents_done, pattern="^apply:docs:done$"),
                CallbackQueryHandler(edit_menu, pattern="^apply:editmenu$"),
                CallbackQueryHandler(edit_field, pattern=r"^apply:edit:\w+$"),
                CallbackQueryHandler(back_to_summary, pattern="^apply:summary$"),
                CallbackQueryHandler(submit, pattern="^apply:submit$"),
                CallbackQueryHandler(discard, pattern="^apply:discard$"),
                CallbackQueryHandler(discard_confirmed, pattern="^apply:discard:yes$"),
            ],
            states=_states(),
        )
    ]


MENU = [MenuItem("apply", N_("Membership application"), 20, choose, starts_conversation=True)]
