"""Staff tools for the directory: /associations, add an association (a form with the near-duplicate
guard), the edit screen (one field at a time is a form; status and rules are buttons), assigning an
association's staff (a form, admins), the founding members list. Making a forming association active
numbers its founding members and tells each of them. CSV import/export: directory_csv."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, isolate_ltr
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Presenter, Reply
from bot.forms.spec import Choice, Field, staff_form
from bot.handlers import directory_view as view
from bot.handlers.directory import unit
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import admin_only, staff_only
from bot.kit.markup import Markup, button, keyboard
from bot.kit.menu import MenuItem
from bot.kit.reply import alert, answer, esc
from bot.services import directory, directory_forms, outbox
from bot.services import staff as staff_service
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.text import truncate
from bot.views.membership_terms import queue_proof

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
    "decimal": N_("Please type a whole number, without a decimal point (for example {whole})."),
    "range": N_("Please type one number, not a range."),
    "too_large": N_("That number is too large."),
    "name_taken": N_("«{name}» is already in the directory. Type a different name, or /cancel."),
}
NOT_YOURS = N_("You can only manage your own association.")


ADD_FORM = staff_form(
    name="diradd",
    fields=(
        Field(
            "name",
            N_("Adding an association. Type the association's name."),
            clean=directory_forms.clean_edit("name"),
            errors=FIELD_ERRORS,
        ),
        Field(
            "confirm",
            N_("The chamber wants to avoid parallel associations for the same trade. Add it anyway?"),
            kind="choice",
            choices=(Choice("ok", N_("Yes, add it")),),
            when=lambda draft: bool(directory_forms.near_names(draft)),
        ),
        Field(
            "description",
            FIELD_QUESTIONS["description"],
            clean=directory_forms.clean_description,
            skip=N_("No description for now"),
            errors=FIELD_ERRORS,
        ),
        Field(
            "status",
            N_("What is its status?"),
            kind="choice",
            choices=tuple(Choice(status, view.STATUS_LABELS[status]) for status in directory.STATUSES),
        ),
    ),
    store=directory_forms.ADD,
    submit=directory_forms.add,
)
EDIT_FORM = staff_form(
    name="diredit",
    fields=tuple(
        Field(
            name,
            FIELD_QUESTIONS[name],
            view.FIELD_LABELS[name],
            clean=directory_forms.clean_edit(name),
            when=directory_forms.editing(name),
            errors=FIELD_ERRORS,
        )
        for name in directory_forms.EDITABLE
    ),
    store=directory_forms.EDIT,
    submit=directory_forms.edit,
)
ASSIGN_FORM = staff_form(
    name="dirstaff",
    fields=(
        Field(
            "telegram_id",
            N_("Type the numeric Telegram user id of the person who will manage this association."),
            clean=staff_service.clean_user_id,
            errors={"user_id": N_("Please type the user id as digits, e.g. 123456789.")},
        ),
    ),
    store=directory_forms.ASSIGN,
    submit=directory_forms.assign,
    audience="admin",
)


class StaffPresenter(Presenter):
    """The directory's staff forms: a short exchange that ends on the association's page."""

    done = N_("Saved.")
    dropped = N_("Cancelled; nothing was changed.")

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        name = screen.extras.get("association")
        return [_("Editing «{name}».").format(name=esc(name))] if name else []

    def notes(self, _: Gettext, screen: Screen) -> list[str]:
        now = screen.extras.get("now")
        if now in (None, ""):
            return []
        shown = fa_number(now) if isinstance(now, int) else esc(truncate(str(now), 300))
        return [_("Now: {value}").format(value=shown)]

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        text, markup = view.card(_, result)
        return Reply(_(self.done) + "\n\n" + text, markup)

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        if isinstance(exc, NotAllowed):
            return Reply(_(NOT_YOURS))
        if isinstance(exc, NotFound):
            return Reply(_("That association does not exist (any more)."))
        if exc.reason == "name_taken":
            return Reply(_("Another association already has this name."))
        return super().refused(_, exc, actions)

    def discarded(self, _: Gettext) -> Reply:
        return Reply(_(self.dropped))

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(_("This form was already finished."))


class AddPresenter(StaffPresenter):
    """Adding: the near-duplicate guard's warning above its question."""

    done = N_("Added. Complete its details with ✏️ Edit on its page.")
    dropped = N_("Cancelled; nothing was added.")

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        if screen.field is None or screen.field.name != "confirm":
            return []
        names = "\n".join(f"• {esc(name)}" for name in directory_forms.near_names(screen.draft))
        warning = _("⚠️ «{name}» looks like an association we already have:").format(
            name=esc(screen.value("name"))
        )
        return [warning, names]

    def question_markup(self, _: Gettext, screen: Screen, actions: Actions) -> Markup | None:
        markup = super().question_markup(_, screen, actions)
        if screen.field is None or screen.field.name != "confirm":
            return markup
        # The guard's question is a yes/no pair: its "no" is the form's cancel button.
        return keyboard(
            [
                [button(_("Yes, add it"), actions.data("set", "confirm", "ok"))],
                [button(_("No, do not add it"), actions.data("cancel"))],
            ]
        )


class AssignPresenter(StaffPresenter):
    """Assigning: the new staff member's id, and back to the association's page."""

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        assigned: directory_forms.Assigned = result
        text = _("{id} now manages this association.").format(id=isolate_ltr(fa_digits(assigned.telegram_id)))
        back = [[button(_("Back to the association's page"), view.card_of(assigned.association_id))]]
        return Reply(text, keyboard(back))


async def _assigned(update: Update, context: BotContext, result: Any) -> None:
    """After the commit: the new staff member's command menu."""
    await context.bot_data.commands.refresh(context.bot, [result.telegram_id])


ADDING = FormConversation(ADD_FORM, AddPresenter())
EDITING = FormConversation(EDIT_FORM, StaffPresenter())
ASSIGNING = FormConversation(ASSIGN_FORM, AssignPresenter(), after_submit=_assigned)


def covering(callback: Any) -> Any:
    """Only for staff who cover the association the button names (the first argument)."""

    @functools.wraps(callback)
    async def checked(update: Update, context: BotContext, association_id: int, *args: Any) -> object:
        if not context.staff.covers(association_id):
            await alert(update, context.gettext(NOT_YOURS))
            return None
        return await callback(update, context, association_id, *args)

    return checked


async def chamber_wide(update: Update, context: BotContext) -> bool:
    """Adding, importing and exporting are for chamber staff (and admins)."""
    if context.staff.covers(None):
        return True
    await alert(update, context.gettext(NOT_YOURS))
    return False


# ---------------------------------------------------------------------------------------- the panel


@staff_only
async def panel(update: Update, context: BotContext) -> None:
    """/associations and the staff menu: what staff can do here."""
    _ = context.gettext
    lines = [
        _("<b>Managing associations</b>"),
        _("Open an association's page from the list to edit it, change its status or see founding members."),
    ]
    rows = [[button(_("Browse associations"), view.PAGE(directory.ALL, 0))]]
    if context.staff.covers(None):
        lines.append(
            _("To import, send a CSV file here (UTF-8; Excel: «CSV UTF-8»). Export gives the columns.")
        )
        rows[:0] = [
            [button(_("➕ Add an association"), view.ADD())],
            [
                button(_("⬇️ Export CSV"), view.EXPORT()),
                button(_("Export with Persian headings"), view.EXPORT_FA()),
            ],
        ]
    await answer(update, "\n".join(lines), keyboard(rows))


@view.DIR.on(view.ADD)
@staff_only
async def add_pressed(update: Update, context: BotContext) -> object:
    """`dir:add`: the add form (chamber staff)."""
    return await ADDING.enter(update, context) if await chamber_wide(update, context) else None


# ---------------------------------------------------------------------------------------- editing


@view.DIR.on(view.EDIT)
@staff_only
@covering
async def edit_screen(update: Update, context: BotContext, association_id: int, note: str = "") -> None:
    """`dir:edit:<id>`: the fields, status and rules staff can change."""
    association = await unit(update, context, lambda s: directory.get(s, association_id))
    if association is not None:
        text, markup = view.edit_screen(context.gettext, association, admin=context.staff.is_admin)
        await answer(update, f"{note}\n\n{text}" if note else text, markup)


@view.DIR.on(view.FIELD)
@staff_only
@covering
async def field_pressed(update: Update, context: BotContext, association_id: int, name: str) -> object:
    """`dir:ef:<id>:<field>`: the edit form for that one field."""
    return await EDITING.enter(update, context, association_id=association_id, field=name)


@view.DIR.on(view.ASSIGN)
@admin_only
async def assign_pressed(update: Update, context: BotContext, association_id: int) -> object:
    """`dir:as:<id>`: make someone staff of this association (admins)."""
    return await ASSIGNING.enter(update, context, association_id=association_id)


@view.DIR.on(view.STATUS)
@staff_only
@covering
async def status_pressed(update: Update, context: BotContext, association_id: int, status: str) -> None:
    """`dir:st:<id>:<status>`; forming → active is asked once more (founding members are numbered)."""
    association = await unit(update, context, lambda s: directory.get(s, association_id))
    if association is not None and association.status == directory.FORMING and status == directory.ACTIVE:
        await answer(update, *view.confirm_activation(context.gettext, association))
    elif association is not None:
        await _set_status(update, context, association_id, status)


@view.DIR.on(view.ACTIVATE)
@staff_only
@covering
async def activate(update: Update, context: BotContext, association_id: int) -> None:
    """`dir:activate:<id>`: the association starts its work; its founding members are told."""
    await _set_status(update, context, association_id, directory.ACTIVE)


async def _set_status(update: Update, context: BotContext, association_id: int, status: str) -> None:
    """The new status; founding members numbered by it are told, in the same transaction."""
    _ = context.gettext

    async def change(session: AsyncSession) -> directory.StatusChange:
        done = await directory.set_status(session, association_id, status)
        for founder in done.founders:
            text = _(
                "Good news: {name} has started its work. You are one of its founding members, and your "
                "member number is {number}."
            ).format(
                name=esc(done.association.name), number=isolate_ltr(fa_digits(founder.member_number or "—"))
            )
            await outbox.notify(session, [founder.user_id], text, association_id=association_id)
            # Now numbered: their membership certificate and card.
            await queue_proof(session, _, founder, done.association.name, context.settings.document_key)
        return done

    done = await unit(update, context, change, write=True)
    if done is not None:
        count = fa_digits(len(done.founders))
        note = _("{count} founding members got their member numbers and were told.").format(count=count)
        await edit_screen(update, context, association_id, note if done.founders else "")


@view.DIR.on(view.TOGGLE)
@staff_only
@covering
async def toggle(update: Update, context: BotContext, association_id: int, name: str) -> None:
    """`dir:tg:<id>:<degree_required|evidence_required>`."""
    await _change(update, context, association_id, functools.partial(directory.toggle, name=name))


@view.DIR.on(view.EVIDENCE)
@staff_only
@covering
async def toggle_evidence(update: Update, context: BotContext, association_id: int, kind: str) -> None:
    """`dir:ev:<id>:<kind>`: accept, or stop accepting, one kind of evidence."""
    await _change(update, context, association_id, functools.partial(directory.toggle_evidence, kind=kind))


async def _change(update: Update, context: BotContext, association_id: int, change: Any) -> None:
    try:
        changed = await unit(update, context, lambda s: change(s, association_id), write=True)
    except DomainError:  # a forged field or kind of evidence
        changed = None
    if changed is not None:
        await edit_screen(update, context, association_id)


@view.DIR.on(view.FOUNDERS)
@staff_only
@covering
async def founders(update: Update, context: BotContext, association_id: int) -> None:
    """`dir:fl:<id>`: founding-member applications and the people interested."""
    founding = await unit(update, context, lambda s: directory.founding_list(s, association_id))
    if founding is not None:
        await answer(update, *view.founders_text(context.gettext, founding))


FEATURE = Feature(
    name="directory_staff",
    conversations=[ADDING, EDITING, ASSIGNING],
    commands=[Command("associations", N_("Manage associations"), audience="staff", callback=panel)],
    menu=[MenuItem("manage_associations", N_("Manage associations"), 130, panel, audience="staff")],
)
