"""`broadcast`: delivering one news broadcast under Telegram's limits while users keep chatting.

The fake Bot API enforces a strict 30/s sliding window for the whole bot and 1/s per chat, and
answers 429 past it. Recipients get a durable outbox broadcast (`create_broadcast`); meanwhile 20
users keep writing to the bot (one /help every few seconds each) and the latency of their answers
is measured: a broadcast must not make the bot unresponsive.

Two senders are measured:
- the baseline, always: PTB's `AIORateLimiter` at its defaults on a bot of its own, sending to
  every recipient (what the framework gives out of the box) → `broadcast_baseline_*`;
- the bot's own sender (`bot/services/sender.py`, the news feature): the sender task the running
  application starts itself (`bot/delivery.py`, `bot_data.delivery`), at its default pacing, which is
  Telegram's (`SenderConfig()`: 30/s, 1 s per chat); woken as publishing wakes it (`SENDER`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

from telegram.error import RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from benchmarks.harness import (
    ROUND_TRIP,
    TOKEN,
    Rig,
    Timer,
    insert_users,
    percentile,
    real_app,
    rounded,
    simulated_users,
    watching_stalls,
)
from bot.delivery import Delivery
from bot.services.outbox import create_broadcast
from bot.services.sender import SenderConfig, report
from db.models.outbox import DONE
from fakeapi.simulator import UserUpdates
from fakeapi.transport import FakeRequest

LIMIT_PER_S = 30
FIRST_RECIPIENT = 2_000_000
FIRST_CHATTER = 2_900_000
CHATTERS = 20
CHAT_PAUSE = 5.0  # seconds between one chatting user's messages
TEXT = "<b>خبر تشکل</b>\nنشست هم‌اندیشی اعضا پنجشنبه ساعت ۱۰ در اتاق بازرگانی کرمان برگزار می‌شود."

# The bot's sender: deliver broadcast `id` through `rig.app` (running, with its job queue) until
# none of its deliveries is pending. None would mean "not wired": the keys are then null.
SenderTarget = Callable[[Rig, int], Awaitable[None]]


async def _real_sender(rig: Rig, broadcast_id: int) -> None:
    """Wake the application's own sender task, as publishing does, and wait until it has finished
    the broadcast (polling its report a few times a second; a guard against hanging, not a timer)."""
    runner = cast(Delivery, rig.app.bot_data.delivery)
    if runner.config != SenderConfig():
        raise RuntimeError(f"the sender is not at its default pacing: {runner.config}")
    runner.wake()
    while True:
        async with rig.app.bot_data.sessionmaker() as session:
            progress = await report(session, broadcast_id)
        if progress.status == DONE and progress.finished:
            return
        if runner.task is not None and runner.task.done():
            raise RuntimeError(f"the sender task ended: {runner.task!r}")
        await asyncio.sleep(0.25)


SENDER: SenderTarget = _real_sender


class Chatter:
    """Users who keep writing to the bot while a broadcast runs; their answer latencies in ms."""

    def __init__(self, rig: Rig, count: int, pause: float) -> None:
        self.rig = rig
        self.users = simulated_users(rig.api, FIRST_CHATTER, count)
        self.pause = pause
        self.latencies: list[float] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _chat(self, index: int, user: UserUpdates) -> None:
        loop = asyncio.get_running_loop()
        # Spread the users over the pause, as real people are.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.pause * index / max(1, len(self.users)))
        while not self._stop.is_set():
            started = loop.time()
            await self.rig.feed(user.command_update("help"))
            self.latencies.append((loop.time() - started) * 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.pause)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._chat(i, u)) for i, u in enumerate(self.users)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    @property
    def p99_ms(self) -> float | None:
        return rounded(percentile(self.latencies, 0.99))


class WhileChatting:
    """A timed block while CHATTERS people keep writing to the bot; what the fake counted meanwhile."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.chatter = Chatter(rig, CHATTERS, CHAT_PAUSE)
        self.timer = Timer()

    async def __aenter__(self) -> WhileChatting:
        self.before_429 = self.rig.api.too_many_requests
        self.errors_before = len(self.rig.sim.errors)
        self.chatter.start()
        self.timer.__enter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.timer.__exit__()
        await self.chatter.stop()

    def figures(self, prefix: str) -> dict[str, Any]:
        """429s drawn, the chatters' p99 and failures, as `<prefix>_429`, `chat_p99_ms` … keys."""
        chat = "broadcast_baseline_chat" if prefix == "broadcast_baseline" else "chat"
        return {
            f"{prefix}_429": self.rig.api.too_many_requests - self.before_429,
            f"{chat}_p99_ms": self.chatter.p99_ms,
            f"{chat}_failed": len(self.rig.sim.errors) - self.errors_before,
        }


def duplicates(rig: Rig, recipients: list[int]) -> int:
    """Extra copies: successful sendMessage calls of the broadcast beyond one per recipient."""
    wanted = set(recipients)
    sent = Counter(
        call.chat_id for call in rig.api.calls_to("sendMessage", ok=True) if call.chat_id in wanted
    )
    return sum(count - 1 for count in sent.values() if count > 1)


async def _baseline(rig: Rig, recipients: list[int]) -> dict[str, Any]:
    """PTB's AIORateLimiter at its defaults, sending to everyone at once on a bot of its own."""
    bot: ExtBot[Any] = ExtBot(TOKEN, request=FakeRequest(rig.api), rate_limiter=AIORateLimiter())
    await bot.initialize()
    failures = Counter[str]()
    delivered = 0

    async def send(chat_id: int) -> None:
        nonlocal delivered
        try:
            await bot.send_message(chat_id, TEXT, parse_mode="HTML")
            delivered += 1
        except RetryAfter:
            failures["429"] += 1
        except TelegramError as exc:
            failures[type(exc).__name__] += 1

    try:
        async with WhileChatting(rig) as watch:
            await asyncio.gather(*(send(chat_id) for chat_id in recipients))
    finally:
        await bot.shutdown()
    return {
        "broadcast_baseline_per_s": round(delivered / watch.timer.seconds, 1),
        "broadcast_baseline_undelivered": len(recipients) - delivered,
        "broadcast_baseline_duplicates": duplicates(rig, recipients),
        **watch.figures("broadcast_baseline"),
    }


async def _with_sender(rig: Rig, sender: SenderTarget, recipients: list[int]) -> dict[str, Any]:
    async with rig.app.bot_data.sessionmaker() as session, session.begin():
        broadcast = await create_broadcast(session, kind="news", text=TEXT, recipients=recipients)
    rig.api.calls.clear()
    async with WhileChatting(rig) as watch:
        await sender(rig, broadcast.id)
    timer = watch.timer
    wanted = set(recipients)
    delivered = len({c.chat_id for c in rig.api.calls_to("sendMessage", ok=True) if c.chat_id in wanted})
    replies = sum(1 for c in rig.api.calls_to("sendMessage", ok=True) if c.chat_id not in wanted)
    return {
        "broadcast_per_s": round(delivered / timer.seconds, 1),
        # Everything the bot sent meanwhile (the broadcast and the chat replies share the 30/s).
        "broadcast_total_per_s": round((delivered + replies) / timer.seconds, 1),
        # The same, under the name of the goal: the whole send budget used (of the fake's 30/s).
        "outgoing_total_per_s": round((delivered + replies) / timer.seconds, 1),
        "chat_replies": replies,
        "broadcast_duplicates": duplicates(rig, recipients),
        "broadcast_undelivered": len(recipients) - delivered,
        **watch.figures("broadcast"),
    }


async def run(recipients: int = 10_000, baseline_recipients: int = 900) -> dict[str, Any]:
    result: dict[str, Any] = {
        "broadcast_per_s": None,
        "broadcast_limit_per_s": LIMIT_PER_S,
        "broadcast_429": None,
        "broadcast_duplicates": None,
        "chat_p99_ms": None,
        "outgoing_total_per_s": None,
    }
    async with real_app(latency=ROUND_TRIP, running=True) as rig:
        rig.api.enforce_limits(global_per_s=LIMIT_PER_S, per_chat_per_s=1, window=1.0)
        ids = list(range(FIRST_RECIPIENT, FIRST_RECIPIENT + max(recipients, baseline_recipients)))
        await insert_users(rig, ids)
        # The baseline's own burst (every send started at once) is not the bot's stall.
        async with watching_stalls(of_the_bot=False) as baseline_stalls:
            result |= await _baseline(rig, ids[:baseline_recipients])
        result["broadcast_baseline_stall_ms"] = baseline_stalls.max_stall_ms
        rig.api.calls.clear()
        await asyncio.sleep(1.0)  # let the 1 s windows empty
        async with watching_stalls() as stalls:
            result |= await _with_sender(rig, SENDER, ids[:recipients])
        result["broadcast_stall_ms"] = stalls.max_stall_ms
    return result
