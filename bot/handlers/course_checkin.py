"""Check-in at a course's door. A staff member opens the desk from the course's staff card; until
they end it (or for a day) a photo of a ticket's QR code or a typed ticket code they send checks its
holder in. Ticking names in the participant list (courses_staff) writes the same record. Only staff
of the course's association (or chamber staff and admins) can open a desk or check anyone in."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.context import BotContext
from bot.documents import decode_qr
from bot.formatting import jalali_when
from bot.handlers import course_cards as cards
from bot.handlers import fallback
from bot.handlers.course_cards import STAFF
from bot.i18n import N_
from bot.kit.feature import Feature
from bot.kit.guards import current_scope, mark_guarded, staff_only
from bot.kit.markup import button, keyboard
from bot.kit.reply import answer, esc
from bot.services import tickets
from bot.services.errors import DomainError
from bot.services.tickets import CheckInRefused
from bot.views import course_documents as views

# What a typed ticket code may look like (any digits, separators): anything else is not for the desk.
CODE_TEXT = filters.Regex(r"^[\s\-–_.0-9A-Za-z۰-۹٠-٩]{10,30}$")
REFUSALS = {
    "unknown": N_("This is not a valid ticket code. Please check the code and try again."),
    "other_course": N_("This ticket is for another course («{title}»), not this one."),
    "not_registered": N_(
        "The seat of this ticket ({name}) was cancelled or given back; the ticket is not valid."
    ),
    "course_cancelled": N_("This course has been cancelled."),
    "no_desk": N_("Check-in at the door has ended. Open it again from the course's card."),
}


def _desk_markup(context: BotContext, course_id: int) -> InlineKeyboardMarkup:
    _ = context.gettext
    return keyboard(
        [
            [button(_("End check-in"), cards.DESK_END())],
            [button(_("Attendance"), cards.ATTENDANCE(course_id, 0)), cards.back_to(_, course_id)],
        ]
    )


@cards.staff_button(cards.DESK)
async def open_desk(update: Update, context: BotContext, course_id: int) -> None:
    """Start checking people in at this course's door."""
    _ = context.gettext
    course = await context.write(tickets.open_desk, context.staff, course_id)
    text = "\n".join(
        [
            _("<b>Check-in at the door: {title}</b>").format(title=esc(course.title)),
            _(
                "Send a photo of a ticket's QR code, or type the code written under it. Each ticket is "
                "checked in once. Press «End check-in» when you are done."
            ),
        ]
    )
    await answer(update, text, _desk_markup(context, course_id))


@STAFF.on(cards.DESK_END)
@staff_only
async def end_desk(update: Update, context: BotContext) -> None:
    _ = context.gettext
    assert update.effective_user is not None
    await context.write(tickets.close_desk, update.effective_user.id)
    await answer(
        update,
        _("Check-in at the door has ended."),
        keyboard([[button(_("All my courses"), cards.MANAGE())]]),
    )


async def at_desk(update: Update, context: BotContext) -> None:
    """A photo or a code-like text: a ticket when the sender has a desk open, else the usual hint."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    course_id = await context.read(tickets.desk_course, user.id)
    scope = await current_scope(update, context) if course_id is not None else None
    if course_id is None or scope is None or not scope.is_staff:
        await fallback.unknown_message(update, context)
        return
    context.staff = scope
    _ = context.gettext
    if message.photo:
        # The Bot API (the download) before any transaction.
        file = await message.photo[-1].get_file()
        codes = decode_qr(bytes(await file.download_as_bytearray()))
        if not codes:
            text = _(
                "I found no QR code in this photo. Take it closer and straight on, or type the code "
                "written under the QR code."
            )
            await answer(update, text, _desk_markup(context, course_id))
            return
    else:
        codes = [message.text or ""]
    lines = [await _check_in(context, code) for code in codes[:3]]
    await answer(update, "\n".join(lines), _desk_markup(context, course_id))


mark_guarded(at_desk, "staff")  # it looks the sender up itself (others get the usual hint)


async def _check_in(context: BotContext, code: str) -> str:
    """One ticket code at the sender's desk: what to tell the staff member."""
    _ = context.gettext
    tz = context.settings.timezone
    try:
        async with context.transaction() as session:
            key = context.settings.document_key
            done = await tickets.check_in_from_desk(session, context.staff, code, key)
            if done.first:  # checked in after the course was marked held: the certificate now
                course_id = done.registration.course_id
                await views.queue_certificates(session, _, course_id, key, context.staff.user_id)
    except CheckInRefused as exc:
        template = _(REFUSALS.get(exc.reason, REFUSALS["unknown"]))
        return "⛔️ " + template.format(
            title=esc(exc.details.get("title", "")), name=esc(exc.details.get("name", ""))
        )
    except DomainError as exc:
        return "⛔️ " + cards.staff_refusal(_, exc)
    name = esc(done.name or "—")
    if done.first:
        return _("✅ {name} is checked in.").format(name=name)
    return _("ℹ️ {name} was already checked in on {when}.").format(name=name, when=jalali_when(done.at, tz))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Photos and code-like texts in private chats (a staff member at a desk; others: the hint)."""
    private = filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
    return [
        MessageHandler(private & (filters.PHOTO | (filters.TEXT & ~filters.COMMAND & CODE_TEXT)), at_desk)
    ]


FEATURE = Feature(name="course_checkin", handlers=handlers)
