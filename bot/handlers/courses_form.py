"""The staff form for a course: create (dates typed in Jalali, any digits) and edit, one answer at a time.

Each answer is saved on a draft course at once, and `course_edits` says which course a staff member
is filling in, so the form survives a restart. Every callback is guarded with @staff_only.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_number
from bot.handlers import course_cards as cards
from bot.handlers import courses as public
from bot.handlers import courses_staff as staff
from bot.handlers.common import END, answer, button, conversation, esc, keyboard
from bot.handlers.guards import staff_only
from bot.i18n import N_, Gettext
from bot.services import course_admin as admin
from bot.services import course_form as form
from bot.services import courses as service
from bot.services import seats
from bot.services.courses import InvalidAnswer
from bot.services.errors import DomainError
from bot.text import truncate
from db.models import Course

TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer

STATES = {name: f"course_staff:{name}" for name in form.FIELDS}

REVIEW = "course_staff:review"

QUESTIONS = {
    "title": N_("What is the course's title?"),
    "description": N_("Describe the course in a few lines: what will people learn, and who is it for?"),
    "teacher": N_("Who teaches the course?"),
    "starts_at": N_(
        "When does it start? Type the Jalali date and time, for example ۱۴۰۵/۹/۱۲ ۱۷:۳۰ (any digits are fine)."
    ),
    "ends_at": N_(
        "When does it end? Type only the time (for example ۱۹:۳۰) if it ends the same day, "
        "or a full Jalali date and time."
    ),
    "place": N_("Where is it held? Type the address, or a link (https://…) for an online course."),
    "capacity": N_("How many seats does it have? Type a number, for example ۳۰."),
    "members_only": N_("Who may sign up?"),
    "fee": N_("What is the fee in rials? Type 0 if it is free."),
}

LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "teacher": N_("Teacher"),
    "starts_at": N_("Start"),
    "ends_at": N_("End"),
    "place": N_("Place or link"),
    "capacity": N_("Capacity"),
    "members_only": N_("Who may sign up"),
    "fee": N_("Fee"),
}

ERRORS = {
    "title_too_short": N_("That title is too short."),
    "title_too_long": N_("That title is too long (at most 200 letters)."),
    "description_too_short": N_("That description is too short. Write at least a few words."),
    "description_too_long": N_("That description is too long (at most 2,000 letters)."),
    "teacher_too_short": N_("That name is too short."),
    "teacher_too_long": N_("That name is too long (at most 200 letters)."),
    "place_too_short": N_("That address is too short."),
    "place_too_long": N_("That address is too long (at most 300 letters)."),
    "bad_url": N_("That link is not valid. It should look like https://example.com/class."),
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
    "capacity_not_number": N_("Please type the number of seats as a number, for example ۳۰."),
    "capacity_too_big": N_("That is too many seats (at most ۱۰٬۰۰۰)."),
    "capacity_zero": N_("A course needs at least one seat."),
    "capacity_below_taken": N_("{taken} seats are already taken, so the capacity cannot be less than that."),
    "fee_not_number": N_("Please type the fee as a number of rials, for example ۲۰۰۰۰۰۰, or 0 if free."),
    "fee_too_big": N_("That fee is too large."),
    "incomplete": N_("Some answers are still missing."),
}


async def ask(update: Update, context: BotContext, name: str) -> str:
    """Ask one question of the form and enter its state."""
    _ = context.gettext
    if name == "members_only":
        markup = keyboard(
            [[button(_("Everyone"), "cadm:members:0"), button(_("Members only"), "cadm:members:1")]]
        )
        await answer(update, _(QUESTIONS[name]), markup, edit=False)
    else:
        await answer(update, _(QUESTIONS[name]), edit=False)
    return STATES[name]


async def review(update: Update, context: BotContext, course: Course) -> str:
    """A complete draft: show it with Publish and an edit button per answer."""
    _ = context.gettext
    async with context.session() as session:
        name = await service.association_name(session, course.association_id)
    text = (
        _("<b>Please check the new course:</b>")
        + "\n\n"
        + cards.card_text(_, course, name, context.settings.timezone)
    )
    rows = [[button(_("Publish"), "cadm:publish")]]
    rows += _edit_rows(_, course.id)
    await answer(update, text, keyboard(rows), edit=False)
    return REVIEW


def _edit_rows(_: Gettext, course_id: int) -> list[list[InlineKeyboardButton]]:
    edits = [
        button(_("Edit {field}").format(field=_(LABELS[f])), f"cadm:edit:{course_id}:{f}")
        for f in form.FIELDS
    ]
    return [edits[i : i + 2] for i in range(0, len(edits), 2)]


async def _after_answer(update: Update, context: BotContext, course: Course, creating: bool) -> str | int:
    if not creating:
        async with context.session() as session, session.begin():
            await form.stop_editing(session, context.staff.user_id)
        await staff.staff_card(update, context, course.id, note=context.gettext("Saved."))
        return END
    missing = form.next_missing(course)
    if missing is None:
        return await review(update, context, course)
    return await ask(update, context, missing)


async def _new(update: Update, context: BotContext) -> str | int:
    """`cadm:new`: pick the association (or go straight on when there is only one choice)."""
    _ = context.gettext
    async with context.session() as session:
        associations = await admin.associations_for(session, context.staff)
    choices = [(a.id, a.name) for a in associations]
    if context.staff.covers(None):
        choices.insert(0, (0, _("Chamber-wide (all associations)")))
    if len(choices) == 1:
        return await _draft(update, context, choices[0][0])
    rows = [[button(truncate(label, 40), f"cadm:newfor:{aid}")] for aid, label in choices]
    await answer(update, _("Which association is the course for?"), keyboard(rows))
    return END


async def _new_for(update: Update, context: BotContext) -> str | int:
    """`cadm:newfor:<association id, 0 for chamber-wide>`."""
    query = update.callback_query
    return await _draft(update, context, staff.number(query.data if query else None))


async def _draft(update: Update, context: BotContext, association_id: int) -> str | int:
    try:
        async with context.session() as session, session.begin():
            course = await form.start_draft(session, context.staff, association_id or None)
    except DomainError as exc:
        await staff.refuse(update, context, exc)
        return END
    return await _after_answer(update, context, course, creating=True)


def _text_step(name: str) -> Callable[[Update, BotContext], Coroutine[Any, Any, str | int | None]]:
    async def step(update: Update, context: BotContext) -> str | int:
        _ = context.gettext
        message = update.effective_message
        assert message is not None and message.text is not None
        text = message.text

        async def work(session: AsyncSession) -> tuple[Course, list[int], bool] | None:
            pointer = await form.editing(session, context.staff.user_id)
            if pointer is None:
                return None
            course, promoted = await form.save_answer(
                session, context.staff, pointer[1].id, name, text, tz=context.settings.timezone
            )
            return course, promoted, pointer[0].creating

        try:
            # A capacity change moves seats, so it runs as a seat transaction.
            saved = await seats.run(context.bot_data.sessionmaker, work)
        except InvalidAnswer as exc:
            error = _(ERRORS.get(exc.reason, ERRORS["incomplete"])).format(
                taken=fa_number(int(str(exc.details.get("taken", 0))))
            )
            await answer(update, error)
            return STATES[name]
        except DomainError as exc:
            await staff.refuse(update, context, exc)
            return END
        if saved is None:
            await answer(update, _("There is no course being edited. Send /managecourses."))
            return END
        course, promoted, creating = saved
        await public.tell_promoted(context, course, promoted)
        return await _after_answer(update, context, course, creating)

    step.__name__ = f"course_{name}"
    return staff_only(step)


async def _members(update: Update, context: BotContext) -> str | int:
    """`cadm:members:<0|1>`: everyone, or members only."""
    query = update.callback_query
    assert query is not None
    try:
        async with context.session() as session, session.begin():
            pointer = await form.editing(session, context.staff.user_id)
            if pointer is None:
                await query.answer()
                return END
            course = await form.set_members_only(
                session, context.staff, pointer[1].id, query.data == "cadm:members:1"
            )
            creating = pointer[0].creating
    except DomainError as exc:
        await staff.refuse(update, context, exc)
        return END
    return await _after_answer(update, context, course, creating)


async def _edit(update: Update, context: BotContext) -> str | int:
    """`cadm:edit:<id>:<field>`: ask one question again, for a draft or a published course."""
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    name = parts[-1]
    if name not in STATES:
        await query.answer()
        return END
    try:
        async with context.session() as session, session.begin():
            await form.start_edit(session, context.staff, staff.number(query.data, 2))
    except DomainError as exc:
        await staff.refuse(update, context, exc)
        return END
    return await ask(update, context, name)


async def _edit_menu(update: Update, context: BotContext) -> None:
    """`cadm:editmenu:<id>`: which answer to change."""
    _ = context.gettext
    query = update.callback_query
    course_id = staff.number(query.data if query else None)
    try:
        async with context.session() as session:
            course = await admin.staff_course(session, context.staff, course_id)
    except DomainError as exc:
        await staff.refuse(update, context, exc)
        return
    rows = [*_edit_rows(_, course.id), [button(_("Back"), f"cadm:view:{course.id}")]]
    await answer(
        update,
        _("What would you like to change in «{title}»?").format(title=esc(course.title)),
        keyboard(rows),
    )


async def _publish(update: Update, context: BotContext) -> str | int:
    """`cadm:publish`: the draft becomes an open course."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    try:
        async with context.session() as session, session.begin():
            pointer = await form.editing(session, context.staff.user_id)
            if pointer is None:
                await query.answer()
                return END
            course = await form.publish(session, context.staff, pointer[1].id)
    except InvalidAnswer as exc:
        return await ask(update, context, str(exc.details.get("field", "title")))
    except DomainError as exc:
        await staff.refuse(update, context, exc)
        return END
    username = context.bot.username
    link = f"https://t.me/{username}?start=course_{course.id}" if username else ""
    note = _("The course is published.")
    if link:
        note += "\n" + _("Link to share: {link}").format(link=esc(link))
    await staff.staff_card(update, context, course.id, note=note)
    return END


async def _wrong_kind(update: Update, context: BotContext) -> None:
    """Not text where an answer was expected."""
    _ = context.gettext
    await answer(update, _("Please answer with a text message, or send /cancel to stop."))


def _ending(
    callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]],
) -> Callable[[Update, BotContext], Coroutine[Any, Any, int]]:
    """The same callback, leaving the form (a staff button pressed in the middle of it)."""

    async def run(update: Update, context: BotContext) -> int:
        await callback(update, context)
        return END

    run.__name__ = getattr(callback, "__name__", "run") + "_ending"
    return run


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The course form (a conversation) and the edit menu."""
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, staff_only(_wrong_kind))
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        STATES[name]: [MessageHandler(TEXT, _text_step(name)), other] for name in form.TEXT_FIELDS
    }
    members = CallbackQueryHandler(staff_only(_members), pattern=r"^cadm:members:[01]$")
    publish = CallbackQueryHandler(staff_only(_publish), pattern=r"^cadm:publish$")
    states[STATES["members_only"]] = [members]
    states[REVIEW] = [publish]
    edit = CallbackQueryHandler(staff_only(_edit), pattern=r"^cadm:edit:\d+:\w+$")
    new = CallbackQueryHandler(staff_only(_new), pattern=r"^cadm:new$")
    new_for = CallbackQueryHandler(staff_only(_new_for), pattern=r"^cadm:newfor:\d+$")
    buttons = [*staff.BUTTONS, (r"^cadm:editmenu:\d+$", _edit_menu)]
    # A staff button pressed in the middle of the form leaves the form and does what it says.
    leave = [CallbackQueryHandler(staff_only(_ending(cb)), pattern=p) for p, cb in buttons]
    return [
        conversation(
            "course_staff",
            # The draft being filled in is in the database, so its buttons work even after /cancel.
            entry_points=[new, new_for, edit, members, publish],
            states=states,
            fallbacks=[new, new_for, edit, *leave],
        ),
        CallbackQueryHandler(staff_only(_edit_menu), pattern=r"^cadm:editmenu:\d+$"),
    ]
