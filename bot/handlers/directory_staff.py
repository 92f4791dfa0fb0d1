"""Staff tools for the directory: /associations, add (with the near-duplicate guard), edit a field,
change status, assign association staff, founding-member list. CSV import/export: directory_csv."""

from __future__ import annotations

import json
from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.handlers.common import END, answer, button, conversation, esc, keyboard
from bot.handlers.directory import show_card
from bot.handlers.directory_view import EVIDENCE_LABELS, STATUS_LABELS
from bot.handlers.guards import admin_only, staff_only
from bot.i18n import N_
from bot.services import association_fields as fields
from bot.services import directory, directory_drafts
from bot.services import staff as staff_service
from bot.services.duplicates import near_duplicates
from bot.services.errors import DomainError, NotFound
from bot.text import normalize_numeric
from db.models.associations import EVIDENCE_KINDS, STATUSES

COMMANDS = [("associations", N_("Manage associations (staff)"))]
ADD_NAME, ADD_CONFIRM, ADD_DESCRIPTION, ADD_STATUS = (
    "directory:add_name",
    "directory:add_confirm",
    "directory:add_description",
    "directory:add_status",
)
EDIT_VALUE, ASSIGN = "directory:edit_value", "directory:assign"
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer

FIELD_LABELS = {
    "name": N_("Name"),
    "description": N_("Description"),
    "category": N_("Field of work"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "channel": N_("Channel"),
    "min_experience_years": N_("Minimum years of experience"),
    "yearly_fee_rials": N_("Yearly fee (rials)"),
}
FIELD_QUESTIONS = {
    "name": N_("Type the association's name."),
    "description": N_("Type a short description (what the association does, for whom)."),
    "category": N_("Type its field of work (e.g. خدمات، صنایع غذایی)."),
    "phone": N_("Type its phone number, or 0 to remove it."),
    "address": N_("Type its address."),
    "channel": N_("Type its channel: @username or a link starting with https://, or 0 to remove it."),
    "min_experience_years": N_("How many years of experience count as evidence? Type a number (0 for none)."),
    "yearly_fee_rials": N_("Type the yearly fee in rials (0 for no fee)."),
}
FIELD_ERRORS = {
    "too_short": N_("That is too short. Please type it again."),
    "too_long": N_("That is too long. Please shorten it."),
    "bad_phone": N_("That is not a phone number. Type digits only, e.g. 034 3222 1234."),
    "bad_channel": N_("A channel is @username or a link starting with https://."),
    "not_a_number": N_("Please type a number."),
    "too_large": N_("That number is too large."),
    "name_taken": N_("Another association already has this name."),
}


def covers(context: BotContext, association_id: int | None) -> bool:
    return context.staff.covers(association_id)


async def not_yours(update: Update, context: BotContext) -> None:
    text = context.gettext("You can only manage your own association.")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await answer(update, text)


def parts(update: Update) -> list[str]:
    query = update.callback_query
    assert query is not None and query.data is not None
    return query.data.split(":")


def user_id(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


# ---------------------------------------------------------------- panel


@staff_only
async def panel(update: Update, context: BotContext) -> None:
    """/associations: what staff can do here."""
    _ = context.gettext
    lines = [
        _("<b>Managing associations</b>"),
        _("Open an association's card from the list to edit it, change its status or see founding members."),
    ]
    rows = [[button(_("Browse associations"), f"dir:page:{directory.ALL}:0")]]
    if covers(context, None):
        lines.append(
            _("To import, send a CSV file here (UTF-8; Excel: «CSV UTF-8»). Export gives the columns.")
        )
        rows.insert(
            0, [button(_("➕ Add an association"), "dir:add"), button(_("⬇️ Export CSV"), "dir:export")]
        )
    await answer(update, "\n".join(lines), keyboard(rows))


# ---------------------------------------------------------------- add


@staff_only
async def add_start(update: Update, context: BotContext) -> object:
    """dir:add: begin adding an association (chamber staff)."""
    _ = context.gettext
    if not covers(context, None):
        await not_yours(update, context)
        return END
    async with context.session() as session, session.begin():
        await directory_drafts.start(session, user_id(update), directory_drafts.ADD, data="{}")
    await answer(update, _("Adding an association. ") + _(FIELD_QUESTIONS["name"]), edit=False)
    return ADD_NAME


@staff_only
async def add_name(update: Update, context: BotContext) -> object:
    """The new association's name: refuse an exact duplicate, warn about a near one."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        name = fields.clean("name", message.text)
    except fields.InvalidField as exc:
        await answer(update, _(FIELD_ERRORS.get(exc.reason, FIELD_ERRORS["too_short"])))
        return ADD_NAME
    async with context.session() as session, session.begin():
        same = await directory.name_taken(session, name)
        near = [] if same else await near_duplicates(session, name)
        if not same:
            draft = await directory_drafts.current(session, user_id(update), directory_drafts.ADD)
            draft.data = json.dumps({"name": name}, ensure_ascii=False)
    if same is not None:
        await answer(
            update,
            _("«{name}» is already in the directory. Type a different name, or /cancel.").format(
                name=esc(same.name)
            ),
        )
        return ADD_NAME
    if near:
        names = "\n".join(f"• {esc(item.name)}" for item in near[:3])
        text = (
            _("⚠️ «{name}» looks like an association we already have:").format(name=esc(name)) + "\n" + names
        )
        text += "\n" + _(
            "The chamber wants to avoid parallel associations for the same trade. Add it anyway?"
        )
        markup = keyboard([[button(_("Yes, add it"), "dir:dup:ok"), button(_("No, cancel"), "dir:dup:no")]])
        await answer(update, text, markup)
        return ADD_CONFIRM
    await answer(update, _(FIELD_QUESTIONS["description"]))
    return ADD_DESCRIPTION


@staff_only
async def add_confirm(update: Update, context: BotContext) -> object:
    """dir:dup:ok|no after the near-duplicate warning."""
    _ = context.gettext
    if parts(update)[-1] == "ok":
        await answer(update, _(FIELD_QUESTIONS["description"]), edit=False)
        return ADD_DESCRIPTION
    async with context.session() as session, session.begin():
        try:
            draft = await directory_drafts.current(session, user_id(update), directory_drafts.ADD)
            await directory_drafts.finish(session, draft)
        except NotFound:
            pass
    await answer(update, _("Cancelled; nothing was added."))
    return END


@staff_only
async def add_description(update: Update, context: BotContext) -> object:
    """The description; then choose the status."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        description = fields.clean("description", message.text)
    except fields.InvalidField as exc:
        await answer(update, _(FIELD_ERRORS.get(exc.reason, FIELD_ERRORS["too_long"])))
        return ADD_DESCRIPTION
    async with context.session() as session, session.begin():
        draft = await directory_drafts.current(session, user_id(update), directory_drafts.ADD)
        draft.data = json.dumps(
            {**json.loads(draft.data or "{}"), "description": description}, ensure_ascii=False
        )
    markup = keyboard([[button(_(STATUS_LABELS[status]), f"dir:new:{status}") for status in STATUSES]])
    await answer(update, _("What is its status?"), markup)
    return ADD_STATUS


@staff_only
async def add_status(update: Update, context: BotContext) -> object:
    """dir:new:<status>: save the association and show its card."""
    _ = context.gettext
    status = parts(update)[-1]
    try:
        async with context.session() as session, session.begin():
            draft = await directory_drafts.current(session, user_id(update), directory_drafts.ADD)
            answers = json.loads(draft.data or "{}")
            association = await directory.create(
                session, answers.get("name", ""), answers.get("description", ""), status
            )
            await directory_drafts.finish(session, draft)
    except NotFound:
        await answer(update, _("This form was already finished."))
        return END
    except DomainError:
        await answer(update, _("Another association already has this name."))
        return END
    await answer(update, _("Added. Complete its details with ✏️ Edit on its card."))
    await show_card(update, context, association.id, edit=False)
    return END


# ---------------------------------------------------------------- edit


@staff_only
async def edit_menu(update: Update, context: BotContext) -> None:
    """dir:edit:<id>: the fields, status and rules staff can change."""
    _ = context.gettext
    association_id = int(parts(update)[2])
    if not covers(context, association_id):
        await not_yours(update, context)
        return
    try:
        async with context.session() as session:
            association = await directory.get(session, association_id)
    except NotFound:
        await answer(update, _("That association does not exist (any more)."))
        return
    aid = association.id
    rows: list[list[InlineKeyboardButton]] = [
        [button(_(FIELD_LABELS[field]), f"dir:ef:{aid}:{field}") for field in pair]
        for pair in (("name", "description"), ("category", "phone"), ("address", "channel"))
    ]
    rows.append(
        [
            button(
                ("✓ " if association.status == status else "") + _(STATUS_LABELS[status]),
                f"dir:st:{aid}:{status}",
            )
            for status in STATUSES
        ]
    )
    degree = _("Degree required: yes") if association.degree_required else _("Degree required: no")
    evidence = _("Evidence required: yes") if association.evidence_required else _("Evidence required: no")
    rows.append(
        [button(degree, f"dir:tg:{aid}:degree_required"), button(evidence, f"dir:tg:{aid}:evidence_required")]
    )
    rows.append(
        [
            button(
                ("✓ " if kind in association.evidence_kinds else "✗ ") + _(EVIDENCE_LABELS[kind]),
                f"dir:ev:{aid}:{kind}",
            )
            for kind in EVIDENCE_KINDS
        ]
    )
    rows.append(
        [
            button(_(FIELD_LABELS["min_experience_years"]), f"dir:ef:{aid}:min_experience_years"),
            button(_(FIELD_LABELS["yearly_fee_rials"]), f"dir:ef:{aid}:yearly_fee_rials"),
        ]
    )
    if context.staff.is_admin:
        rows.append([button(_("👤 Assign staff"), f"dir:as:{aid}")])
    rows.append([button(_("« Back to the card"), f"dir:open:{aid}")])
    text = _("Editing «{name}». Choose what to change:").format(name=esc(association.name))
    await answer(update, text, keyboard(rows))


@staff_only
async def set_status(update: Update, context: BotContext) -> None:
    """dir:st:<id>:<status>."""
    _prefix, _kind, raw_id, status = parts(update)
    await _set(update, context, int(raw_id), "status", status)


@staff_only
async def toggle(update: Update, context: BotContext) -> None:
    """dir:tg:<id>:<degree_required|evidence_required>."""
    _prefix, _kind, raw_id, field = parts(update)
    await _set(update, context, int(raw_id), field, None)


@staff_only
async def toggle_evidence(update: Update, context: BotContext) -> None:
    """dir:ev:<id>:<kind>."""
    _prefix, _kind, raw_id, kind = parts(update)
    await _set(update, context, int(raw_id), "evidence", kind)


async def _set(
    update: Update, context: BotContext, association_id: int, field: str, value: str | None
) -> None:
    if not covers(context, association_id):
        await not_yours(update, context)
        return
    try:
        async with context.session() as session, session.begin():
            if field == "evidence" and value is not None:
                await directory.toggle_evidence(session, association_id, value)
            elif field == "status":
                await directory.set_value(session, association_id, "status", value)
            else:
                association = await directory.get(session, association_id)
                await directory.set_value(session, association_id, field, not getattr(association, field))
    except DomainError:
        await answer(update, context.gettext("That association does not exist (any more)."))
        return
    await edit_menu(update, context)


@staff_only
async def edit_field(update: Update, context: BotContext) -> object:
    """dir:ef:<id>:<field>: ask for the new value."""
    _ = context.gettext
    _prefix, _kind, raw_id, field = parts(update)
    association_id = int(raw_id)
    if not covers(context, association_id):
        await not_yours(update, context)
        return END
    if field not in FIELD_QUESTIONS:
        await answer(update, _("That association does not exist (any more)."))
        return END
    async with context.session() as session, session.begin():
        await directory_drafts.start(
            session, user_id(update), directory_drafts.EDIT, association_id=association_id, field=field
        )
    await answer(update, _(FIELD_QUESTIONS[field]), edit=False)
    return EDIT_VALUE


@staff_only
async def edit_value(update: Update, context: BotContext) -> object:
    """The new value of the field being edited."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    raw = message.text
    try:
        async with context.session() as session, session.begin():
            draft = await directory_drafts.current(session, user_id(update), directory_drafts.EDIT)
            association_id, field = draft.association_id, draft.field
            assert association_id is not None and field is not None
            if not covers(context, association_id):
                raise NotFound("not_yours")
            if field in ("phone", "channel") and normalize_numeric(raw) == "0":
                raw = ""
            await directory.set_field(session, association_id, field, raw)
            await directory_drafts.finish(session, draft)
    except fields.InvalidField as exc:
        await answer(update, _(FIELD_ERRORS.get(exc.reason, FIELD_ERRORS["too_short"])))
        return EDIT_VALUE
    except NotFound:
        await answer(update, _("This form was already finished."))
        return END
    except DomainError as exc:
        await answer(update, _(FIELD_ERRORS.get(exc.reason, FIELD_ERRORS["name_taken"])))
        return EDIT_VALUE
    await answer(update, _("Saved."))
    await show_card(update, context, association_id)
    return END


# ---------------------------------------------------------------- staff assignment and founding members


@admin_only
async def assign_start(update: Update, context: BotContext) -> object:
    """dir:as:<id>: ask for the Telegram id of the new association staff member (admins)."""
    _ = context.gettext
    association_id = int(parts(update)[2])
    async with context.session() as session, session.begin():
        await directory_drafts.start(
            session, user_id(update), directory_drafts.ASSIGN, association_id=association_id
        )
    await answer(
        update,
        _("Type the numeric Telegram user id of the person who will manage this association."),
        edit=False,
    )
    return ASSIGN


@admin_only
async def assign_value(update: Update, context: BotContext) -> object:
    """The user id: grant them staff of this association."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    raw = normalize_numeric(message.text)
    if not raw.isdecimal() or len(raw) > 15:
        await answer(update, _("Please type the user id as digits, e.g. 123456789."))
        return ASSIGN
    try:
        async with context.session() as session, session.begin():
            draft = await directory_drafts.current(session, user_id(update), directory_drafts.ASSIGN)
            association_id = draft.association_id
            await staff_service.add_staff(session, context.staff, int(raw), association_id=association_id)
            await directory_drafts.finish(session, draft)
    except DomainError:
        await answer(update, _("That association does not exist (any more)."))
        return END
    await answer(
        update,
        _("{id} now manages this association.").format(id=isolate_ltr(fa_digits(raw))),
    )
    return END


@staff_only
async def founding_list(update: Update, context: BotContext) -> None:
    """dir:fl:<id>: who wants to be a founding member."""
    _ = context.gettext
    association_id = int(parts(update)[2])
    if not covers(context, association_id):
        await not_yours(update, context)
        return
    async with context.session() as session:
        try:
            association = await directory.get(session, association_id)
        except NotFound:
            await answer(update, _("That association does not exist (any more)."))
            return
        people = await directory.interested(session, association_id)
    lines = [
        _("<b>Founding members of «{name}»</b>: {count} people").format(
            name=esc(association.name), count=fa_digits(len(people))
        )
    ]
    for number, person in enumerate(people[:100], start=1):
        who = esc(person.full_name) if person.full_name else _("(no profile name)")
        extra = " ".join(
            part
            for part in (
                isolate_ltr(fa_digits(person.mobile)) if person.mobile else "",
                esc(person.city) if person.city else "",
                _("id {id}").format(id=isolate_ltr(fa_digits(person.user_id))),
            )
            if part
        )
        lines.append(f"{fa_digits(number)}. {who} — {extra}")
    if not people:
        lines.append(_("Nobody yet."))
    await answer(
        update, "\n".join(lines), keyboard([[button(_("« Back to the card"), f"dir:open:{association_id}")]])
    )


@staff_only
async def wrong_kind(update: Update, context: BotContext) -> None:
    """Not text where the form expects text."""
    await answer(update, context.gettext("Please answer with a text message, or send /cancel to stop."))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The staff conversation (add, edit a field, assign staff), then the staff buttons and the CSV upload."""
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, wrong_kind)
    return [
        conversation(
            "directory_staff",
            entry_points=[
                CallbackQueryHandler(add_start, pattern="^dir:add$"),
                CallbackQueryHandler(edit_field, pattern=r"^dir:ef:\d+:\w+$"),
                CallbackQueryHandler(assign_start, pattern=r"^dir:as:\d+$"),
            ],
            states={
                ADD_NAME: [MessageHandler(TEXT, add_name), other],
                ADD_CONFIRM: [CallbackQueryHandler(add_confirm, pattern="^dir:dup:(ok|no)$")],
                ADD_DESCRIPTION: [MessageHandler(TEXT, add_description), other],
                ADD_STATUS: [CallbackQueryHandler(add_status, pattern="^dir:new:(active|forming|inactive)$")],
                EDIT_VALUE: [MessageHandler(TEXT, edit_value), other],
                ASSIGN: [MessageHandler(TEXT, assign_value), other],
            },
        ),
        CommandHandler("associations", panel),
        CallbackQueryHandler(edit_menu, pattern=r"^dir:edit:\d+$"),
        CallbackQueryHandler(set_status, pattern=r"^dir:st:\d+:(active|forming|inactive)$"),
        CallbackQueryHandler(toggle, pattern=r"^dir:tg:\d+:(degree_required|evidence_required)$"),
        CallbackQueryHandler(toggle_evidence, pattern=r"^dir:ev:\d+:\w+$"),
        CallbackQueryHandler(founding_list, pattern=r"^dir:fl:\d+$"),
    ]
