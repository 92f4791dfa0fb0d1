"""Course documents in the chat: the ticket in «My courses», the attendance certificate (drawn when
the outbox sends it), `/start cert_<code>` for anyone to verify one, and staff reissuing or revoking
certificates. Check-in at the door is bot/handlers/course_checkin.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import delivery
from bot.context import BotContext
from bot.documents import CardLayout, CertificateLayout, card_png, certificate_pdf, format_code
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.handlers import course_cards as cards
from bot.handlers.course_cards import COURSES, STAFF
from bot.i18n import N_, Gettext
from bot.kit.feature import Feature
from bot.kit.guards import public, staff_only
from bot.kit.markup import button, keyboard
from bot.kit.reply import alert, answer, esc
from bot.services import course_admin as admin
from bot.services import course_certificates as certificates
from bot.services import outbox, tickets
from bot.services.course_certificates import CertificateData
from bot.services.courses import Course
from bot.services.errors import DomainError
from bot.services.feedback_chart import render as feedback_chart_png
from bot.text import truncate

CERTIFICATE = "ccert"  # the outbox's generated attachment: gen:ccert:<code>
TICKET_REFUSALS = {
    "ticket": N_("You have no seat in this course, so there is no ticket."),
    "course_cancelled": N_("This course has been cancelled."),
}


def _place(_: Gettext, course: Course) -> str:
    return course.place or course.online_url or "—"


def _hours(course: Course) -> str | None:
    """The course's length in hours (Persian digits), when it is held within a day."""
    if course.starts_at is None or course.ends_at is None:
        return None
    hours = (course.ends_at - course.starts_at).total_seconds() / 3600
    if not 0 < hours <= 24:
        return None
    shown = f"{hours:.1f}".removesuffix(".0")
    return fa_digits(shown).replace(".", "٫")


def deep_link(context_username: str | None, payload: str) -> str:
    """A t.me link that opens the bot with `/start <payload>`."""
    return f"https://t.me/{context_username or 'bot'}?start={payload}"


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
                (_("Place"), _place(_, found.course)),
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


def certificate_file(_: Gettext, found: CertificateData, tz: str, username: str | None) -> bytes:
    """The certificate as PDF bytes."""
    course, certificate = found.course, found.certificate
    hours = _hours(course)
    statement = (
        _("attended the training course «{title}» ({hours} hours).").format(title=course.title, hours=hours)
        if hours
        else _("attended the training course «{title}».").format(title=course.title)
    )
    fields = [(_("Teacher"), course.teacher)] if course.teacher else []
    if course.starts_at is not None:
        fields.append((_("Held on"), jalali_date(course.starts_at, tz)))
    link = deep_link(username, f"cert_{certificate.code}")
    return certificate_pdf(
        CertificateLayout(
            title=_("Certificate of attendance"),
            issuer=found.association or _("A chamber-wide course"),
            intro=_("This certifies that"),
            name=certificate.name,
            statement=[statement],
            fields=fields,
            date_line=_("Issued on {date}").format(date=jalali_date(certificate.issued_at, tz)),
            code=format_code(certificate.code),
            code_label=_("Verification code:"),
            qr_data=link,
            verify_lines=[_("To check this certificate, scan the QR code or open:"), link],
        )
    )


@delivery.generated(CERTIFICATE)
async def draw_certificate(application: delivery.AnyApplication, code: str) -> InputFile | None:
    """The outbox's attachment: the certificate's PDF, drawn as it is sent."""
    async with application.bot_data.reader() as session:
        found = await certificates.data(session, code)
    if found is None:
        return None
    _ = application.bot_data.translations.gettext
    pdf = certificate_file(_, found, application.bot_data.settings.timezone, application.bot.username)
    return InputFile(pdf, filename=f"certificate-{code}.pdf")


def certificate_caption(_: Gettext, found_title: str, code: str) -> str:
    return _(
        "Your certificate of attendance for «{title}». Anyone can check it with its QR code or the code {code}."
    ).format(title=esc(found_title), code=isolate_ltr(format_code(code)))


async def queue_certificates(
    session: AsyncSession, _: Gettext, course_id: int, key: bytes, issued_by: int | None
) -> int:
    """Issue the missing certificates of a held course and queue each to its holder (once: the
    notice's dedupe key is the certificate's code). Returns how many were queued."""
    course = await certificates.held_course(session, course_id)
    if course is None:
        return 0
    issued = await certificates.issue_missing(session, course.id, key, issued_by=issued_by)
    for certificate in issued:
        await send_certificate(session, _, course, certificate.user_id, certificate.code)
    return len(issued)


async def send_certificate(
    session: AsyncSession, _: Gettext, course: Course, user_id: int, code: str
) -> None:
    """Queue one certificate's PDF to its holder through the outbox."""
    await outbox.notify(
        session,
        [user_id],
        certificate_caption(_, course.title, code),
        media_kind="document",
        media_file_id=delivery.attachment_id(CERTIFICATE, code),
        association_id=course.association_id,
        dedupe_key=f"ccert:{code}",
    )


@public
async def verify(update: Update, context: BotContext) -> None:
    """`/start cert_<code>`: anyone may check a certificate (the name and course, nothing more)."""
    _ = context.gettext
    text = update.effective_message.text if update.effective_message else ""
    code = (text or "").split("cert_", 1)[-1]
    async with context.reading() as session:
        found = await certificates.verify(session, code, context.settings.document_key)
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


@STAFF.on(cards.CERTIFICATES)
@staff_only
@cards.refusing
async def list_certificates(update: Update, context: BotContext, course_id: int, note: str = "") -> None:
    """The course's certificates, each to reissue (with the name now in the profile) or revoke."""
    _ = context.gettext
    async with context.reading() as session:
        rows = await certificates.certificates_of(session, context.staff, course_id)
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


@STAFF.on(cards.REISSUE)
@staff_only
@cards.refusing
async def reissue(update: Update, context: BotContext, certificate_id: int) -> None:
    _ = context.gettext
    async with context.transaction() as session:
        new, course = await certificates.reissue(
            session, context.staff, certificate_id, context.settings.document_key
        )
        await send_certificate(session, _, course, new.user_id, new.code)
    note = _("A new certificate with the name «{name}» was sent.").format(name=esc(new.name))
    await list_certificates(update, context, new.course_id, note)


@STAFF.on(cards.REVOKE)
@staff_only
@cards.refusing
async def ask_revoke(update: Update, context: BotContext, certificate_id: int) -> None:
    _ = context.gettext
    text = _("Revoke this certificate? Anyone checking its code will be told it is not valid.")
    rows = [[button(_("Yes, revoke it"), cards.REVOKE_OK(certificate_id))]]
    await answer(update, text, keyboard(rows))


@STAFF.on(cards.REVOKE_OK)
@staff_only
@cards.refusing
async def revoke(update: Update, context: BotContext, certificate_id: int) -> None:
    _ = context.gettext
    async with context.transaction() as session:
        certificate = await certificates.revoke(session, context.staff, certificate_id)
    note = _("The certificate of «{name}» is revoked.").format(name=esc(certificate.name))
    await list_certificates(update, context, certificate.course_id, note)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """`/start cert_<code>` (the buttons go through the courses and cadm routers)."""
    return [CommandHandler("start", verify, filters=filters.Regex(r"^/start\s+cert_[0-9A-Za-z_-]{1,40}$"))]


FEATURE = Feature(name="course_documents", handlers=handlers)


@STAFF.on(cards.CHART)
@staff_only
@cards.refusing
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
