"""One budget for everything the bot posts: replies and broadcasts share Telegram's 30/s."""

from __future__ import annotations

import asyncio

from bot.context import BotApplication
from bot.outgoing import OutgoingLimiter, SendBudget, bulk, counts_against_limit
from bot.services import outbox
from bot.services.sender import SenderConfig
from tests.broadcast_helpers import add_users, copies, start_sender, wait_finished
from tests.fakeapi.simulator import Simulator
from tests.fakeapi.state import FakeTelegram


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_which_methods_count() -> None:
    assert counts_against_limit("sendMessage") and counts_against_limit("sendPhoto")
    assert counts_against_limit("copyMessage") and counts_against_limit("forwardMessages")
    assert not counts_against_limit("sendChatAction")
    assert not counts_against_limit("editMessageText") and not counts_against_limit("answerCallbackQuery")


async def test_the_window_holds_at_most_the_limit() -> None:
    clock = Clock()
    budget = SendBudget(limit=3, window=1.0, margin=0.0, clock=clock)
    for _ in range(3):
        await budget.take()
    assert budget.in_window == 3
    fourth = asyncio.create_task(budget.take())
    await asyncio.sleep(0.01)
    assert not fourth.done()  # the window is full: the reply waits rather than drawing a 429
    clock.now += 1.0  # the first three leave the window
    await asyncio.wait_for(fourth, 1)
    assert budget.in_window == 1


async def test_bulk_yields_to_replies_and_keeps_the_reserve() -> None:
    clock = Clock()
    budget = SendBudget(limit=4, window=1.0, margin=0.0, reserve=1, clock=clock)
    for _ in range(3):
        await budget.take(bulk=True)
    blocked_bulk = asyncio.create_task(budget.take(bulk=True))
    await asyncio.sleep(0.01)
    assert not blocked_bulk.done()  # the last place is kept for a reply
    await budget.take()  # a reply takes it at once
    assert budget.in_window == 4
    clock.now += 1.0
    await asyncio.wait_for(blocked_bulk, 1)


async def test_a_waiting_reply_goes_before_bulk() -> None:
    clock = Clock()
    budget = SendBudget(limit=2, window=1.0, margin=0.0, clock=clock)
    await budget.take(bulk=True)
    await budget.take(bulk=True)
    order: list[str] = []

    async def take(kind: str) -> None:
        await budget.take(bulk=kind == "bulk")
        order.append(kind)

    waiting_bulk = asyncio.create_task(take("bulk"))
    await asyncio.sleep(0.01)
    waiting_reply = asyncio.create_task(take("reply"))
    await asyncio.sleep(0.01)
    clock.now += 0.5
    await asyncio.sleep(0.01)
    assert order == []
    clock.now += 0.6  # both earlier messages have left: one place each
    await asyncio.wait_for(asyncio.gather(waiting_bulk, waiting_reply), 1)
    assert order == ["reply", "bulk"]


async def test_bulk_is_marked_only_inside_the_block() -> None:
    seen: list[bool] = []

    class Recording(SendBudget):
        async def take(self, *, bulk: bool = False) -> None:
            seen.append(bulk)

    limiter = OutgoingLimiter(Recording())

    async def call() -> bool:
        return True

    with bulk():
        await limiter.process_request(call, (), {}, "sendMessage", {}, None)
    await limiter.process_request(call, (), {}, "sendMessage", {}, None)
    await limiter.process_request(call, (), {}, "answerCallbackQuery", {}, None)
    assert seen == [True, False]


async def test_replies_during_a_broadcast_draw_no_429(
    app: BotApplication, api: FakeTelegram, sim: Simulator
) -> None:
    """A broadcast at the full rate while people chat: without a shared account the replies push
    the bot over the limit; with it, nobody gets a 429 and everyone gets exactly one copy."""
    recipients = list(range(7000, 7040))
    await add_users(app, recipients)
    api.enforce_limits(global_per_s=10, per_chat_per_s=1)
    async with app.bot_data.sessionmaker() as session, session.begin():
        broadcast = await outbox.create_broadcast(
            session, kind="news", text="خبر <b>تازه</b>", recipients=recipients
        )
    await start_sender(app, SenderConfig(global_rate=10.0, idle_wait=0.2, stop_check=0.05))
    chatters = [sim.user(8000 + i, first_name=f"کاربر {i}") for i in range(6)]

    async def chat() -> None:
        for _ in range(2):
            await asyncio.gather(*(user.command("help") for user in chatters))
            await asyncio.sleep(1.1)  # one message a second per chat, as the fake enforces

    await asyncio.gather(chat(), wait_finished(app, broadcast.id))
    assert api.too_many_requests == 0
    assert sim.errors == []
    received = copies(api)
    assert all(received[chat_id] == 1 for chat_id in recipients)
    assert all(received[user.chat_id] >= 2 for user in chatters)
