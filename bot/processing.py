"""Run different users' updates concurrently and one user's updates strictly in order.

Sequential dispatch caps the whole bot at 1 / (Bot API round trip) updates a second; plain
`concurrent_updates(True)` lets a ConversationHandler see a user's next step before the previous
one finished and silently drops it. Serialising per user gives the throughput of the first
without the data loss of the second.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import observe

AfterUpdate = Callable[[], Awaitable[None]]


@dataclass
class _Slot:
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

    def __init__(self, max_concurrent_updates: int = 512, remember_updates: int = 10_000) -> None:
        super().__init__(max_concurrent_updates)
        self.after_update: AfterUpdate | None = None
        self.log_key = ""  # keys the user-id pseudonyms in the per-update log line
        self.last_update_at: float | None = None  # wall-clock time of the last handled update
        self._slots: dict[int, _Slot] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._remember = remember_updates

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
            slot = self._slots[key] = _Slot()
        slot.holders += 1
        try:
            async with slot.lock:
                started = time.perf_counter()
                observe.begin()
                try:
                    await coroutine
                    if self.after_update is not None:
                        await self.after_update()
                finally:
                    self.last_update_at = time.time()
                    observe.log_update(update, time.perf_counter() - started, self.log_key)
        finally:
            slot.holders -= 1
            if slot.holders == 0:
                del self._slots[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
