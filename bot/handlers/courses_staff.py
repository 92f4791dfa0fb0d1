"""Staff run courses: their course list and card, close, cancel, lists as CSV, attendance and feedback.
Association staff manage only their association's courses. The create/edit form is courses_form."""

from __future__ import annotations

from telegram import InlineKeyboardButton, Update

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, jalali_when
from bot.handlers import course_cards as cards
from bot.handlers.course_cards import STAFF
from bot.i18n import N_
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, keyboard, to_json
from bot.kit.menu import MenuItem
from bot.kit.reply import answer, esc, send_file
from bot.services import course_admin as admin
from bot.services import outbox
from bot.services.courses import CLOSED, OPEN, REGISTERED, WAITING
from bot.text import truncate
from bot.views import course_documents as views

ATTENDANCE_PAGE = 20
CSV_HEADER = (
    N_("Row"),
    N_("Full name"),
    N_("Mobile"),
    N_("National ID"),
    N_("City"),
    N_("Telegram ID"),
    N_("Signed up"),
    N_("Attended"),  # participants only, with the next two
    N_("Rating"),
    N_("Comment"),
)
PARTICIPANTS_ONLY = 3


@staff_only
async def manage(update: Update, context: BotContext) -> None:
    """/managecourses, the staff menu and «All my courses»: the courses this staff member runs."""
    _ = context.gettext
    courses = await context.read(admin.staff_courses, context.staff)
    lines = [_("<b>Courses you manage</b>")]
    if not courses:
        lines.append(_("There are no courses yet. Create one with the button below."))
    for course in courses:
        lines.append(
            _("• {title} — {date} — {taken} of {capacity}").format(
                title=esc(course.title),
                date=jalali_when(course.starts_at, context.settings.timezone) if course.starts_at else "—",
                taken=fa_number(course.taken),
                capacity=fa_number(course.capacity),
            )
        )
    rows = [[button(truncate(course.title, 40), cards.STAFF_VIEW(course.id))] for course in courses]
    rows.append([button(_("New course"), cards.NEW())])
    await answer(update, "\n".join(lines), keyboard(rows))


STAFF.on(cards.MANAGE)(manage)


async def show(update: Update, context: BotContext, course_id: int, note: str = "") -> None:
    """The course as staff see it, with what they can do."""
    _ = context.gettext
    card = await context.read(admin.staff_card, context.staff, course_id)
    text = cards.staff_card_text(_, card, context.settings.timezone, [note] if note else [])
    await answer(update, text, cards.staff_card_markup(_, card.course))


@cards.staff_button(cards.STAFF_VIEW)
async def view(update: Update, context: BotContext, course_id: int) -> None:
    await show(update, context, course_id)


# ---------------------------------------------------------------------------- running the course


@cards.staff_button(cards.CLOSE, cards.REOPEN)
async def close_or_reopen(update: Update, context: BotContext, course_id: int) -> None:
    """Close registration (no new sign-ups; the waiting list still moves up), or open it again."""
    _ = context.gettext
    status = CLOSED if cards.pressed(update, cards.CLOSE) else OPEN
    async with context.transaction() as session:
        await admin.set_status(session, context.staff, course_id, status)
    note = _("Registration is closed.") if status == CLOSED else _("Registration is open again.")
    await show(update, context, course_id, note)


@cards.staff_button(cards.STAFF_CANCEL)
async def ask_cancel(update: Update, context: BotContext, course_id: int) -> None:
    """Confirm first: cancelling tells everyone."""
    _ = context.gettext
    course = await cards.staff_course(context, course_id)
    text = _(
        "Cancel «{title}»? Everyone who signed up or is waiting will be told. This cannot be undone."
    ).format(title=esc(course.title))
    rows = [
        [button(_("Yes, cancel the course"), cards.STAFF_CANCEL_OK(course_id))],
        [button(_("No, back to the course"), cards.STAFF_VIEW(course_id))],
    ]
    await answer(update, text, keyboard(rows))


@cards.staff_button(cards.STAFF_CANCEL_OK)
async def cancel(update: Update, context: BotContext, course_id: int) -> None:
    """Cancel, and queue a notice to every registrant in the outbox (once, whatever is pressed again)."""
    _ = context.gettext
    async with context.transaction() as session:
        course, people = await admin.cancel_course(session, context.staff, course_id)
        # A course may have hundreds of registrants: the sender paces itself under Telegram's
        # limits and survives a restart half-way; the dedupe key makes a second press harmless.
        await outbox.create_broadcast(
            session,
            kind="announcement",
            text=cards.cancelled_text(_, course, context.settings.timezone),
            recipients=await outbox.reachable(session, people),
            created_by=context.staff.user_id,
            association_id=course.association_id,
            audience=f"course:{course.id}",
            dedupe_key=f"course:{course.id}:cancelled",
        )
    note = _("The course is cancelled; {count} people will be told.").format(count=fa_number(len(people)))
    await show(update, context, course_id, note)


@cards.staff_button(cards.CSV)
async def csv_file(update: Update, context: BotContext, course_id: int, which: str) -> None:
    """The participants or the waiting list (in order) as a CSV file (UTF-8 with BOM)."""
    _ = context.gettext
    status = WAITING if which == "waiting" else REGISTERED
    async with context.reading() as session:
        course = await admin.staff_course(session, context.staff, course_id)
        table = await admin.participants_table(session, course_id, status, context.settings.timezone)
    header = [
        _(title) for title in CSV_HEADER[: len(CSV_HEADER) if status == REGISTERED else -PARTICIPANTS_ONLY]
    ]
    for row in table if status == REGISTERED else []:
        row[-PARTICIPANTS_ONLY] = _("yes") if row[-PARTICIPANTS_ONLY] else _("no")
    name = f"course-{course.id}-{'participants' if status == REGISTERED else 'waiting'}.csv"
    caption = (
        _("Participants of «{title}»: {count}")
        if status == REGISTERED
        else _("Waiting list of «{title}», in order: {count}")
    ).format(title=esc(course.title), count=fa_number(len(table)))
    await send_file(update, admin.to_csv(header, table), name, caption)


@cards.staff_button(cards.ATTENDANCE)
async def attendance(update: Update, context: BotContext, course_id: int, page: int) -> None:
    """Participants as buttons; a press marks them present (again: not present)."""
    await _attendance(update, context, course_id, page)


@cards.staff_button(cards.MARK)
async def mark(update: Update, context: BotContext, registration_id: int, page: int) -> None:
    async with context.transaction() as session:
        registration = await admin.toggle_attendance(session, context.staff, registration_id)
        if registration.attended:  # ticked after the course was marked held: its certificate now
            key = context.settings.document_key
            await views.queue_certificates(
                session, context.gettext, registration.course_id, key, context.staff.user_id
            )
    await _attendance(update, context, registration.course_id, page)


async def _attendance(update: Update, context: BotContext, course_id: int, page: int) -> None:
    _ = context.gettext
    async with context.reading() as session:
        course = await admin.staff_course(session, context.staff, course_id)
        rows = await admin.participants(session, course_id, REGISTERED)
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
        buttons.append([button(f"{mark} {truncate(name, 40)}", cards.MARK(registration.id, page))])
    more = start + ATTENDANCE_PAGE < len(rows)
    buttons.append(
        cards.pager(_, page, more, *(cards.ATTENDANCE(course_id, p) for p in (page - 1, page + 1)))
    )
    await answer(update, text, keyboard([*buttons, [cards.back_to(_, course_id)]]))


@cards.staff_button(cards.FINISH)
async def finish(update: Update, context: BotContext, course_id: int) -> None:
    """The course was held: the attendees get the feedback question and their certificates
    (through the outbox; each certificate once, whatever is pressed again)."""
    _ = context.gettext
    async with context.transaction() as session:
        course, attendees = await admin.finish(session, context.staff, course_id)
        text, markup = cards.feedback_question(_, course)
        await outbox.notify(session, attendees, text, buttons=to_json(markup))
        sent = await views.queue_certificates(
            session, _, course.id, context.settings.document_key, context.staff.user_id
        )
    note = _("The course is marked as held; {count} attendees were asked for feedback.").format(
        count=fa_number(len(attendees))
    )
    note += "\n" + _("Certificates of attendance sent: {count}").format(count=fa_number(sent))
    await show(update, context, course_id, note)


@cards.staff_button(cards.RESULTS)
async def results(update: Update, context: BotContext, course_id: int) -> None:
    """Ratings and comments."""
    _ = context.gettext
    async with context.reading() as session:
        course = await admin.staff_course(session, context.staff, course_id)
        result = await admin.feedback(session, course_id)
    lines = [
        _("<b>Feedback: {title}</b>").format(title=esc(course.title)),
        _("Attended: {attended} — answered: {answers}").format(
            attended=fa_number(result.attended), answers=fa_number(result.answers)
        ),
    ]
    if result.average is not None:
        average = fa_digits(f"{result.average:.1f}").replace(".", "٫")
        lines.append(_("Average rating: {average} out of 5").format(average=average))
        lines += [f"{fa_digits(stars)}: {fa_number(count)}" for stars, count in result.counts.items()]
    else:
        lines.append(_("No ratings yet."))
    if result.comments:
        lines += ["", _("Comments:"), *[f"• {esc(truncate(c, 300))}" for c in result.comments[:30]]]
    await answer(update, "\n".join(lines), keyboard([[cards.back_to(_, course_id)]]))


FEATURE = Feature(
    name="courses_staff",
    routes=[STAFF],
    commands=[Command("managecourses", N_("Manage courses"), audience="staff", callback=manage)],
    menu=[MenuItem("managecourses", N_("Manage courses"), 120, manage, audience="staff")],
)
