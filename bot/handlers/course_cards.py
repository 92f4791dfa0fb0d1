"""How a course reads in the chat, shared by the members' screens, the staff screens and the form:
the card and its buttons, dates with weekday and month name, the staff card, and the texts that go
to other people (promotion, feedback question, cancellation, reminders)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.formatting import fa_digits, fa_money, fa_number, isolate_ltr, jalali_date, jalali_when
from bot.i18n import N_, Gettext
from bot.kit import refusals
from bot.kit.callbacks import Action, Router
from bot.kit.markup import button, keyboard
from bot.kit.reply import alert, esc
from bot.services import course_admin
from bot.services.course_admin import StaffCard
from bot.services.courses import CANCELLED, CLOSED, FINISHED, OPEN, REGISTERED, WAITING, Course, Registration
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.text import truncate

DESCRIPTION_LIMIT = 3000

# Members' and visitors' buttons (also on the notices they get).
COURSES = Router("courses")
LIST = COURSES.action("list", int)  # page
ASSOCIATION = COURSES.action("assoc", int)  # association id (the directory's card links here)
ASSOCIATION_PAGE = COURSES.action("apage", int, int)  # page, association id
VIEW = COURSES.action("view", int)
JOIN = COURSES.action("join", int)
CANCEL = COURSES.action("cancel", int)
RELEASE = COURSES.action("release", int)
CANCEL_OK = COURSES.action("cancelok", int)
RELEASE_OK = COURSES.action("releaseok", int)
MINE = COURSES.action("mine")
CALENDAR = COURSES.action("ics", int)
RATE = COURSES.action("rate", int, int)  # course id, 1–5
TICKET = COURSES.action("ticket", int)  # course id: the user's ticket (bot/handlers/course_documents.py)

# Staff buttons.
STAFF = Router("cadm")
MANAGE = STAFF.action("list")
NEW = STAFF.action("new")
NEW_FOR = STAFF.action("newfor", int)  # association id, 0 for chamber-wide
STAFF_VIEW = STAFF.action("view", int)
EDIT_MENU = STAFF.action("editmenu", int)
EDIT = STAFF.action("edit", int, str)  # course id, field
CLOSE = STAFF.action("close", int)
REOPEN = STAFF.action("reopen", int)
STAFF_CANCEL = STAFF.action("cancel", int)
STAFF_CANCEL_OK = STAFF.action("cancelok", int)
CSV = STAFF.action("csv", int, str)  # course id, registered | waiting
ATTENDANCE = STAFF.action("att", int, int)  # course id, page
MARK = STAFF.action("mark", int, int)  # registration id, page
FINISH = STAFF.action("finish", int)
RESULTS = STAFF.action("results", int)
# Tickets, check-in and certificates (bot/handlers/course_checkin.py, course_documents.py).
DESK = STAFF.action("desk", int)  # course id: start checking people in at the door
DESK_END = STAFF.action("deskend")
CERTIFICATES = STAFF.action("certs", int)  # course id
REISSUE = STAFF.action("reissue", int)  # certificate id
REVOKE = STAFF.action("revoke", int)  # certificate id: asks first
REVOKE_OK = STAFF.action("revokeok", int)
CHART = STAFF.action("chart", int)  # course id: the feedback chart

REFUSALS = {
    "closed": N_("Registration for this course is closed."),
    "cancelled": N_("This course has been cancelled."),
    "finished": N_("This course has already been held."),
    "started": N_("This course has already started; sign-up and cancellation are no longer possible."),
    "course": N_("This course was not found. It may have been removed."),
    "registration": N_("You are not signed up for this course."),
    "busy": N_("Many people are signing up at this moment. Please press the button again."),
}


UNAVAILABLE = N_("This course can no longer be changed (it was cancelled or has been held).")
NOT_YOURS = N_("This course belongs to another association; you cannot manage it.")


def staff_refusal(_: Gettext, exc: DomainError) -> str:
    """Why staff cannot do this to the course."""
    if isinstance(exc, NotAllowed):
        return _(NOT_YOURS)
    if isinstance(exc, NotFound):
        return refusal(_, "course")
    return _(UNAVAILABLE)


def staff_button(*actions: Action) -> Callable[[refusals.Callback], refusals.Callback]:
    """A button of the course administration: routed on STAFF, staff only, refusals as alerts."""
    return refusals.staff_button(STAFF, *actions, refusal=staff_refusal, reply=alert)


async def staff_course(context: BotContext, course_id: int) -> Course:
    """The course, if this staff member may manage it (else DomainError, told by `staff_button`)."""
    async with context.reading() as session:
        return await course_admin.staff_course(session, context.staff, course_id)


def pressed(update: Update, action: Action) -> bool:
    """Whether the button pressed is `action` (for a callback that serves two of them)."""
    query = update.callback_query
    return query is not None and (query.data or "").startswith(f"{action.prefix}:{action.name}:")


def refusal(_: Gettext, reason: str) -> str:
    """Why a sign-up or cancellation was refused."""
    return _(REFUSALS.get(reason, REFUSALS["closed"]))


# ---------------------------------------------------------------------------- pieces of a card


def when(_: Gettext, course: Course, tz: str) -> str:
    """Start (and end) with weekday and month name, e.g. «سه‌شنبه ۲۵ آذر ۱۴۰۵، ساعت ۱۶:۰۰ تا ۱۸:۰۰»."""
    if course.starts_at is None:
        return "—"
    start = jalali_when(course.starts_at, tz)
    if course.ends_at is None:
        return start
    if jalali_date(course.ends_at, tz) == jalali_date(course.starts_at, tz):
        end = jalali_when(course.ends_at, tz).rsplit(" ", 1)[-1]  # the clock only
    else:
        end = jalali_when(course.ends_at, tz)
    return _("{start} to {end}").format(start=start, end=end)


def where(_: Gettext, course: Course) -> str:
    """The place, or the online link."""
    if course.online_url:
        return _("Online: {url}").format(url=isolate_ltr(esc(course.online_url)))
    return esc(course.place or "—")


def seats_line(_: Gettext, course: Course, registration: Registration | None = None) -> str:
    """Seats left, or how full the course is (inviting to the waiting list only those not in it)."""
    if course.seats_left > 0:
        return _("Seats left: {left} of {capacity}").format(
            left=fa_number(course.seats_left), capacity=fa_number(course.capacity)
        )
    holding = registration is not None and registration.status in (REGISTERED, WAITING)
    if holding or course.status != OPEN:
        return _("Full ({capacity} seats).").format(capacity=fa_number(course.capacity))
    return _("Full ({capacity} seats); you can join the waiting list.").format(
        capacity=fa_number(course.capacity)
    )


def status_line(_: Gettext, course: Course) -> str | None:
    """A warning for a course that is not simply open."""
    return {
        CLOSED: _("Registration is closed."),
        CANCELLED: _("This course has been cancelled."),
        FINISHED: _("This course has been held."),
    }.get(course.status)


def card_text(
    _: Gettext,
    course: Course,
    association: str | None,
    tz: str,
    registration: Registration | None = None,
    position: int | None = None,
) -> str:
    """The course card."""
    lines = [
        f"<b>{esc(course.title)}</b>",
        esc(association) if association else _("A chamber-wide course"),
        _("Teacher: {teacher}").format(teacher=esc(course.teacher)),
        _("When: {when}").format(when=when(_, course, tz)),
        _("Where: {where}").format(where=where(_, course)),
        _("Fee: {fee}").format(fee=fa_money(course.fee_rials) if course.fee_rials else _("free")),
        seats_line(_, course, registration),
    ]
    if course.members_only:
        lines.append(_("Only for members of the association."))
    status = status_line(_, course)
    if status:
        lines.append(f"<b>{status}</b>")
    if course.description:
        # Room for the rest of the card under Telegram's 4,096 characters.
        lines += ["", esc(truncate(course.description, DESCRIPTION_LIMIT))]
    mine = my_status(_, registration, position)
    if mine:
        lines += ["", f"<b>{mine}</b>"]
    return "\n".join(lines)


def my_status(_: Gettext, registration: Registration | None, position: int | None) -> str | None:
    """'You have a seat' / 'You are number N on the waiting list'."""
    if registration is None:
        return None
    if registration.status == REGISTERED:
        return _("You have a seat in this course.")
    if registration.status == WAITING and position is not None:
        return _("You are number {position} on the waiting list.").format(position=fa_digits(position))
    return None


def card_markup(
    _: Gettext, course: Course, registration: Registration | None, *, can_join: bool
) -> InlineKeyboardMarkup:
    """Sign up / join the waiting list / cancel, the calendar file, back to the list."""
    rows: list[list[InlineKeyboardButton]] = []
    if registration is not None and registration.status == REGISTERED and course.status != FINISHED:
        rows.append([button(_("Cancel my seat"), CANCEL(course.id))])
    elif registration is not None and registration.status == WAITING:
        rows.append([button(_("Leave the waiting list"), CANCEL(course.id))])
    elif can_join:
        label = _("Sign up") if course.seats_left > 0 else _("Join the waiting list")
        rows.append([button(label, JOIN(course.id))])
    if course.status != CANCELLED and course.starts_at is not None and course.ends_at is not None:
        rows.append([button(_("Add to my calendar"), CALENDAR(course.id))])
    rows.append([button(_("All courses"), LIST(0)), button(_("My courses"), MINE())])
    return keyboard(rows)


def list_line(_: Gettext, course: Course, tz: str) -> str:
    """One course in a list: title, when, seats left."""
    assert course.starts_at is not None
    left = (
        _("{left} seats left").format(left=fa_number(course.seats_left))
        if course.seats_left > 0
        else _("full")
    )
    return f"• {esc(course.title)} — {jalali_when(course.starts_at, tz)} — {left}"


def pager(_: Gettext, page: int, more: bool, previous: str, following: str) -> list[InlineKeyboardButton]:
    """«▶️ Previous page» / «Next page ◀️» (in a right-to-left chat "next" points left)."""
    buttons = [button(_("Previous page"), previous)] if page > 0 else []
    return buttons + ([button(_("Next page"), following)] if more else [])


# ---------------------------------------------------------------------------- messages to other people


def promoted_notice(_: Gettext, course: Course, tz: str) -> tuple[str, InlineKeyboardMarkup]:
    """A seat became free and is now theirs (they moved up from the waiting list)."""
    text = "\n".join(
        [
            _("Good news! A seat in «{title}» became free and it is now yours.").format(
                title=esc(course.title)
            ),
            _("When: {when}").format(when=when(_, course, tz)),
            _("If you no longer want it, give it back with the button below so the next person gets it."),
        ]
    )
    markup = keyboard(
        [
            [button(_("I no longer want it"), RELEASE(course.id))],
            [button(_("View the course"), VIEW(course.id))],
        ]
    )
    return text, markup


def feedback_question(_: Gettext, course: Course) -> tuple[str, InlineKeyboardMarkup]:
    """The question after a course: five buttons, 1 (poor) to 5 (excellent)."""
    text = "\n".join(
        [
            _("Thank you for attending «{title}».").format(title=esc(course.title)),
            _("How was it? Please rate it from 1 (poor) to 5 (excellent)."),
        ]
    )
    return text, keyboard([[button(fa_digits(n), RATE(course.id, n)) for n in range(1, 6)]])


def cancelled_text(_: Gettext, course: Course, tz: str) -> str:
    """The course was cancelled by staff (to everyone with a seat or a place in line)."""
    return "\n".join(
        [
            _("<b>The course «{title}» has been cancelled.</b>").format(title=esc(course.title)),
            _("It was planned for {when}. We are sorry for the change.").format(when=when(_, course, tz)),
        ]
    )


def reminder_text(_: Gettext, course: Course, key: str, tz: str) -> str:
    """The reminder message (rendered HTML, stored in the outbox)."""
    head = (
        _("Reminder: the course «{title}» starts tomorrow.")
        if key == "24h"
        else _("Reminder: the course «{title}» starts in an hour.")
    )
    return "\n".join(
        [
            f"<b>{head.format(title=esc(course.title))}</b>",
            _("When: {when}").format(when=when(_, course, tz)),
            _("Where: {where}").format(where=where(_, course)),
        ]
    )


# ---------------------------------------------------------------------------- the staff card


def staff_card_text(_: Gettext, card: StaffCard, tz: str, notes: Sequence[str] = ()) -> str:
    """The course as staff see it: the card, and how many have a seat or wait."""
    text = card_text(_, card.course, card.association, tz)
    text += "\n\n" + _("Registered: {registered} — waiting: {waiting}").format(
        registered=fa_number(card.registered), waiting=fa_number(card.waiting)
    )
    return "\n".join([*notes, "", text]) if notes else text


def back_to(_: Gettext, course_id: int) -> InlineKeyboardButton:
    """«Back to the course» (its staff card)."""
    return button(_("Back to the course"), STAFF_VIEW(course_id))


def staff_card_markup(_: Gettext, course: Course) -> InlineKeyboardMarkup:
    """What staff can do with a course."""
    cid = course.id
    rows: list[list[InlineKeyboardButton]] = []
    if course.status in (OPEN, CLOSED):
        rows.append([button(_("Edit"), EDIT_MENU(cid))])
        toggle = (
            button(_("Close registration"), CLOSE(cid))
            if course.status == OPEN
            else button(_("Reopen registration"), REOPEN(cid))
        )
        rows.append([toggle, button(_("Cancel the course"), STAFF_CANCEL(cid))])
    rows.append(
        [
            button(_("Participants (CSV)"), CSV(cid, "registered")),
            button(_("Waiting list (CSV)"), CSV(cid, "waiting")),
        ]
    )
    if course.status != CANCELLED:
        rows.append(
            [button(_("Check-in at the door"), DESK(cid)), button(_("Attendance"), ATTENDANCE(cid, 0))]
        )
    if course.status in (OPEN, CLOSED):
        rows.append([button(_("Mark as held and ask for feedback"), FINISH(cid))])
    if course.status == FINISHED:
        rows.append([button(_("Certificates"), CERTIFICATES(cid))])
    rows.append([button(_("Feedback results"), RESULTS(cid)), button(_("Feedback chart"), CHART(cid))])
    rows.append([button(_("All my courses"), MANAGE())])
    return keyboard(rows)
