"""Staff run courses through the fake Bot API: the form with Jalali dates, edits, close and cancel,
CSV lists, attendance and feedback; and every staff command and button refuses everyone else."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from sqlalchemy import select
from telegram.ext import ConversationHandler

from bot.context import BotApplication
from bot.formatting import fa_digits
from bot.forms import exits
from bot.handlers import course_cards, courses_form, courses_staff
from bot.kit.callbacks import routers_of
from bot.kit.guards import guard_of
from bot.services import course_form
from bot.services.errors import InvalidAnswer
from db.models import Broadcast, Course, Registration, utcnow
from db.models.courses import CANCELLED, CLOSED, FINISHED, OPEN, REGISTERED, WAITING
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import FakeTelegram
from tests import coursekit as kit
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_course, add_profile, add_staff


def _future_jalali(days: int = 30, clock: str = "17:30") -> tuple[str, jdatetime.date]:
    """A Jalali date `days` from now written with Persian digits and no leading zeros."""
    day = jdatetime.date.fromgregorian(date=(utcnow() + timedelta(days=days)).date())
    return fa_digits(f"{day.year}/{day.month}/{day.day} {clock}"), day


async def _walk_form(admin: SimUser, answers: list[str]) -> None:
    for text in answers:
        await admin.send(text)


async def test_staff_create_a_course_with_bad_dates_corrected(sim: Simulator, app: BotApplication) -> None:
    home = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.command("/managecourses")
    assert "هنوز دوره‌ای نیست" in admin.last_text
    await admin.press("دورهٔ جدید")
    assert "برای کدام تشکل" in admin.last_text
    await admin.press("تشکل کسب‌وکارهای خانگی")
    assert "عنوان دوره چیست" in admin.last_text
    await admin.send("ب")
    assert "خیلی کوتاه" in admin.last_text
    await _walk_form(admin, ["کارگاه بسته‌بندی و برند", "آشنایی با اصول بسته‌بندی و برند", "مریم رضایی"])
    assert "کی شروع می‌شود" in admin.last_text
    start_text, day = _future_jalali()
    checks = [
        ("۱۴۰۵/۱۳/۱۲ ۱۷:۳۰", "چنین تاریخی در تقویم وجود ندارد"),
        ("۱۴۰۵/۱۲/۳۲ ۱۷:۳۰", "چنین تاریخی در تقویم وجود ندارد"),
        (start_text.split()[0], "ساعت را هم بنویسید"),
        ("پنجشنبه ۱۷:۳۰", "این تاریخ خوانده نشد"),
        (start_text.replace("17:30", "25:30").replace("۱۷:۳۰", "۲۵:۳۰"), "این ساعت معتبر نیست"),
        ("۱۴۰۰/۱/۱ ۱۰:۰۰", "این زمان گذشته است"),
    ]
    for text, error in checks:
        await admin.send(text)
        assert error in admin.last_text, text
    await admin.send(start_text)
    assert "کی تمام می‌شود" in admin.last_text
    await admin.send("۱۵:۰۰")
    assert "زمان پایان باید بعد از زمان شروع باشد" in admin.last_text
    await admin.send("١٩:٣٠")  # Arabic-Indic digits are fine too
    assert "کجا برگزار می‌شود" in admin.last_text
    await admin.send("https://bad")
    assert "این پیوند معتبر نیست" in admin.last_text
    await admin.send("کرمان، اتاق بازرگانی، سالن همایش")
    await admin.send("سی")
    assert "به صورت عدد" in admin.last_text
    await admin.send("۰")
    assert "دست‌کم یک جا" in admin.last_text
    await admin.send("۳۰")
    assert "چه کسانی می‌توانند ثبت‌نام کنند" in admin.last_text
    await admin.press("همه")
    assert "چند ریال" in admin.last_text
    await admin.send("دو میلیون")
    assert "به صورت عدد" in admin.last_text
    await admin.send("۲٬۰۰۰٬۰۰۰")
    assert "لطفاً دورهٔ جدید را بررسی کنید" in admin.last_text
    assert "۲٬۰۰۰٬۰۰۰ ریال" in admin.last_text
    await admin.press("انتشار")
    assert "دوره منتشر شد" in admin.last_text
    async with app.bot_data.sessionmaker() as session:
        course = await session.scalar(select(Course))
    assert course is not None
    assert (course.status, course.association_id, course.capacity, course.fee_rials) == (
        OPEN,
        home,
        30,
        2_000_000,
    )
    assert course.starts_at is not None and course.ends_at is not None
    local = course.starts_at.astimezone(ZoneInfo("Asia/Tehran"))
    assert jdatetime.date.fromgregorian(date=local.date()) == day and (local.hour, local.minute) == (17, 30)
    assert course.ends_at - course.starts_at == timedelta(hours=2)
    # Visitors now see it.
    visitor = await kit.started(sim, 8001)
    await visitor.press("دوره‌های آموزشی")
    assert "کارگاه بسته‌بندی و برند" in visitor.last_text


async def test_draft_survives_a_restart(make_app: Any, api: FakeTelegram) -> None:
    first = await make_app()
    admin = Simulator(first, api).user(ADMIN_ID)
    await admin.command("/start")
    await admin.command("/managecourses")
    await admin.press("دورهٔ جدید")  # no associations yet: straight to a chamber-wide course
    await admin.send("اصول مذاکرهٔ تجاری")
    second = await make_app()
    admin = Simulator(second, api).user(ADMIN_ID)
    await admin.send("مهارت‌های مذاکره برای صاحبان کسب‌وکار")
    assert "مدرس دوره کیست" in admin.last_text
    async with second.bot_data.sessionmaker() as session:
        draft = await session.scalar(select(Course))
    assert draft is not None and draft.title == "اصول مذاکرهٔ تجاری" and draft.association_id is None


async def test_edit_capacity_promotes_waiting_people(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, title="حسابداری ساده", capacity=1)
    people = [await kit.started(sim, 8100 + i) for i in range(3)]
    for person in people:
        await person.press_data(f"courses:join:{cid}")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:view:{cid}")
    assert "ثبت‌نام‌شده: ۱ — در انتظار: ۲" in admin.last_text
    await admin.press("ویرایش")
    await admin.press("ویرایش ظرفیت")
    mark = people[1].mark()
    await admin.send("۲")
    assert "ذخیره شد" in admin.last_text and "ثبت‌نام‌شده: ۲ — در انتظار: ۱" in admin.last_text
    assert any("خبر خوب" in t for t in people[1].texts_since(mark))
    assert (await kit.statuses(app, cid))[8102] == WAITING
    # Lower than the seats taken: refused with the reason.
    await admin.press_data(f"cadm:edit:{cid}:capacity")
    await admin.send("۱")
    assert "۲ جا پر شده است" in admin.last_text
    assert (await kit.get_course(app, cid)).capacity == 2
    await admin.command("/cancel")


async def test_edit_title_and_start_of_a_published_course(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, title="نام قدیمی")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:edit:{cid}:title")
    await admin.send("نام تازهٔ دوره")
    assert "ذخیره شد" in admin.last_text and "نام تازهٔ دوره" in admin.last_text
    start_text, day = _future_jalali(days=40, clock="09:00")
    await admin.press_data(f"cadm:edit:{cid}:starts_at")
    await admin.send(start_text)
    course = await kit.get_course(app, cid)
    assert course.title == "نام تازهٔ دوره" and course.starts_at is not None and course.ends_at is not None
    assert (
        jdatetime.date.fromgregorian(date=course.starts_at.astimezone(ZoneInfo("Asia/Tehran")).date()) == day
    )
    assert course.ends_at - course.starts_at == timedelta(hours=2)


async def test_close_and_reopen(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app)
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:view:{cid}")
    await admin.press("بستن ثبت‌نام")
    assert (await kit.get_course(app, cid)).status == CLOSED
    user = await kit.started(sim, 8201)
    await user.press_data(f"courses:join:{cid}")
    assert "ثبت‌نام این دوره بسته شده است" in user.last_text
    await admin.press("باز کردن دوبارهٔ ثبت‌نام")
    assert (await kit.get_course(app, cid)).status == OPEN
    await user.press_data(f"courses:join:{cid}")
    assert "جای شما در دوره ثبت شد" in user.last_text


async def test_staff_cancel_tells_every_registrant_through_the_outbox(
    sim: Simulator, app: BotApplication
) -> None:
    cid = await add_course(app, title="صادرات زعفران", capacity=2)
    for uid in (8301, 8302, 8303):
        await (await kit.started(sim, uid)).press_data(f"courses:join:{cid}")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:view:{cid}")
    await admin.press("لغو دوره")
    assert "برگشت‌پذیر نیست" in admin.last_text
    await admin.press("بله، دوره لغو شود")
    assert "به ۳ نفر اطلاع داده می‌شود" in admin.last_text
    assert (await kit.get_course(app, cid)).status == CANCELLED
    sent = await kit.broadcasts(app)
    assert len(sent) == 1
    broadcast, recipients = sent[0]
    assert broadcast.kind == "announcement" and broadcast.dedupe_key == f"course:{cid}:cancelled"
    assert "صادرات زعفران" in broadcast.text and "لغو شد" in broadcast.text
    assert recipients == [8301, 8302, 8303]
    # A second press (an old button) changes nothing and queues nothing.
    await admin.press_data(f"cadm:cancelok:{cid}")
    assert len(await kit.broadcasts(app)) == 1
    user = sim.user(8301)
    await user.press_data(f"courses:view:{cid}")
    assert "این دوره لغو شده است" in user.last_text and "لغو ثبت‌نام من" in user.buttons()
    await user.press_data(f"courses:cancelok:{cid}")
    assert "این دوره لغو شده است" in user.last_text


async def test_participant_and_waiting_lists_as_csv(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    cid = await add_course(app, capacity=2)
    names = {8401: "زهرا کرمانی", 8402: "علی رفسنجانی", 8403: "مینا بمی", 8404: "رضا سیرجانی"}
    for uid in names:
        await (await kit.started(sim, uid)).press_data(f"courses:join:{cid}")
    for uid, name in names.items():
        await add_profile(app, uid, name, mobile="+989121234567", city="کرمان")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:view:{cid}")

    def table(user: SimUser) -> list[list[str]]:
        message = user.last_message
        assert message is not None and message.document is not None
        data = api.files[message.document["file_id"]].data()
        assert data.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    await admin.press("فهرست شرکت‌کنندگان (CSV)")
    rows = table(admin)
    assert rows[0][:3] == ["ردیف", "نام و نام خانوادگی", "تلفن همراه"]
    assert [r[1] for r in rows[1:]] == ["زهرا کرمانی", "علی رفسنجانی"]
    assert rows[1][5] == "8401"
    await admin.press_data(f"cadm:view:{cid}")
    await admin.press("فهرست انتظار (CSV)")
    rows = table(admin)
    assert [r[1] for r in rows[1:]] == ["مینا بمی", "رضا سیرجانی"]


async def test_attendance_and_feedback(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, title="بازاریابی دیجیتال", capacity=5)
    present = await kit.started(sim, 8501)
    absent = await kit.started(sim, 8502)
    for user in (present, absent):
        await user.press_data(f"courses:join:{cid}")
    await add_profile(app, 8501, "نرگس حیدری")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:view:{cid}")
    await admin.press("حضور و غیاب")
    assert "حاضر: ۰ از ۲" in admin.last_text
    await admin.press("⬜️ نرگس حیدری")
    assert "حاضر: ۱ از ۲" in admin.last_text and "✅ نرگس حیدری" in admin.buttons()
    await admin.press("بازگشت به دوره")
    mark = present.mark()
    absent_mark = absent.mark()
    await admin.press("ثبت برگزاری و درخواست نظر")
    assert "از ۱ نفر از حاضران نظرخواهی شد" in admin.last_text
    assert (await kit.get_course(app, cid)).status == FINISHED
    assert any("امتیاز دهید" in t for t in present.texts_since(mark))
    assert not absent.texts_since(absent_mark)
    await present.press("۴")
    assert "امتیاز شما: ۴ از ۵" in present.last_text
    await present.send("مطالب کاربردی بود، ولی کوتاه")
    assert "از نظر شما سپاسگزاریم" in present.last_text
    # Someone who did not attend cannot rate by forging the button.
    await absent.press_data(f"courses:rate:{cid}:1")
    assert "فقط کسانی که در دوره حاضر بوده‌اند" in str(absent.answers[-1].params.get("text"))
    async with app.bot_data.sessionmaker() as session:
        rows = {r.user_id: r for r in await session.scalars(select(Registration))}
    assert (rows[8501].rating, rows[8501].comment) == (4, "مطالب کاربردی بود، ولی کوتاه")
    assert rows[8502].rating is None
    await admin.press_data(f"cadm:view:{cid}")
    await admin.press("نتیجهٔ نظرسنجی")
    results = admin.last_text
    assert "حاضران: ۱ — پاسخ‌دهندگان: ۱" in results and "میانگین امتیاز: ۴٫۰ از ۵" in results
    assert "مطالب کاربردی بود" in results


async def test_feedback_without_a_comment(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app)
    user = await kit.started(sim, 8601)
    await user.press_data(f"courses:join:{cid}")
    async with app.bot_data.sessionmaker() as session, session.begin():
        registration = await session.scalar(select(Registration))
        assert registration is not None
        registration.attended = True
    await user.press_data(f"courses:rate:{cid}:5")
    await user.press("نظری ندارم")
    assert "از نظر شما سپاسگزاریم" in user.last_text
    await user.send("سلام")
    assert "منظور شما روشن نشد" in user.last_text  # the comment step is over


# ---------------------------------------------------------------------------- the staff guard

STAFF_ACTIONS = [
    "cadm:list",
    "cadm:new",
    "cadm:newfor:0",
    "cadm:view:{cid}",
    "cadm:editmenu:{cid}",
    "cadm:edit:{cid}:capacity",
    "cadm:close:{cid}",
    "cadm:reopen:{cid}",
    "cadm:cancel:{cid}",
    "cadm:cancelok:{cid}",
    "cadm:csv:{cid}:registered",
    "cadm:csv:{cid}:waiting",
    "cadm:att:{cid}:0",
    "cadm:mark:{rid}:0",
    "cadm:finish:{cid}",
    "cadm:results:{cid}",
    "cform:set:members_only:1",
    "cform:submit",
]


async def _snapshot(app: BotApplication) -> tuple[Any, ...]:
    async with app.bot_data.sessionmaker() as session:
        courses = [
            (c.id, c.status, c.capacity, c.members_only) for c in await session.scalars(select(Course))
        ]
        regs = [(r.id, r.status, r.attended) for r in await session.scalars(select(Registration))]
        sent = len(list(await session.scalars(select(Broadcast))))
    return courses, regs, sent


async def _guarded_setup(sim: Simulator, app: BotApplication) -> tuple[int, int]:
    cid = await add_course(app, capacity=3)
    await (await kit.started(sim, 8701)).press_data(f"courses:join:{cid}")
    async with app.bot_data.sessionmaker() as session:
        rid = await session.scalar(select(Registration.id))
    assert rid is not None
    return cid, rid


@pytest.mark.parametrize("action", STAFF_ACTIONS)
async def test_non_staff_forged_buttons_change_nothing(
    sim: Simulator, app: BotApplication, action: str
) -> None:
    cid, rid = await _guarded_setup(sim, app)
    before = await _snapshot(app)
    stranger = await kit.started(sim, 8799)
    await stranger.press_data(action.format(cid=cid, rid=rid))
    assert "فقط برای کارشناسان" in str(stranger.answers[-1].params.get("text") or "")
    assert await _snapshot(app) == before
    assert not [m for m in stranger.messages if m.document is not None]


async def test_non_staff_command_is_refused(sim: Simulator) -> None:
    stranger = await kit.started(sim, 8798)
    await stranger.command("/managecourses")
    assert "فقط برای کارشناسان" in stranger.last_text


@pytest.mark.parametrize("action", [a for a in STAFF_ACTIONS if "{cid}" in a or "{rid}" in a])
async def test_other_associations_staff_change_nothing(
    sim: Simulator, app: BotApplication, action: str
) -> None:
    mine = await add_association(app, "انجمن بیمه‌گران")
    theirs = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    await add_staff(app, 8800, mine)
    cid = await add_course(app, association_id=theirs, capacity=3)
    await (await kit.started(sim, 8701)).press_data(f"courses:join:{cid}")
    async with app.bot_data.sessionmaker() as session:
        rid = await session.scalar(select(Registration.id))
    before = await _snapshot(app)
    staffer = await kit.started(sim, 8800)
    await staffer.press_data(action.format(cid=cid, rid=rid))
    assert await _snapshot(app) == before
    assert not [m for m in staffer.messages if m.document is not None]
    refused = str(staffer.answers[-1].params.get("text") or "")
    assert "تشکل دیگری" in refused


async def test_association_staff_manage_their_own_courses_only(sim: Simulator, app: BotApplication) -> None:
    mine = await add_association(app, "انجمن بیمه‌گران")
    theirs = await add_association(app, "تشکل کسب‌وکارهای خانگی")
    await add_staff(app, 8900, mine)
    await add_course(app, title="مدیریت ریسک بیمه", association_id=mine)
    await add_course(app, title="فروش محصولات خانگی", association_id=theirs)
    await add_course(app, title="دورهٔ عمومی اتاق")
    staffer = await kit.started(sim, 8900)
    await staffer.command("/managecourses")
    assert "مدیریت ریسک بیمه" in staffer.last_text
    assert "فروش محصولات خانگی" not in staffer.last_text and "دورهٔ عمومی اتاق" not in staffer.last_text
    # Creating goes straight to their association: no chamber-wide or other choice.
    await staffer.press("دورهٔ جدید")
    assert "عنوان دوره چیست" in staffer.last_text
    async with app.bot_data.sessionmaker() as session:
        draft = await session.scalar(select(Course).where(Course.status == "draft"))
    assert draft is not None and draft.association_id == mine
    await staffer.command("/cancel")
    await staffer.press_data(f"cadm:newfor:{theirs}")
    async with app.bot_data.sessionmaker() as session:
        drafts = list(await session.scalars(select(Course).where(Course.status == "draft")))
    assert len(drafts) == 1


def test_every_staff_handler_is_guarded() -> None:
    callbacks = [cb for _data, cb in course_cards.STAFF.callbacks()]
    callbacks += [cb for _data, cb in courses_form.COURSE_FORM.routes.callbacks()]
    for handler in [*courses_form.FEATURE.all_handlers(), *courses_staff.FEATURE.all_handlers()]:
        if isinstance(handler, ConversationHandler):
            exit_callbacks = {h.callback for h in exits.handlers()}
            inner = [h for hs in handler.states.values() for h in hs]
            callbacks += [h.callback for h in inner if h.callback not in exit_callbacks]
        elif not routers_of(handler):
            callbacks.append(handler.callback)
    assert len(callbacks) > 20
    unguarded = [getattr(cb, "__name__", cb) for cb in callbacks if guard_of(cb) is None]
    assert not unguarded, unguarded
    assert not course_cards.STAFF.missing()


async def test_registered_and_waiting_counts_on_the_staff_card(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=1)
    for uid in (8951, 8952):
        await (await kit.started(sim, uid)).press_data(f"courses:join:{cid}")
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:view:{cid}")
    assert "ثبت‌نام‌شده: ۱ — در انتظار: ۱" in admin.last_text
    statuses = await kit.statuses(app, cid)
    assert statuses == {8951: REGISTERED, 8952: WAITING}


async def test_a_blocked_user_still_gets_the_seat_and_others_are_told(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    cid = await add_course(app, capacity=1)
    people = [await kit.started(sim, 8960 + i) for i in range(3)]
    for person in people:
        await person.press_data(f"courses:join:{cid}")
    api.block_chat(8961)
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:edit:{cid}:capacity")
    mark = people[2].mark()
    await admin.send("۳")
    sim.assert_no_errors()
    assert any("خبر خوب" in t for t in people[2].texts_since(mark))
    assert await kit.statuses(app, cid) == {8960: REGISTERED, 8961: REGISTERED, 8962: REGISTERED}


# ---------------------------------------------------------------------------- numbers, order, menu


@pytest.mark.parametrize(
    ("typed", "seats"),
    [("۳۰", 30), ("٣٠", 30), ("30", 30), ("۳۰ نفر", 30), ("1,200", 1200), ("۱٬۲۰۰", 1200), ("١٬٢٠٠", 1200)],
)
def test_capacity_in_any_digits(typed: str, seats: int) -> None:
    assert course_form.clean_capacity(typed) == seats


@pytest.mark.parametrize(
    ("typed", "rials"),
    [
        ("۲۰۰۰۰۰۰", 2_000_000),
        ("٢٠٠٠٠٠٠", 2_000_000),
        ("2000000", 2_000_000),
        ("۲٬۰۰۰٬۰۰۰", 2_000_000),
        ("2,000,000", 2_000_000),
        ("۲٬۰۰۰٬۰۰۰ ریال", 2_000_000),
        ("۰", 0),
        ("-", 0),
    ],
)
def test_fee_in_any_digits(typed: str, rials: int) -> None:
    assert course_form.clean_fee(typed) == rials


@pytest.mark.parametrize(
    ("clean", "typed", "reason"),
    [
        (course_form.clean_capacity, "۲.۵", "decimal"),
        (course_form.clean_capacity, "٢٫٥", "decimal"),
        (course_form.clean_capacity, "۲۰-۳۰", "range"),
        (course_form.clean_capacity, "20 تا 30", "range"),
        (course_form.clean_capacity, "سی", "not_number"),
        (course_form.clean_capacity, "۰", "capacity_zero"),
        (course_form.clean_capacity, "۲۰۰۰۰", "too_big"),
        (course_form.clean_fee, "۱۵۰۰۰۰۰.۵", "decimal"),
        (course_form.clean_fee, "۱۰۰۰-۲۰۰۰", "range"),
        (course_form.clean_fee, "دو میلیون", "not_number"),
    ],
)
def test_decimals_and_ranges_are_refused(clean: Any, typed: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        clean(typed)
    assert refused.value.reason == reason


async def test_a_decimal_or_a_range_is_refused_in_the_form(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, capacity=10, fee_rials=1_000_000)
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:edit:{cid}:capacity")
    await admin.send("۱۲.۵")
    assert "بدون ممیز" in admin.last_text
    await admin.send("۲۰-۳۰")
    assert "نه یک بازه" in admin.last_text
    await admin.send("١٬٢٠٠")
    assert "ذخیره شد" in admin.last_text and "جای خالی: ۱٬۲۰۰ از ۱٬۲۰۰" in admin.last_text
    await admin.press_data(f"cadm:edit:{cid}:fee")
    await admin.send("2,500,000 ریال")
    assert "۲٬۵۰۰٬۰۰۰ ریال" in admin.last_text
    course = await kit.get_course(app, cid)
    assert (course.capacity, course.fee_rials) == (1200, 2_500_000)


async def test_new_course_lists_associations_in_persian_order(sim: Simulator, app: BotApplication) -> None:
    for name in ("تشکل کسب‌وکارهای خانگی", "انجمن بیمه‌گران", "اتحادیهٔ پسته", "کانون صادرکنندگان"):
        await add_association(app, name)
    admin = await kit.started(sim, ADMIN_ID)
    await admin.command("/managecourses")
    await admin.press("دورهٔ جدید")
    labels = admin.buttons()
    assert labels[:5] == [
        "عمومی اتاق (همهٔ تشکل‌ها)",
        "اتحادیهٔ پسته",
        "انجمن بیمه‌گران",
        "تشکل کسب‌وکارهای خانگی",
        "کانون صادرکنندگان",
    ]


async def test_staff_reach_course_administration_from_their_menu(sim: Simulator, app: BotApplication) -> None:
    home = await add_association(app)
    await add_staff(app, 8990, home)
    staffer, visitor = await kit.started(sim, 8990), await kit.started(sim, 8991)
    assert "مدیریت دوره‌ها" in staffer.buttons() and "مدیریت دوره‌ها" not in visitor.buttons()
    await staffer.press("مدیریت دوره‌ها")
    assert "دوره‌هایی که مدیریت می‌کنید" in staffer.last_text
    await visitor.press_data("menu:managecourses")
    assert "فقط برای کارشناسان" in str(visitor.answers[-1].params.get("text") or "")


async def test_the_feedback_question_goes_through_the_outbox(sim: Simulator, app: BotApplication) -> None:
    cid = await add_course(app, title="بازاریابی دیجیتال")
    attendee = await kit.started(sim, 8995)
    await attendee.press_data(f"courses:join:{cid}")
    async with app.bot_data.sessionmaker() as session, session.begin():
        registration = await session.scalar(select(Registration))
        assert registration is not None
        registration.attended = True
    admin = await kit.started(sim, ADMIN_ID)
    await admin.press_data(f"cadm:finish:{cid}")
    (notice, recipients), *_ = [(b, r) for b, r in await kit.broadcasts(app) if b.kind == "notice"]
    assert recipients == [8995] and "بازاریابی دیجیتال" in notice.text
    assert f"courses:rate:{cid}:5" in str(notice.buttons)
    # A rating pressed again later changes the rating and keeps the comment.
    await attendee.press("۳")
    await attendee.send("خوب بود")
    await attendee.press_data(f"courses:rate:{cid}:5")
    assert "از نظر شما سپاسگزاریم" in attendee.last_text or "از بازخورد شما سپاسگزاریم" in attendee.last_text
    async with app.bot_data.sessionmaker() as session:
        registration = await session.scalar(select(Registration))
    assert registration is not None and (registration.rating, registration.comment) == (5, "خوب بود")


async def test_a_draft_is_taken_up_again_for_the_same_association(
    sim: Simulator, app: BotApplication
) -> None:
    admin = await kit.started(sim, ADMIN_ID)
    await admin.command("/managecourses")
    await admin.press("دورهٔ جدید")
    await admin.send("اصول مذاکرهٔ تجاری")
    await admin.command("/cancel")
    await admin.press_data("cadm:newfor:0")
    assert "مرحلهٔ ۲ از ۹" in admin.last_text and "معرفی کنید" in admin.last_text
    await admin.send("مهارت‌های مذاکره برای صاحبان کسب‌وکار")
    async with app.bot_data.sessionmaker() as session:
        drafts = list(await session.scalars(select(Course).where(Course.status == "draft")))
    assert len(drafts) == 1 and drafts[0].description.startswith("مهارت‌های مذاکره")
