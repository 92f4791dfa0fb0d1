"""Association ratings through the bot: /rate, the scorecard photo, the ranking, and the guards."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from bot.context import BotApplication
from bot.services import rating as service
from db.models import RatingScore
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID
from tests.factories import add_association

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _scores(app: BotApplication) -> int:
    async with app.bot_data.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(RatingScore)) or 0)


KEEP = "این شاخص بدون تغییر بماند"


async def rate(admin: SimUser, name: str, period: str, answers: list[str], *, save: bool = True) -> None:
    """Score an association through the form: pick it, type the period, answer each indicator in
    order (KEEP presses «leave it as it is»), then save."""
    await admin.command("/rate")
    await admin.press(name)
    await admin.send(period)
    for given in answers:
        if given == KEEP:
            await admin.press(KEEP)
        else:
            await admin.send(given)
    if save:
        await admin.press("ثبت امتیازها")


async def test_admin_scores_with_the_form(sim: Simulator, app: BotApplication) -> None:
    carpet = await add_association(app, "انجمن فرش دستباف کرمان")
    await add_association(app, "انجمن پسته")
    admin = sim.user(ADMIN_ID)
    await admin.command("/rate")
    # The associations to choose from, in Persian alphabetical order (پ before ف).
    assert admin.buttons()[:2] == ["انجمن پسته", "انجمن فرش دستباف کرمان"]
    assert "مرحلهٔ ۱ از ۷" in admin.last_text
    await admin.press("انجمن فرش دستباف کرمان")
    # The rating period: buttons with their Persian names (never plain «دوره»), or typed.
    assert "بازهٔ ارزیابی" in admin.last_text
    assert {"سال ۱۴۰۵", "نیمهٔ اول ۱۴۰۵", "سال ۱۴۰۴"} <= set(admin.buttons())
    await admin.send("1405ز")
    assert "بازهٔ ارزیابی نیست" in admin.last_text
    await admin.press("سال ۱۴۰۵")
    # Each indicator by its Persian name; a short note may follow the score.
    assert "شاخص: حکمرانی" in admin.last_text and "۰ تا ۱۰۰" in admin.last_text
    await admin.send("۸۰ جلسه‌های منظم هیئت‌مدیره")
    assert "شاخص: تأثیرگذاری بر سیاست‌ها" in admin.last_text
    await admin.send("۱۰۱")
    assert "عددی صحیح از ۰ تا ۱۰۰" in admin.last_text
    await admin.send("۷۰٫۵")
    assert "بدون ممیز" in admin.last_text
    await admin.send("٧٠")  # Arabic-Indic digits
    await admin.press(KEEP)
    await admin.send("65")
    await admin.send("۹۰")
    summary = admin.last_text
    assert "انجمن فرش دستباف کرمان" in summary and "سال ۱۴۰۵" in summary
    assert "حکمرانی: ۸۰ — جلسه‌های منظم هیئت‌مدیره" in summary and "عضویت: بدون تغییر" in summary
    assert await _scores(app) == 0  # nothing is recorded before «ثبت امتیازها»
    await admin.press("ثبت امتیازها")
    assert "ثبت شد: امتیاز ۴ شاخص" in admin.last_text
    async with app.bot_data.sessionmaker() as session:
        rows = {r.indicator: r for r in await session.scalars(select(RatingScore))}
    assert {k: (r.score, r.note) for k, r in rows.items()} == {
        "governance": (80, "جلسه‌های منظم هیئت‌مدیره"),
        "policy": (70, ""),
        "regulation": (65, ""),
        "services": (90, ""),
    }
    assert rows["governance"].recorded_by == ADMIN_ID and rows["governance"].association_id == carpet
    # A correction: the form shows what is recorded, and «leave it as it is» keeps it.
    await admin.command("/rate")
    await admin.press("انجمن فرش دستباف کرمان")
    await admin.press("سال ۱۴۰۵")
    assert "ثبت‌شده تا اکنون: ۸۰ — جلسه‌های منظم هیئت‌مدیره" in admin.last_text
    for _step in range(2):
        await admin.press(KEEP)
    await admin.send("۵۵ رشد خوب")
    await admin.press(KEEP)
    await admin.press(KEEP)
    await admin.press("ثبت امتیازها")
    assert "پس از ثبت هر پنج شاخص" not in admin.last_text
    assert await _scores(app) == 5
    # All five: the total; a half-year typed.
    await rate(admin, "انجمن فرش دستباف کرمان", "1405-h1", ["90", "70", "60", "50", "80"])
    await admin.press("دیدن کارنامه")
    assert "نیمهٔ اول ۱۴۰۵" in admin.last_text and "امتیاز کل: ۷۰٫۰" in admin.last_text
    assert await _scores(app) == 10


async def test_rate_without_scores_and_old_arguments(sim: Simulator, app: BotApplication) -> None:
    await add_association(app, "تشکل آزمایشی")
    admin = sim.user(ADMIN_ID)
    # Old-style arguments: a Persian note, then the form (no English words, no Latin digits).
    await admin.command("/rate", "12 1405 governance 80")
    note = admin.texts_since(0)[-2]
    assert "گام‌به‌گام" in note and not any(ch.isascii() and ch.isalnum() for ch in note)
    assert "تشکل آزمایشی" in admin.buttons()
    await admin.press("تشکل آزمایشی")
    await admin.send("۱۴۰۵")
    for _step in range(5):
        await admin.press(KEEP)
    await admin.press("ثبت امتیازها")
    assert "دست‌کم به یک شاخص امتیاز بدهید" in admin.last_text
    assert await _scores(app) == 0


async def test_non_admins_cannot_record(sim: Simulator, app: BotApplication) -> None:
    aid = await add_association(app, "تشکل آزمایشی")
    await sim.user(ADMIN_ID).command("/staff", f"add 5101 {aid}")
    await sim.user(ADMIN_ID).command("/staff", "add 5102")
    for uid in (5100, 5101, 5102):  # a member, association staff, chamber staff: admins only
        user = sim.user(uid)
        await user.command("/rate")
        assert "فقط برای کارشناسان" in user.last_text
        await user.press_data("rate:set:association:" + str(aid))
        assert "فقط برای کارشناسان" in str(user.answers[-1].params.get("text"))
        await user.command("/start")
        assert "رتبه‌دهی" not in user.buttons()
    assert await _scores(app) == 0
    admin = sim.user(ADMIN_ID)
    await admin.command("/start")
    assert "رتبه‌دهی" in admin.buttons()


async def _rate_all(sim: Simulator, name: str, period: str, scores: str) -> None:
    await rate(sim.user(ADMIN_ID), name, period, scores.split())


async def test_ranking_orders_by_total_and_ties_share_a_rank(sim: Simulator, app: BotApplication) -> None:
    a = await add_association(app, "الف تشکل")
    b = await add_association(app, "ب تشکل")
    c = await add_association(app, "پ تشکل")
    d = await add_association(app, "ت تشکل")
    partial = await add_association(app, "ث تشکل ناقص")
    await _rate_all(sim, "الف تشکل", "1405", "90 90 90 90 90")
    await _rate_all(sim, "ب تشکل", "1405", "80 80 80 80 80")
    await _rate_all(sim, "پ تشکل", "1405", "100 60 80 80 80")  # also 80 on average: ties with b
    await _rate_all(sim, "ت تشکل", "1405", "10 20 30 40 50")
    await rate(sim.user(ADMIN_ID), "ث تشکل ناقص", "1405", ["100", KEEP, KEEP, KEEP, KEEP])
    assert a and b and c and d and partial
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
        await add_association(app, "تشکل وزن‌دار")
        admin = Simulator(app, api).user(ADMIN_ID)
        await rate(admin, "تشکل وزن‌دار", "1405", ["100", "0", "0", "0", "0"])
        await admin.press("دیدن کارنامه")
        assert "امتیاز کل: ۶۰٫۰" in admin.last_text
    finally:
        await app.shutdown()
        await app.bot_data.engine.dispose()


async def test_scorecard_photo_from_the_association_card(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    aid = await add_association(app, "انجمن صنفی پسته‌کاران رفسنجان")
    admin = sim.user(ADMIN_ID)
    name = "انجمن صنفی پسته‌کاران رفسنجان"
    await rate(admin, name, "1404", ["60"] * 5)
    await rate(admin, name, "1405", ["85 گزارش مالی منتشر شد", "70", "75", "65", "80"])
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
        "آمار عضویت",
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
    await member.press_data(f"rating:card:{aid}:last")
    assert "هنوز برای" in member.last_text and "ارزیابی نشده" in member.last_text
    assert "اعضا: ۰" in member.last_text
    assert api.calls_to("sendPhoto") == []
    await member.press_data("rating:card:99999:last")
    assert "وجود ندارد" in member.last_text


async def test_no_ratings_yet(sim: Simulator) -> None:
    member = sim.user(5500)
    await member.command("/ratings")
    assert "هنوز هیچ تشکلی ارزیابی نشده" in member.last_text


async def test_ranking_of_another_period(sim: Simulator, app: BotApplication) -> None:
    aid = await add_association(app, "تشکل الف")
    await _rate_all(sim, "تشکل الف", "1404", "50 50 50 50 50")
    await _rate_all(sim, "تشکل الف", "1405-H1", "70 70 70 70 70")
    assert aid
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
