"""Announcements to every audience, scoped to the staff member; pause, resume, cancel; /broadcasts."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.context import BotApplication
from bot.services import audiences, outbox
from bot.services import broadcasts as control
from bot.services.errors import DomainError, NotAllowed
from bot.services.sender import SenderConfig, report
from bot.services.staff import StaffScope
from bot.text import collation_key
from bot.views.broadcasts import time_left
from db.models import Broadcast, Delivery, FoundingInterest, Member, Subscription
from db.models.outbox import CANCELLED, D_SKIPPED, DONE, PAUSED
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.broadcast_helpers import FAST, copies, start_sender, wait_finished
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_users

ADMIN = StaffScope(user_id=ADMIN_ID, is_admin=True)


async def _people(app: BotApplication) -> dict[str, int]:
    """Two associations (one forming) and people related to them in every way."""
    copper = await add_association(app, "انجمن صنایع مس")
    youth = await add_association(app, "انجمن کارآفرینان جوان", status="forming")
    await add_users(app, [8001, 8002, 8003, 8004, 8005, 8006])
    await add_users(app, [8009], blocked=True)
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add_all(
            [
                Member(association_id=copper, user_id=8001, member_number="1"),
                Member(association_id=copper, user_id=8002, member_number="2"),
                Member(association_id=copper, user_id=8009, member_number="3"),  # blocked the bot
                Member(association_id=copper, user_id=8100, member_number="4"),  # never started the bot
                FoundingInterest(association_id=youth, user_id=8003),
                FoundingInterest(association_id=youth, user_id=8004),
                Subscription(user_id=8005, association_id=copper),
                Subscription(user_id=8006, association_id=None),
            ]
        )
    return {"copper": copper, "youth": youth}


async def _resolve(
    app: BotApplication, scope: StaffScope, kind: str, association_id: int | None
) -> list[int]:
    async with app.bot_data.sessionmaker() as session:
        return sorted(await audiences.recipients(session, scope, audiences.Audience(kind, association_id)))


async def test_every_audience_resolves_to_reachable_people(app: BotApplication) -> None:
    ids = await _people(app)
    assert await _resolve(app, ADMIN, "everyone", None) == [8001, 8002, 8003, 8004, 8005, 8006]
    assert await _resolve(app, ADMIN, "members", ids["copper"]) == [8001, 8002]
    assert await _resolve(app, ADMIN, "founders", ids["youth"]) == [8003, 8004]
    assert await _resolve(app, ADMIN, "subscribers", ids["copper"]) == [8005, 8006]
    assert await _resolve(app, ADMIN, "subscribers", None) == [8006]
    with pytest.raises(DomainError):
        await _resolve(app, ADMIN, "founders", ids["copper"])  # not a forming association
    with pytest.raises(DomainError):
        await _resolve(app, ADMIN, "members", None)
    with pytest.raises(DomainError):
        audiences.parse("nobody:1")


async def test_association_staff_reach_only_their_own_people(app: BotApplication) -> None:
    ids = await _people(app)
    own = StaffScope(user_id=8500, association_ids=frozenset({ids["copper"]}))
    assert await _resolve(app, own, "members", ids["copper"]) == [8001, 8002]
    for kind, association_id in [
        ("everyone", None),
        ("founders", ids["youth"]),
        ("members", ids["youth"]),
        ("subscribers", None),
    ]:
        with pytest.raises(NotAllowed):
            await _resolve(app, own, kind, association_id)
    assert "everyone" not in [k.key for k in audiences.kinds_for(own)]
    chamber = StaffScope(user_id=8501, chamber_wide=True)
    assert await _resolve(app, chamber, "everyone", None) == [8001, 8002, 8003, 8004, 8005, 8006]


async def test_announcement_flow_with_count_preview_and_progress(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    ids = await _people(app)
    admin = sim.user(ADMIN_ID)
    await admin.command("/announce")
    await admin.send("جلسهٔ <i>مهم</i> اعضا")
    await admin.send_document()
    # The audiences in Persian alphabetical order, and the associations too.
    kinds = admin.buttons()
    assert kinds == sorted(kinds, key=collation_key) and "اعضای یک تشکل" in kinds
    await admin.press("اعضای یک تشکل")
    assert admin.buttons()[:2] == ["انجمن صنایع مس", "انجمن کارآفرینان جوان"]
    mark = admin.mark()
    await admin.press("انجمن صنایع مس")
    assert "۲ نفر" in admin.last_text and "اعضای یک تشکل: انجمن صنایع مس" in admin.last_text
    assert len(admin.messages_since(mark)) == 2  # the preview (the document itself), then the count
    assert api.calls_to("sendDocument", ADMIN_ID, ok=True)
    await admin.press("ارسال")
    async with app.bot_data.sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast).where(Broadcast.kind == "announcement"))
    assert broadcast is not None and broadcast.audience == f"members:{ids['copper']}"
    assert broadcast.association_id == ids["copper"] and broadcast.progress_message_id is not None
    await start_sender(app)
    result = await wait_finished(app, broadcast.id)
    assert (result.total, result.sent) == (2, 2)
    docs = api.calls_to("sendDocument", ok=True)
    assert sorted(c.chat_id for c in docs if c.chat_id != ADMIN_ID) == [8001, 8002]
    assert "&lt;i&gt;" in str(docs[-1].params["caption"])
    progress = broadcast.progress_message_id
    await api.wait_until(lambda: "پایان یافت" in (api.message(ADMIN_ID, progress) or _Missing).content)
    # The report stays available.
    await admin.command("/broadcasts")
    assert "ارسال ۲ از ۲" in admin.last_text
    sim.assert_no_errors()


class _Missing:
    content = ""


async def test_the_count_is_of_those_who_will_receive_it(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    """Blocked users, people who never started the bot and duplicates are not counted, and the
    count shown is the number of deliveries queued."""
    ids = await _people(app)
    async with app.bot_data.sessionmaker() as session, session.begin():
        # 8006 follows all news and the association's: one person, one message.
        session.add(Subscription(user_id=8006, association_id=ids["copper"]))
        session.add(Subscription(user_id=8009, association_id=ids["copper"]))  # blocked the bot
        session.add(Subscription(user_id=8100, association_id=ids["copper"]))  # never started the bot
    admin = sim.user(ADMIN_ID)
    await admin.command("/announce")
    await admin.send("خبر مهم برای مشترکان")
    await admin.press("بدون پیوست")
    await admin.press("مشترکان خبرها")
    assert admin.buttons()[0] == "همه (همهٔ تشکل‌ها)"
    await admin.press("انجمن صنایع مس")
    assert "۲ نفر" in admin.last_text  # 8005 and 8006
    await admin.press("ارسال")
    async with app.bot_data.sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast).where(Broadcast.kind == "announcement"))
        assert broadcast is not None
        deliveries = set(
            await session.scalars(select(Delivery.user_id).where(Delivery.broadcast_id == broadcast.id))
        )
    assert deliveries == {8005, 8006}
    assert "۲ نفر" in admin.texts_since(0)[-2]  # «queued for ۲ people», above the progress message


async def test_nobody_to_reach_is_no_dead_end(sim: Simulator, app: BotApplication) -> None:
    ids = await _people(app)
    admin = sim.user(ADMIN_ID)
    await admin.command("/announce")
    await admin.send("سلام")
    await admin.press("بدون پیوست")
    await admin.press("متقاضیانی که درخواستشان در حال بررسی است")
    await admin.press("انجمن صنایع مس")
    assert "هیچ‌کس" in admin.last_text and "ارسال" not in admin.buttons()
    await admin.press_data("announce:submit")  # forged: refused, nothing queued
    await admin.press("انتخاب مخاطبان دیگر")
    await admin.press("اعضای یک تشکل")
    await admin.press_data(f"announce:set:target:{ids['copper']}")
    assert "۲ نفر" in admin.last_text
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_announce_to_everyone_and_to_founders(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    await _people(app)
    admin = sim.user(ADMIN_ID)
    await admin.command("/announce")
    await admin.send("سلام به همه")
    await admin.press("بدون پیوست")
    await admin.press("همهٔ کسانی که ربات را آغاز کرده‌اند")
    assert "۷ نفر" in admin.last_text  # the six, and the admin who wrote to the bot
    await admin.press("ویرایش یک پاسخ")
    await admin.press("مخاطبان")
    await admin.press("متقاضیان عضویت مؤسس (تشکل در حال تأسیس)")
    assert admin.buttons()[0] == "انجمن کارآفرینان جوان" and "انجمن صنایع مس" not in admin.buttons()
    await admin.press("انجمن کارآفرینان جوان")
    assert "۲ نفر" in admin.last_text
    await admin.press("ارسال")
    await start_sender(app)
    async with app.bot_data.sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast).where(Broadcast.kind == "announcement"))
    assert broadcast is not None
    await wait_finished(app, broadcast.id)
    assert {c for c in copies(api) if c != ADMIN_ID} == {8003, 8004}


async def test_association_staff_cannot_reach_another_association(
    sim: Simulator, app: BotApplication
) -> None:
    ids = await _people(app)
    await sim.user(ADMIN_ID).command("/staff", f"add 8600 {ids['copper']}")
    staffer = sim.user(8600)
    await staffer.command("/announce")
    await staffer.send("پیام")
    await staffer.press("بدون پیوست")
    kinds = staffer.buttons()
    assert "همهٔ کسانی که ربات را آغاز کرده‌اند" not in kinds
    await staffer.press_data("announce:set:kind:everyone")  # forged
    assert "یکی از دکمه‌ها" in staffer.last_text
    await staffer.press("اعضای یک تشکل")
    assert staffer.buttons()[0] == "انجمن صنایع مس" and "انجمن کارآفرینان جوان" not in staffer.buttons()
    await staffer.press_data(f"announce:set:target:{ids['youth']}")  # forged
    assert "یکی از دکمه‌ها" in staffer.last_text
    await staffer.press_data("announce:set:target:all")  # forged
    async with app.bot_data.sessionmaker() as session:
        draft = await session.scalar(select(Broadcast).where(Broadcast.created_by == 8600))
        assert draft is not None and draft.audience == "members:"
    await staffer.press_data("announce:submit")  # nothing chosen: nothing queued
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_non_staff_cannot_announce_or_control(sim: Simulator, app: BotApplication) -> None:
    await add_users(app, [8701])
    async with app.bot_data.sessionmaker() as session, session.begin():
        broadcast = await outbox.create_broadcast(session, kind="announcement", text="x", recipients=[8701])
    stranger = sim.user(8702)
    await stranger.command("/announce")
    assert "فقط برای کارشناسان" in stranger.last_text
    for data in [f"bc:pause:{broadcast.id}", f"bc:cancelok:{broadcast.id}", f"bc:show:{broadcast.id}"]:
        await stranger.press_data(data)
    await stranger.command("/broadcasts")
    assert "فقط برای کارشناسان" in stranger.last_text
    async with app.bot_data.sessionmaker() as session:
        assert (await session.get(Broadcast, broadcast.id)).status == "pending"  # type: ignore[union-attr]


SLOW = SenderConfig(**{**FAST.__dict__, "global_rate": 200.0, "batch_size": 5})


async def test_pause_resume_and_cancel(sim: Simulator, app: BotApplication, api: FakeTelegram) -> None:
    copper = await add_association(app, "انجمن سنگ")
    recipients = list(range(9000, 9300))
    await add_users(app, recipients)
    async with app.bot_data.sessionmaker() as session, session.begin():
        first = await outbox.create_broadcast(
            session, kind="announcement", text="یک", recipients=recipients, association_id=copper
        )
    admin = sim.user(ADMIN_ID)
    await start_sender(app, SLOW)
    await api.wait_until(lambda: len(api.calls_to("sendMessage", ok=True)) >= 20, timeout=30)
    await admin.command("/broadcasts")
    await admin.press_data(f"bc:pause:{first.id}")
    assert "متوقف" in admin.last_text
    sender = app.bot_data.delivery.sender
    assert sender is not None
    # Once the batch in flight is recorded, nothing more goes out while paused.
    while True:
        async with app.bot_data.sessionmaker() as session:
            if not (await report(session, first.id)).sending:
                break
        await asyncio.sleep(0.01)
    paused_at = len(api.calls_to("sendMessage", ok=True))
    assert not await sender.drain_once()
    assert len(api.calls_to("sendMessage", ok=True)) == paused_at < 300
    await admin.press_data(f"bc:resume:{first.id}")
    result = await wait_finished(app, first.id)
    assert result.status == DONE and result.sent == 300
    assert all(n == 1 for n in copies(api).values())

    # Cancel: the rest is skipped and the figures add up.
    async with app.bot_data.sessionmaker() as session, session.begin():
        second = await outbox.create_broadcast(session, kind="announcement", text="دو", recipients=recipients)
    app.bot_data.delivery.wake()
    await api.wait_until(lambda: len(api.calls_to("sendMessage", ok=True)) >= 320, timeout=30)
    await admin.press_data(f"bc:cancel:{second.id}")
    assert "لغو" in admin.last_text
    await admin.press_data(f"bc:cancelok:{second.id}")
    result = await wait_finished(app, second.id)
    async with app.bot_data.sessionmaker() as session:
        result = await report(session, second.id)
        skipped = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.broadcast_id == second.id, Delivery.status == D_SKIPPED)
        )
    assert result.status == CANCELLED and result.skipped == skipped and 0 < result.skipped < 300
    assert result.sent + result.skipped + result.failed + result.blocked + result.remaining == 300
    assert len([c for c in api.calls_to("sendMessage", ok=True) if c.params["text"] == "دو"]) == result.sent
    # A cancelled broadcast cannot be resumed.
    async with app.bot_data.sessionmaker() as session:
        with pytest.raises(DomainError):
            await control.resume(session, ADMIN, second.id)


async def test_association_staff_control_only_their_broadcasts(sim: Simulator, app: BotApplication) -> None:
    own = await add_association(app, "انجمن پسته")
    other = await add_association(app, "انجمن خرما")
    await add_users(app, [8901])
    async with app.bot_data.sessionmaker() as session, session.begin():
        mine = await outbox.create_broadcast(
            session, kind="news", text="x", recipients=[8901], association_id=own
        )
        theirs = await outbox.create_broadcast(
            session, kind="news", text="y", recipients=[8901], association_id=other
        )
        chamber = await outbox.create_broadcast(session, kind="announcement", text="z", recipients=[8901])
    await sim.user(ADMIN_ID).command("/staff", f"add 8900 {own}")
    staffer = sim.user(8900)
    await staffer.command("/broadcasts")
    assert f"#{mine.id}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in staffer.last_text
    for forged in [f"bc:pause:{theirs.id}", f"bc:cancelok:{chamber.id}", f"bc:show:{theirs.id}"]:
        await staffer.press_data(forged)
        assert "پیدا نشد" in staffer.last_text
    await staffer.press_data(f"bc:pause:{mine.id}")
    async with app.bot_data.sessionmaker() as session:
        statuses = {b.id: b.status for b in await session.scalars(select(Broadcast))}
    assert statuses == {mine.id: PAUSED, theirs.id: "pending", chamber.id: "pending"}


async def test_notices_are_not_broadcasts(sim: Simulator, app: BotApplication) -> None:
    """A one-off notice (a decision told to an applicant) goes through the outbox too, but it is
    neither listed nor reported among the broadcasts."""
    await add_users(app, [8801])
    async with app.bot_data.sessionmaker() as session, session.begin():
        notice = await outbox.notify(session, [8801], "درخواست شما تأیید شد.")
        announcement = await outbox.create_broadcast(
            session, kind="announcement", text="x", recipients=[8801]
        )
    assert notice is not None
    admin = sim.user(ADMIN_ID)
    await admin.command("/broadcasts")
    digits = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    assert f"#{announcement.id}".translate(digits) in admin.last_text
    assert f"#{notice.id}".translate(digits) not in admin.last_text
    await admin.press_data(f"bc:show:{notice.id}")
    assert "پیدا نشد" in admin.last_text
    await admin.press_data(f"bc:pause:{notice.id}")
    assert "پیدا نشد" in admin.last_text
    async with app.bot_data.sessionmaker() as session:
        assert [b.id for b, _ in await control.recent(session, ADMIN)] == [announcement.id]


def test_time_left_reads_naturally(app: BotApplication) -> None:
    _ = app.bot_data.translations.gettext
    assert time_left(_, 2) == "حدود ۲ ثانیه"
    assert time_left(_, 0) == "حدود ۱ ثانیه"
    assert time_left(_, 59) == "حدود ۵۹ ثانیه"
    assert time_left(_, 60) == "حدود ۱ دقیقه"
    assert time_left(_, 330) == "حدود ۶ دقیقه"
    assert time_left(_, 4200) == "حدود ۷۰ دقیقه"
    assert not any("۰" in time_left(_, s).split() for s in range(0, 7300, 7))  # never «۰ دقیقه»


async def test_the_progress_says_how_long_in_plain_words(sim: Simulator, app: BotApplication) -> None:
    await add_users(app, [8811, 8812])
    async with app.bot_data.sessionmaker() as session, session.begin():
        broadcast = await outbox.create_broadcast(
            session, kind="announcement", text="x", recipients=[8811, 8812], audience="everyone"
        )
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"bc:show:{broadcast.id}")
    assert "زمان باقی‌مانده: حدود ۱ ثانیه" in admin.last_text
    assert "دقیقه" not in admin.last_text
    assert "مخاطبان: همهٔ کسانی که ربات را آغاز کرده‌اند" in admin.last_text
