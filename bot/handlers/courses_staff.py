"""Staff run courses: their course list and card, close, cancel, lists as CSV, attendance and feedback.
Association staff manage only their association's courses. The create/edit form is courses_form."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, jalali_datetime
from bot.handlers import course_cards as cards
from bot.handlers import courses as public
from bot.handlers.common import answer, button, esc, keyboard
from bot.handlers.guards import staff_only
from bot.i18n import N_
from bot.services import course_admin as admin
from bot.services import courses as service
from bot.services import seats
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.outbox import create_broadcast, reachable
from bot.text import truncate
from db.models.courses import CANCELLED, CLOSED, OPEN, REGISTERED, WAITING

COMMANDS = [("managecourses", N_("Manage courses (staff)"))]
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer
ATTENDANCE_PAGE = 20

UNAVAILABLE = N_("This course can no longer be changed (it was cancelled or has been held).")
NOT_YOURS = N_("This course belongs to another association; you cannot manage it.")


def number(data: str | None, index: int = -1) -> int:
    try:
        return int((data or "").split(":")[index])
    except (ValueError, IndexError):
        return 0


async def refuse(update: Update, context: BotContext, exc: DomainError) -> None:
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
        courses = await admin.staff_courses(session, context.staff)
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
            course = await admin.staff_course(session, context.staff, course_id)
            name = await service.association_name(session, course.association_id)
            registered, waiting = await admin.counts(session, course_id)
    except DomainError as exc:
        await refuse(update, context, exc)
        return
    text = cards.card_text(_, course, name, context.settings.timezone)
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
    await staff_card(update, context, number(query.data if query else None))


# ---------------------------------------------------------------------------- running the course


async def _close(update: Update, context: BotContext) -> None:
    """`cadm:close:<id>` / `cadm:reopen:<id>`."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    course_id = number(query.data)
    status = CLOSED if query.data.startswith("cadm:close:") else OPEN
    try:
        await seats.run(
            context.bot_data.sessionmaker,
            lambda session: admin.set_status(session, context.staff, course_id, status),
        )
    except DomainError as exc:
        await refuse(update, context, exc)
        return
    note = _("Registration is closed.") if status == CLOSED else _("Registration is open again.")
    await staff_card(update, context, course_id, note=note)


async def _ask_cancel(update: Update, context: BotContext) -> None:
    """`cadm:cancel:<id>`: confirm first, it tells everyone."""
    _ = context.gettext
    query = update.callback_query
    course_id = number(query.data if query else None)
    try:
        async with context.session() as session:
            course = await admin.staff_course(session, context.staff, course_id)
    except DomainError as exc:
        await refuse(update, context, exc)
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
    course_id = number(query.data if query else None)
    tz = context.settings.timezone

    async def work(session: AsyncSession) -> list[int]:
        course, people = await admin.cancel_course(session, context.staff, course_id)
        text = "\n".join(
            [
                _("<b>The course «{title}» has been cancelled.</b>").format(title=esc(course.title)),
                _("It was planned for {when}. We are sorry for the change.").format(
                    when=cards.when(course, tz)
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
        await refuse(update, context, exc)
        return
    note = _("The course is cancelled; {count} people will be told.").format(count=fa_number(len(people)))
    await staff_card(update, context, course_id, note=note)


async def _csv(update: Update, context: BotContext) -> None:
    """`cadm:csv:<id>:registered|waiting`: the list as a CSV file (UTF-8 with BOM)."""
    _ = context.gettext
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.data is not None and chat is not None
    course_id = number(query.data, 2)
    which = WAITING if query.data.endswith(":waiting") else REGISTERED
    tz = context.settings.timezone
    try:
        async with context.session() as session:
            course = await admin.staff_course(session, context.staff, course_id)
            rows = await admin.participants(session, course_id, which)
    except DomainError as exc:
        await refuse(update, context, exc)
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
    for row_no, (registration, profile) in enumerate(rows, start=1):
        row: list[object] = [
            row_no,
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
    await chat.send_document(InputFile(admin.to_csv(header, table), filename=name), caption=caption)


async def _attendance(update: Update, context: BotContext) -> None:
    """`cadm:att:<id>:<page>`: participants as buttons; a press marks them present."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await _render_attendance(update, context, number(query.data, 2), number(query.data))


async def _render_attendance(update: Update, context: BotContext, course_id: int, page: int) -> None:
    _ = context.gettext
    try:
        async with context.session() as session:
            course = await admin.staff_course(session, context.staff, course_id)
            rows = await admin.participants(session, course_id, REGISTERED)
    except DomainError as exc:
        await refuse(update, context, exc)
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
            registration = await admin.toggle_attendance(session, context.staff, number(query.data, 2))
    except DomainError as exc:
        await refuse(update, context, exc)
        return
    await _render_attendance(update, context, registration.course_id, number(query.data))


async def _finish(update: Update, context: BotContext) -> None:
    """`cadm:finish:<id>`: the course was held; attendees get the feedback question."""
    _ = context.gettext
    query = update.callback_query
    course_id = number(query.data if query else None)
    try:
        async with context.session() as session, session.begin():
            course, attendees = await admin.finish(session, context.staff, course_id)
    except DomainError as exc:
        await refuse(update, context, exc)
        return
    question = "\n".join(
        [
            _("Thank you for attending «{title}».").format(title=esc(course.title)),
            _("How was it? Please rate it from 1 (poor) to 5 (excellent)."),
        ]
    )
    asked = await public.send_each(context, attendees, question, cards.rating_markup(_, course.id))
    note = _("The course is marked as held; {count} attendees were asked for feedback.").format(
        count=fa_number(asked)
    )
    await staff_card(update, context, course_id, note=note)


async def _results(update: Update, context: BotContext) -> None:
    """`cadm:results:<id>`: ratings and comments."""
    _ = context.gettext
    query = update.callback_query
    course_id = number(query.data if query else None)
    try:
        async with context.session() as session:
            course = await admin.staff_course(session, context.staff, course_id)
            result = await admin.feedback(session, course_id)
    except DomainError as exc:
        await refuse(update, context, exc)
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

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

# Plain staff buttons: (pattern, callback). All guarded; the form also leaves itself through them.
BUTTONS: list[tuple[str, Callback]] = [
    (r"^cadm:list$", _manage),
    (r"^cadm:view:\d+$", _view),
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
    """/managecourses and the staff buttons (the form is in courses_form, registered before this)."""
    return [
        CommandHandler("managecourses", staff_only(_manage)),
        *[CallbackQueryHandler(staff_only(cb), pattern=p) for p, cb in BUTTONS],
    ]
