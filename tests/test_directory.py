"""The directory for everyone: pages, filters, the card, search, news and founding-member interest."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.context import BotApplication
from bot.services import directory, subscriptions
from db.models import FoundingInterest
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.factories import add_association

LRI, PDI = "\u2066", "\u2069"


async def _interests(app: BotApplication) -> int:
    async with app.bot_data.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(FoundingInterest)) or 0)


async def test_browse_pages_forward_and_back(sim: Simulator, app: BotApplication) -> None:
    names = [f"انجمن صنایع {word}" for word in ("الف", "ب", "پ", "ت", "ث", "ج", "چ", "ح", "خ", "د", "ذ")]
    for name in names:
        await add_association(app, name)
    user = sim.user(5001)
    await user.command("/start")
    await user.press("تشکل‌ها")
    assert "صفحهٔ ۱ از ۲" in user.last_text and "۱۱ تشکل" in user.last_text
    first = user.buttons()
    assert names[0] in first and names[8] not in first and "▶️ صفحهٔ قبل" not in first
    await user.press("صفحهٔ بعد ◀️")
    second = user.buttons()
    assert "صفحهٔ ۲ از ۲" in user.last_text
    assert set(names[8:]) <= set(second) and names[0] not in second
    assert "صفحهٔ بعد ◀️" not in second
    await user.press("▶️ صفحهٔ قبل")
    assert "صفحهٔ ۱ از ۲" in user.last_text
    # A page number past the end (an old button) shows the last page instead of failing.
    await user.press_data("dir:page:all:9")
    assert "صفحهٔ ۲ از ۲" in user.last_text
    sim.assert_no_errors()


async def test_filter_by_status(sim: Simulator, app: BotApplication) -> None:
    await add_association(app, "انجمن پسته", status="active")
    await add_association(app, "جوانان کارآفرین", status="forming")
    await add_association(app, "انجمن قدیمی", status="inactive")
    user = sim.user(5002)
    await user.command("/start")
    await user.press_data("menu:associations")
    await user.press("در حال تأسیس")
    assert "✓ در حال تأسیس" in user.buttons()
    assert any("جوانان کارآفرین" in label for label in user.buttons())
    assert not any("پسته" in label for label in user.buttons())
    await user.press("فعال")
    assert "انجمن پسته" in user.buttons() and not any("جوانان" in label for label in user.buttons())
    # Paging remembers the filter: the card's back button returns to the filtered list.
    await user.press("انجمن پسته")
    await user.press("بازگشت به فهرست")
    assert "✓ فعال" in user.buttons()


async def test_card_shows_rules_contact_and_contract_buttons(sim: Simulator, app: BotApplication) -> None:
    pistachio = await add_association(
        app,
        "انجمن صادرکنندگان پسته <کرمان>",
        status="active",
        description="صادرکنندگان پستهٔ استان & همکاران",
        category="کشاورزی",
        phone="03432221234",
        address="کرمان، بلوار جمهوری",
        channel="@kerman_pistachio",
        accepted_evidence="experience,home_permit",
        min_experience_years=3,
        evidence_required=True,
        yearly_fee_rials=2_500_000,
    )
    user = sim.user(5003)
    await user.command("/start", f"assoc_{pistachio}")
    text = user.last_text
    assert "انجمن صادرکنندگان پسته <کرمان>" in text  # escaped on the way out, shown as typed
    assert "وضعیت: فعال" in text and "حوزهٔ فعالیت: کشاورزی" in text
    assert "مدرک دانشگاهی لازم نیست" in text
    assert "سابقهٔ کار (دست‌کم ۳ سال)" in text and "مجوز کسب‌وکار خانگی" in text
    assert "پروانهٔ کسب" not in text
    assert "حق عضویت سالانه: ۲٬۵۰۰٬۰۰۰ ریال" in text
    assert f"{LRI}۰۳۴۳۲۲۲۱۲۳۴{PDI}" in text and f"{LRI}@kerman_pistachio{PDI}" in text
    message = user.last_message
    assert message is not None and message.parse_mode == "HTML"
    assert "&lt;کرمان&gt;" in (message.raw_text or "")
    data = {button["callback_data"] for row in message.inline_keyboard for button in row}
    assert {f"apply:start:{pistachio}", f"dir:news:{pistachio}:1", f"courses:assoc:{pistachio}"} <= data
    assert f"dir:found:{pistachio}:1" not in data and f"dir:edit:{pistachio}" not in data


async def test_degree_and_fee_variants(sim: Simulator, app: BotApplication) -> None:
    strict = await add_association(app, "کانون مهندسان", degree_required=True, accepted_evidence="")
    user = sim.user(5004)
    await user.command("/start")
    await user.press_data(f"dir:open:{strict}:all:0")
    assert "مدرک دانشگاهی لازم است" in user.last_text
    assert "حق عضویت سالانه ندارد" in user.last_text
    await user.press_data("dir:open:99999:all:0")
    assert "وجود ندارد" in user.last_text


async def test_search_ignores_letter_variants_digits_and_ranks(sim: Simulator, app: BotApplication) -> None:
    insurance = await add_association(app, "شرکت‌های بیمه استان", status="forming")
    homes = await add_association(app, "کسب‌وکارهای خانگی", status="forming")
    await add_association(app, "برند و بسته‌بندی", status="forming")
    tech = await add_association(app, "انجمن فناوری 5G کرمان", status="active")
    user = sim.user(5005)
    # Arabic yeh and kaf, a space instead of ZWNJ, a diacritic.
    await user.command("/search", "شركت هاي بيمهٔ")
    assert "نزدیک‌ترین" in user.last_text
    assert user.buttons()[0].startswith("شرکت‌های بیمه استان")
    await user.command("/search", "كسب و كارهاي خانگي")
    assert user.buttons()[0].startswith("کسب‌وکارهای خانگی")
    # Persian digits find a name written with ASCII digits.
    await user.command("/search", "فناوری ۵G")
    assert user.buttons()[0] == "انجمن فناوری 5G کرمان"
    await user.press("انجمن فناوری 5G کرمان")
    assert f"dir:news:{tech}:1" in {
        b["callback_data"] for row in user.last_message.inline_keyboard for b in row
    }  # type: ignore[union-attr]
    await user.command("/search", "هواپیما")
    assert "هیچ تشکلی" in user.last_text
    assert insurance and homes


async def test_search_button_asks_then_answers(sim: Simulator, app: BotApplication) -> None:
    await add_association(app, "کسب‌وکارهای خانگی", status="forming")
    user = sim.user(5006)
    await user.command("/start")
    await user.press_data("menu:associations")
    await user.press("🔍 جست‌وجو")
    assert "بنویسید" in user.last_text
    await user.send_sticker()
    assert "بنویسید" in user.last_text
    await user.send("خانگى")
    assert user.buttons()[0].startswith("کسب‌وکارهای خانگی")
    # The conversation ended: the next text is not taken as a search.
    await user.send("خانگی")
    assert "منظور شما روشن نشد" in user.last_text
    await user.command("/search")
    await user.send("خانگی")
    assert user.buttons()[0].startswith("کسب‌وکارهای خانگی")


async def test_search_ranking_puts_closest_first(app: BotApplication) -> None:
    ids = [
        await add_association(app, name)
        for name in ("انجمن صادرکنندگان خرما", "انجمن صادرکنندگان پسته", "انجمن تولیدکنندگان پسته")
    ]
    async with app.bot_data.sessionmaker() as session:
        found = await directory.search(session, "صادر كنندگان پسته")
        by_number = await directory.search(session, "۰" + "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in str(ids[2])))
    assert by_number[0].id == ids[2]
    names = [a.name for a in found]
    assert names[0] == "انجمن صادرکنندگان پسته"
    assert names.index("انجمن تولیدکنندگان پسته") < (
        names.index("انجمن صادرکنندگان خرما") if "انجمن صادرکنندگان خرما" in names else len(names)
    )


async def test_subscribe_and_unsubscribe(sim: Simulator, app: BotApplication) -> None:
    pistachio = await add_association(app, "انجمن پسته", status="active")
    user = sim.user(5007)
    await user.command("/start")
    await user.press_data(f"dir:open:{pistachio}:all:0")
    await user.press("🔔 دریافت خبرها")
    assert "خبرهای این تشکل را دریافت می‌کنید" in user.last_text
    assert "🔕 توقف دریافت خبرها" in user.buttons()
    async with app.bot_data.sessionmaker() as session:
        assert await subscriptions.is_subscribed(session, 5007, pistachio)
    # Pressing the old button again changes nothing (no duplicate row, no error).
    await user.press_data(f"dir:news:{pistachio}:1")
    async with app.bot_data.sessionmaker() as session:
        assert await subscriptions.subscribers(session, pistachio) == [5007]
    await user.press("🔕 توقف دریافت خبرها")
    async with app.bot_data.sessionmaker() as session:
        assert not await subscriptions.is_subscribed(session, 5007, pistachio)
    await user.press_data("dir:news:424242:1")
    assert "وجود ندارد" in user.last_text
    sim.assert_no_errors()


async def test_founding_interest_recorded_once_and_shown_to_staff(
    sim: Simulator, app: BotApplication
) -> None:
    youth = await add_association(app, "جوانان کارآفرین", status="forming")
    user = sim.user(5008, first_name="مریم")
    await user.command("/start")
    await user.press_data(f"dir:open:{youth}:all:0")
    # A forming association takes founding-member applications: the card says so and offers the form.
    assert "درخواست عضویت مؤسس می‌پذیرد" in user.last_text
    assert user.last_message.button("📝 درخواست عضویت مؤسس")["callback_data"] == f"apply:start:{youth}"  # type: ignore[index, union-attr]
    await user.press("🤝 می‌خواهم عضو مؤسس باشم")
    assert "ثبت شد" in user.last_text
    # The one-tap interest also offers the application, one tap away.
    assert user.last_message.button("📝 درخواست عضویت مؤسس") is not None  # type: ignore[union-attr]
    await user.press_data(f"dir:found:{youth}:1")  # twice: still one interest
    assert await _interests(app) == 1
    assert "انصراف از درخواست عضویت مؤسس" in user.buttons(user.messages[-2])  # the page, above the note
    other = sim.user(5009)
    await other.command("/start")
    await other.press_data(f"dir:found:{youth}:1")
    assert await _interests(app) == 2
    # A non-staff user does not see the count; staff do, and can list the people.
    assert "نفر می‌خواهند عضو مؤسس" not in user.texts_since(0)[-2]
    admin = sim.user(ADMIN_ID)
    await admin.command("/start")
    await admin.press_data(f"dir:open:{youth}:all:0")
    assert "۲ نفر می‌خواهند عضو مؤسس باشند" in admin.last_text
    await admin.press("فهرست متقاضیان عضویت مؤسس")
    assert "۲ نفر" in admin.last_text and f"{LRI}۵۰۰۸{PDI}" in admin.last_text
    await user.press("انصراف از درخواست عضویت مؤسس")
    assert await _interests(app) == 1


async def test_founding_interest_only_for_forming(sim: Simulator, app: BotApplication) -> None:
    active = await add_association(app, "انجمن پسته", status="active")
    user = sim.user(5010)
    await user.command("/start")
    await user.press_data(f"dir:found:{active}:1")
    assert await _interests(app) == 0
    assert "دیگر در حال تأسیس نیست" in user.last_text


async def test_search_with_a_superscript_digit(sim: Simulator) -> None:
    """'¹' is a digit to str.isdigit() but not a number to int(): found by the fuzzer."""
    user = sim.user(4801)
    await user.command("/search", "¹")
    assert user.last_text
    sim.assert_no_errors()
