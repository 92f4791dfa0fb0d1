"""`FakeBase`: what every part of the fake shares (the clock, the call log, the users and chats it
has seen, the message-id sequence, the change signal) and the hooks each part extends.

Each concern of the fake is a mixin over `FakeBase` that keeps its own state and adds to three
cooperative hooks, always calling `super()`: `__init__(**options)`, `_method_table()` (the Bot API
methods it answers) and `observe_update()` / `_observe_message()` (what it learns from an incoming
update). `fakeapi.state.FakeTelegram` puts them together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from fakeapi.errors import bad_request
from fakeapi.records import Call
from fakeapi.wire import JSON, MESSAGE_UPDATE_KEYS, MethodHandler

# Called with the method name of each request; a string it returns describes a violation.
RequestGuard = Callable[[str], str | None]


class FakeBase:
    """Shared state of one fake bot. Single event loop; no locks needed."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.latency = latency
        self.token = token
        self.clock = clock
        self.calls: list[Call] = []
        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.tokens_seen: set[str] = set()
        self.seq = 0
        self._last_message_id: dict[int, int] = {}
        self._changed = asyncio.Event()
        self.request_guard: RequestGuard | None = None  # see FakeTelegram
        self.violations: list[str] = []
        # Long runs (benchmarks) keep only what the bot can still refer to: `keep_only_latest`.
        self.keep_calls = True
        self.messages_kept: int | None = None  # per chat, the bot's and the user's; None: all

    def keep_only_latest(self, messages_per_chat: int = 2) -> None:
        """Remember no call log, only each chat's latest messages and no answered callback query:
        what a long benchmark needs, so the fake's history does not grow the heap the bot's garbage
        collections scan (buttons on the latest messages stay pressable, edits of them work)."""
        self.keep_calls = False
        self.messages_kept = messages_per_chat
        self.calls.clear()

    # ------------------------------------------------------------------ hooks the mixins extend

    def _method_table(self) -> dict[str, MethodHandler]:
        """The Bot API methods answered, by name; each mixin adds its own to `super()`'s."""
        return {}

    def observe_update(self, update: JSON) -> None:
        """Learn users, chats, files, messages and queries from an incoming update."""
        for key in MESSAGE_UPDATE_KEYS:
            message = update.get(key)
            if isinstance(message, dict):
                self._observe_message(message)

    def _observe_message(self, message: JSON) -> None:
        chat = message["chat"]
        chat_id = int(chat["id"])
        self.chats[chat_id] = dict(chat)
        if "from" in message:
            self._observe_user(message["from"])
        message_id = int(message["message_id"])
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)

    def _observe_user(self, user: JSON) -> None:
        self.users[int(user["id"])] = dict(user)

    # ------------------------------------------------------------------ sequences and change signal

    def _next_seq(self) -> int:
        """One step of the fake's clock of changes (calls, sent messages, edits, deletions)."""
        self.seq += 1
        return self.seq

    def new_message_id(self, chat_id: int) -> int:
        """Next message_id in this chat; user and bot messages share one sequence, as in Telegram."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _touch(self) -> None:
        """Wake everything waiting in `wait_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` holds, re-checking after every call and pushed update."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    # ------------------------------------------------------------------ chats

    def _chat(self, chat_id: int | str | None) -> JSON:
        """The `Chat` a method names: one seen in an update, found by @username, or made up."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            return self._chat_by_username(chat_id)
        return dict(self.chats.get(chat_id) or _synthetic_chat(chat_id))

    def _chat_by_username(self, name: str) -> JSON:
        for chat in self.chats.values():
            if chat.get("username") and f"@{chat['username']}" == name:
                return dict(chat)
        raise bad_request("chat not found")

    # ------------------------------------------------------------------ queries for tests

    def calls_to(
        self, method: str | None = None, chat_id: int | str | None = None, *, ok: bool | None = None
    ) -> list[Call]:
        """Recorded calls, filtered by method, chat and success."""
        return [
            call
            for call in self.calls
            if (method is None or call.method == method)
            and (chat_id is None or call.chat_id == chat_id)
            and (ok is None or call.ok == ok)
        ]


def _synthetic_chat(chat_id: int) -> JSON:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    if chat_id <= -1_000_000_000_000:
        return {"id": chat_id, "type": "supergroup", "title": f"Supergroup {chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
