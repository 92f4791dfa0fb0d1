"""The staff form for a course: create (pick the association, then title … fee; a review with
«Publish») and change one answer of a published course (back to the staff card). A form of the
engine: each answer is saved on the draft course at once and `course_edits` says which course and
which question, so the form survives a restart. A higher capacity gives seats to the people
waiting, who are told through the outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, Update

from bot.context import BotContext
from bot.formatting import TEHRAN, fa_money, jalali_when
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Notice, Presenter, Reply
from bot.forms.spec import Choice, Field, Form
from bot.handlers import course_cards as cards
from bot.handlers.course_cards import STAFF
from bot.i18n import N_, Gettext
from bot.kit.feature import Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, columns, keyboard
from bot.kit.reply import alert, answer, esc
from bot.services import course_admin as admin
from bot.services import course_form as service
from bot.services.errors import DomainError
from bot.text import truncate

LENGTH = {
    "too_short": N_("That is too short. Please write a little more."),
    "too_long": N_("That is too long (at most {limit} letters). Please shorten it."),
}
DATE_ERRORS = {
    "time_missing": N_("Please type the time as well, for example ۱۴۰۵/۹/۱۲ ۱۷:۳۰."),
    "date_format": N_(
        "I could not read that date. Type it as year/month/day hour:minute, for example ۱۴۰۵/۹/۱۲ ۱۷:۳۰."
    ),
    "date_date": N_("There is no such date in the calendar. Please check the month and the day."),
    "date_time": N_("That time is not valid: hours go from 0 to 23 and minutes from 0 to 59."),
    "in_past": N_("That moment has already passed. Please type a date in the future."),
    "end_before_start": N_("The end must be after the start. Please type it again."),
    "too_long_course": N_("A course cannot last longer than a year."),
    "start_first": N_("Please set the start first."),
}
FIELDS = (
    Field("title", N_("What is the course's title?"), N_("Title"), clean=service.clean_title, errors=LENGTH),
    Field(
        "description",
        N_("Describe the course in a few lines: what will people learn, and who is it for?"),
        N_("Description"),
        clean=service.clean_description,
        errors=LENGTH,
    ),
    Field(
        "teacher", N_("Who teaches the course?"), N_("Teacher"), clean=service.clean_teacher, errors=LENGTH
    ),
    Field(
        "starts_at",
        N_(
            "When does it start? Type the Jalali date and time, for example ۱۴۰۵/۹/۱۲ ۱۷:۳۰ (any digits are fine)."
        ),
        N_("Start"),
        errors=DATE_ERRORS,
    ),
    Field(
        "ends_at",
        N_(
            "When does it end? Type only the time (for example ۱۹:۳۰) if it ends the same day, "
            "or a full Jalali date and time."
        ),
        N_("End"),
        errors=DATE_ERRORS,
    ),
    Field(
        "place",
        N_("Where is it held? Type the address, or a link (https://…) for an online course."),
        N_("Place or link"),
        errors={
            **LENGTH,
            "bad_url": N_("That link is not valid. It should look like https://example.com/class."),
        },
    ),
    Field(
        "capacity",
        N_("How many seats does it have? Type a number, for example ۳۰."),
        N_("Capacity"),
        clean=service.clean_capacity,
        errors={
            "not_number": N_("Please type the number of seats as a number, for example ۳۰."),
            "decimal": N_("Please type a whole number of seats, without a decimal point."),
            "range": N_("Please type one number of seats, not a range: for example ۳۰."),
            "too_big": N_("That is too many seats (at most ۱۰٬۰۰۰)."),
            "capacity_zero": N_("A course needs at least one seat."),
            "capacity_below_taken": N_(
                "{taken} seats are already taken, so the capacity cannot be less than that."
            ),
        },
    ),
    Field(
        "members_only",
        N_("Who may sign up?"),
        N_("Sign-up condition"),
        kind="choice",
        choices=(Choice("0", N_("Everyone")), Choice("1", N_("Members only"))),
        columns=2,
    ),
    Field(
        "fee",
        N_("What is the fee in rials? Type 0 if it is free."),
        N_("Fee"),
        clean=service.clean_fee,
        show=lambda value: fa_money(value) if isinstance(value, int) and value else "—",
        errors={
            "not_number": N_("Please type the fee as a number of rials, for example ۲۰۰۰۰۰۰, or 0 if free."),
            "decimal": N_("Please type the fee in whole rials, without a decimal point."),
            "range": N_("Please type one amount, not a range."),
            "too_big": N_("That fee is too large."),
        },
    ),
)

FORM = Form(
    name="cform",
    fields=FIELDS,
    store=service.STORE,
    title=N_("<b>Please check the new course:</b>"),
    audience="staff",
    submit=service.submit,
    submit_label=N_("Publish"),
    auto_submit=service.is_published,  # one answer of a published course is saved at once
)


class CoursePresenter(Presenter):
    """The review shows the course card; a published course goes back to the staff card."""

    errors: Mapping[str, str] = {"cancelled": cards.UNAVAILABLE, "finished": cards.UNAVAILABLE}

    def value(self, _: Gettext, field: Field, value: object, screen: Screen) -> str:
        """Dates with weekday and month name, in the configured time zone."""
        if isinstance(value, datetime):
            return jalali_when(value, str(screen.extras.get("tz") or TEHRAN))
        return super().value(_, field, value, screen)

    def summary(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        association, tz = screen.extras.get("association"), str(screen.extras.get("tz") or TEHRAN)
        card = cards.card_text(_, screen.draft.course, str(association) if association else None, tz)
        return Reply(f"{_(FORM.title)}\n\n{card}", keyboard(self.summary_rows(_, screen, actions)))

    def summary_rows(self, _: Gettext, screen: Screen, actions: Actions) -> list[list[InlineKeyboardButton]]:
        if service.is_published(screen.draft):
            back = cards.back_to(_, screen.draft.course.id)
            return [[button(_("Edit an answer"), actions.data("fields"))], [back]]
        return super().summary_rows(_, screen, actions)

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        saved: service.Saved = result
        note = _("The course is published.") if saved.published else _("Saved.")
        return staff_card(_, saved, [note])

    def notices(self, _: Gettext, result: Any) -> Sequence[Notice]:
        """People moved up from the waiting list by a higher capacity are told the seat is theirs."""
        saved: service.Saved = result
        if not saved.promoted:
            return []
        text, markup = cards.promoted_notice(_, saved.course, saved.tz)
        return [Notice(saved.promoted, text, markup)]

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        return Reply(cards.staff_refusal(_, exc), keyboard([[button(_("All my courses"), cards.MANAGE())]]))

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(
            _("There is no course being filled in here any more."),
            keyboard([[button(_("All my courses"), cards.MANAGE())]]),
        )


def staff_card(_: Gettext, saved: service.Saved, notes: list[str]) -> Reply:
    card = admin.StaffCard(saved.course, saved.association, saved.registered, saved.waiting)
    return Reply(cards.staff_card_text(_, card, saved.tz, notes), cards.staff_card_markup(_, saved.course))


class CourseConversation(FormConversation):
    """Publishing also gives the link to share (it needs the bot's username)."""

    def submitted(self, update: Update, context: BotContext, screen: Screen, result: Any) -> Reply:
        _ = context.gettext
        saved: service.Saved = result
        username = context.bot.username if saved.published else None
        if not username:
            return super().submitted(update, context, screen, result)
        link = f"https://t.me/{username}?start=course_{saved.course.id}"
        notes = [_("The course is published."), _("Link to share: {link}").format(link=esc(link))]
        return staff_card(_, saved, notes)


COURSE_FORM = CourseConversation(FORM, CoursePresenter())


# ---------------------------------------------------------------------------- entering the form


@STAFF.on(cards.NEW)
@staff_only
async def new_course(update: Update, context: BotContext) -> object:
    """«New course»: pick the association (Persian order; chamber-wide for chamber staff), or go
    straight on when there is only one choice."""
    _ = context.gettext
    choices = await context.read(admin.new_course_choices, context.staff)
    if choices.only is not None:
        return await COURSE_FORM.enter(update, context, association_id=choices.only)
    rows = [[button(_("Chamber-wide (all associations)"), cards.NEW_FOR(0))]] if choices.chamber_wide else []
    rows += [[button(truncate(a.name, 40), cards.NEW_FOR(a.id))] for a in choices.associations]
    rows.append([button(_("All my courses"), cards.MANAGE())])
    await answer(update, _("Which association is the course for?"), keyboard(rows))
    return None


@STAFF.on(cards.NEW_FOR)
@staff_only
async def new_for(update: Update, context: BotContext, association_id: int) -> object:
    """A new course for this association (0: chamber-wide); an unfinished draft for it is taken up."""
    if not context.staff.covers(association_id or None):
        await alert(update, context.gettext(cards.NOT_YOURS))
        return None
    return await COURSE_FORM.enter(update, context, association_id=association_id)


@cards.staff_button(cards.EDIT)
async def edit(update: Update, context: BotContext, course_id: int, field: str) -> object:
    """Change one answer of a course (published: saved at once, then back to the staff card); a
    course that cannot be changed is refused on the button, without entering the form."""
    if FORM.field(field) is None:
        await alert(update, context.gettext("This button is no longer valid. Send /start for the menu."))
        return None
    async with context.reading() as session:
        await admin.changeable_course(session, context.staff, course_id)
    return await COURSE_FORM.enter(update, context, course_id=course_id, field=field)


@cards.staff_button(cards.EDIT_MENU)
async def edit_menu(update: Update, context: BotContext, course_id: int) -> None:
    """Which answer to change."""
    _ = context.gettext
    course = await cards.staff_course(context, course_id)
    edits = [
        button(_("Edit {field}").format(field=_(f.label)), cards.EDIT(course.id, f.name)) for f in FORM.fields
    ]
    rows = [*columns(edits), [cards.back_to(_, course.id)]]
    text = _("What would you like to change in «{title}»?").format(title=esc(course.title))
    await answer(update, text, keyboard(rows))


FEATURE = Feature(name="courses_form", conversations=[COURSE_FORM])
