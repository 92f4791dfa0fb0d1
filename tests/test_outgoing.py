"""One budget for everything the bot posts: replies and broadcasts share Telegram's 30/s."""

from __future__ import annotations

import asyncio

from bot.context import BotApplication
from bot.outgoing import OutgoingLimiter, SendBudget, bulk, counts_against_limit
from bot.services import outbox
from bot.services.sender import SenderConfig
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.broadcast_helpers import copies, start_sender, wait_finished
from tests.factories import add_users


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


async def test_replies_are_never_held_back() -> None:
    clock = Clock()
    budget = SendBudget(limit=3, window=1.0, margin=0.0, clock=clock)
    for _ in range(5):
        await asyncio.wait_for(budget.take(), 1)  # people are answered at once, only counted
    assert budget.in_window == 5
    clock.now += 1.0
    assert budget.in_window == 0


async def test_bulk_waits_for_room_beyond_the_reserve() -> None:
    clock = Clock()
    budget = SendBudget(limit=5, window=1.0, margin=0.1, reserve=2, clock=clock)
    await budget.take()  # a reply
    await budget.take(bulk=True)
    await budget.take(bulk=True)
    blocked_bulk = asyncio.create_task(budget.take(bulk=True))
    await asyncio.sleep(0.01)
    assert not blocked_bulk.done()  # 3 of 5 counted, 2 kept for replies
    await budget.take()
    await budget.take()  # the reserve is the replies'
    assert budget.in_window == 5
    clock.now += 1.05
    await asyncio.sleep(0.01)
    assert not blocked_bulk.done()  # the margin: the window is 1.1 s long
    clock.now += 0.1
    await asyncio.wait_for(blocked_bulk, 5)  # it sleeps until the oldest entry leaves (real time)
    assert budget.in_window == 1


async def test_a_reply_waits_only_for_a_place_a_broadcast_holds() -> None:
    """A full window that holds broadcast messages makes a reply wait for the next free place, and
    the broadcast leaves that place to it; a window full of replies alone never holds one back."""
    clock = Clock()
    budget = SendBudget(limit=3, window=1.0, margin=0.0, reserve=0, clock=clock)
    await budget.take(bulk=True)
    await budget.take(bulk=True)
    await budget.take()
    reply = asyncio.create_task(budget.take())
    await asyncio.sleep(0.01)
    assert not reply.done()  # full, and a broadcast is part of it: the reply waits
    broadcast = asyncio.create_task(budget.take(bulk=True))
    await asyncio.sleep(0.01)
    clock.now += 1.0  # every place frees; the waiting reply goes before the broadcast
    await asyncio.wait_for(reply, 5)
    await asyncio.wait_for(broadcast, 5)
    assert [bulk for _, bulk in budget._sent] == [False, True]

    replies_only = SendBudget(limit=2, window=1.0, margin=0.0, reserve=0, clock=clock)
    for _ in range(4):
        await asyncio.wait_for(replies_only.take(), 1)
    assert replies_only.in_window == 4


async def test_a_waiting_reply_holds_the_broadcast_back() -> None:
    clock = Clock()
    budget = SendBudget(limit=2, window=1.0, margin=0.0, reserve=0, clock=clock)
    await budget.take(bulk=True)
    await budget.take(bulk=True)
    reply = asyncio.create_task(budget.take())
    await asyncio.sleep(0.01)
    clock.now += 0.5
    budget._sent[0] = (clock.now - 1.0, True)  # the oldest place frees now
    broadcast = asyncio.create_task(budget.take(bulk=True))
    await asyncio.sleep(0.01)
    assert not broadcast.done()  # the freed place is the reply's
    await asyncio.wait_for(reply, 5)
    assert not broadcast.done()
    clock.now += 1.0
    await asyncio.wait_for(broadcast, 5)


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
    chatters = [sim.user(8000 + i, first_name=f"کاربر {i}") for i in range(3)]

    async def chat() -> None:
        for _ in range(3):
            for user in chatters:  # one after another, as people write, not all in one instant
                await user.command("help")
                await asyncio.sleep(0.4)

    await asyncio.gather(chat(), wait_finished(app, broadcast.id))
    assert api.too_many_requests == 0
    assert sim.errors == []
    received = copies(api)
    assert all(received[chat_id] == 1 for chat_id in recipients)
    assert all(received[user.chat_id] >= 3 for user in chatters)
