"""News: staff post an item (preview, publish to subscribers); users browse, open, subscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.context import BotApplication
from bot.services import subscriptions
from db.models import Broadcast, NewsItem
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.broadcast_helpers import start_sender, wait_finished
from tests.conftest import ADMIN_ID
from tests.factories import add_association


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
    await follower.press_data(f"news:sub:{carpets}")
    await everything.command("/news")
    await everything.press_data("news:sub:all")
    async with app.bot_data.sessionmaker() as session:
        assert await subscriptions.is_subscribed(session, 7001, carpets)
        assert await subscriptions.is_subscribed(session, 7002, None)
        assert not await subscriptions.is_subscribed(session, 7003, None)

    admin = sim.user(ADMIN_ID)
    await admin.command("/postnews")
    assert "خبر کدام" in admin.last_text
    await admin.press_data(f"newspost:scope:{carpets}")
    await admin.send("ن")  # too short
    assert "کوتاه" in admin.last_text
    await admin.send("نمایشگاه فرش کرمان")
    await admin.send_sticker()  # wrong kind of answer: a hint, same step
    assert "/cancel" in admin.last_text
    await admin.send("نمایشگاه از <b>۱۰ آذر</b> برپا می‌شود & همه دعوت‌اند")
    await admin.press_data("newspost:nomedia")
    preview = admin.texts_since(0)
    assert any("پیش‌نمایش" in t for t in preview)
    assert "۲ مشترک" in admin.last_text
    await admin.press_data("newspost:publish")
    async with app.bot_data.sessionmaker() as session:
        item = await session.scalar(select(NewsItem).where(NewsItem.published_at.is_not(None)))
        assert item is not None and item.broadcast_id is not None and item.association_id == carpets
        # Typed markup is text, not formatting.
        assert "&lt;b&gt;" in item.text and "&amp;" in item.text
        broadcast = await session.get(Broadcast, item.broadcast_id)
        assert (
            broadcast is not None and broadcast.kind == "news" and broadcast.progress_message_id is not None
        )

    await start_sender(app)
    result = await wait_finished(app, item.broadcast_id)
    assert (result.total, result.sent) == (2, 2)
    assert "نمایشگاه فرش کرمان" in follower.last_text and "<b>" in follower.last_text
    assert "نمایشگاه فرش کرمان" in everything.last_text
    assert "نمایشگاه فرش کرمان" not in stranger.last_text
    # The progress message shows the final report.
    progress = api.message(ADMIN_ID, broadcast.progress_message_id)
    assert progress is not None and "پایان یافت" in progress.content and progress.edits

    # Anyone can read it in the bot.
    await stranger.command("/news")
    assert "آخرین خبرها" in stranger.last_text
    await stranger.press_data(f"news:open:{item.id}:all")
    assert "نمایشگاه فرش کرمان" in stranger.last_text and "انجمن فرش دستباف" in stranger.last_text
    sim.assert_no_errors()


async def test_news_with_a_photo(sim: Simulator, app: BotApplication, api: FakeTelegram) -> None:
    reader = sim.user(7101)
    await reader.command("/start")
    await reader.command("/news")
    await reader.press_data("news:sub:all")
    admin = sim.user(ADMIN_ID)
    await admin.command("/postnews")
    await admin.press_data("newspost:scope:all")
    await admin.send("دورهٔ آموزشی صادرات")
    await admin.send("ثبت‌نام آغاز شد.")
    await admin.send_photo()
    assert api.calls_to("sendPhoto", ADMIN_ID, ok=True)  # the preview
    await admin.press_data("newspost:publish")
    await start_sender(app)
    async with app.bot_data.sessionmaker() as session:
        item = await session.scalar(select(NewsItem).where(NewsItem.published_at.is_not(None)))
    assert item is not None and item.media_kind == "photo" and item.association_id is None
    await wait_finished(app, item.broadcast_id or 0)
    photos = api.calls_to("sendPhoto", 7101, ok=True)
    assert len(photos) == 1 and "دورهٔ آموزشی صادرات" in str(photos[0].params["caption"])
    # Opening it in the bot sends the photo with its caption.
    await reader.press_data(f"news:open:{item.id}:all")
    assert len(api.calls_to("sendPhoto", 7101, ok=True)) == 2


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
    await user.press("قدیمی‌تر")
    assert "صفحهٔ ۲ از ۲" in user.last_text
    assert sum(1 for b in user.buttons() if "خبر شمارهٔ" in b) == 2
    await user.press_data("news:filter")
    assert "انجمن زعفران" in user.buttons() and "انجمن پسته" in user.buttons()
    await user.press("انجمن پسته")
    assert "خبرهای انجمن پسته" in user.last_text
    assert sum(1 for b in user.buttons() if "خبر شمارهٔ" in b) == 3
    await user.press_data("news:page:999:0")
    assert "پیدا نشد" in user.last_text
    await user.press_data("news:open:999:all")
    assert "پیدا نشد" in user.last_text
    sim.assert_no_errors()


async def test_unsubscribe_and_empty_news(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(7301)
    await user.command("/news")
    assert "هنوز خبری نیست" in user.last_text
    await user.press_data("news:sub:all")
    assert "همهٔ خبرها را نمی‌خواهم" in user.buttons()
    await user.press_data("news:unsub:all")
    async with app.bot_data.sessionmaker() as session:
        assert not await subscriptions.is_subscribed(session, 7301, None)
    assert "همهٔ خبرها را بفرست" in user.buttons()


async def test_non_staff_cannot_post(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(7401)
    await user.command("/postnews")
    assert "فقط برای کارشناسان" in user.last_text
    await user.press_data("newspost:publish")
    await user.press_data("news:post")
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(NewsItem)) is None


async def test_association_staff_post_only_for_their_own(sim: Simulator, app: BotApplication) -> None:
    own = await add_association(app, "انجمن خرما")
    other = await add_association(app, "انجمن مس")
    await sim.user(ADMIN_ID).command("/staff", f"add 7501 {own}")
    staffer = sim.user(7501)
    await staffer.command("/postnews")
    labels = staffer.buttons()
    assert "انجمن خرما" in labels and "انجمن مس" not in labels and "سراسر اتاق" not in labels
    await staffer.press_data(f"newspost:scope:{other}")  # forged
    await staffer.press_data("newspost:scope:all")  # forged
    async with app.bot_data.sessionmaker() as session:
        draft = await session.scalar(select(NewsItem))
        assert draft is not None and not draft.scope_chosen
    await staffer.press_data(f"newspost:scope:{own}")
    await staffer.send("جلسهٔ مجمع عمومی")
    await staffer.send("جلسه پنجشنبه برگزار می‌شود.")
    await staffer.press_data("newspost:nomedia")
    await staffer.press_data("newspost:publish")
    async with app.bot_data.sessionmaker() as session:
        item = await session.scalar(select(NewsItem))
        assert item is not None and item.published_at is not None and item.association_id == own
    sim.assert_no_errors()
