"""Run different users' updates concurrently and one user's updates strictly in order.

Sequential dispatch caps the whole bot at 1 / (Bot API round trip) updates a second; plain
`concurrent_updates(True)` lets a ConversationHandler see a user's next step before the previous
one finished and silently drops it. Serialising per user gives the throughput of the first
without the data loss of the second.

The same place guards the bot: a user who floods the bot is paced (aiolimiter) and, past a backlog,
told to slow down, without slowing anyone else; an update that failed only because SQLite was busy
is run again; an update that keeps failing (a bug) is tried a few times, then parked in the inbox
with its error so it never blocks the user's later updates. An update delivered twice never gets
this far: the inbox (bot/inbox.py) stores each update once and hands on only the new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import observe

if TYPE_CHECKING:
    from telegram.ext import Application

from bot.inbox import CURRENT, Handling, Inbox

AfterUpdate = Callable[[], Awaitable[None]]
FloodNotice = Callable[[Update], Awaitable[None]]
AnswerAgain = Callable[[Update], Awaitable[None]]

# A person types or taps a few times a second at most; USER_RATE_LIMIT (default 10 a second) lets
# their bursts through and paces floods.
USER_BACKLOG = 20  # updates waiting for one user before further ones are dropped
NOTICE_EVERY = 30.0  # seconds between two "please slow down" notices to one user
RETRY_DELAYS = (0.2, 0.6, 1.5)  # an update that hit a busy database is run again after these
FAILED_ATTEMPTS = 3  # an update whose handler raised is tried this often, then parked


@dataclass
class _Slot:
    limiter: AbstractAsyncContextManager[Any]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0


def serial_key(update: object) -> int | None:
    """Updates with the same key run one at a time: the user, else the chat, else nothing."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Serialises each user's updates; optionally runs `after_update` while still holding the slot.

    `after_update` saves conversation state before the user's next update is looked at (a form's
    state is already written with its step, so this is usually a no-op). Slots exist only while a
    user has updates in flight: the last one out removes it, so memory does not grow with the
    number of users ever seen.
    """

    def __init__(self, max_concurrent_updates: int = 512, user_rate: float = 10.0) -> None:
        super().__init__(max_concurrent_updates)
        self._user_rate = user_rate
        self.after_update: AfterUpdate | None = None
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None  # for retries
        self.inbox: Inbox | None = None
        self.answer_again: AnswerAgain | None = None  # an update whose effects committed before
        self.on_flood: FloodNotice | None = None
        self.log_key = ""  # keys the user-id pseudonyms in the per-update log line
        self.last_update_at: float | None = None  # wall-clock time of the last handled update
        self.dropped = 0  # updates dropped from flooding users
        self.parked = 0  # updates given up on after FAILED_ATTEMPTS
        self._slots: dict[int, _Slot] = {}
        self._noticed: OrderedDict[int, float] = OrderedDict()

    @property
    def active_slots(self) -> int:
        """How many users have updates in flight (for tests and benchmarks)."""
        return len(self._slots)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = serial_key(update)
        if key is None:
            await coroutine
            return
        slot = self._slots.get(key)
        if slot is None:
            limiter = AsyncLimiter(self._user_rate, 1.0) if self._user_rate > 0 else contextlib.nullcontext()
            slot = self._slots[key] = _Slot(limiter)
        if slot.holders >= USER_BACKLOG:
            _close(coroutine)
            await self._flooded(key, update)
            return
        slot.holders += 1
        try:
            async with slot.lock, slot.limiter:
                await self._handle(update, coroutine)
        finally:
            slot.holders -= 1
            if slot.holders == 0:
                del self._slots[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.perf_counter()
        observe.begin()
        handling = Handling(update.update_id) if isinstance(update, Update) and self.inbox else None
        current = CURRENT.set(handling)
        parked: str | None = None
        try:
            if handling is not None and self.inbox is not None:
                await self.inbox.begin(handling.update_id)
            await coroutine
            parked = await self._again(update, handling)
            if self.after_update is not None:
                await self.after_update()
        finally:
            CURRENT.reset(current)
            self.last_update_at = time.time()
            if isinstance(update, Update) and self.inbox is not None:
                self.inbox.done(update.update_id, parked)
            observe.log_update(update, time.perf_counter() - started, self.log_key)

    async def _again(self, update: object, handling: Handling | None) -> str | None:
        """Run the update again while it asks for it: a busy database (up to three times, silently),
        or a handler that raised (FAILED_ATTEMPTS in all, the user told once). Returns the error an
        update is parked with, if it kept failing."""
        if not isinstance(update, Update) or self.application is None:
            return None
        attempts = 1
        delays = iter(RETRY_DELAYS)
        while True:
            failed = observe.failure()
            if not observe.retry_requested() and failed is None and not observe.already_handled():
                return None
            if observe.already_handled() or (handling is not None and handling.marked):
                # Its effects are committed (before a crash, or by this attempt before it failed):
                # never run them again; answer from where the user is now.
                if self.answer_again is not None:
                    await self.answer_again(update)
                return None
            if failed is not None and attempts >= FAILED_ATTEMPTS:
                self.parked += 1
                return failed
            delay = next(delays, None)
            if delay is None:
                return failed
            await asyncio.sleep(delay)
            attempts += 1 if failed is not None else 0
            observe.begin_retry(last=delay == RETRY_DELAYS[-1])
            await self.application.process_update(update)

    async def _flooded(self, key: int, update: object) -> None:
        self.dropped += 1
        now = time.monotonic()
        if now - self._noticed.get(key, -NOTICE_EVERY) < NOTICE_EVERY:
            return
        self._noticed[key] = now
        self._noticed.move_to_end(key)
        while len(self._noticed) > 1_000:
            self._noticed.popitem(last=False)
        if self.on_flood is not None and isinstance(update, Update):
            await self.on_flood(update)

    async def initialize(self) -> None:
        if self.inbox is not None:
            self.inbox.start()

    async def shutdown(self) -> None:
        if self.inbox is not None:
            await self.inbox.close()


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
