"""Association ratings through the bot: /rate, the scorecard photo, the ranking, and the guards."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.context import BotApplication
from bot.services import rating as service
from db.models import RatingScore
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID
from tests.factories import add_association

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _scores(app: BotApplication) -> int:
    async with app.bot_data.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(RatingScore)) or 0)


async def test_admin_records_one_indicator_with_a_note_and_all_five(
    sim: Simulator, app: BotApplication
) -> None:
    carpet = await add_association(app, "انجمن فرش دستباف کرمان")
    admin = sim.user(ADMIN_ID)
    await admin.command("/rate", f"{carpet} ۱۴۰۵ governance ۸۰ جلسه‌های منظم هیئت‌مدیره")
    assert "ذخیره شد" in admin.last_text
    assert "حکمرانی: ۸۰ — جلسه‌های منظم هیئت‌مدیره" in admin.last_text
    assert "پس از ثبت هر پنج شاخص" in admin.last_text
    # A correction replaces the score; the Persian name of an indicator works too.
    await admin.command("/rate", f"{carpet} 1405 عضویت 55")
    await admin.command("/rate", f"{carpet} 1405 membership 65 رشد خوب")
    async with app.bot_data.sessionmaker() as session:
        row = await session.scalar(select(RatingScore).where(RatingScore.indicator == "membership"))
    assert row is not None and (row.score, row.note, row.recorded_by) == (65, "رشد خوب", ADMIN_ID)
    # All five at once, in the documented order (a half-year period).
    await admin.command("/rate", f"{carpet} 1405-h1 90 70 60 50 80")
    assert "نیمهٔ اول ۱۴۰۵" in admin.last_text and "امتیاز کل: ۷۰٫۰" in admin.last_text
    assert await _scores(app) == 7


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("{aid} 1405 governance 101", "عددی صحیح از ۰ تا ۱۰۰"),
        ("{aid} 1405 governance -5", "عددی صحیح از ۰ تا ۱۰۰"),
        ("{aid} 14O5 governance 50", "این دوره معتبر نیست"),
        ("{aid} 1405-H3 governance 50", "این دوره معتبر نیست"),
        ("{aid} 1405 happiness 50", "شاخص ناشناخته است"),
        ("999 1405 governance 50", "تشکلی با این شماره وجود ندارد"),
        ("{aid} 1405 governance 50 " + "خ" * 201, "یادداشت خیلی طولانی"),
        ("{aid} 1405", "روش استفاده"),
    ],
)
async def test_bad_input_gets_a_clear_answer(
    sim: Simulator, app: BotApplication, args: str, error: str
) -> None:
    aid = await add_association(app, "تشکل آزمایشی")
    admin = sim.user(ADMIN_ID)
    await admin.command("/rate", args.format(aid=aid))
    assert error in admin.last_text
    assert await _scores(app) == 0


async def test_non_admins_cannot_record(sim: Simulator, app: BotApplication) -> None:
    aid = await add_association(app, "تشکل آزمایشی")
    await sim.user(ADMIN_ID).command("/staff", f"add 5101 {aid}")
    await sim.user(ADMIN_ID).command("/staff", "add 5102")
    for uid in (5100, 5101, 5102):  # a member, association staff, chamber staff: admins only
        user = sim.user(uid)
        await user.command("/rate", f"{aid} 1405 governance 80")
        assert "فقط برای کارشناسان" in user.last_text
    assert await _scores(app) == 0


async def _rate_all(sim: Simulator, aid: int, period: str, scores: str) -> None:
    await sim.user(ADMIN_ID).command("/rate", f"{aid} {period} {scores}")


async def test_ranking_orders_by_total_and_ties_share_a_rank(sim: Simulator, app: BotApplication) -> None:
    a = await add_association(app, "الف تشکل")
    b = await add_association(app, "ب تشکل")
    c = await add_association(app, "پ تشکل")
    d = await add_association(app, "ت تشکل")
    partial = await add_association(app, "ث تشکل ناقص")
    await _rate_all(sim, a, "1405", "90 90 90 90 90")
    await _rate_all(sim, b, "1405", "80 80 80 80 80")
    await _rate_all(sim, c, "1405", "100 60 80 80 80")  # also 80 on average: ties with b
    await _rate_all(sim, d, "1405", "10 20 30 40 50")
    await sim.user(ADMIN_ID).command("/rate", f"{partial} 1405 governance 100")
    member = sim.user(5200)
    await member.command("/start")
    await member.press("رتبه‌بندی تشکل‌ها")
    text = member.last_text
    assert "رتبه‌بندی تشکل‌ها — سال ۱۴۰۵" in text
    lines = [line for line in text.splitlines() if line[:1] in "۱۲۳۴۵۶۷۸۹"]
    assert lines == ["۱. الف تشکل: ۹۰٫۰", "۲. ب تشکل: ۸۰٫۰", "۲. پ تشکل: ۸۰٫۰", "۴. ت تشکل: ۳۰٫۰"]
    assert "ث تشکل ناقص" not in text
    # The ranked associations are buttons that open their scorecards.
    assert member.buttons()[:4] == ["۱. الف تشکل", "۲. ب تشکل", "۲. پ تشکل", "۴. ت تشکل"]


def test_competition_ranking() -> None:
    from decimal import Decimal

    ranked = service.rank(
        [(1, "a", Decimal(50)), (2, "b", Decimal(70)), (3, "c", Decimal(70)), (4, "d", Decimal(60))]
    )
    assert [(r.rank, r.association_id) for r in ranked] == [(1, 2), (1, 3), (3, 4), (4, 1)]


def test_weights_change_the_total() -> None:
    scores = {"governance": 100, "policy": 0, "membership": 0, "regulation": 0, "services": 0}
    assert service.weighted_total(scores, (1, 1, 1, 1, 1)) == 20
    assert service.weighted_total(scores, (60, 10, 10, 10, 10)) == 60
    assert service.weighted_total(scores, (0, 1, 1, 1, 1)) == 0
    assert service.weighted_total({"governance": 100}, (1, 1, 1, 1, 1)) is None


def test_periods() -> None:
    assert service.parse_period("۱۴۰۵") == "1405"
    assert service.parse_period("1405h2") == "1405-H2"
    assert service.previous_period("1405") == "1404"
    assert service.previous_period("1405-H1") == "1404-H2"
    assert service.previous_period("1405-H2") == "1405-H1"
    start, end = service.period_bounds("1405-H1", "Asia/Tehran")
    # 1 Farvardin 1405 is 21 March 2026; 1 Mehr 1405 is 23 September 2026 (midnight in Tehran).
    assert start.isoformat() == "2026-03-20T20:30:00+00:00"
    assert end.isoformat() == "2026-09-22T20:30:00+00:00"


async def test_weights_come_from_the_settings(settings: object, api: FakeTelegram) -> None:
    from bot.app import build_application
    from fakeapi.transport import FakeRequest

    weighted = settings.model_copy(update={"rating_weights": (60.0, 10.0, 10.0, 10.0, 10.0)})  # type: ignore[attr-defined]
    app = build_application(weighted, request=FakeRequest(api), get_updates_request=FakeRequest(api))
    await app.initialize()
    try:
        aid = await add_association(app, "تشکل وزن‌دار")
        admin = Simulator(app, api).user(ADMIN_ID)
        await admin.command("/rate", f"{aid} 1405 100 0 0 0 0")
        assert "امتیاز کل: ۶۰٫۰" in admin.last_text
    finally:
        await app.shutdown()
        await app.bot_data.engine.dispose()


async def test_scorecard_photo_from_the_association_card(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    aid = await add_association(app, "انجمن صنفی پسته‌کاران رفسنجان")
    admin = sim.user(ADMIN_ID)
    await admin.command("/rate", f"{aid} 1404 60 60 60 60 60")
    await admin.command("/rate", f"{aid} 1405 governance 85 گزارش مالی منتشر شد")
    await admin.command("/rate", f"{aid} 1405 policy 70")
    await admin.command("/rate", f"{aid} 1405 membership 75")
    await admin.command("/rate", f"{aid} 1405 regulation 65")
    await admin.command("/rate", f"{aid} 1405 services 80")
    member = sim.user(5300)
    await member.command("/start", f"assoc_{aid}")
    await member.press("📊 رتبه و کارنامه")
    (call,) = api.calls_to("sendPhoto", chat_id=5300, ok=True)
    assert call.files, "the chart is uploaded as a file"
    photo = member.last_message
    assert photo is not None and photo.kind == "photo"
    caption = photo.content
    for fragment in [
        "کارنامهٔ انجمن صنفی پسته‌کاران رفسنجان",
        "سال ۱۴۰۵",
        "حکمرانی: ۸۵ — گزارش مالی منتشر شد",
        "تأثیرگذاری بر سیاست‌ها: ۷۰",
        "عضویت: ۷۵",
        "تنظیم‌گری: ۶۵",
        "خدمات: ۸۰",
        "امتیاز کل: ۷۵٫۰",
        "تغییر نسبت به سال ۱۴۰۴: \u2066+۱۵٫۰\u2069",
        "شواهد عضویت",
    ]:
        assert fragment in caption, (fragment, caption)
    assert len(caption) <= 1024
    # The uploaded bytes are a real PNG of sensible size that an image library reads back.
    stored = api.files[photo.photo[-1]["file_id"]]  # type: ignore[index]
    data = stored.data()
    assert data.startswith(PNG_SIGNATURE)
    assert 5_000 < len(data) < 200_000
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG" and image.size == (800, 600)
    # The older period is a button on the card.
    await member.press("سال ۱۴۰۴")
    assert "امتیاز کل: ۶۰٫۰" in member.last_text and "کارنامهٔ کاملی از سال ۱۴۰۳" in member.last_text


async def test_unrated_association_shows_the_evidence_as_text(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    aid = await add_association(app, "تشکل تازه")
    member = sim.user(5400)
    await member.press_data(f"rating:card:{aid}")
    assert "هنوز برای" in member.last_text and "ارزیابی نشده" in member.last_text
    assert "اعضا: ۰" in member.last_text
    assert api.calls_to("sendPhoto") == []
    await member.press_data("rating:card:99999")
    assert "وجود ندارد" in member.last_text


async def test_no_ratings_yet(sim: Simulator) -> None:
    member = sim.user(5500)
    await member.command("/ratings")
    assert "هنوز هیچ تشکلی ارزیابی نشده" in member.last_text


async def test_ranking_of_another_period(sim: Simulator, app: BotApplication) -> None:
    aid = await add_association(app, "تشکل الف")
    await _rate_all(sim, aid, "1404", "50 50 50 50 50")
    await _rate_all(sim, aid, "1405-H1", "70 70 70 70 70")
    member = sim.user(5600)
    await member.command("/ratings")
    assert "نیمهٔ اول ۱۴۰۵" in member.last_text and "۷۰٫۰" in member.last_text
    await member.press("سال ۱۴۰۴")
    assert "سال ۱۴۰۴" in member.last_text and "۱. تشکل الف: ۵۰٫۰" in member.last_text


def test_chart_is_a_small_png() -> None:
    from bot.services.scorecard_chart import render, shape

    data = render("انجمن", ["حکمرانی", "عضویت"], [80, None], subtitle="سال ۱۴۰۵", missing_label="ثبت نشده")
    assert data.startswith(PNG_SIGNATURE) and len(data) < 200_000
    # Without native layout, labels are shaped: joined presentation forms in visual (reversed) order.
    shaped = shape("عضویت", native=False)
    assert shaped != "عضویت" and all("\ufb50" <= ch <= "\ufeff" for ch in shaped)
    assert shape("عضویت", native=True) == "عضویت"


def test_decision_days_default() -> None:
    assert service.DECISION_DAYS == 30
    assert timedelta(days=service.DECISION_DAYS) > timedelta(0)
