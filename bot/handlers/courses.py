"""Courses for members and visitors: upcoming list, course card, sign-up, waiting list, my courses,
calendar file, and the feedback after a course (a rating button, then an optional comment: a
one-question form). Also the reminder job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext
from bot.formatting import fa_digits
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Presenter, Reply
from bot.forms.spec import Field, Form
from bot.handlers import course_cards as cards
from bot.handlers.course_cards import COURSES
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard, to_json
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import alert, answer, esc
from bot.services import course_feedback as feedback
from bot.services import courses as service
from bot.services import outbox, reminders
from bot.services.calendar_ics import course_ics
from bot.services.errors import DomainError, NotFound
from bot.text import truncate

log = logging.getLogger(__name__)

PAGE = 8
REMINDER_INTERVAL = timedelta(minutes=1)
REMINDER_JOB = "courses:reminders"


# ---------------------------------------------------------------------------- list and card


@public
async def browse(update: Update, context: BotContext) -> None:
    """Main-menu «Training courses» and /courses: the upcoming courses."""
    await _list(update, context, 0)


@COURSES.on(cards.LIST)
@public
async def list_page(update: Update, context: BotContext, page: int) -> None:
    await _list(update, context, page)


@COURSES.on(cards.ASSOCIATION)
@public
async def association_courses(update: Update, context: BotContext, association_id: int) -> None:
    """From an association's card: its upcoming courses."""
    await _list(update, context, 0, association_id)


@COURSES.on(cards.ASSOCIATION_PAGE)
@public
async def association_page(update: Update, context: BotContext, association_id: int, page: int) -> None:
    await _list(update, context, page, association_id)


async def _list(update: Update, context: BotContext, page: int, association_id: int | None = None) -> None:
    _ = context.gettext
    async with context.reading() as session:
        courses, total, name = await service.upcoming(
            session, association_id=association_id, limit=PAGE, offset=page * PAGE
        )
    if association_id is not None:
        lines = [_("<b>Upcoming courses of {association}</b>").format(association=esc(name or "—"))]
    else:
        lines = [_("<b>Upcoming training courses</b>")]
    if not courses:
        lines.append(_("There are no upcoming courses right now. Please check again later."))
    lines += [cards.list_line(_, course, context.settings.timezone) for course in courses]
    rows = [[button(truncate(course.title, 40), cards.VIEW(course.id))] for course in courses]
    more = (page + 1) * PAGE < total
    if association_id is None:
        rows.append(cards.pager(_, page, more, cards.LIST(page - 1), cards.LIST(page + 1)))
    else:
        pages = cards.ASSOCIATION_PAGE
        rows.append(
            cards.pager(_, page, more, pages(association_id, page - 1), pages(association_id, page + 1))
        )
    rows.append([button(_("My courses"), cards.MINE()), button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


async def show_card(
    update: Update, context: BotContext, course_id: int, *, note: str | Callable[[service.Card], str] = ""
) -> None:
    """The course card, with what the user can do next (and a note above it: what just happened)."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.reading() as session:
            card = await service.card(session, course_id, user.id)
    except NotFound:
        await answer(
            update, cards.refusal(_, "course"), keyboard([[button(_("All courses"), cards.LIST(0))]])
        )
        return
    text = cards.card_text(
        _, card.course, card.association, context.settings.timezone, card.registration, card.position
    )
    markup = cards.card_markup(_, card.course, card.registration, can_join=card.can_join)
    said = note(card) if callable(note) else note
    await answer(update, f"{said}\n\n{text}" if said else text, markup)


@COURSES.on(cards.VIEW)
@public
async def view(update: Update, context: BotContext, course_id: int) -> None:
    await show_card(update, context, course_id)


@public
async def deep_link(update: Update, context: BotContext) -> None:
    """`/start course_<id>`: straight to the course card."""
    message = update.effective_message
    number = (message.text if message is not None and message.text else "").rsplit("_", 1)[-1]
    await show_card(update, context, int(number) if number.isdecimal() else 0)


# ---------------------------------------------------------------------------- sign-up and cancel


@COURSES.on(cards.JOIN)
@public
async def join(update: Update, context: BotContext, course_id: int) -> None:
    """One tap for a seat, or a place on the waiting list (its number is read with the card)."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.transaction() as session:
            result = await service.sign_up(session, course_id, user.id)
    except service.MembersOnly as exc:
        await _members_only(update, context, exc.details.get("association_id"))
        return
    except service.AlreadySignedUp:
        await show_card(update, context, course_id, note=_("You are already signed up for this course."))
        return
    except DomainError as exc:
        await show_card(update, context, course_id, note=cards.refusal(_, exc.reason))
        return
    if not result.waiting:
        note = _("Done! You have a seat. We will remind you the day before and an hour before the start.")
        await show_card(update, context, course_id, note=note)
        return

    def waiting(card: service.Card) -> str:
        return _(
            "The course is full, so you are on the waiting list: number {position}. "
            "If a seat frees up, it is yours automatically and we will tell you."
        ).format(position=fa_digits(card.position or "—"))

    await show_card(update, context, course_id, note=waiting)


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
    await answer(update, text, keyboard([[first], [button(_("All courses"), cards.LIST(0))]]), edit=False)


async def _ask_cancel(update: Update, context: BotContext, course_id: int, *, release: bool) -> None:
    _ = context.gettext
    try:
        async with context.reading() as session:
            course = await service.get_course(session, course_id)
    except NotFound:
        await answer(update, cards.refusal(_, "course"))
        return
    question = (
        _("Do you want to give back the seat in «{title}»? The next person waiting will get it.")
        if release
        else _("Do you want to cancel your sign-up for «{title}»?")
    ).format(title=esc(course.title))
    confirm = cards.RELEASE_OK if release else cards.CANCEL_OK
    rows = [
        [button(_("Yes, cancel it"), confirm(course_id))],
        [button(_("No, do not cancel"), cards.VIEW(course_id))],
    ]
    await answer(update, question, keyboard(rows))


@COURSES.on(cards.CANCEL)
@public
async def ask_cancel(update: Update, context: BotContext, course_id: int) -> None:
    """Ask before giving the place up."""
    await _ask_cancel(update, context, course_id, release=False)


@COURSES.on(cards.RELEASE)
@public
async def ask_release(update: Update, context: BotContext, course_id: int) -> None:
    """A promoted person gives the seat back: ask first."""
    await _ask_cancel(update, context, course_id, release=True)


async def _cancel(update: Update, context: BotContext, course_id: int, *, release: bool) -> None:
    """Give the place up; the next person waiting moves up and is told (through the outbox)."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.transaction() as session:
            result = await service.cancel(session, course_id, user.id, release=release)
            await tell_promoted(context, session, result.course, result.promoted)
    except DomainError as exc:
        await show_card(update, context, course_id, note=cards.refusal(_, exc.reason))
        return
    note = _("Your sign-up was cancelled.")
    if result.promoted:
        note += "\n" + _("Your seat went to the next person on the waiting list.")
    await show_card(update, context, course_id, note=note)


@COURSES.on(cards.CANCEL_OK)
@public
async def do_cancel(update: Update, context: BotContext, course_id: int) -> None:
    await _cancel(update, context, course_id, release=False)


@COURSES.on(cards.RELEASE_OK)
@public
async def do_release(update: Update, context: BotContext, course_id: int) -> None:
    await _cancel(update, context, course_id, release=True)


async def tell_promoted(
    context: BotContext, session: Any, course: service.Course, user_ids: list[int]
) -> None:
    """Queue «the seat is yours» for the people who moved up (inside the caller's transaction)."""
    if user_ids:
        text, markup = cards.promoted_notice(context.gettext, course, context.settings.timezone)
        await outbox.notify(session, user_ids, text, buttons=to_json(markup))


# ---------------------------------------------------------------------------- my courses, calendar


@COURSES.on(cards.MINE)
@public
async def mine(update: Update, context: BotContext) -> None:
    """/mycourses and «My courses»: seats and waiting places, each with cancel."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.reading() as session:
        found = await service.my_courses(session, user.id)
    lines = [_("<b>My courses</b>")]
    if not found:
        lines.append(_("You have not signed up for any upcoming course."))
    rows = []
    for course, registration, position in found:
        assert course.starts_at is not None
        state = cards.my_status(_, registration, position) or ""
        lines.append(f"• {esc(course.title)} — {cards.when(_, course, context.settings.timezone)}: {state}")
        rows.append(
            [
                button(truncate(course.title, 28), cards.VIEW(course.id)),
                button(_("Cancel"), cards.CANCEL(course.id)),
            ]
        )
    rows.append([button(_("All courses"), cards.LIST(0)), button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@COURSES.on(cards.CALENDAR)
@public
async def calendar_file(update: Update, context: BotContext, course_id: int) -> None:
    """The course as an .ics file for the phone's calendar."""
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    try:
        async with context.reading() as session:
            course = await service.get_course(session, course_id)
            name = await service.association_name(session, course.association_id)
    except NotFound:
        await alert(update, cards.refusal(_, "course"))
        return
    details = [course.teacher and _("Teacher: {teacher}").format(teacher=course.teacher), name or ""]
    details.append(course.description)
    data = course_ics(course, description="\n".join(d for d in details if d))
    if update.callback_query is not None:
        await update.callback_query.answer()
    await chat.send_document(
        InputFile(data, filename=f"course-{course.id}.ics"),
        caption=_("Open this file to add «{title}» to your calendar.").format(title=esc(course.title)),
    )


# ---------------------------------------------------------------------------- feedback

COMMENT_FORM = Form(
    name="fb",
    fields=(
        Field(
            "comment",
            N_("If you like, write a short comment about the course; or press «No comment»."),
            clean=feedback.clean_comment,
            skip=N_("No comment"),
            errors={
                "comment_too_long": N_(
                    "That comment is too long (at most 1,000 letters). Please shorten it."
                ),
                "comment_too_short": N_(
                    "That comment is too short. Write a few words, or press «No comment»."
                ),
                "text_expected": N_("Please write your comment as text, or press «No comment»."),
            },
        ),
    ),
    store=feedback.COMMENTS,
    submit=feedback.submit,
    auto_submit=True,
    counter=False,
    discard=False,
)


class CommentPresenter(Presenter):
    """The rating is thanked above the comment question; the ending thanks for what was given."""

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        rating = screen.draft.rating
        return [_("Thank you! Your rating: {rating} out of 5.").format(rating=fa_digits(rating or "—"))]

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        text = _("Thank you for your comment!") if result.comment else _("Thank you for your feedback!")
        return Reply(text, keyboard([[button(_("Main menu"), HOME)]]))

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(_("Thank you for your feedback!"), keyboard([[button(_("Main menu"), HOME)]]))


COMMENTS = FormConversation(COMMENT_FORM, CommentPresenter())


@COURSES.on(cards.RATE)
@public
async def rate(update: Update, context: BotContext, course_id: int, rating: int) -> object:
    """A rating button (from the question after the course): saved, then the optional comment."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.reading() as session:
        allowed = await feedback.may_rate(session, course_id, user.id)
    if not allowed:
        await alert(update, _("Only people who attended the course can rate it."))
        return None
    if rating not in feedback.RATINGS:
        await alert(update, _("Please choose a number from 1 to 5."))
        return None
    return await COMMENTS.enter(update, context, course_id=course_id, rating=rating)


# ---------------------------------------------------------------------------- reminders


async def queue_reminders(context: BotContext) -> None:
    """The repeating job: put whatever reminders are due into the outbox (idempotent)."""
    _ = context.gettext
    tz = context.settings.timezone
    async with context.transaction() as session:
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
    """The comment form, the deep link and the commands (the buttons go through the router)."""
    return [
        COMMENTS.handler(),
        CommandHandler("start", deep_link, filters=filters.Regex(r"^/start course_\d+$")),
        CommandHandler("courses", browse),
        CommandHandler("mycourses", mine),
    ]


FEATURE = Feature(
    name="courses",
    handlers=handlers,
    routes=[COURSES],
    commands=[Command("courses", N_("Training courses")), Command("mycourses", N_("My courses"))],
    menu=[MenuItem("courses", N_("Training courses"), 30, browse)],
    schedule=schedule,
)
