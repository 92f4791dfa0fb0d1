"""Courses for members and visitors: upcoming list, course card, sign-up, waiting list, my courses,
calendar file, and the feedback after a course (a rating button, then an optional comment: a
one-question form). Also the reminder job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Update

from bot.context import BotApplication, BotContext
from bot.formatting import fa_digits
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Presenter, Reply
from bot.forms.spec import Field, short_form
from bot.handlers import course_cards as cards
from bot.handlers.course_cards import COURSES
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature, start_link
from bot.kit.guards import public
from bot.kit.markup import button, keyboard, to_json
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import alert, answer, esc, send_file, sender
from bot.services import course_feedback as feedback
from bot.services import courses as service
from bot.services import outbox, reminders
from bot.services.calendar_ics import course_ics
from bot.services.courses import REGISTERED
from bot.services.errors import DomainError, NotFound
from bot.text import truncate

log = logging.getLogger(__name__)

PAGE = 8
REMINDER_INTERVAL = timedelta(minutes=1)
REMINDER_JOB = "courses:reminders"


# ---------------------------------------------------------------------------- list and card


@COURSES.on(cards.LIST)
@COURSES.on(cards.ASSOCIATION_PAGE)
@public
async def listing(
    update: Update, context: BotContext, page: int = 0, association_id: int | None = None
) -> None:
    """«Training courses», /courses and their pages: the upcoming courses (of one association)."""
    _ = context.gettext
    async with context.reading() as session:
        found, total, name = await service.upcoming(
            session, association_id=association_id, limit=PAGE, offset=page * PAGE
        )
    if association_id is None:
        lines = [_("<b>Upcoming training courses</b>")]
    else:
        lines = [_("<b>Upcoming courses of {association}</b>").format(association=esc(name or "—"))]
    lines += [cards.list_line(_, course, context.settings.timezone) for course in found]
    if not found:
        lines.append(_("There are no upcoming courses right now. Please check again later."))
    rows = [[button(truncate(course.title, 40), cards.VIEW(course.id))] for course in found]
    pages = [
        cards.LIST(p) if association_id is None else cards.ASSOCIATION_PAGE(p, association_id)
        for p in (page - 1, page + 1)
    ]
    rows.append(cards.pager(_, page, (page + 1) * PAGE < total, *pages))
    rows.append([button(_("My courses"), cards.MINE()), button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@COURSES.on(cards.ASSOCIATION)
@public
async def association_courses(update: Update, context: BotContext, association_id: int) -> None:
    """From an association's card: its upcoming courses."""
    await listing(update, context, 0, association_id)


async def show_card(
    update: Update, context: BotContext, course_id: int, note: str | Callable[[service.Card], str] = ""
) -> None:
    """The course card, with what the user can do next (and a note above it: what just happened)."""
    _ = context.gettext
    try:
        card = await context.read(service.card, course_id, sender(update))
    except NotFound:
        await answer(
            update, cards.refusal(_, "course"), keyboard([[button(_("All courses"), cards.LIST(0))]])
        )
        return
    tz = context.settings.timezone
    text = cards.card_text(_, card.course, card.association, tz, card.registration, card.position)
    said = note(card) if callable(note) else note
    markup = cards.card_markup(_, card.course, card.registration, can_join=card.can_join)
    await answer(update, f"{said}\n\n{text}" if said else text, markup)


@COURSES.on(cards.VIEW)
@public
async def view(update: Update, context: BotContext, course_id: int) -> None:
    await show_card(update, context, course_id)


@public
async def deep_link(update: Update, context: BotContext) -> None:
    """`/start course_<id>`: straight to the course card."""
    number = (update.effective_message.text or "" if update.effective_message else "").rsplit("_", 1)[-1]
    await show_card(update, context, int(number) if number.isdecimal() else 0)


# ---------------------------------------------------------------------------- sign-up and cancel


@COURSES.on(cards.JOIN)
@public
async def join(update: Update, context: BotContext, course_id: int) -> None:
    """One tap for a seat, or a place on the waiting list (its number is read with the card)."""
    _ = context.gettext
    assert update.effective_user is not None
    try:
        result = await context.write(service.sign_up, course_id, update.effective_user.id)
    except service.MembersOnly as exc:
        await _members_only(update, context, exc.details.get("association_id"))
        return
    except service.AlreadySignedUp:
        await show_card(update, context, course_id, _("You are already signed up for this course."))
        return
    except DomainError as exc:
        await show_card(update, context, course_id, cards.refusal(_, exc.reason))
        return
    if not result.waiting:
        note = _("Done! You have a seat. We will remind you the day before and an hour before the start.")
        await show_card(update, context, course_id, note)
        return
    waiting = _(
        "The course is full, so you are on the waiting list: number {position}. "
        "If a seat frees up, it is yours automatically and we will tell you."
    )
    await show_card(
        update, context, course_id, lambda card: waiting.format(position=fa_digits(card.position or "—"))
    )


async def _members_only(update: Update, context: BotContext, association_id: object) -> None:
    _ = context.gettext
    text = (
        _("This course is only for members.")
        + "\n"
        + _(
            "To become a member, send a membership application from the button below. "
            "A university degree is not needed unless the association's own rules ask for it."
        )
    )
    if isinstance(association_id, int):
        first = button(_("Apply for membership"), f"apply:start:{association_id}")
    else:
        first = button(_("Associations"), "menu:associations")
    await answer(update, text, keyboard([[first], [button(_("All courses"), cards.LIST(0))]]), edit=False)


@COURSES.on(cards.CANCEL)
@COURSES.on(cards.RELEASE)
@public
async def ask_cancel(update: Update, context: BotContext, course_id: int) -> None:
    """Ask before giving the place up (a promoted person giving the seat back: «release»)."""
    _ = context.gettext
    release = cards.pressed(update, cards.RELEASE)
    try:
        course = await context.read(service.get_course, course_id)
    except NotFound:
        await answer(update, cards.refusal(_, "course"))
        return
    question = (
        _("Do you want to give back the seat in «{title}»? The next person waiting will get it.")
        if release
        else _("Do you want to cancel your sign-up for «{title}»?")
    ).format(title=esc(course.title))
    confirm = (cards.RELEASE_OK if release else cards.CANCEL_OK)(course_id)
    rows = [[button(_("Yes, cancel it"), confirm)], [button(_("No, do not cancel"), cards.VIEW(course_id))]]
    await answer(update, question, keyboard(rows))


@COURSES.on(cards.CANCEL_OK)
@COURSES.on(cards.RELEASE_OK)
@public
async def cancel(update: Update, context: BotContext, course_id: int) -> None:
    """Give the place up; the next person waiting moves up and is told (through the outbox)."""
    _ = context.gettext
    assert update.effective_user is not None
    release = cards.pressed(update, cards.RELEASE_OK)
    try:
        async with context.transaction() as session:
            result = await service.cancel(session, course_id, update.effective_user.id, release=release)
            if result.promoted:
                text, markup = cards.promoted_notice(_, result.course, context.settings.timezone)
                await outbox.notify(session, result.promoted, text, buttons=to_json(markup))
    except DomainError as exc:
        await show_card(update, context, course_id, cards.refusal(_, exc.reason))
        return
    note = _("Your sign-up was cancelled.")
    if result.promoted:
        note += "\n" + _("Your seat went to the next person on the waiting list.")
    await show_card(update, context, course_id, note)


# ---------------------------------------------------------------------------- my courses, calendar


@COURSES.on(cards.MINE)
@public
async def mine(update: Update, context: BotContext) -> None:
    """/mycourses and «My courses»: seats and waiting places, each with cancel."""
    _ = context.gettext
    assert update.effective_user is not None
    found = await context.read(service.my_courses, update.effective_user.id)
    lines = [_("<b>My courses</b>")]
    if not found:
        lines.append(_("You have not signed up for any upcoming course."))
    rows = []
    for course, registration, position in found:
        state = cards.my_status(_, registration, position) or ""
        lines.append(f"• {esc(course.title)} — {cards.when(_, course, context.settings.timezone)}: {state}")
        cancel_button = button(_("Cancel"), cards.CANCEL(course.id))
        rows.append([button(truncate(course.title, 28), cards.VIEW(course.id)), cancel_button])
        if registration.status == REGISTERED:
            rows.append(
                [
                    button(
                        _("🎫 Ticket: {title}").format(title=truncate(course.title, 24)),
                        cards.TICKET(course.id),
                    )
                ]
            )
    rows.append([button(_("All courses"), cards.LIST(0)), button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@COURSES.on(cards.CALENDAR)
@public
async def calendar_file(update: Update, context: BotContext, course_id: int) -> None:
    """The course as an .ics file for the phone's calendar."""
    _ = context.gettext
    try:
        async with context.reading() as session:
            course = await service.get_course(session, course_id)
            name = await service.association_name(session, course.association_id)
    except NotFound:
        await alert(update, cards.refusal(_, "course"))
        return
    teacher = _("Teacher: {teacher}").format(teacher=course.teacher) if course.teacher else ""
    data = course_ics(course, description="\n".join(d for d in (teacher, name, course.description) if d))
    caption = _("Open this file to add «{title}» to your calendar.").format(title=esc(course.title))
    await send_file(update, data, f"course-{course.id}.ics", caption)


# ---------------------------------------------------------------------------- feedback

COMMENT_FORM = short_form(
    name="fb",
    fields=(
        Field(
            "comment",
            N_("If you like, write a short comment about the course; or press «No comment»."),
            clean=feedback.clean_comment,
            skip=N_("No comment"),
            errors={
                "too_long": N_("That comment is too long (at most 1,000 letters). Please shorten it."),
                "too_short": N_("That comment is too short. Write a few words, or press «No comment»."),
                "text_expected": N_("Please write your comment as text, or press «No comment»."),
            },
        ),
    ),
    store=feedback.COMMENTS,
    submit=feedback.submit,
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
    allowed = await context.read(feedback.may_rate, course_id, sender(update))
    if not allowed or rating not in feedback.RATINGS:
        await alert(update, _("Only people who attended the course can rate it."))
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


FEATURE = Feature(
    name="courses",
    conversations=[COMMENTS],
    handlers=lambda: [start_link("course_", deep_link)],
    routes=[COURSES],
    commands=[
        Command("courses", N_("Training courses"), callback=listing),
        Command("mycourses", N_("My courses"), listed=False, callback=mine),
    ],
    menu=[MenuItem("courses", N_("Training courses"), 30, listing)],
    schedule=schedule,
)
