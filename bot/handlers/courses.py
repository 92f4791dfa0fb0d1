"""Courses for members and visitors: upcoming list, course card, sign-up, waiting list, my courses,
calendar file, and the feedback question after a course. Also the reminder job."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotApplication, BotContext
from bot.formatting import fa_digits, fa_number, jalali_date, jalali_datetime
from bot.handlers import course_cards as cards
from bot.handlers.common import END, answer, button, conversation, esc, keyboard
from bot.handlers.guards import public
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_
from bot.services import courses as service
from bot.services import reminders, seats
from bot.services.calendar_ics import course_ics
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.text import truncate
from db.models import Course, utcnow

log = logging.getLogger(__name__)

COMMANDS = [("courses", N_("Training courses")), ("mycourses", N_("My courses"))]
PAGE = 8
COMMENT = "courses:comment"
REMINDER_INTERVAL = timedelta(minutes=1)
SEND_INTERVAL = timedelta(milliseconds=40)  # 25 messages a second, under Telegram's 30
REMINDER_JOB = "courses:reminders"
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer

REFUSALS = {
    "closed": N_("Registration for this course is closed."),
    "cancelled": N_("This course has been cancelled."),
    "finished": N_("This course has already been held."),
    "started": N_("This course has already started; sign-up and cancellation are no longer possible."),
    "course": N_("This course was not found. It may have been removed."),
    "registration": N_("You are not signed up for this course."),
}


def _number(data: str | None, index: int = -1) -> int:
    try:
        return int((data or "").split(":")[index])
    except (ValueError, IndexError):
        return 0


# ---------------------------------------------------------------------------- list and card


@public
async def browse(update: Update, context: BotContext) -> None:
    """Main-menu 'Training courses': the upcoming courses."""
    await _list(update, context, page=0)


@public
async def list_page(update: Update, context: BotContext) -> None:
    """`courses:list:<page>`."""
    query = update.callback_query
    await _list(update, context, page=_number(query.data if query else None))


@public
async def association_courses(update: Update, context: BotContext) -> None:
    """`courses:assoc:<id>[:<page>]` from an association's card."""
    query = update.callback_query
    parts = (query.data if query and query.data else "").split(":")
    association_id = _number(":".join(parts[:3]))
    page = int(parts[3]) if len(parts) > 3 and parts[3].isdecimal() else 0
    await _list(update, context, page=page, association_id=association_id)


async def _list(update: Update, context: BotContext, *, page: int, association_id: int | None = None) -> None:
    _ = context.gettext
    tz = context.settings.timezone
    async with context.session() as session:
        courses, total = await service.upcoming(
            session, association_id=association_id, limit=PAGE, offset=max(page, 0) * PAGE
        )
        name = await service.association_name(session, association_id)
    if association_id is not None:
        title = _("<b>Upcoming courses of {association}</b>").format(association=esc(name or "—"))
    else:
        title = _("<b>Upcoming training courses</b>")
    lines = [title]
    if not courses:
        lines.append(_("There are no upcoming courses right now. Please check again later."))
    rows: list[list[InlineKeyboardButton]] = []
    for course in courses:
        assert course.starts_at is not None
        left = (
            _("{left} seats left").format(left=fa_number(course.seats_left))
            if course.seats_left > 0
            else _("full")
        )
        lines.append(f"• {esc(course.title)} — {jalali_date(course.starts_at, tz)} — {left}")
        rows.append([button(truncate(course.title, 40), f"courses:view:{course.id}")])
    prefix = f"courses:assoc:{association_id}:" if association_id is not None else "courses:list:"
    pager = []
    if page > 0:
        pager.append(button(_("Previous"), f"{prefix}{page - 1}"))
    if (page + 1) * PAGE < total:
        pager.append(button(_("Next"), f"{prefix}{page + 1}"))
    rows.append(pager)
    rows.append([button(_("My courses"), "courses:mine"), button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


async def show_card(update: Update, context: BotContext, course_id: int, *, note: str = "") -> None:
    """The course card, with what the user can do next."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session:
            course = await service.get_course(session, course_id)
            name = await service.association_name(session, course.association_id)
            registration = await service.registration_of(session, course_id, user.id)
            position = await service.waiting_position(session, registration) if registration else None
    except NotFound:
        await answer(update, _(REFUSALS["course"]), keyboard([[button(_("All courses"), "courses:list:0")]]))
        return
    can_join = course.status == "open" and course.starts_at is not None and course.starts_at > utcnow()
    text = cards.card_text(_, course, name, context.settings.timezone, registration, position)
    if note:
        text = f"{note}\n\n{text}"
    await answer(update, text, cards.card_markup(_, course, registration, can_join=can_join))


@public
async def view(update: Update, context: BotContext) -> None:
    """`courses:view:<id>`."""
    query = update.callback_query
    await show_card(update, context, _number(query.data if query else None))


@public
async def deep_link(update: Update, context: BotContext) -> None:
    """`/start course_<id>`: straight to the course card."""
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    await show_card(update, context, _number(text.replace("_", ":")))


# ---------------------------------------------------------------------------- sign-up and cancel


@public
async def join(update: Update, context: BotContext) -> None:
    """`courses:join:<id>`: one tap for a seat, or a place on the waiting list."""
    _ = context.gettext
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    course_id = _number(query.data)
    try:
        result = await seats.run(
            context.bot_data.sessionmaker, lambda session: service.sign_up(session, course_id, user.id)
        )
    except service.MembersOnly as exc:
        await _members_only(update, context, exc.details.get("association_id"))
        return
    except service.AlreadySignedUp:
        await show_card(update, context, course_id, note=_("You are already signed up for this course."))
        return
    except DomainError as exc:
        await show_card(update, context, course_id, note=_(REFUSALS.get(exc.reason, REFUSALS["closed"])))
        return
    if result.waiting:
        note = _(
            "The course is full, so you are on the waiting list: number {position}. "
            "If a seat frees up, it is yours automatically and we will tell you."
        ).format(position=fa_digits(result.position or 0))
    else:
        note = _("Done! You have a seat. We will remind you the day before and an hour before the start.")
    await show_card(update, context, course_id, note=note)


async def _members_only(update: Update, context: BotContext, association_id: object) -> None:
    _ = context.gettext
    text = "\n".join(
        [
            _("This course is only for members."),
            _(
                "To become a member, send a membership application from the button below. "
                "A university degree is not needed unless the association's own rules ask for it."
            ),
        ]
    )
    if isinstance(association_id, int):
        first = button(_("Apply for membership"), f"apply:start:{association_id}")
    else:
        first = button(_("Associations"), "menu:associations")
    await answer(update, text, keyboard([[first], [button(_("All courses"), "courses:list:0")]]), edit=False)


@public
async def ask_cancel(update: Update, context: BotContext) -> None:
    """`courses:cancel:<id>` / `courses:release:<id>`: ask before giving the place up."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    action, course_id = query.data.split(":")[1], _number(query.data)
    async with context.session() as session:
        try:
            course = await service.get_course(session, course_id)
        except NotFound:
            await answer(update, _(REFUSALS["course"]))
            return
    question = (
        _("Do you want to give back the seat in «{title}»? The next person waiting will get it.")
        if action == "release"
        else _("Do you want to cancel your sign-up for «{title}»?")
    ).format(title=esc(course.title))
    confirm = "releaseok" if action == "release" else "cancelok"
    await answer(
        update,
        question,
        keyboard(
            [
                [button(_("Yes, cancel it"), f"courses:{confirm}:{course_id}")],
                [button(_("No, keep it"), f"courses:view:{course_id}")],
            ]
        ),
    )


@public
async def do_cancel(update: Update, context: BotContext) -> None:
    """`courses:cancelok:<id>` / `courses:releaseok:<id>`: give the place up; the next person moves up."""
    _ = context.gettext
    query = update.callback_query
    user = update.effective_user
    assert query is not None and query.data is not None and user is not None
    course_id = _number(query.data)
    try:
        release = query.data.startswith("courses:releaseok")
        result = await seats.run(
            context.bot_data.sessionmaker,
            lambda session: service.cancel(session, course_id, user.id, release=release),
        )
    except DomainError as exc:
        await show_card(update, context, course_id, note=_(REFUSALS.get(exc.reason, REFUSALS["closed"])))
        return
    await tell_promoted(context, result.course, result.promoted)
    await show_card(update, context, course_id, note=_("Your sign-up was cancelled."))


async def tell_promoted(context: BotContext, course: Course, user_ids: list[int]) -> None:
    """Tell the people who moved up from the waiting list that the seat is theirs."""
    _ = context.gettext
    text = "\n".join(
        [
            _("Good news! A seat in «{title}» became free and it is now yours.").format(
                title=esc(course.title)
            ),
            _("When: {when}").format(when=cards.when(course, context.settings.timezone)),
            _("If you no longer want it, give it back with the button below so the next person gets it."),
        ]
    )
    markup = keyboard(
        [
            [button(_("I no longer want it"), f"courses:release:{course.id}")],
            [button(_("View the course"), f"courses:view:{course.id}")],
        ]
    )
    # If a message cannot be sent the seat is theirs anyway: "My courses" and the reminders show it.
    await send_each(context, user_ids, text, markup)


async def send_each(
    context: BotContext, user_ids: list[int], text: str, markup: InlineKeyboardMarkup | None = None
) -> int:
    """Send one message with buttons to a few people, paced under Telegram's limits; returns how many got it.

    For promotions and feedback questions (a course's worth of people, and they need buttons);
    messages to everyone go through the outbox instead.
    """
    sent = 0
    for index, user_id in enumerate(user_ids):
        if index:
            await asyncio.sleep(SEND_INTERVAL.total_seconds())
        for attempt in (1, 2):
            try:
                await context.bot.send_message(user_id, text, reply_markup=markup)
                sent += 1
                break
            except RetryAfter as exc:
                if attempt == 2:
                    log.warning("Telegram still limits us; not sent to %s", user_id)
                    break
                wait = exc.retry_after
                await asyncio.sleep(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
            except TelegramError as exc:
                log.warning("Could not send a course message to %s: %s", user_id, exc)
                break
    return sent


# ---------------------------------------------------------------------------- my courses, calendar


@public
async def mine(update: Update, context: BotContext) -> None:
    """`/mycourses` and `courses:mine`: seats and waiting places, each with cancel."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    tz = context.settings.timezone
    async with context.session() as session:
        rows = await service.my_courses(session, user.id)
    lines = [_("<b>My courses</b>")]
    buttons: list[list[InlineKeyboardButton]] = []
    if not rows:
        lines.append(_("You have not signed up for any upcoming course."))
    for course, registration, position in rows:
        assert course.starts_at is not None
        state = cards.my_status(_, registration, position) or ""
        lines.append(f"• {esc(course.title)} — {jalali_datetime(course.starts_at, tz)}: {state}")
        short = truncate(course.title, 28)
        buttons.append(
            [
                button(short, f"courses:view:{course.id}"),
                button(_("Cancel"), f"courses:cancel:{course.id}"),
            ]
        )
    buttons.append([button(_("All courses"), "courses:list:0"), button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(buttons))


@public
async def calendar_file(update: Update, context: BotContext) -> None:
    """`courses:ics:<id>`: the course as an .ics file for the phone's calendar."""
    _ = context.gettext
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    try:
        async with context.session() as session:
            course = await service.get_course(session, _number(query.data))
            name = await service.association_name(session, course.association_id)
    except NotFound:
        await query.answer(_(REFUSALS["course"]), show_alert=True)
        return
    details = [course.teacher and _("Teacher: {teacher}").format(teacher=course.teacher), name or ""]
    details.append(course.description)
    data = course_ics(course, description="\n".join(d for d in details if d))
    await query.answer()
    await chat.send_document(
        InputFile(data, filename=f"course-{course.id}.ics"),
        caption=_("Open this file to add «{title}» to your calendar.").format(title=esc(course.title)),
    )


# ---------------------------------------------------------------------------- feedback


@public
async def rate(update: Update, context: BotContext) -> str | int:
    """`courses:rate:<course>:<n>`: store the rating and offer a comment."""
    _ = context.gettext
    query = update.callback_query
    user = update.effective_user
    assert query is not None and query.data is not None and user is not None
    course_id, rating = _number(query.data, 2), _number(query.data)
    try:
        async with context.session() as session, session.begin():
            await service.save_rating(session, course_id, user.id, rating)
    except NotAllowed:
        await query.answer(_("Only people who attended the course can rate it."), show_alert=True)
        return END
    except DomainError:
        await query.answer(_("Please choose a number from 1 to 5."), show_alert=True)
        return END
    text = "\n".join(
        [
            _("Thank you! Your rating: {rating} out of 5.").format(rating=fa_digits(rating)),
            _("If you like, write a short comment about the course; or press «No comment»."),
        ]
    )
    await answer(update, text, keyboard([[button(_("No comment"), f"courses:nocomment:{course_id}")]]))
    return COMMENT


@public
async def comment(update: Update, context: BotContext) -> str | int:
    """The optional comment after a rating."""
    _ = context.gettext
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    async with context.session() as session:
        course_id = await service.last_rated_course(session, user.id)
    if course_id is None:
        return END
    try:
        async with context.session() as session, session.begin():
            await service.save_comment(session, course_id, user.id, message.text)
    except DomainError as exc:
        if exc.reason == "comment_too_long":
            await answer(update, _("That comment is too long (at most 1,000 letters). Please shorten it."))
            return COMMENT
        if exc.reason == "comment_too_short":
            await answer(update, _("That comment is too short. Write a few words, or press «No comment»."))
            return COMMENT
        return END
    await answer(update, _("Thank you for your comment!"), keyboard([[button(_("Main menu"), HOME)]]))
    return END


@public
async def no_comment(update: Update, context: BotContext) -> int:
    """«No comment»."""
    _ = context.gettext
    await answer(update, _("Thank you for your feedback!"), keyboard([[button(_("Main menu"), HOME)]]))
    return END


@public
async def comment_wrong_kind(update: Update, context: BotContext) -> str:
    """Not text where a comment was expected."""
    _ = context.gettext
    await answer(update, _("Please write your comment as text, or press «No comment»."))
    return COMMENT


# ---------------------------------------------------------------------------- reminders


async def queue_reminders(context: BotContext) -> None:
    """The repeating job: put whatever reminders are due into the outbox (idempotent)."""
    _ = context.gettext
    tz = context.settings.timezone
    async with context.session() as session, session.begin():
        created = await reminders.queue_due(
            session, lambda course, key: cards.reminder_text(_, course, key, tz)
        )
    if created:
        log.info("Queued %d course reminder(s)", len(created))


def schedule(application: BotApplication) -> None:
    """Wake the reminder planner every minute (it reads the database, so restarts lose nothing)."""
    if application.job_queue is None:
        return
    application.job_queue.run_repeating(
        queue_reminders, interval=REMINDER_INTERVAL, first=timedelta(seconds=5), name=REMINDER_JOB
    )


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The feedback conversation, the deep link, and the course buttons."""
    return [
        conversation(
            "course_feedback",
            entry_points=[CallbackQueryHandler(rate, pattern=r"^courses:rate:\d+:\d+$")],
            states={
                COMMENT: [
                    MessageHandler(TEXT, comment),
                    CallbackQueryHandler(no_comment, pattern=r"^courses:nocomment:\d+$"),
                    MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, comment_wrong_kind),
                ]
            },
        ),
        CommandHandler("start", deep_link, filters=filters.Regex(r"^/start course_\d+$")),
        CommandHandler("courses", browse),
        CommandHandler("mycourses", mine),
        CallbackQueryHandler(list_page, pattern=r"^courses:list:\d+$"),
        CallbackQueryHandler(association_courses, pattern=r"^courses:assoc:\d+(:\d+)?$"),
        CallbackQueryHandler(view, pattern=r"^courses:view:\d+$"),
        CallbackQueryHandler(join, pattern=r"^courses:join:\d+$"),
        CallbackQueryHandler(ask_cancel, pattern=r"^courses:(cancel|release):\d+$"),
        CallbackQueryHandler(do_cancel, pattern=r"^courses:(cancelok|releaseok):\d+$"),
        CallbackQueryHandler(mine, pattern=r"^courses:mine$"),
        CallbackQueryHandler(calendar_file, pattern=r"^courses:ics:\d+$"),
        CallbackQueryHandler(no_comment, pattern=r"^courses:nocomment:\d+$"),
    ]


MENU = [MenuItem("courses", N_("Training courses"), 30, browse)]
