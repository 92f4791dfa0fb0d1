"""Course documents in the chat: the entry card (ticket) in «My courses», `/start cert_<code>` for
anyone to verify a certificate of attendance, staff reissuing or revoking certificates, and the
feedback chart. The certificate's PDF is drawn by bot/views/course_documents.py when the outbox sends
it; check-in at the door is bot/handlers/course_checkin.py."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.documents import CardLayout, card_png, format_code
from bot.formatting import fa_digits, jalali_date
from bot.handlers import course_cards as cards
from bot.handlers.course_cards import COURSES
from bot.i18n import N_, Gettext
from bot.kit.feature import Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard
from bot.kit.reply import alert, answer, esc
from bot.services import course_admin as admin
from bot.services import course_certificates as certificates
from bot.services import tickets
from bot.services.courses import Course
from bot.services.errors import DomainError
from bot.services.feedback_chart import render as feedback_chart_png
from bot.text import truncate
from bot.views import course_documents as views

TICKET_REFUSALS = {
    "ticket": N_("You have no seat in this course, so there is no ticket."),
    "course_cancelled": N_("This course has been cancelled."),
}


def _place(course: Course) -> str:
    return course.place or course.online_url or "—"


# ---------------------------------------------------------------------------- the ticket


def ticket_image(_: Gettext, found: tickets.Ticket, tz: str) -> bytes:
    """The ticket as a phone-sized PNG with the QR code of its signed code."""
    return card_png(
        CardLayout(
            title=_("Course ticket"),
            subtitle=found.association or _("A chamber-wide course"),
            lines=[
                (_("Course"), found.course.title),
                (_("When"), cards.when(_, found.course, tz)),
                (_("Place"), _place(found.course)),
                (_("Name"), found.name or "—"),
            ],
            qr_data=found.code,
            code=format_code(found.code),
            footer=[_("Show this QR code at the door.")],
        )
    )


@COURSES.on(cards.TICKET)
@public
async def show_ticket(update: Update, context: BotContext, course_id: int) -> None:
    """«Ticket» in «My courses»: the ticket photo, the code in the caption for typing."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    try:
        async with context.transaction() as session:
            found = await tickets.ticket(session, user.id, course_id, context.settings.document_key)
    except DomainError as exc:
        await alert(update, _(TICKET_REFUSALS.get(exc.reason, TICKET_REFUSALS["ticket"])))
        return
    photo = ticket_image(_, found, context.settings.timezone)
    caption = _(
        "Your ticket for «{title}». Show the QR code at the door; if it cannot be scanned, "
        "give this code: {code}"
    ).format(title=esc(found.course.title), code=f"<code>{format_code(found.code)}</code>")
    if update.callback_query is not None:
        await update.callback_query.answer()
    await chat.send_photo(InputFile(photo, filename=f"ticket-{course_id}.png"), caption=caption)


# ---------------------------------------------------------------------------- certificates


@public
async def verify(update: Update, context: BotContext) -> None:
    """`/start cert_<code>`: anyone may check a certificate (the name and course, nothing more)."""
    _ = context.gettext
    text = update.effective_message.text if update.effective_message else ""
    code = (text or "").split("cert_", 1)[-1]
    found = await context.read(certificates.verify, code, context.settings.document_key)
    if found.state == "unknown":
        await answer(update, _("No certificate has this code. Please check the code."))
        return
    details = _("Name: {name}\nCourse: {course}\nIssued by: {issuer}\nIssued on: {date}").format(
        name=esc(found.name),
        course=esc(found.course),
        issuer=esc(found.association) if found.association else _("A chamber-wide course"),
        date=jalali_date(found.issued_at, context.settings.timezone) if found.issued_at else "—",
    )
    heading = (
        _("✅ This certificate of attendance is valid.")
        if found.state == "valid"
        else _("❌ This certificate has been revoked or replaced by a corrected one; it is not valid.")
    )
    await answer(update, f"{heading}\n\n{details}")


@cards.staff_button(cards.CERTIFICATES)
async def list_certificates(update: Update, context: BotContext, course_id: int, note: str = "") -> None:
    """The course's certificates, each to reissue (with the name now in the profile) or revoke."""
    _ = context.gettext
    rows = await context.read(certificates.certificates_of, context.staff, course_id)
    lines = [note, ""] if note else []
    lines += [
        _("<b>Certificates</b>: {count}").format(count=fa_digits(len(rows))),
        _(
            "«Reissue» makes a new certificate with the name now in the person's profile and sends it; "
            "the old code then shows as replaced. «Revoke» makes the code show as revoked."
        ),
    ]
    buttons: list[list[InlineKeyboardButton]] = []
    for certificate in rows[:40]:
        name = truncate(certificate.name or "—", 30)
        buttons.append(
            [
                button(_("Reissue: {name}").format(name=name), cards.REISSUE(certificate.id)),
                button(_("Revoke"), cards.REVOKE(certificate.id)),
            ]
        )
    await answer(update, "\n".join(lines), keyboard([*buttons, [cards.back_to(_, course_id)]]))


@cards.staff_button(cards.REISSUE)
async def reissue(update: Update, context: BotContext, certificate_id: int) -> None:
    _ = context.gettext
    async with context.transaction() as session:
        new, course = await certificates.reissue(
            session, context.staff, certificate_id, context.settings.document_key
        )
        await views.send_certificate(session, _, course, new.user_id, new.code)
    note = _("A new certificate with the name «{name}» was sent.").format(name=esc(new.name))
    await list_certificates(update, context, new.course_id, note)


@cards.staff_button(cards.REVOKE)
async def ask_revoke(update: Update, context: BotContext, certificate_id: int) -> None:
    _ = context.gettext
    text = _("Revoke this certificate? Anyone checking its code will be told it is not valid.")
    rows = [[button(_("Yes, revoke it"), cards.REVOKE_OK(certificate_id))]]
    await answer(update, text, keyboard(rows))


@cards.staff_button(cards.REVOKE_OK)
async def revoke(update: Update, context: BotContext, certificate_id: int) -> None:
    _ = context.gettext
    certificate = await context.write(certificates.revoke, context.staff, certificate_id)
    note = _("The certificate of «{name}» is revoked.").format(name=esc(certificate.name))
    await list_certificates(update, context, certificate.course_id, note)


@cards.staff_button(cards.CHART)
async def feedback_chart(update: Update, context: BotContext, course_id: int) -> None:
    """The feedback as a chart photo: ratings 5 to 1, the average, the latest comments."""
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    async with context.reading() as session:
        course = await admin.staff_course(session, context.staff, course_id)
        result = await admin.feedback(session, course_id)
    subtitle = _("Attended: {attended} — answered: {answers}").format(
        attended=fa_digits(result.attended), answers=fa_digits(result.answers)
    )
    if result.average is not None:
        average = fa_digits(f"{result.average:.1f}").replace(".", "٫")
        subtitle += " — " + _("Average rating: {average} out of 5").format(average=average)
    picture = feedback_chart_png(
        truncate(course.title, 60),
        result.counts,
        labels={n: _("{stars} stars").format(stars=fa_digits(n)) for n in range(5, 0, -1)},
        subtitle=subtitle,
        comments_title=_("Comments:"),
        comments=result.comments,
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
    caption = _("<b>Feedback: {title}</b>").format(title=esc(course.title))
    await chat.send_photo(InputFile(picture, filename=f"feedback-{course_id}.png"), caption=caption)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """`/start cert_<code>` (the buttons go through the courses and cadm routers)."""
    return [CommandHandler("start", verify, filters=filters.Regex(r"^/start\s+cert_[0-9A-Za-z_-]{1,40}$"))]


FEATURE = Feature(name="course_documents", handlers=handlers)
