"""Many users at once: each user's steps in order, every conversation complete, locks pruned."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.context import BotApplication
from bot.processing import PerUserUpdateProcessor
from db.models import Profile
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram

VALID_NIDS = ["0499370899", "0012345679", "1234567891", "0010350829"]


async def test_hundred_users_four_steps_back_to_back(app: BotApplication, api: FakeTelegram) -> None:
    api.latency = 0.05  # a 50 ms Bot API round trip
    sim = Simulator(app, api)
    users = [sim.user(5000 + i) for i in range(100)]
    for i, user in enumerate(users):
        # Each user sends the whole form without waiting for any reply.
        sim.enqueue_command(user, "/profile")
        for text in (f"کاربر شماره {'abcdefghij'[i % 10]}", VALID_NIDS[i % 4], f"0912{i:07d}"):
            sim.enqueue(user, text)
    await sim.drain()
    async with app.bot_data.sessionmaker() as session:
        complete = await session.scalar(
            select(func.count()).select_from(Profile).where(Profile.mobile.is_not(None))
        )
    assert complete == 100
    for i, user in enumerate(users):
        texts = [m.content for m in user.messages]
        # question 1, question 2, question 3, question 4 — in that order, nothing dropped.
        order = [
            next(j for j, t in enumerate(texts) if "نام و نام خانوادگی" in t),
            next(j for j, t in enumerate(texts) if "کد ملی" in t),
            next(j for j, t in enumerate(texts) if "شمارهٔ همراه" in t),
            next(j for j, t in enumerate(texts) if "کدام شهر" in t),
        ]
        assert order == sorted(order), (i, texts)
    assert isinstance(app.update_processor, PerUserUpdateProcessor)
    assert app.update_processor.active_slots == 0


async def test_one_users_updates_never_overlap() -> None:
    processor = PerUserUpdateProcessor(max_concurrent_updates=64)
    running: dict[int, int] = {}
    log: list[tuple[int, int]] = []
    overlap = False

    async def work(user: int, step: int) -> None:
        nonlocal overlap
        running[user] = running.get(user, 0) + 1
        overlap |= running[user] > 1
        await asyncio.sleep(0.001 * ((step * 7) % 5))
        log.append((user, step))
        running[user] -= 1

    from telegram import Chat, Message, Update
    from telegram import User as TgUser

    def update(uid: int, user: int) -> Update:
        message = Message(uid, date=None, chat=Chat(user, "private"), from_user=TgUser(user, "x", False))  # type: ignore[arg-type]
        return Update(uid, message=message)

    uid = 0
    tasks = []
    for step in range(20):
        for user in range(10):
            uid += 1
            tasks.append(asyncio.create_task(processor.process_update(update(uid, user), work(user, step))))
    await asyncio.gather(*tasks)
    assert not overlap
    for user in range(10):
        assert [s for u, s in log if u == user] == list(range(20))
    assert processor.active_slots == 0


async def test_a_repeated_update_id_is_processed_once(app: BotApplication, api: FakeTelegram) -> None:
    sim = Simulator(app, api)
    user = sim.user(5300)
    update = user.command_update("/help")
    await sim.feed(update)
    answers = len(user.messages)
    await sim.feed(update)  # the Bot API delivers the same update again
    assert len(user.messages) == answers
