"""News: staff post an item (a staff form: preview, publish to subscribers); users browse, open, subscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.context import BotApplication
from bot.services import subscriptions
from db.models import Broadcast, NewsItem
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.broadcast_helpers import start_sender, wait_finished
from tests.conftest import ADMIN_ID, AppFactory
from tests.factories import add_association, add_users


async def _published(app: BotApplication, association_id: int | None, count: int) -> None:
    base = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    async with app.bot_data.sessionmaker() as session, session.begin():
        for n in range(count):
            session.add(
                NewsItem(
                    association_id=association_id,
                    author_id=ADMIN_ID,
                    title=f"خبر شمارهٔ {n + 1}",
                    text=f"متن خبر {n + 1}",
                    scope_chosen=True,
                    published_at=base + timedelta(days=n),
                )
            )


async def _item(app: BotApplication) -> NewsItem:
    async with app.bot_data.sessionmaker() as session:
        item = await session.scalar(select(NewsItem).order_by(NewsItem.id.desc()))
    assert item is not None
    return item


async def test_staff_post_news_with_preview_and_subscribers_get_it(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    carpets = await add_association(app, "انجمن فرش دستباف")
    follower, everything, stranger = sim.user(7001), sim.user(7002), sim.user(7003)
    for user in (follower, everything, stranger):
        await user.command("/start")
    # Subscribing from the news views.
    await follower.command("/news")
    await follower.press_data(f"news:page:{carpets}:0")
    assert "انجمن فرش دستباف" in follower.last_text
    await follower.press("دریافت خبرهای این تشکل")
    assert "توقف دریافت خبرهای این تشکل" in follower.buttons()
    await everything.command("/news")
    await everything.press("دریافت همهٔ خبرها")
    async with app.bot_data.sessionmaker() as session:
        assert await subscriptions.is_subscribed(session, 7001, carpets)
        assert await subscriptions.is_subscribed(session, 7002, None)
        assert not await subscriptions.is_subscribed(session, 7003, None)

    admin = sim.user(ADMIN_ID)
    await admin.command("/postnews")
    assert "خبر کدام" in admin.last_text and "مرحلهٔ ۱ از ۴" in admin.last_text
    assert admin.buttons()[0] == "عمومی اتاق (همهٔ تشکل‌ها)"
    await admin.press("انجمن فرش دستباف")
    await admin.send("ن")  # too short
    assert "کوتاه" in admin.last_text
    await admin.send("نمایشگاه فرش کرمان")
    await admin.send_sticker()  # wrong kind of answer: a hint, same step
    assert "/cancel" in admin.last_text
    await admin.send("نمایشگاه از <b>۱۰ آذر</b> برپا می‌شود & همه دعوت‌اند")
    mark = admin.mark()
    await admin.press("بدون پیوست")
    preview, summary = admin.texts_since(mark)
    assert "نمایشگاه فرش کرمان" in preview and "انجمن فرش دستباف" in preview
    assert "پیش‌نمایش" in summary and "۲ مشترک" in summary
    await admin.press("انتشار")
    item = await _item(app)
    assert item.published_at is not None and item.broadcast_id is not None and item.association_id == carpets
    # Typed markup is text, not formatting.
    assert "&lt;b&gt;" in item.text and "&amp;" in item.text
    async with app.bot_data.sessionmaker() as session:
        broadcast = await session.get(Broadcast, item.broadcast_id)
    assert broadcast is not None and broadcast.kind == "news" and broadcast.progress_message_id is not None

    await start_sender(app)
    result = await wait_finished(app, item.broadcast_id)
    assert (result.total, result.sent) == (2, 2)
    assert "نمایشگاه فرش کرمان" in follower.last_text and "<b>" in follower.last_text
    assert "نمایشگاه فرش کرمان" in everything.last_text
    assert "نمایشگاه فرش کرمان" not in stranger.last_text
    # The progress message shows the final report.
    progress_id = broadcast.progress_message_id
    await api.wait_until(lambda: "پایان یافت" in (api.message(ADMIN_ID, progress_id) or _Missing).content)

    # Anyone can read it in the bot.
    await stranger.command("/news")
    assert "آخرین خبرها" in stranger.last_text
    await stranger.press_data(f"news:open:{item.id}:all")
    assert "نمایشگاه فرش کرمان" in stranger.last_text and "انجمن فرش دستباف" in stranger.last_text
    sim.assert_no_errors()


class _Missing:
    content = ""


async def test_news_with_a_photo(sim: Simulator, app: BotApplication, api: FakeTelegram) -> None:
    reader = sim.user(7101)
    await reader.command("/start")
    await reader.command("/news")
    await reader.press_data("news:sub:all")
    admin = sim.user(ADMIN_ID)
    await admin.command("/postnews")
    await admin.press("عمومی اتاق (همهٔ تشکل‌ها)")
    await admin.send("دورهٔ آموزشی صادرات")
    await admin.send("ثبت‌نام آغاز شد.")
    await admin.send_photo()
    preview = api.calls_to("sendPhoto", ADMIN_ID, ok=True)
    assert len(preview) == 1 and "اتاق بازرگانی" in str(preview[0].params["caption"])
    await admin.press("انتشار")
    await start_sender(app)
    item = await _item(app)
    assert item.media_kind == "photo" and item.association_id is None
    await wait_finished(app, item.broadcast_id or 0)
    photos = api.calls_to("sendPhoto", 7101, ok=True)
    assert len(photos) == 1 and "دورهٔ آموزشی صادرات" in str(photos[0].params["caption"])
    # Opening it in the bot sends the photo with its caption.
    await reader.press_data(f"news:open:{item.id}:all")
    assert len(api.calls_to("sendPhoto", 7101, ok=True)) == 2
    sim.assert_no_errors()


async def test_a_caption_stays_within_telegrams_limit(sim: Simulator, app: BotApplication) -> None:
    """With a photo the whole item is one caption: a text too long for it is refused at the photo,
    and so is lengthening the text afterwards; without the photo the long text is fine."""
    admin = sim.user(ADMIN_ID)
    await admin.command("/postnews")
    await admin.press("عمومی اتاق (همهٔ تشکل‌ها)")
    await admin.send("گزارش سالانه")
    await admin.send("متن " * 300)  # 1,200 letters
    await admin.send_photo()
    assert "حداکثر" in admin.last_text and "بدون پیوست" in admin.buttons()
    assert (await _item(app)).media_kind is None
    await admin.press("بدون پیوست")
    await admin.press("ویرایش یک پاسخ")
    await admin.press("متن")
    await admin.send("متن کوتاه‌تر")
    await admin.press("ویرایش یک پاسخ")
    await admin.press("پیوست")
    await admin.send_photo()
    assert (await _item(app)).media_kind == "photo"
    await admin.press("ویرایش یک پاسخ")
    await admin.press("متن")
    await admin.send("متن " * 300)
    assert "حداکثر" in admin.last_text
    assert (await _item(app)).text == "متن کوتاه‌تر"
    sim.assert_no_errors()


async def test_the_form_resumes_after_a_restart(make_app: AppFactory, api: FakeTelegram) -> None:
    first = await make_app()
    admin = Simulator(first, api).user(ADMIN_ID)
    await admin.command("/postnews")
    await admin.press("عمومی اتاق (همهٔ تشکل‌ها)")
    await admin.send("نشست هم‌اندیشی")
    second = await make_app()  # the process restarts: the draft row knows the question being answered
    admin = Simulator(second, api).user(ADMIN_ID)
    await admin.send("نشست پنجشنبه ساعت ۱۰ برگزار می‌شود.")
    assert "مرحلهٔ ۴ از ۴" in admin.last_text
    item = await _item(second)
    assert (item.title, item.text, item.form_field) == (
        "نشست هم‌اندیشی",
        "نشست پنجشنبه ساعت ۱۰ برگزار می‌شود.",
        "media",
    )


async def test_browse_pages_and_per_association(sim: Simulator, app: BotApplication) -> None:
    saffron = await add_association(app, "انجمن زعفران")
    pistachio = await add_association(app, "انجمن پسته")
    await _published(app, saffron, 4)
    await _published(app, pistachio, 3)
    user = sim.user(7201)
    await user.command("/news")
    first = user.buttons()
    assert "صفحهٔ ۱ از ۲" in user.last_text
    assert sum(1 for b in first if "خبر شمارهٔ" in b) == 5
    await user.press("قدیمی‌تر ◀️")
    assert "صفحهٔ ۲ از ۲" in user.last_text
    assert sum(1 for b in user.buttons() if "خبر شمارهٔ" in b) == 2
    assert "▶️ جدیدتر" in user.buttons()
    await user.press_data("news:filter")
    # Persian alphabetical order: پ before ز.
    assert user.buttons()[:2] == ["انجمن پسته", "انجمن زعفران"]
    await user.press("انجمن پسته")
    assert "خبرهای انجمن پسته" in user.last_text
    assert sum(1 for b in user.buttons() if "خبر شمارهٔ" in b) == 3
    await user.press_data("news:page:999:0")
    assert "پیدا نشد" in user.last_text
    await user.press_data("news:open:999:all")
    assert "پیدا نشد" in user.last_text
    await user.press_data("news:sub:999")
    assert "پیدا نشد" in user.last_text
    sim.assert_no_errors()


async def test_unsubscribe_and_empty_news(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(7301)
    await user.command("/news")
    assert "هنوز خبری نیست" in user.last_text
    assert "ارسال خبر" not in user.buttons()  # not staff
    await user.press_data("news:sub:all")
    assert "توقف دریافت همهٔ خبرها" in user.buttons()
    await user.press_data("news:unsub:all")
    async with app.bot_data.sessionmaker() as session:
        assert not await subscriptions.is_subscribed(session, 7301, None)
    assert "دریافت همهٔ خبرها" in user.buttons()


async def test_non_staff_cannot_post(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(7401)
    await user.command("/postnews")
    assert "فقط برای کارشناسان" in user.last_text
    for forged in ("newspost:submit", "news:post", "menu:postnews", "newspost:set:scope:all"):
        await user.press_data(forged)
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(NewsItem)) is None


async def test_association_staff_post_only_for_their_own(sim: Simulator, app: BotApplication) -> None:
    own = await add_association(app, "انجمن خرما")
    other = await add_association(app, "انجمن مس")
    await sim.user(ADMIN_ID).command("/staff", f"add 7501 {own}")
    staffer = sim.user(7501)
    await staffer.command("/postnews")
    labels = staffer.buttons()
    assert "انجمن خرما" in labels and "انجمن مس" not in labels and "عمومی اتاق (همهٔ تشکل‌ها)" not in labels
    await staffer.press_data(f"newspost:set:scope:{other}")  # forged
    await staffer.press_data("newspost:set:scope:all")  # forged
    assert (await _item(app)).scope_chosen is False
    await staffer.press("انجمن خرما")
    await staffer.send("جلسهٔ مجمع عمومی")
    await staffer.send("جلسه پنجشنبه برگزار می‌شود.")
    await staffer.press("بدون پیوست")
    await staffer.press("انتشار")
    item = await _item(app)
    assert item.published_at is not None and item.association_id == own
    sim.assert_no_errors()


async def test_staff_reach_their_work_from_the_menu(sim: Simulator, app: BotApplication) -> None:
    await add_users(app, [7601])
    admin, member = sim.user(ADMIN_ID), sim.user(7601)
    await member.command("/start")
    staff_items = {"ارسال خبر", "اطلاعیهٔ همگانی", "گزارش ارسال‌ها"}
    assert not staff_items & set(member.buttons())
    await admin.command("/start")
    assert staff_items <= set(admin.buttons())
    await admin.press("ارسال خبر")
    assert "خبر کدام" in admin.last_text
    await admin.command("/start")
    await admin.press("گزارش ارسال‌ها")
    assert "هنوز ارسال گروهی" in admin.last_text
    await admin.command("/start")
    await admin.press("اطلاعیهٔ همگانی")
    assert "اطلاعیهٔ تازه" in admin.last_text
    # And under the news list, where staff read the news.
    await admin.command("/news")
    await admin.press("ارسال خبر")
    assert "خبر کدام" in admin.last_text
    await admin.press("عمومی اتاق (همهٔ تشکل‌ها)")
    assert "عنوان خبر" in admin.last_text
    sim.assert_no_errors()


async def test_staff_removed_mid_form_can_go_no_further(sim: Simulator, app: BotApplication) -> None:
    """The forms check the staff role inside each step's transaction: a staff member who loses it in
    the middle of writing changes nothing more."""
    own = await add_association(app, "انجمن خرما")
    admin = sim.user(ADMIN_ID)
    await admin.command("/staff", f"add 7701 {own}")
    staffer = sim.user(7701)
    await staffer.command("/postnews")
    await staffer.press("انجمن خرما")
    await staffer.command("/announce")
    await admin.command("/staff", "remove 7701")
    for step in (
        staffer.send("عنوانی که نباید ثبت شود"),
        staffer.send_photo(),
        staffer.press_data("announce:submit"),
    ):
        mark = staffer.mark()
        await step
        assert any("فقط برای کارشناسان" in a.params.get("text", "") for a in staffer.answers) or any(
            "فقط برای کارشناسان" in t for t in staffer.texts_since(mark)
        )
    await staffer.command("/postnews")
    assert "فقط برای کارشناسان" in staffer.last_text
    item = await _item(app)
    assert item.title == "" and item.published_at is None
    sim.assert_no_errors()
