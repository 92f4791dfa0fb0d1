"""Staff run courses: create (a form with Jalali dates), edit, close, cancel, export lists as CSV,
mark attendance and read feedback. Association staff manage only their association's courses."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, jalali_datetime
from bot.handlers import courses as public
from bot.handlers.common import END, answer, button, conversation, esc, keyboard
from bot.handlers.guards import staff_only
from bot.i18n import N_, Gettext
from bot.services import courses as service
from bot.services import seats
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.outbox import create_broadcast, reachable
from bot.text import truncate
from db.models import Course
from db.models.courses import CANCELLED, CLOSED, OPEN, REGISTERED, WAITING

COMMANDS = [("managecourses", N_("Manage courses (staff)"))]
TEXT = filters.TEXT & ~filters.COMMAND
STATES = {name: f"course_staff:{name}" for name in service.FIELDS}
REVIEW = "course_staff:review"
ATTENDANCE_PAGE = 20

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
UNAVAILABLE = N_("This course can no longer be changed (it was cancelled or has been held).")
NOT_YOURS = N_("This course belongs to another association; you cannot manage it.")


def _number(data: str | None, index: int = -1) -> int:
    try:
        return int((data or "").split(":")[index])
    except (ValueError, IndexError):
        return 0


async def _refuse(update: Update, context: BotContext, exc: DomainError) -> None:
    _ = context.gettext
    if isinstance(exc, NotAllowed):
        text = _(NOT_YOURS)
    elif isinstance(exc, NotFound):
        text = _(public.REFUSALS["course"])
    else:
        text = _(UNAVAILABLE)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await answer(update, text)


# ---------------------------------------------------------------------------- list and card


async def _manage(update: Update, context: BotContext) -> None:
    """/managecourses and `cadm:list`: the courses this staff member runs."""
    _ = context.gettext
    tz = context.settings.timezone
    async with context.session() as session:
        courses = await service.staff_courses(session, context.staff)
    lines = [_("<b>Courses you manage</b>")]
    if not courses:
        lines.append(_("There are no courses yet. Create one with the button below."))
    rows: list[list[InlineKeyboardButton]] = []
    for course in courses:
        date = jalali_datetime(course.starts_at, tz) if course.starts_at else "—"
        lines.append(
            _("• {title} — {date} — {taken} of {capacity}").format(
                title=esc(course.title),
                date=date,
                taken=fa_number(course.taken),
                capacity=fa_number(course.capacity),
            )
        )
        rows.append([button(truncate(course.title, 40), f"cadm:view:{course.id}")])
    rows.append([button(_("New course"), "cadm:new")])
    await answer(update, "\n".join(lines), keyboard(rows))


async def staff_card(update: Update, context: BotContext, course_id: int, note: str = "") -> None:
    """The course as staff see it, with what they can do."""
    _ = context.gettext
    try:
        async with context.session() as session:
            course = await service.staff_course(session, context.staff, course_id)
            name = await service.association_name(session, course.association_id)
            registered, waiting = await service.counts(session, course_id)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    text = public.card_text(_, course, name, context.settings.timezone)
    text += "\n\n" + _("Registered: {registered} — waiting: {waiting}").format(
        registered=fa_number(registered), waiting=fa_number(waiting)
    )
    if note:
        text = f"{note}\n\n{text}"
    cid = course.id
    rows: list[list[InlineKeyboardButton]] = []
    if course.status in (OPEN, CLOSED):
        rows.append([button(_("Edit"), f"cadm:editmenu:{cid}")])
        toggle = (
            button(_("Close registration"), f"cadm:close:{cid}")
            if course.status == OPEN
            else button(_("Reopen registration"), f"cadm:reopen:{cid}")
        )
        rows.append([toggle, button(_("Cancel the course"), f"cadm:cancel:{cid}")])
    rows.append(
        [
            button(_("Participants (CSV)"), f"cadm:csv:{cid}:registered"),
            button(_("Waiting list (CSV)"), f"cadm:csv:{cid}:waiting"),
        ]
    )
    if course.status != CANCELLED:
        rows.append([button(_("Attendance"), f"cadm:att:{cid}:0")])
    if course.status in (OPEN, CLOSED):
        rows.append([button(_("Mark as held and ask for feedback"), f"cadm:finish:{cid}")])
    rows.append([button(_("Feedback results"), f"cadm:results:{cid}")])
    rows.append([button(_("All my courses"), "cadm:list")])
    await answer(update, text, keyboard(rows))


async def _view(update: Update, context: BotContext) -> None:
    """`cadm:view:<id>`."""
    query = update.callback_query
    await staff_card(update, context, _number(query.data if query else None))


# ---------------------------------------------------------------------------- the form


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
        + public.card_text(_, course, name, context.settings.timezone)
    )
    rows = [[button(_("Publish"), "cadm:publish")]]
    rows += _edit_rows(_, course.id)
    await answer(update, text, keyboard(rows), edit=False)
    return REVIEW


def _edit_rows(_: Gettext, course_id: int) -> list[list[InlineKeyboardButton]]:
    edits = [
        button(_("Edit {field}").format(field=_(LABELS[f])), f"cadm:edit:{course_id}:{f}")
        for f in service.FIELDS
    ]
    return [edits[i : i + 2] for i in range(0, len(edits), 2)]


async def _after_answer(update: Update, context: BotContext, course: Course, creating: bool) -> str | int:
    if not creating:
        async with context.session() as session, session.begin():
            await service.stop_editing(session, context.staff.user_id)
        await staff_card(update, context, course.id, note=context.gettext("Saved."))
        return END
    missing = service.next_missing(course)
    if missing is None:
        return await review(update, context, course)
    return await ask(update, context, missing)


async def _new(update: Update, context: BotContext) -> str | int:
    """`cadm:new`: pick the association (or go straight on when there is only one choice)."""
    _ = context.gettext
    async with context.session() as session:
        associations = await service.associations_for(session, context.staff)
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
    return await _draft(update, context, _number(query.data if query else None))


async def _draft(update: Update, context: BotContext, association_id: int) -> str | int:
    try:
        async with context.session() as session, session.begin():
            course = await service.start_draft(session, context.staff, association_id or None)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return END
    return await _after_answer(update, context, course, creating=True)


def _text_step(name: str) -> Callable[[Update, BotContext], Coroutine[Any, Any, str | int | None]]:
    async def step(update: Update, context: BotContext) -> str | int:
        _ = context.gettext
        message = update.effective_message
        assert message is not None and message.text is not None
        text = message.text

        async def work(session: AsyncSession) -> tuple[Course, list[int], bool] | None:
            pointer = await service.editing(session, context.staff.user_id)
            if pointer is None:
                return None
            course, promoted = await service.save_answer(
                session, context.staff, pointer[1].id, name, text, tz=context.settings.timezone
            )
            return course, promoted, pointer[0].creating

        try:
            # A capacity change moves seats, so it runs as a seat transaction.
            saved = await seats.run(context.bot_data.sessionmaker, work)
        except service.InvalidAnswer as exc:
            error = _(ERRORS.get(exc.reason, ERRORS["incomplete"])).format(
                taken=fa_number(int(str(exc.details.get("taken", 0))))
            )
            await answer(update, error)
            return STATES[name]
        except DomainError as exc:
            await _refuse(update, context, exc)
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
            pointer = await service.editing(session, context.staff.user_id)
            if pointer is None:
                await query.answer()
                return END
            course = await service.set_members_only(
                session, context.staff, pointer[1].id, query.data == "cadm:members:1"
            )
            creating = pointer[0].creating
    except DomainError as exc:
        await _refuse(update, context, exc)
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
            await service.start_edit(session, context.staff, _number(query.data, 2))
    except DomainError as exc:
        await _refuse(update, context, exc)
        return END
    return await ask(update, context, name)


async def _edit_menu(update: Update, context: BotContext) -> None:
    """`cadm:editmenu:<id>`: which answer to change."""
    _ = context.gettext
    query = update.callback_query
    course_id = _number(query.data if query else None)
    try:
        async with context.session() as session:
            course = await service.staff_course(session, context.staff, course_id)
    except DomainError as exc:
        await _refuse(update, context, exc)
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
            pointer = await service.editing(session, context.staff.user_id)
            if pointer is None:
                await query.answer()
                return END
            course = await service.publish(session, context.staff, pointer[1].id)
    except service.InvalidAnswer as exc:
        return await ask(update, context, str(exc.details.get("field", "title")))
    except DomainError as exc:
        await _refuse(update, context, exc)
        return END
    username = context.bot.username
    link = f"https://t.me/{username}?start=course_{course.id}" if username else ""
    note = _("The course is published.")
    if link:
        note += "\n" + _("Link to share: {link}").format(link=esc(link))
    await staff_card(update, context, course.id, note=note)
    return END


async def _wrong_kind(update: Update, context: BotContext) -> None:
    """Not text where an answer was expected."""
    _ = context.gettext
    await answer(update, _("Please answer with a text message, or send /cancel to stop."))


# ---------------------------------------------------------------------------- running the course


async def _close(update: Update, context: BotContext) -> None:
    """`cadm:close:<id>` / `cadm:reopen:<id>`."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    course_id = _number(query.data)
    status = CLOSED if query.data.startswith("cadm:close:") else OPEN
    try:
        await seats.run(
            context.bot_data.sessionmaker,
            lambda session: service.set_status(session, context.staff, course_id, status),
        )
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    note = _("Registration is closed.") if status == CLOSED else _("Registration is open again.")
    await staff_card(update, context, course_id, note=note)


async def _ask_cancel(update: Update, context: BotContext) -> None:
    """`cadm:cancel:<id>`: confirm first, it tells everyone."""
    _ = context.gettext
    query = update.callback_query
    course_id = _number(query.data if query else None)
    try:
        async with context.session() as session:
            course = await service.staff_course(session, context.staff, course_id)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    text = _(
        "Cancel «{title}»? Everyone who signed up or is waiting will be told. This cannot be undone."
    ).format(title=esc(course.title))
    rows = [
        [button(_("Yes, cancel the course"), f"cadm:cancelok:{course_id}")],
        [button(_("No"), f"cadm:view:{course_id}")],
    ]
    await answer(update, text, keyboard(rows))


async def _cancel(update: Update, context: BotContext) -> None:
    """`cadm:cancelok:<id>`: cancel, and queue a notice to every registrant in the outbox."""
    _ = context.gettext
    query = update.callback_query
    course_id = _number(query.data if query else None)
    tz = context.settings.timezone

    async def work(session: AsyncSession) -> list[int]:
        course, people = await service.cancel_course(session, context.staff, course_id)
        text = "\n".join(
            [
                _("<b>The course «{title}» has been cancelled.</b>").format(title=esc(course.title)),
                _("It was planned for {when}. We are sorry for the change.").format(
                    when=public.when(course, tz)
                ),
            ]
        )
        # Through the outbox: a course may have hundreds of registrants, and the sender paces
        # itself under Telegram's limits and survives a restart half-way.
        await create_broadcast(
            session,
            kind="announcement",
            text=text,
            recipients=await reachable(session, people),
            created_by=context.staff.user_id,
            association_id=course.association_id,
            audience=f"course:{course.id}",
            dedupe_key=f"course:{course.id}:cancelled",
        )
        return people

    try:
        people = await seats.run(context.bot_data.sessionmaker, work)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    note = _("The course is cancelled; {count} people will be told.").format(count=fa_number(len(people)))
    await staff_card(update, context, course_id, note=note)


async def _csv(update: Update, context: BotContext) -> None:
    """`cadm:csv:<id>:registered|waiting`: the list as a CSV file (UTF-8 with BOM)."""
    _ = context.gettext
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.data is not None and chat is not None
    course_id = _number(query.data, 2)
    which = WAITING if query.data.endswith(":waiting") else REGISTERED
    tz = context.settings.timezone
    try:
        async with context.session() as session:
            course = await service.staff_course(session, context.staff, course_id)
            rows = await service.participants(session, course_id, which)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    header = [
        _("Row"),
        _("Full name"),
        _("Mobile"),
        _("National ID"),
        _("City"),
        _("Telegram ID"),
        _("Signed up"),
    ]
    if which == REGISTERED:
        header.append(_("Attended"))
    table: list[list[object]] = []
    for number, (registration, profile) in enumerate(rows, start=1):
        row: list[object] = [
            number,
            profile.full_name if profile and profile.full_name else "",
            profile.mobile if profile and profile.mobile else "",
            profile.national_id if profile and profile.national_id else "",
            profile.city if profile and profile.city else "",
            registration.user_id,
            jalali_datetime(registration.created_at, tz),
        ]
        if which == REGISTERED:
            row.append(_("yes") if registration.attended else _("no"))
        table.append(row)
    name = f"course-{course.id}-{'participants' if which == REGISTERED else 'waiting'}.csv"
    caption = (
        _("Participants of «{title}»: {count}")
        if which == REGISTERED
        else _("Waiting list of «{title}», in order: {count}")
    ).format(title=esc(course.title), count=fa_number(len(table)))
    await query.answer()
    await chat.send_document(InputFile(service.to_csv(header, table), filename=name), caption=caption)


async def _attendance(update: Update, context: BotContext) -> None:
    """`cadm:att:<id>:<page>`: participants as buttons; a press marks them present."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await _render_attendance(update, context, _number(query.data, 2), _number(query.data))


async def _render_attendance(update: Update, context: BotContext, course_id: int, page: int) -> None:
    _ = context.gettext
    try:
        async with context.session() as session:
            course = await service.staff_course(session, context.staff, course_id)
            rows = await service.participants(session, course_id, REGISTERED)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    present = sum(1 for registration, _profile in rows if registration.attended)
    text = "\n".join(
        [
            _("<b>Attendance: {title}</b>").format(title=esc(course.title)),
            _("Press a name to mark them present (press again to undo)."),
            _("Present: {present} of {total}").format(present=fa_number(present), total=fa_number(len(rows))),
        ]
    )
    start = page * ATTENDANCE_PAGE
    buttons: list[list[InlineKeyboardButton]] = []
    for registration, profile in rows[start : start + ATTENDANCE_PAGE]:
        name = profile.full_name if profile and profile.full_name else fa_digits(registration.user_id)
        mark = "✅" if registration.attended else "⬜️"
        buttons.append([button(f"{mark} {truncate(name, 40)}", f"cadm:mark:{registration.id}:{page}")])
    pager = []
    if page > 0:
        pager.append(button(_("Previous"), f"cadm:att:{course_id}:{page - 1}"))
    if start + ATTENDANCE_PAGE < len(rows):
        pager.append(button(_("Next"), f"cadm:att:{course_id}:{page + 1}"))
    buttons.append(pager)
    buttons.append([button(_("Back"), f"cadm:view:{course_id}")])
    await answer(update, text, keyboard(buttons))


async def _mark(update: Update, context: BotContext) -> None:
    """`cadm:mark:<registration id>:<page>`."""
    query = update.callback_query
    assert query is not None and query.data is not None
    try:
        async with context.session() as session, session.begin():
            registration = await service.toggle_attendance(session, context.staff, _number(query.data, 2))
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    await _render_attendance(update, context, registration.course_id, _number(query.data))


async def _finish(update: Update, context: BotContext) -> None:
    """`cadm:finish:<id>`: the course was held; attendees get the feedback question."""
    _ = context.gettext
    query = update.callback_query
    course_id = _number(query.data if query else None)
    try:
        async with context.session() as session, session.begin():
            course, attendees = await service.finish(session, context.staff, course_id)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    question = "\n".join(
        [
            _("Thank you for attending «{title}».").format(title=esc(course.title)),
            _("How was it? Please rate it from 1 (poor) to 5 (excellent)."),
        ]
    )
    asked = await public.send_each(context, attendees, question, public.rating_markup(_, course.id))
    note = _("The course is marked as held; {count} attendees were asked for feedback.").format(
        count=fa_number(asked)
    )
    await staff_card(update, context, course_id, note=note)


async def _results(update: Update, context: BotContext) -> None:
    """`cadm:results:<id>`: ratings and comments."""
    _ = context.gettext
    query = update.callback_query
    course_id = _number(query.data if query else None)
    try:
        async with context.session() as session:
            course = await service.staff_course(session, context.staff, course_id)
            result = await service.feedback(session, course_id)
    except DomainError as exc:
        await _refuse(update, context, exc)
        return
    lines = [_("<b>Feedback: {title}</b>").format(title=esc(course.title))]
    lines.append(
        _("Attended: {attended} — answered: {answers}").format(
            attended=fa_number(result.attended), answers=fa_number(result.answers)
        )
    )
    if result.average is not None:
        average = fa_digits(f"{result.average:.1f}").replace(".", "٫")
        lines.append(_("Average rating: {average} out of 5").format(average=average))
        for stars, count in result.counts.items():
            lines.append(f"{fa_digits(stars)}: {fa_number(count)}")
    else:
        lines.append(_("No ratings yet."))
    if result.comments:
        lines.append("")
        lines.append(_("Comments:"))
        lines += [f"• {esc(truncate(c, 300))}" for c in result.comments[:30]]
    await answer(update, "\n".join(lines), keyboard([[button(_("Back"), f"cadm:view:{course_id}")]]))


# ---------------------------------------------------------------------------- registration


def _ending(
    callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]],
) -> Callable[[Update, BotContext], Coroutine[Any, Any, int]]:
    """The same callback, leaving the form (a staff button pressed in the middle of it)."""

    async def run(update: Update, context: BotContext) -> int:
        await callback(update, context)
        return END

    run.__name__ = getattr(callback, "__name__", "run") + "_ending"
    return run


# Plain staff buttons: (pattern, callback). All guarded; also form fallbacks that leave the form.
BUTTONS: list[tuple[str, Callable[[Update, BotContext], Coroutine[Any, Any, None]]]] = [
    (r"^cadm:list$", _manage),
    (r"^cadm:view:\d+$", _view),
    (r"^cadm:editmenu:\d+$", _edit_menu),
    (r"^cadm:(close|reopen):\d+$", _close),
    (r"^cadm:cancel:\d+$", _ask_cancel),
    (r"^cadm:cancelok:\d+$", _cancel),
    (r"^cadm:csv:\d+:(registered|waiting)$", _csv),
    (r"^cadm:att:\d+:\d+$", _attendance),
    (r"^cadm:mark:\d+:\d+$", _mark),
    (r"^cadm:finish:\d+$", _finish),
    (r"^cadm:results:\d+$", _results),
]


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The course form (a conversation), /managecourses and the staff buttons."""
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, staff_only(_wrong_kind))
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        STATES[name]: [MessageHandler(TEXT, _text_step(name)), other] for name in service.TEXT_FIELDS
    }
    members = CallbackQueryHandler(staff_only(_members), pattern=r"^cadm:members:[01]$")
    publish = CallbackQueryHandler(staff_only(_publish), pattern=r"^cadm:publish$")
    states[STATES["members_only"]] = [members]
    states[REVIEW] = [publish]
    edit = CallbackQueryHandler(staff_only(_edit), pattern=r"^cadm:edit:\d+:\w+$")
    new = CallbackQueryHandler(staff_only(_new), pattern=r"^cadm:new$")
    new_for = CallbackQueryHandler(staff_only(_new_for), pattern=r"^cadm:newfor:\d+$")
    leave = [CallbackQueryHandler(staff_only(_ending(cb)), pattern=p) for p, cb in BUTTONS]
    return [
        conversation(
            "course_staff",
            # The draft being filled in is in the database, so its buttons work even after /cancel.
            entry_points=[new, new_for, edit, members, publish],
            states=states,
            fallbacks=[new, new_for, edit, *leave],
        ),
        CommandHandler("managecourses", staff_only(_manage)),
        *[CallbackQueryHandler(staff_only(cb), pattern=p) for p, cb in BUTTONS],
    ]
