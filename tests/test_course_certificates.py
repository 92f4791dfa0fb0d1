"""Attendance certificates through the fake Bot API: sent once to the attendees, only when the course
is marked held, also across a restart; verified by anyone (valid, revoked, unknown); reissued and
revoked by staff. And the feedback chart and the feedback columns of the participants' spreadsheet."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader
from sqlalchemy import select

from bot.context import BotApplication
from bot.documents import CodeKind, decode_qr, format_code, new_code
from bot.services import course_admin, course_certificates, tickets
from bot.services.staff import StaffScope
from bot.views import course_documents
from db.models import Course, CourseCertificate, Profile, Registration
from fakeapi.records import StoredMessage
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import FakeTelegram
from tests import coursekit as kit
from tests.conftest import AppFactory
from tests.factories import add_association, add_course, add_profile, add_staff

STAFF_ID = 9900


def _documents(user: SimUser) -> list[StoredMessage]:
    return [m for m in user.messages if m.document is not None and m.document["file_name"].endswith(".pdf")]


async def _certificates(app: BotApplication) -> list[CourseCertificate]:
    async with app.bot_data.sessionmaker() as session:
        return list(await session.scalars(select(CourseCertificate).order_by(CourseCertificate.id)))


async def _course_with_people(sim: Simulator, app: BotApplication) -> int:
    """A course of an association with a staff member; 9901 and 9902 attended, 9903 did not."""
    association = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    await add_staff(app, STAFF_ID, association)
    cid = await add_course(app, title="بازاریابی دیجیتال", association_id=association)
    for user_id, name in ((9901, "نرگس حیدری"), (9902, "رضا سیرجانی"), (9903, "مینا بمی")):
        await (await kit.started(sim, user_id)).press_data(f"courses:join:{cid}")
        await add_profile(app, user_id, name)
    staffer = await kit.started(sim, STAFF_ID)
    await staffer.press_data(f"cadm:att:{cid}:0")
    await staffer.press("⬜️ نرگس حیدری")
    await staffer.press("⬜️ رضا سیرجانی")
    return cid


async def test_certificates_go_once_to_attendees_when_the_course_is_held_also_across_a_restart(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    app = await make_app()
    sim = Simulator(app, api)
    cid = await _course_with_people(sim, app)
    present, also, absent = sim.user(9901), sim.user(9902), sim.user(9903)
    assert not await _certificates(app)
    assert not any(_documents(u) for u in (present, also, absent))  # not before the course is held

    staffer = sim.user(STAFF_ID)
    await staffer.press_data(f"cadm:view:{cid}")
    await staffer.press("ثبت برگزاری و درخواست نظر")
    assert "گواهی حضور در دوره برای ۲ نفر فرستاده می‌شود" in staffer.last_text
    (document,) = _documents(present)
    assert len(_documents(also)) == 1 and not _documents(absent)
    assert "گواهی حضور شما در دورهٔ «بازاریابی دیجیتال»" in document.content
    pdf = api.files[document.document["file_id"]].data() if document.document else b""
    assert pdf.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "نرگس حیدری" in text
    first = {c.user_id: c.code for c in await _certificates(app)}
    assert set(first) == {9901, 9902}
    assert format_code(first[9901]) in document.content

    # Pressed again (a forged button: the course is already held): nothing more.
    await staffer.press_data(f"cadm:finish:{cid}")
    assert len(_documents(present)) == 1

    # A restart; then a late tick of the absent one: only they get a certificate.
    app = await make_app()
    sim = Simulator(app, api)
    staffer = sim.user(STAFF_ID)
    await staffer.press_data(f"cadm:att:{cid}:0")
    await staffer.press("⬜️ مینا بمی")
    present, also, absent = sim.user(9901), sim.user(9902), sim.user(9903)
    assert [len(_documents(u)) for u in (present, also, absent)] == [1, 1, 1]
    assert len(await _certificates(app)) == 3


async def test_certificates_queued_before_a_restart_are_sent_once_after_it(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    app = await make_app()
    sim = Simulator(app, api)
    cid = await _course_with_people(sim, app)
    # The course is marked held and the certificates queued, but the process stops before sending.
    async with app.bot_data.sessionmaker() as session, session.begin():
        scope = StaffScope(user_id=STAFF_ID, is_admin=True)
        await course_admin.finish(session, scope, cid)
        _ = app.bot_data.translations.gettext
        key = app.bot_data.settings.document_key
        assert await course_documents.queue_certificates(session, _, cid, key, STAFF_ID) == 2
        assert await course_documents.queue_certificates(session, _, cid, key, STAFF_ID) == 0
    app = await make_app()
    app.bot_data.delivery.wake()
    await app.bot_data.delivery.drain_notices()
    app = await make_app()
    app.bot_data.delivery.wake()
    await app.bot_data.delivery.drain_notices()
    sim = Simulator(app, api)
    assert [len(_documents(sim.user(u))) for u in (9901, 9902, 9903)] == [1, 1, 0]


async def test_verification_valid_revoked_unknown_and_reissue(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    cid = await _course_with_people(sim, app)
    staffer = sim.user(STAFF_ID)
    await staffer.press_data(f"cadm:finish:{cid}")
    certificates = {c.user_id: c for c in await _certificates(app)}
    code = certificates[9901].code
    # The PDF's QR code is the deep link that verifies it.
    (document,) = _documents(sim.user(9901))
    assert document.document is not None

    stranger = await kit.started(sim, 9950)
    await stranger.command("/start", f"cert_{code}")
    assert "این گواهی حضور در دوره معتبر است" in stranger.last_text
    assert "نرگس حیدری" in stranger.last_text and "بازاریابی دیجیتال" in stranger.last_text
    assert "تشکل کسب‌وکارهای خانگی" in stranger.last_text
    assert "09" not in stranger.last_text  # nothing personal beyond the name
    await stranger.command("/start", "cert_" + new_code(b"another key", CodeKind.COURSE_CERTIFICATE))
    assert "هیچ گواهی‌ای با این کد استعلام نیست" in stranger.last_text
    await stranger.command(
        "/start", "cert_" + new_code(app.bot_data.settings.document_key, CodeKind.COURSE_CERTIFICATE)
    )
    assert "هیچ گواهی‌ای با این کد استعلام نیست" in stranger.last_text  # signed, but never issued

    # The name is corrected in the profile and the certificate reissued: the old code is replaced.
    async with app.bot_data.sessionmaker() as session, session.begin():
        profile = await session.get(Profile, 9902)
        assert profile is not None
        profile.full_name = "رضا سیرجانی‌پور"
    await staffer.press_data(f"cadm:view:{cid}")
    await staffer.press("گواهی‌های حضور")
    assert "صدور دوباره: رضا سیرجانی" in staffer.buttons()
    await staffer.press("صدور دوباره: رضا سیرجانی")
    assert "گواهی تازه با نام «رضا سیرجانی‌پور» فرستاده شد" in staffer.last_text
    assert len(_documents(sim.user(9902))) == 2
    old, new = [c for c in await _certificates(app) if c.user_id == 9902]
    await stranger.command("/start", f"cert_{old.code}")
    assert "باطل شده" in stranger.last_text
    await stranger.command("/start", f"cert_{new.code}")
    assert "معتبر است" in stranger.last_text and "رضا سیرجانی‌پور" in stranger.last_text

    # Revoked.
    assert "ابطال" in staffer.buttons()
    await staffer.press_data(f"cadm:revoke:{certificates[9901].id}")
    await staffer.press("بله، باطل شود")
    assert "گواهی «نرگس حیدری» باطل شد" in staffer.last_text
    await stranger.command("/start", f"cert_{code}")
    assert "باطل شده" in stranger.last_text and "معتبر نیست" in stranger.last_text


async def test_only_the_courses_staff_reissue_or_revoke(sim: Simulator, app: BotApplication) -> None:
    cid = await _course_with_people(sim, app)
    await sim.user(STAFF_ID).press_data(f"cadm:finish:{cid}")
    certificate = (await _certificates(app))[0]
    theirs = await add_association(app, "انجمن بیمه‌گران")
    await add_staff(app, 9960, theirs)
    other = await kit.started(sim, 9960)
    stranger = await kit.started(sim, 9961)
    for user in (other, stranger):
        for action in ("revokeok", "reissue"):
            await user.press_data(f"cadm:{action}:{certificate.id}")
    assert [c.revoked_at for c in await _certificates(app)] == [None, None]


async def test_the_certificate_pdf_qr_is_its_verification_link(app: BotApplication) -> None:
    """The certificate drawn at send time carries a QR code with the bot's verification deep link."""
    association = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    cid = await add_course(app, title="بازاریابی دیجیتال", association_id=association)
    async with app.bot_data.sessionmaker() as session, session.begin():
        course = await session.get(Course, cid)
        assert course is not None
        course.status = "finished"
        session.add(Registration(course_id=cid, user_id=9970, status="registered", attended=True))
        await session.flush()
        (issued,) = await course_certificates.issue_missing(session, cid, app.bot_data.settings.document_key)
    made = await course_documents.draw_certificate(app, issued.code)
    assert made is not None
    pdf = made.input_file_content
    assert isinstance(pdf, bytes)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    images = list(page.images)
    assert images
    found = decode_qr(images[0].image) if images[0].image is not None else []
    assert found == [f"https://t.me/{app.bot.username}?start=cert_{issued.code}"]


async def test_feedback_chart_and_spreadsheet(sim: Simulator, app: BotApplication, api: FakeTelegram) -> None:
    cid = await _course_with_people(sim, app)
    staffer = sim.user(STAFF_ID)
    await staffer.press_data(f"cadm:finish:{cid}")
    await sim.user(9901).press_data(f"courses:rate:{cid}:5")
    await sim.user(9901).send("مطالب کاربردی بود")
    await sim.user(9902).press_data(f"courses:rate:{cid}:3")
    await staffer.press_data(f"cadm:view:{cid}")
    await staffer.press("نمودار نظرسنجی")
    message = staffer.last_message
    assert message is not None and message.photo is not None
    assert "نظرسنجی" in message.content or "بازاریابی دیجیتال" in message.content
    picture = api.files[message.photo[-1]["file_id"]].data()
    assert picture.startswith(b"\x89PNG")
    await staffer.press_data(f"cadm:csv:{cid}:registered")
    sheet = staffer.last_message
    assert sheet is not None and sheet.document is not None
    rows = list(csv.reader(io.StringIO(api.files[sheet.document["file_id"]].data().decode("utf-8-sig"))))
    assert rows[0][-3:] == ["حاضر", "امتیاز", "نظر"] or rows[0][-2:] == ["امتیاز", "نظر"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["نرگس حیدری"][-2:] == ["5", "مطالب کاربردی بود"]
    assert by_name["رضا سیرجانی"][-2:] == ["3", ""]
    assert by_name["مینا بمی"][-2:] == ["", ""]


async def test_a_check_in_at_the_door_after_the_course_was_held_sends_the_certificate(
    sim: Simulator, app: BotApplication
) -> None:
    cid = await _course_with_people(sim, app)
    staffer = sim.user(STAFF_ID)
    await staffer.press_data(f"cadm:finish:{cid}")
    async with app.bot_data.sessionmaker() as session, session.begin():
        found = await tickets.ticket(session, 9903, cid, app.bot_data.settings.document_key)
    await staffer.press_data(f"cadm:desk:{cid}")
    await staffer.send(format_code(found.code))
    assert "✅ ورود مینا بمی ثبت شد" in staffer.last_text
    await staffer.send(format_code(found.code))
    assert [len(_documents(sim.user(u))) for u in (9901, 9902, 9903)] == [1, 1, 1]
