"""How a course looks in the chat: the card, its buttons, dates in Jalali, reminder and rating texts."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.formatting import fa_digits, fa_money, fa_number, isolate_ltr, jalali_date, jalali_datetime
from bot.handlers.common import button, esc, keyboard
from bot.i18n import Gettext
from bot.text import truncate
from db.models import Course, Registration
from db.models.courses import CANCELLED, CLOSED, FINISHED, REGISTERED, WAITING

DESCRIPTION_LIMIT = 3000


def when(course: Course, tz: str) -> str:
    """The course's start and end in Jalali, in the configured time zone."""
    if course.starts_at is None:
        return "—"
    start = jalali_datetime(course.starts_at, tz)
    if course.ends_at is None:
        return start
    if jalali_date(course.ends_at, tz) == jalali_date(course.starts_at, tz):
        end = jalali_datetime(course.ends_at, tz, at_word="").split(" ")[-1]
    else:
        end = jalali_datetime(course.ends_at, tz)
    return f"{start} – {end}"


def where(_: Gettext, course: Course) -> str:
    """The place, or the online link."""
    if course.online_url:
        return _("Online: {url}").format(url=isolate_ltr(esc(course.online_url)))
    return esc(course.place or "—")


def seats_line(_: Gettext, course: Course) -> str:
    """Seats left, or how full the course is."""
    if course.seats_left > 0:
        return _("Seats left: {left} of {capacity}").format(
            left=fa_number(course.seats_left), capacity=fa_number(course.capacity)
        )
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
    lines = [f"<b>{esc(course.title)}</b>"]
    lines.append(esc(association) if association else _("A chamber-wide course"))
    lines.append(_("Teacher: {teacher}").format(teacher=esc(course.teacher)))
    lines.append(_("When: {when}").format(when=when(course, tz)))
    lines.append(_("Where: {where}").format(where=where(_, course)))
    fee = _("free") if not course.fee_rials else fa_money(course.fee_rials)
    lines.append(_("Fee: {fee}").format(fee=fee))
    lines.append(seats_line(_, course))
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
    active = registration is not None and registration.status in (REGISTERED, WAITING)
    if registration is not None and registration.status == REGISTERED and course.status != FINISHED:
        rows.append([button(_("Cancel my seat"), f"courses:cancel:{course.id}")])
    elif registration is not None and registration.status == WAITING:
        rows.append([button(_("Leave the waiting list"), f"courses:cancel:{course.id}")])
    elif can_join and not active:
        label = _("Sign up") if course.seats_left > 0 else _("Join the waiting list")
        rows.append([button(label, f"courses:join:{course.id}")])
    if course.status not in (CANCELLED,) and course.starts_at is not None and course.ends_at is not None:
        rows.append([button(_("Add to my calendar"), f"courses:ics:{course.id}")])
    rows.append([button(_("All courses"), "courses:list:0"), button(_("My courses"), "courses:mine")])
    return keyboard(rows)


def rating_markup(_: Gettext, course_id: int) -> InlineKeyboardMarkup:
    """Five buttons, 1 (poor) to 5 (excellent)."""
    return keyboard([[button(fa_digits(n), f"courses:rate:{course_id}:{n}") for n in range(1, 6)]])


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
            _("When: {when}").format(when=when(course, tz)),
            _("Where: {where}").format(where=where(_, course)),
        ]
    )
