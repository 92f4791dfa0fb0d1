"""Certificates of attendance, shared by the chat (staff marking a course held, reissuing) and the
dashboard (an attendee ticked late): the PDF drawn when the outbox sends it, its caption, and queueing
it once per certificate."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile

from bot import delivery
from bot.documents import CertificateLayout, certificate_pdf, format_code
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.i18n import Gettext
from bot.kit.reply import esc
from bot.services import course_certificates as certificates
from bot.services import outbox
from bot.services.course_certificates import CertificateData
from bot.services.courses import Course

CERTIFICATE = "ccert"  # the outbox's generated attachment: gen:ccert:<code>


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
