"""Membership terms: approval starts the first term and sends the certificate (PDF) and the card
(photo); the Jalali term rules; renewal reminders 30, 7 and 0 days before the end, once each across
restarts (the clock injected); verification of a valid, a lapsed and an unknown code."""

from __future__ import annotations

import io
from datetime import date, timedelta

import jdatetime
from PIL import Image
from sqlalchemy import select

from bot.context import BotApplication
from bot.documents import CodeKind, decode_qr, format_code, new_code
from bot.documents import image as image_module
from bot.handlers.member_proof import REMINDER_JOB
from bot.services import terms
from db.models import Broadcast, Member
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import AppFactory
from tests.factories import add_association, add_staff
from tests.membership_support import submitted
from tests.membership_terms_support import (
    NAME,
    approved,
    at,
    documents,
    fix_clock,
    member_of,
    pdf_text,
    photos,
    png_bytes,
    reminder_keys,
    set_term,
)

FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _g(y: int, m: int, d: int) -> date:
    result: date = jdatetime.date(y, m, d).togregorian()
    return result


# ------------------------------------------------------------------------------- the rules


def test_a_term_runs_to_the_end_of_the_jalali_year_by_default() -> None:
    assert terms.term_end_for(_g(1405, 9, 11), None) == _g(1405, 12, 29)
    assert terms.term_end_for(_g(1405, 1, 1), None) == _g(1405, 12, 29)
    # 1403 is a leap year in the Jalali calendar: Esfand has 30 days.
    assert terms.term_end_for(_g(1403, 5, 5), None) == _g(1403, 12, 30)


def test_a_term_of_some_months() -> None:
    assert terms.term_end_for(_g(1405, 9, 11), 12) == _g(1406, 9, 10)
    assert terms.term_end_for(_g(1405, 6, 31), 1) == _g(1405, 7, 29)  # Mehr has 30 days


def test_status_and_reminder_windows() -> None:
    member = Member(term_end=date(2027, 3, 20), revoked=False)
    assert terms.status_of(member, date(2027, 1, 1)) == terms.ACTIVE
    assert terms.status_of(member, date(2027, 2, 18)) == terms.DUE  # 30 days left
    assert terms.status_of(member, date(2027, 3, 20)) == terms.DUE  # the last day is valid
    assert terms.status_of(member, date(2027, 3, 21)) == terms.LAPSED
    assert [
        terms.reminder_due(member, date(2027, 3, 20) - timedelta(days=n)) for n in (40, 30, 8, 7, 1, 0)
    ] == [
        None,
        30,
        30,
        7,
        7,
        0,
    ]
    member.revoked = True
    assert terms.status_of(member, date(2027, 1, 1)) == terms.REVOKED and not terms.is_valid(
        member, date(2027, 1, 1)
    )


def test_renewing_early_extends_lapsed_restarts() -> None:
    member = Member(term_start=_g(1405, 1, 1), term_end=_g(1405, 12, 29))
    # Early (in Esfand): the next term follows the current one.
    assert terms.next_term(member, _g(1405, 12, 10), None) == (_g(1406, 1, 1), _g(1406, 12, 29))
    # Lapsed: a term from today, to the end of this year.
    assert terms.next_term(member, _g(1406, 2, 5), None) == (_g(1406, 2, 5), _g(1406, 12, 29))


# ------------------------------------------------------------------------------- at the transport


async def test_approval_starts_the_term_and_sends_the_certificate_and_the_card(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    today = _g(1405, 9, 11)
    fix_clock(app, at(today))
    _association, applicant = await approved(sim, app)
    member = await member_of(app)
    assert member.term_start == today and member.term_end == _g(1405, 12, 29)
    assert member.verify_code is not None
    number = (member.member_number or "").translate(FA)
    notice = next(m.content for m in applicant.messages if "تبریک" in m.content)
    assert "۱۴۰۵/۱۲/۲۹" in notice  # valid until, Jalali, Persian digits
    await applicant.command("/requests")  # «My requests» shows the term
    assert "۱۴۰۵/۰۹/۱۱" in applicant.last_text and "۱۴۰۵/۱۲/۲۹" in applicant.last_text

    (certificate,) = documents(api, applicant)
    text = pdf_text(api, certificate)
    assert NAME in text
    # pypdf reads a number inside right-to-left text back in visual order; the page shows it right
    # (looked at: docs/images/membership-certificate.png). Each group of digits is there.
    assert all(group in text or group[::-1] in text for group in number.split("-")), (number, text)
    # The code is printed (and in the link under the QR code) and in the message that carries the PDF.
    assert f"start=verify_{member.verify_code}" in text
    assert format_code(member.verify_code) in certificate.content
    assert certificate.media["document"]["file_name"].endswith(".pdf")

    (card,) = photos(applicant)
    image = Image.open(io.BytesIO(png_bytes(api, card)))
    # Sized for a phone screen (the documents module fits the height to the content).
    assert (
        image.width == image_module.WIDTH and image_module.MIN_HEIGHT <= image.height <= image_module.HEIGHT
    )
    # The QR code is a standard one a phone reads: it opens the verification deep link.
    assert decode_qr(png_bytes(api, card)) == [
        f"https://t.me/{app.bot.username}?start=verify_{member.verify_code}"
    ]


async def test_reminders_30_7_and_0_days_before_the_end_once_each_across_restarts(
    sim: Simulator, make_app: AppFactory, app: BotApplication, api: FakeTelegram
) -> None:
    end = _g(1405, 12, 29)
    fix_clock(app, at(end - timedelta(days=60)))
    await approved(sim, app)
    member = await member_of(app)
    assert member.term_end == end

    async def run(day: date, restart: bool = False) -> None:
        nonlocal app
        if restart:
            app = await make_app()
        fix_clock(app, at(day))
        assert app.job_queue is not None
        (job,) = app.job_queue.get_jobs_by_name(REMINDER_JOB)
        await job.run(app)

    await run(end - timedelta(days=45))
    assert await reminder_keys(app) == []
    prefix = f"member:{member.id}:renew:{end.isoformat()}:"
    await run(end - timedelta(days=30))
    await run(end - timedelta(days=30))
    await run(end - timedelta(days=29), restart=True)
    assert await reminder_keys(app) == [prefix + "30"]
    await run(end - timedelta(days=7), restart=True)
    await run(end - timedelta(days=6))
    await run(end, restart=True)
    await run(end)
    assert await reminder_keys(app) == [prefix + "30", prefix + "7", prefix + "0"]
    await run(end + timedelta(days=1))  # lapsed: nothing more
    assert len(await reminder_keys(app)) == 3
    async with app.bot_data.sessionmaker() as session:
        reminders = list(await session.scalars(select(Broadcast).where(Broadcast.kind == "reminder")))
    assert all(f"mem:renew:{member.association_id}" in (b.buttons or "") for b in reminders)
    assert "۲۹ اسفند ۱۴۰۵" in reminders[0].text and "۳۰" in reminders[0].text


async def test_verification_valid_lapsed_unknown_reveals_no_personal_data(
    sim: Simulator, app: BotApplication
) -> None:
    today = _g(1405, 9, 11)
    fix_clock(app, at(today))
    _association, _applicant = await approved(sim, app)
    member = await member_of(app)
    code = member.verify_code
    assert code is not None
    stranger = sim.user(9900)

    await stranger.command("/start", f"verify_{code}")
    valid = stranger.last_text
    assert "✅" in valid and NAME in valid and "۱۴۰۵/۱۲/۲۹" in valid
    # No national ID, no mobile, no member's business.
    for secret in ("0499370899", "۰۴۹۹۳۷۰۸۹۹", "9121234567", "۹۱۲۱۲۳۴۵۶۷", "فرش دستباف ماهان"):
        assert secret not in valid

    fix_clock(app, at(_g(1406, 1, 2)))  # the term ended
    await stranger.command("/start", f"verify_{code}")
    assert "❌" in stranger.last_text and "✅" not in stranger.last_text

    fix_clock(app, at(today))
    await set_term(app, member.id, _g(1405, 12, 29), revoked=True)
    await stranger.command("/start", f"verify_{code}")
    assert "❌" in stranger.last_text

    # A well-formed code we never issued, and a forged one: unknown, no name.
    await stranger.command(
        "/start", f"verify_{new_code(app.bot_data.settings.document_key, CodeKind.MEMBER_CERTIFICATE)}"
    )
    assert NAME not in stranger.last_text and "✅" not in stranger.last_text
    await stranger.command("/start", "verify_ABCDABCDABCD")
    assert NAME not in stranger.last_text and "✅" not in stranger.last_text


async def test_a_founding_member_gets_the_term_at_approval_and_the_certificate_when_numbered(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(_g(1405, 9, 11)))
    forming = await add_association(app, name="انجمن برند و بسته‌بندی کرمان", status="forming")
    await add_staff(app, 7001, forming)
    applicant = sim.user(8800)
    await submitted(applicant, forming, home=True)
    await sim.user(7001).press("تأیید")
    member = await member_of(app, 8800)
    assert member.founding and member.member_number is None and member.term_end == _g(1405, 12, 29)
    assert documents(api, applicant) == []  # no number yet: no certificate
    # An admin activates the association: the founders are numbered, told, and get their certificate.
    await add_staff(app, 7009, None, role="admin")
    await sim.user(7009).press_data(f"dir:activate:{forming}")
    (certificate,) = documents(api, applicant)
    assert "برند و بسته‌بندی" in pdf_text(api, certificate)
    assert len(photos(applicant)) == 1
