"""One budget for every message the bot posts: Telegram allows about 30 a second in all.

The outbox sender paces itself to 30/s, but the bot's answers to people who are chatting meanwhile
go out through the same bot and count against the same 30. Without a shared account, a broadcast at
full speed plus a few replies a second exceeds the limit and Telegram answers 429 (to a broadcast
message, or worse, to a person's reply).

`OutgoingLimiter` is a python-telegram-bot rate limiter installed on the bot (bot/platform.py). It
keeps one sliding window of the messages posted (the methods Telegram counts: send*, copy*,
forward*):
- an interactive reply is counted and goes at once, however many are writing (the bot's replies
  are not capped at 30/s; a busy bot answers hundreds). Only when the window is full *and* a
  broadcast is part of what fills it does a reply wait for the next free place, which the broadcast
  leaves to it: at most 1/30 s while a broadcast runs at full speed;
- a bulk message (sent inside `bulk()`: the outbox sender's transport) goes only while the window,
  replies included, holds fewer than `limit - reserve` and no reply is waiting. The `reserve` (1)
  lets a reply that arrives during a broadcast usually go without waiting at all.
So a broadcast uses whatever the replies leave, together they use the whole budget, and they stay
within the limit.

The window is `window + margin` long: a request reaches Telegram some milliseconds after we send it
and those delays vary, so two sends our clock saw 1.0 s apart may arrive closer together. Measured
against a fake Bot API enforcing a strict 30/s window (benchmarks/broadcast.py, 50 ms round trip):
no margin drew 27 × 429 per 900 messages, 20 ms none; 50 ms leaves room for a busier machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from telegram.ext import BaseRateLimiter

_BULK: contextvars.ContextVar[bool] = contextvars.ContextVar("outgoing_bulk", default=False)


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """Mark the messages posted inside this block (this task only) as bulk: they yield to replies."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


def counts_against_limit(endpoint: str) -> bool:
    """Methods that post a message (what Telegram's flood limit counts)."""
    if endpoint.startswith("send"):
        return endpoint != "sendChatAction"
    return endpoint in {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}


class SendBudget:
    """A strict sliding window: at most `limit` messages in any `window + margin` seconds."""

    def __init__(
        self,
        limit: int = 30,
        window: float = 1.0,
        margin: float = 0.05,
        reserve: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.span = window + margin
        self.reserve = reserve
        self.clock = clock
        self._sent: deque[tuple[float, bool]] = deque()  # (when, bulk) of each message in the window
        self._bulk = 0  # bulk messages in the window
        self._waiting = 0  # replies waiting for a place a broadcast holds

    def _room(self, now: float) -> int:
        cutoff = now - self.span
        while self._sent and self._sent[0][0] <= cutoff:
            _, was_bulk = self._sent.popleft()
            self._bulk -= was_bulk
        return self.limit - len(self._sent)

    def _until_free(self, now: float) -> float:
        return max(0.001, self._sent[0][0] + self.span - now) if self._sent else 0.001

    async def take(self, *, bulk: bool = False) -> None:
        """Count this message. A bulk one first waits until the window has room beyond the reserve
        and no reply is waiting; a reply waits only while a broadcast helps fill the whole window."""
        now = self.clock()
        if bulk:
            while self._room(now) <= self.reserve + self._waiting:
                await asyncio.sleep(self._until_free(now))
                now = self.clock()
        elif self._room(now) <= 0 and self._bulk > 0:
            self._waiting += 1
            try:
                while self._room(now) <= 0 and self._bulk > 0:
                    await asyncio.sleep(self._until_free(now))
                    now = self.clock()
            finally:
                self._waiting -= 1
        self._sent.append((self.clock(), bulk))
        self._bulk += bulk

    @property
    def in_window(self) -> int:
        """Messages counted in the current window."""
        self._room(self.clock())
        return len(self._sent)


class OutgoingLimiter(BaseRateLimiter[None]):
    """The bot's rate limiter: every posted message takes its place in one `SendBudget`."""

    def __init__(self, budget: SendBudget | None = None) -> None:
        self.budget = budget or SendBudget()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if counts_against_limit(endpoint):
            await self.budget.take(bulk=_BULK.get())
        return await callback(*args, **kwargs)
