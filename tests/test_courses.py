"""Courses for members and visitors, through the fake Bot API: list, card, sign-up, waiting list,
promotion, members-only, my courses, cancellation and the calendar file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import jdatetime
import pytest

from bot.context import BotApplication
from bot.formatting import fa_digits, jalali_when
from db.models.courses import CANCELLED, R_CANCELLED, REGISTERED, RELEASED, WAITING
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests import coursekit as kit
from tests.factories import add_association, add_course, add_member

WEEKDAYS = ("شنبه", "یک‌شنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنج‌شنبه", "جمعه")
MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)


async def test_menu_lists_upcoming_courses_and_opens_a_card(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, title="کارگاه بسته‌بندی و برند", capacity=30, fee_rials=2_000_000)
    await add_course(app, title="دورهٔ گذشته", starts_in=timedelta(days=-1))
    await add_course(app, title="دورهٔ لغوشده", status=CANCELLED)
    user = sim.user(7001)
    await user.command("/start")
    await user.press("دوره‌های آموزشی")
    listing = user.last_text
    assert "دوره‌های آموزشی پیش رو" in listing and "کارگاه بسته‌بندی و برند" in listing
    assert "دورهٔ گذشته" not in listing and "دورهٔ لغوشده" not in listing
    assert "۳۰ جای خالی" in listing
    await user.press("کارگاه بسته‌بندی و برند")
    card = user.last_text
    course = await kit.get_course(app, cid)
    assert course.starts_at is not None
    assert f"زمان: {jalali_when(course.starts_at)} تا " in card
    assert not re.search("[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}", card)  # weekday and month name, not ۱۴۰۵/۰۹/۲۱
    assert "جای خالی: ۳۰ از ۳۰" in card
    assert "مدرس: مریم رضایی" in card and "۲٬۰۰۰٬۰۰۰ ریال" in card
    assert "ثبت‌نام" in user.buttons()


async def test_one_tap_sign_up_and_seats_left(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=12)
    user = sim.user(7002)
    await user.command("/start", f"course_{cid}")
    assert "جای خالی: ۱۲ از ۱۲" in user.last_text
    await user.press("ثبت‌نام")
    assert "جای شما در دوره ثبت شد" in user.last_text
    assert "جای خالی: ۱۱ از ۱۲" in user.last_text
    assert "لغو ثبت‌نام من" in user.buttons() and "ثبت‌نام" not in user.buttons()
    assert (await kit.get_course(app, cid)).taken == 1
    # Pressing an old "sign up" button again changes nothing.
    await user.press_data(f"courses:join:{cid}")
    assert "قبلاً در این دوره ثبت‌نام کرده‌اید" in user.last_text
    assert (await kit.get_course(app, cid)).taken == 1


async def test_deep_link_to_a_missing_course(sim: Simulator) -> None:
    user = sim.user(7003)
    await user.command("/start", "course_999")
    assert "این دوره پیدا نشد" in user.last_text


async def test_association_card_button_lists_only_its_courses(sim: Simulator, app: BotApplication) -> None:
    home = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    other = await add_association(app, "انجمن بیمه‌گران")
    await add_course(app, title="فروش برخط محصولات خانگی", association_id=home)
    await add_course(app, title="مدیریت ریسک بیمه", association_id=other)
    user = await kit.started(sim, 7004)
    await user.press_data(f"courses:assoc:{home}")
    text = user.last_text
    assert "تشکل کسب‌وکارهای خانگی" in text and "فروش برخط محصولات خانگی" in text
    assert "مدیریت ریسک بیمه" not in text


async def test_full_course_waiting_list_and_promotion_on_cancellation(
    sim: Simulator, app: BotApplication
) -> None:
    cid = await add_course(app, title="حسابداری ساده", capacity=1)
    first, second, third = sim.user(7101), sim.user(7102), sim.user(7103)
    for user in (first, second, third):
        await user.command("/start", f"course_{cid}")
    await first.press("ثبت‌نام")
    assert "جای شما در دوره ثبت شد" in first.last_text
    # The second still has the card from before the course filled up: the tap puts them in line.
    await second.press("ثبت‌نام")
    assert "فهرست انتظار قرار گرفتید: نفر ۱" in second.last_text
    await third.command("/start", f"course_{cid}")
    assert "ظرفیت تکمیل است" in third.last_text
    await third.press("ثبت‌نام در فهرست انتظار")
    assert "نفر ۲" in third.last_text
    assert "شما نفر ۲ فهرست انتظار هستید" in third.last_text

    # The first cancels: the first in line gets the seat and is told, the next moves up.
    await first.press("لغو ثبت‌نام من")
    mark = second.mark()
    await first.press("بله، لغو شود")
    assert "ثبت‌نام شما لغو شد" in first.last_text
    told = second.texts_since(mark)
    assert any("خبر خوب" in t and "حسابداری ساده" in t for t in told)
    assert await kit.statuses(app, cid) == {7101: R_CANCELLED, 7102: REGISTERED, 7103: WAITING}
    await third.command("/mycourses")
    assert "شما نفر ۱ فهرست انتظار هستید" in third.last_text

    # The promoted person no longer wants it: they release it and the next one moves up.
    mark = third.mark()
    await second.press("واگذاری جای من")
    assert "واگذار" in second.last_text
    await second.press("بله، لغو شود")
    assert any("خبر خوب" in t for t in third.texts_since(mark))
    assert await kit.statuses(app, cid) == {7101: R_CANCELLED, 7102: RELEASED, 7103: REGISTERED}
    assert (await kit.get_course(app, cid)).taken == 1


async def test_leaving_the_waiting_list_moves_the_others_up(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=1)
    users = [await kit.started(sim, 7201 + i) for i in range(4)]
    for user in users:
        await user.press_data(f"courses:join:{cid}")
    assert "نفر ۳" in users[3].last_text
    await users[1].press_data(f"courses:cancel:{cid}")
    await users[1].press("بله، لغو شود")
    await users[3].command("/mycourses")
    assert "شما نفر ۲ فهرست انتظار هستید" in users[3].last_text
    assert (await kit.get_course(app, cid)).taken == 1
    statuses = await kit.statuses(app, cid)
    assert statuses[7201] == REGISTERED and statuses[7202] == R_CANCELLED


async def test_members_only_course_explains_how_to_join(sim: Simulator, app: BotApplication) -> None:
    home = await add_association(app)
    cid = await add_course(app, association_id=home, members_only=True)
    user = sim.user(7301)
    await user.command("/start", f"course_{cid}")
    assert "فقط برای اعضای تشکل" in user.last_text
    await user.press("ثبت‌نام")
    assert "فقط برای اعضاست" in user.last_text and "مدرک دانشگاهی لازم نیست" in user.last_text
    button = user.last_message.button("درخواست عضویت") if user.last_message else None
    assert button is not None and button["callback_data"] == f"apply:start:{home}"
    assert await kit.statuses(app, cid) == {}
    # Once a member, the same button works.
    await add_member(app, 7301, home)
    await user.press_data(f"courses:join:{cid}")
    assert "جای شما در دوره ثبت شد" in user.last_text


async def test_my_courses_lists_seats_and_waiting_places_with_cancel(
    sim: Simulator, app: BotApplication
) -> None:
    open_id = await add_course(app, title="بازاریابی دیجیتال", capacity=5)
    full_id = await add_course(app, title="صادرات فرش", capacity=1)
    await (await kit.started(sim, 7401)).press_data(f"courses:join:{full_id}")
    user = sim.user(7402)
    await user.command("/mycourses")
    assert "در هیچ دورهٔ پیش رویی ثبت‌نام نکرده‌اید" in user.last_text
    await user.press_data(f"courses:join:{open_id}")
    await user.press_data(f"courses:join:{full_id}")
    await user.command("/mycourses")
    text = user.last_text
    assert "بازاریابی دیجیتال" in text and "جای شما در این دوره ثبت شده است" in text
    assert "صادرات فرش" in text and "شما نفر ۱ فهرست انتظار هستید" in text
    assert user.buttons().count("انصراف") == 2
    await user.press_data(f"courses:cancel:{open_id}")
    await user.press("بله، لغو شود")
    await user.command("/mycourses")
    assert "بازاریابی دیجیتال" not in user.last_text and "صادرات فرش" in user.last_text
    assert (await kit.get_course(app, open_id)).taken == 0


async def test_no_sign_up_for_closed_started_or_cancelled(sim: Simulator, app: BotApplication) -> None:
    closed = await add_course(app, status="closed")
    started = await add_course(app, starts_in=timedelta(minutes=-5))
    cancelled = await add_course(app, status=CANCELLED)
    user = await kit.started(sim, 7501)
    for cid, expected in (
        (closed, "ثبت‌نام این دوره بسته شده است"),
        (started, "شروع شده است"),
        (cancelled, "این دوره لغو شده است"),
    ):
        await user.press_data(f"courses:join:{cid}")
        assert expected in user.last_text
        assert await kit.statuses(app, cid) == {}


async def test_calendar_file_is_valid_rfc5545(sim: Simulator, app: BotApplication, api: FakeTelegram) -> None:
    title = "کارگاه بسته‌بندی، برند؛ و فروش برخط برای کسب‌وکارهای خانگی استان کرمان"
    cid = await add_course(app, title=title, place="کرمان، بلوار جمهوری، اتاق بازرگانی")
    user = sim.user(7601)
    await user.command("/start", f"course_{cid}")
    await user.press("افزودن به تقویم من")
    message = user.last_message
    assert message is not None and message.document is not None
    assert message.document["file_name"] == f"course-{cid}.ics"
    data = api.files[message.document["file_id"]].data()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    lines = data.split(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # the long Persian title was folded
    course = await kit.get_course(app, cid)
    assert course.starts_at is not None and course.ends_at is not None
    text = data.decode()
    assert f"DTSTART:{course.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in text
    assert f"DTEND:{course.ends_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in text
    assert f"UID:course-{cid}@" in text and "DTSTAMP:" in text
    assert "LOCATION:کرمان\\، بلوار" not in text  # Persian comma needs no escape...
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:کارگاه بسته‌بندی\\, برند\\; و فروش" not in unfolded  # ...ASCII ones would
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == title
    assert str(event["LOCATION"]) == "کرمان، بلوار جمهوری، اتاق بازرگانی"
    assert event.decoded("DTSTART") == course.starts_at
    assert "مریم رضایی" in str(event["DESCRIPTION"])


async def test_calendar_escapes_ascii_punctuation_and_online_link(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    cid = await add_course(
        app, title="Excel, pivot; tables", place=None, online_url="https://meet.example.com/room-1"
    )
    user = await kit.started(sim, 7602)
    await user.press_data(f"courses:ics:{cid}")
    message = user.last_message
    assert message is not None and message.document is not None
    text = api.files[message.document["file_id"]].data().decode().replace("\r\n ", "")
    assert "SUMMARY:Excel\\, pivot\\; tables" in text
    assert "URL:https://meet.example.com/room-1" in text
    assert "LOCATION:https://meet.example.com/room-1" in text


def _at_tehran_hour(days: int, hour: int) -> timedelta:
    """How far from now `days` ahead at `hour`:00 in Tehran lies: the card writes a course that ends
    on its own day differently from one that runs past midnight, so the test picks the hour."""
    tehran = ZoneInfo("Asia/Tehran")
    now = datetime.now(UTC)
    local = (now.astimezone(tehran) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return local.astimezone(UTC) - now


def _jalali(moment: datetime) -> jdatetime.datetime:
    return jdatetime.datetime.fromgregorian(datetime=moment.astimezone(ZoneInfo("Asia/Tehran")))


def _day_and_clock(moment: jdatetime.datetime) -> str:
    return (
        f"{WEEKDAYS[moment.weekday()]} {fa_digits(moment.day)} {MONTHS[moment.month - 1]} {fa_digits(moment.year)}، "
        f"ساعت {fa_digits(f'{moment.hour:02d}:{moment.minute:02d}')}"
    )


async def test_card_shows_weekday_month_name_and_time_in_tehran(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, starts_in=_at_tehran_hour(10, 16))
    course = await kit.get_course(app, cid)
    assert course.starts_at is not None and course.ends_at is not None
    start, end = _jalali(course.starts_at), _jalali(course.ends_at)
    user = await kit.started(sim, 7701)
    await user.press_data(f"courses:view:{cid}")
    expected = f"{_day_and_clock(start)} تا {fa_digits(f'{end.hour:02d}:{end.minute:02d}')}"
    assert expected in user.last_text


async def test_a_course_past_midnight_shows_the_day_it_ends(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, starts_in=_at_tehran_hour(10, 23))
    course = await kit.get_course(app, cid)
    assert course.starts_at is not None and course.ends_at is not None
    start, end = _jalali(course.starts_at), _jalali(course.ends_at)
    assert start.day != end.day
    user = await kit.started(sim, 7702)
    await user.press_data(f"courses:view:{cid}")
    assert f"{_day_and_clock(start)} تا {_day_and_clock(end)}" in user.last_text


# ---------------------------------------------------------------------------- what the card says


async def test_a_seat_holder_is_not_invited_to_the_waiting_list(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=1)
    holder, other = await kit.started(sim, 7801), await kit.started(sim, 7802)
    await holder.press_data(f"courses:join:{cid}")
    assert "ظرفیت تکمیل است (۱ نفر)." in holder.last_text
    assert "فهرست انتظار ثبت‌نام کنید" not in holder.last_text
    assert "ثبت‌نام در فهرست انتظار" not in holder.buttons()
    await other.press_data(f"courses:view:{cid}")
    assert "می‌توانید در فهرست انتظار ثبت‌نام کنید" in other.last_text
    assert "ثبت‌نام در فهرست انتظار" in other.buttons()
    await other.press("ثبت‌نام در فهرست انتظار")
    assert "شما نفر ۱ فهرست انتظار هستید" in other.last_text
    assert "فهرست انتظار ثبت‌نام کنید" not in other.last_text  # already in it


async def test_after_cancelling_the_card_says_who_got_the_seat(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, title="حسابداری ساده", capacity=1)
    first, second = await kit.started(sim, 7811), await kit.started(sim, 7812)
    await first.press_data(f"courses:join:{cid}")
    await second.press_data(f"courses:join:{cid}")
    await first.press_data(f"courses:cancelok:{cid}")
    assert "ثبت‌نام شما لغو شد" in first.last_text
    assert "جای شما به نفر بعدی فهرست انتظار رسید" in first.last_text
    # The promoted person is told through the outbox (a notice, with the button to give it back).
    notices = [(b, users) for b, users in await kit.broadcasts(app) if b.kind == "notice"]
    assert len(notices) == 1 and notices[0][1] == [7812] and "خبر خوب" in notices[0][0].text
    assert "courses:release:" in str(notices[0][0].buttons)
    assert "خبر خوب" in second.last_text and "واگذاری جای من" in second.buttons()
    # Nobody waiting: the card does not say so.
    await second.press_data(f"courses:cancelok:{cid}")
    assert "ثبت‌نام شما لغو شد" in second.last_text and "نفر بعدی" not in second.last_text
    assert (await kit.get_course(app, cid)).taken == 0


async def test_signing_up_again_joins_the_end_of_the_line(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=1)
    users = [await kit.started(sim, 7821 + i) for i in range(3)]
    for user in users:
        await user.press_data(f"courses:join:{cid}")
    await users[1].press_data(f"courses:cancelok:{cid}")  # leaves the line
    await users[1].press_data(f"courses:join:{cid}")
    assert "فهرست انتظار قرار گرفتید: نفر ۲" in users[1].last_text
    await users[2].press_data(f"courses:view:{cid}")
    assert "شما نفر ۱ فهرست انتظار هستید" in users[2].last_text
    assert await kit.statuses(app, cid) == {7821: REGISTERED, 7822: WAITING, 7823: WAITING}


@pytest.mark.parametrize("full", [False, True])
async def test_a_sign_up_is_two_statements(app: BotApplication, full: bool) -> None:
    from sqlalchemy import event

    from bot.services import courses as service

    cid = await add_course(app, capacity=0 if full else 5)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT")):
            statements.append(statement.split()[0].upper())

    engine = app.bot_data.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with app.bot_data.sessionmaker() as session, session.begin():
            result = await service.sign_up(session, cid, 7831)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert result.waiting is full
    assert statements == ["UPDATE", "INSERT"]
