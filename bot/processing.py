"""Run different users' updates concurrently and one user's updates strictly in order.

Sequential dispatch caps the whole bot at 1 / (Bot API round trip) updates a second; plain
`concurrent_updates(True)` lets a ConversationHandler see a user's next step before the previous
one finished and silently drops it. Serialising per user gives the throughput of the first
without the data loss of the second.

The same place guards the bot: an update delivered twice is handled once (also across restarts,
with an UpdateLog); a user who floods the bot is paced (aiolimiter) and, past a backlog, told to slow
down, without slowing anyone else; an update that failed only because SQLite was busy is run again.
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

    from db.update_log import UpdateLog

AfterUpdate = Callable[[], Awaitable[None]]
FloodNotice = Callable[[Update], Awaitable[None]]

# A person types or taps a few times a second at most; USER_RATE_LIMIT (default 10 a second) lets
# their bursts through and paces floods.
USER_BACKLOG = 20  # updates waiting for one user before further ones are dropped
NOTICE_EVERY = 30.0  # seconds between two "please slow down" notices to one user
RETRY_DELAYS = (0.2, 0.6, 1.5)  # an update that hit a busy database is run again after these


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

    `after_update` saves conversation state before the user's next update is looked at, so a crash
    right after a reply never loses the step. Slots exist only while a user has updates in flight:
    the last one out removes it, so memory does not grow with the number of users ever seen.
    Update ids seen recently are remembered so an update delivered twice is handled once.
    """

    def __init__(
        self, max_concurrent_updates: int = 512, remember_updates: int = 10_000, user_rate: float = 10.0
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._user_rate = user_rate
        self.after_update: AfterUpdate | None = None
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None  # for retries
        self.update_log: UpdateLog | None = None
        self.on_flood: FloodNotice | None = None
        self.log_key = ""  # keys the user-id pseudonyms in the per-update log line
        self.last_update_at: float | None = None  # wall-clock time of the last handled update
        self.dropped = 0  # updates dropped from flooding users
        self._slots: dict[int, _Slot] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._remember = remember_updates
        self._noticed: OrderedDict[int, float] = OrderedDict()

    @property
    def active_slots(self) -> int:
        """How many users have updates in flight (for tests and benchmarks)."""
        return len(self._slots)

    def _is_repeat(self, update: object) -> bool:
        if not isinstance(update, Update):
            return False
        if update.update_id in self._recent:
            return True
        self._recent[update.update_id] = None
        if len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        return False

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._is_repeat(update):
            _close(coroutine)
            return
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
        try:
            await coroutine
            for delay in RETRY_DELAYS:
                if not observe.retry_requested() or self.application is None:
                    break
                await asyncio.sleep(delay)
                observe.begin_retry(last=delay == RETRY_DELAYS[-1])
                await self.application.process_update(update)
            if self.after_update is not None:
                await self.after_update()
        finally:
            self.last_update_at = time.time()
            if isinstance(update, Update) and self.update_log is not None:
                self.update_log.note(update.update_id)
            observe.log_update(update, time.perf_counter() - started, self.log_key)

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
        if self.update_log is not None:
            for update_id in reversed(await self.update_log.recent()):
                self._recent[update_id] = None
            self.update_log.start()

    async def shutdown(self) -> None:
        if self.update_log is not None:
            await self.update_log.close()


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
