"""Course tickets and check-in at the door, through the fake Bot API: the ticket photo in «My
courses» (its QR read back), check-in by a photo of the QR code, by the typed code and by the
participant list (one record each, a second check-in says when the first was), and the refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.context import BotApplication
from bot.documents import CodeKind, decode_qr, format_code, new_code, qr_png, verify_code
from bot.formatting import fa_digits
from bot.services import tickets
from bot.services.staff import StaffScope
from db.models import CheckInDesk, Registration
from db.models.courses import R_CANCELLED
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import FakeTelegram
from tests import coursekit as kit
from tests.conftest import ADMIN_ID, AppFactory
from tests.factories import add_association, add_course, add_profile, add_staff

STAFF_ID = 8900


async def _registration(app: BotApplication, course_id: int, user_id: int) -> Registration:
    async with app.bot_data.sessionmaker() as session:
        row = await session.scalar(
            select(Registration).where(Registration.course_id == course_id, Registration.user_id == user_id)
        )
        assert row is not None
        return row


async def _ticket(user: SimUser, api: FakeTelegram, course_id: int) -> tuple[bytes, str]:
    """The user opens their ticket: the photo's bytes and its caption."""
    await user.press_data(f"courses:ticket:{course_id}")
    message = user.last_message
    assert message is not None and message.photo is not None, user.last_text
    return api.files[message.photo[-1]["file_id"]].data(), message.content


async def _setup(sim: Simulator, app: BotApplication, users: list[int]) -> tuple[int, int]:
    """An association with a staff member and a course that `users` signed up for."""
    association = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    await add_staff(app, STAFF_ID, association)
    cid = await add_course(app, title="بازاریابی دیجیتال", capacity=10, association_id=association)
    for n, user_id in enumerate(users):
        user = await kit.started(sim, user_id)
        await user.press_data(f"courses:join:{cid}")
        await add_profile(app, user_id, f"شرکت‌کننده {fa_digits(n + 1)}")
    return association, cid


async def test_the_ticket_photo_carries_its_signed_code(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    _association, cid = await _setup(sim, app, [8901])
    user = await kit.started(sim, 8901)
    await user.command("/mycourses")
    assert "🎫 کارت ورود: بازاریابی دیجیتال" in user.buttons()
    await user.press("🎫 کارت ورود: بازاریابی دیجیتال")
    message = user.last_message
    assert message is not None and message.photo is not None
    picture = api.files[message.photo[-1]["file_id"]].data()
    # The QR code read back from the generated image is the ticket's code, signed, in the caption.
    (code,) = decode_qr(picture)
    registration = await _registration(app, cid, 8901)
    assert registration.ticket_code == code
    assert verify_code(app.bot_data.settings.document_key, CodeKind.TICKET, code) == code
    assert (
        format_code(code) in message.content
        and "کارت ورود شما به دورهٔ «بازاریابی دیجیتال»" in message.content
    )
    assert "8901" not in code and "شرکت" not in code  # nothing personal in the code
    # Opened again: the same code.
    again, _caption = await _ticket(user, api, cid)
    assert decode_qr(again) == [code]


async def test_no_ticket_without_a_seat(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=1)
    await (await kit.started(sim, 8911)).press_data(f"courses:join:{cid}")
    waiting = await kit.started(sim, 8912)
    await waiting.press_data(f"courses:join:{cid}")  # the course is full: the waiting list
    await waiting.press_data(f"courses:ticket:{cid}")
    assert "جا ندارید" in str(waiting.answers[-1].params.get("text"))
    assert not [m for m in waiting.messages if m.photo is not None]


async def test_check_in_by_photo_by_code_and_by_list_once_each(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    _association, cid = await _setup(sim, app, [8921, 8922, 8923, 8924])
    first, second, third, fourth = [sim.user(i) for i in (8921, 8922, 8923, 8924)]
    ticket_photo, _caption = await _ticket(first, api, cid)
    _photo, _caption = await _ticket(second, api, cid)
    _photo, caption = await _ticket(third, api, cid)
    code_of = {u: (await _registration(app, cid, u)).ticket_code for u in (8921, 8922, 8923)}
    staffer = await kit.started(sim, STAFF_ID)
    await staffer.press_data(f"cadm:view:{cid}")
    await staffer.press("ثبت ورود")
    assert "ثبت ورود: بازاریابی دیجیتال" in staffer.last_text

    # (a) a photo of the ticket itself, as a phone would send it.
    await staffer.send_photo(content=ticket_photo)
    assert "✅ ورود شرکت‌کننده ۱ ثبت شد" in staffer.last_text
    await staffer.send_photo(content=ticket_photo)
    assert "پیش‌تر در" in staffer.last_text and "شرکت‌کننده ۱" in staffer.last_text
    # (a') a QR image generated here, carrying the second ticket's code.
    code = code_of[8922]
    assert code is not None
    await staffer.send_photo(content=qr_png(code))
    assert "✅ ورود شرکت‌کننده ۲ ثبت شد" in staffer.last_text
    # (b) the code typed from the caption: grouped, lower case, Persian digits.
    typed = format_code(code_of[8923] or "").lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert format_code(code_of[8923] or "") in caption
    await staffer.send(typed)
    assert "✅ ورود شرکت‌کننده ۳ ثبت شد" in staffer.last_text
    await staffer.send(typed)
    assert "پیش‌تر در" in staffer.last_text
    # (c) the list: the fourth person (who never opened a ticket) is ticked.
    await staffer.press("حضور و غیاب")
    assert "حاضر: ۳ از ۴" in staffer.last_text
    await staffer.press("⬜️ شرکت‌کننده ۴")
    assert "حاضر: ۴ از ۴" in staffer.last_text
    # The list and the ticket are the same record: the fourth's ticket now says "already".
    ticket_of_fourth, _caption = await _ticket(fourth, api, cid)
    await staffer.press_data(f"cadm:desk:{cid}")
    await staffer.send_photo(content=ticket_of_fourth)
    assert "پیش‌تر در" in staffer.last_text and "شرکت‌کننده ۴" in staffer.last_text

    rows = {u: await _registration(app, cid, u) for u in (8921, 8922, 8923, 8924)}
    assert all(r.attended and r.checked_in_at is not None for r in rows.values())
    assert {r.checked_in_by for r in rows.values()} == {STAFF_ID}

    # A photo with no QR code in it, and the end of the desk.
    await staffer.send_photo()
    assert "کد QR پیدا نشد" in staffer.last_text
    await staffer.press("پایان ثبت ورود")
    assert "ثبت ورود پایان یافت" in staffer.last_text
    await staffer.send(typed)  # no desk open: just an unknown message now
    assert "منظور شما روشن نشد" in staffer.last_text


async def test_a_second_check_in_keeps_the_first_time(sim: Simulator, app: BotApplication) -> None:
    """At the service: the first check-in's time and staff member stay."""
    _association, cid = await _setup(sim, app, [8931])
    key = app.bot_data.settings.document_key
    async with app.bot_data.sessionmaker() as session, session.begin():
        found = await tickets.ticket(session, 8931, cid, key)
    staff = StaffScope(user_id=STAFF_ID, association_ids=frozenset({_association}))
    admin = StaffScope(user_id=ADMIN_ID, is_admin=True)
    async with app.bot_data.sessionmaker() as session, session.begin():
        done = await tickets.check_in_code(session, staff, cid, found.code, key)
    assert done.first
    async with app.bot_data.sessionmaker() as session, session.begin():
        again = await tickets.check_in_code(session, admin, cid, format_code(found.code), key)
    assert not again.first and again.at == done.at
    assert (await _registration(app, cid, 8931)).checked_in_by == STAFF_ID


async def test_refusals_wrong_course_cancelled_seat_unknown_code(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    association, cid = await _setup(sim, app, [8941, 8942])
    other = await add_course(app, title="صادرات پسته", association_id=association)
    elsewhere = await kit.started(sim, 8943)
    await elsewhere.press_data(f"courses:join:{other}")
    other_ticket, _caption = await _ticket(elsewhere, api, other)
    cancelled = sim.user(8942)
    cancelled_ticket, _caption = await _ticket(cancelled, api, cid)
    await cancelled.command("/mycourses")
    await cancelled.press_data(f"courses:cancelok:{cid}")
    assert (await _registration(app, cid, 8942)).status == R_CANCELLED

    staffer = await kit.started(sim, STAFF_ID)
    await staffer.press_data(f"cadm:desk:{cid}")
    await staffer.send_photo(content=other_ticket)
    assert "برای دورهٔ دیگری («صادرات پسته»)" in staffer.last_text
    await staffer.send_photo(content=cancelled_ticket)
    assert "لغو شده است" in staffer.last_text and "معتبر نیست" in staffer.last_text
    await staffer.send("ABCD-EFGH-JKMN")  # well formed, not signed
    assert "این کد کارت ورود معتبر نیست" in staffer.last_text
    # A certificate's code (signed with the same key) is not a ticket's.
    await staffer.send(format_code(new_code(app.bot_data.settings.document_key, CodeKind.COURSE_CERTIFICATE)))
    assert "معتبر نیست" in staffer.last_text
    assert not (await _registration(app, other, 8943)).attended
    assert not (await _registration(app, cid, 8942)).attended


@pytest.mark.parametrize(
    "action", ["cadm:desk:{cid}", "cadm:deskend", "cadm:chart:{cid}", "cadm:certs:{cid}"]
)
async def test_non_staff_cannot_open_a_desk(sim: Simulator, app: BotApplication, action: str) -> None:
    _association, cid = await _setup(sim, app, [8951])
    stranger = await kit.started(sim, 8959)
    await stranger.press_data(action.format(cid=cid))
    assert "فقط برای کارشناسان" in str(stranger.answers[-1].params.get("text") or "")
    # With no desk, a stranger's code or photo is an unknown message, never a check-in.
    async with app.bot_data.sessionmaker() as session, session.begin():
        found = await tickets.ticket(session, 8951, cid, app.bot_data.settings.document_key)
    await stranger.send(format_code(found.code))
    assert "منظور شما روشن نشد" in stranger.last_text
    await stranger.send_photo(content=qr_png(found.code))
    assert "منظور شما روشن نشد" in stranger.last_text
    assert not (await _registration(app, cid, 8951)).attended


async def test_another_associations_staff_cannot_check_in(sim: Simulator, app: BotApplication) -> None:
    _association, cid = await _setup(sim, app, [8961])
    theirs = await add_association(app, "انجمن بیمه‌گران")
    await add_staff(app, 8969, theirs)
    staffer = await kit.started(sim, 8969)
    await staffer.press_data(f"cadm:desk:{cid}")
    assert "تشکل دیگری" in str(staffer.answers[-1].params.get("text") or "")
    # Even a desk opened for their own course does not reach this one's tickets.
    own = await add_course(app, title="دورهٔ خودشان", association_id=theirs)
    await staffer.press_data(f"cadm:desk:{own}")
    async with app.bot_data.sessionmaker() as session, session.begin():
        found = await tickets.ticket(session, 8961, cid, app.bot_data.settings.document_key)
    await staffer.send(found.code)
    assert "برای دورهٔ دیگری" in staffer.last_text
    assert not (await _registration(app, cid, 8961)).attended


async def test_a_desk_survives_a_restart(make_app: AppFactory, api: FakeTelegram) -> None:
    build = make_app
    app = await build()
    sim = Simulator(app, api)
    _association, cid = await _setup(sim, app, [8971])
    photo, _caption = await _ticket(sim.user(8971), api, cid)
    await (await kit.started(sim, STAFF_ID)).press_data(f"cadm:desk:{cid}")
    app = await build()
    sim = Simulator(app, api)
    staffer = sim.user(STAFF_ID)
    await staffer.send_photo(content=photo)
    assert "✅ ورود شرکت‌کننده ۱ ثبت شد" in staffer.last_text


async def test_a_desk_expires(sim: Simulator, app: BotApplication) -> None:
    _association, cid = await _setup(sim, app, [8981])
    await (await kit.started(sim, STAFF_ID)).press_data(f"cadm:desk:{cid}")

    async with app.bot_data.sessionmaker() as session, session.begin():
        desk = await session.get(CheckInDesk, STAFF_ID)
        assert desk is not None
        desk.opened_at -= timedelta(hours=tickets.DESK_HOURS + 1)
    async with app.bot_data.sessionmaker() as session:
        assert await tickets.desk_course(session, STAFF_ID) is None
