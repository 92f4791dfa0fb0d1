"""Failures on demand: blocked and failing chats, migrated groups, one-off 429s and errors, a wrong
token, and Telegram's flood limits (sliding windows: overall, per chat, per group)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fakeapi.base import FakeBase
from fakeapi.errors import ApiError, rate_limited


@dataclass
class _Failure:
    code: int
    description: str
    times: int | None = None
    method: str | None = None


@dataclass
class _Limits:
    global_per_s: int
    per_chat_per_s: int
    window: float
    per_group_per_min: int | None
    sent: deque[float] = field(default_factory=deque)
    per_chat: dict[int | str, deque[float]] = field(default_factory=dict)


class Limits(FakeBase):
    """Injected failures and flood limits, checked before a method is carried out."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.too_many_requests = 0
        self._blocked: set[int | str] = set()
        self._chat_failures: dict[int | str, _Failure] = {}
        self._migrated: dict[int | str, int] = {}
        self._rate_limits: deque[int] = deque()
        self._next_failures: list[_Failure] = []
        self._limits: _Limits | None = None

    def block_chat(self, chat_id: int | str) -> None:
        """Every message to this chat answers 403, as when the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int | str) -> None:
        self._blocked.discard(chat_id)

    def fail_chat(
        self, chat_id: int | str, code: int = 400, description: str = "Bad Request: chat not found"
    ) -> None:
        """Every call naming this chat answers with this error until `clear_failures`."""
        self._chat_failures[chat_id] = _Failure(code, description)

    def migrate_chat(self, old: int | str, new: int) -> None:
        """Calls to `old` answer 400 with `migrate_to_chat_id` (group upgraded to supergroup)."""
        self._migrated[old] = new

    def rate_limit_once(self, retry_after: int, times: int = 1) -> None:
        """The next `times` sending calls answer 429 with this retry_after."""
        self._rate_limits.extend([retry_after] * times)

    def fail_next(
        self, times: int = 1, code: int = 502, description: str = "Bad Gateway", method: str | None = None
    ) -> None:
        """The next `times` calls (of `method`, or any) answer this error (502 → NetworkError in PTB)."""
        self._next_failures.append(_Failure(code, description, times, method))

    def enforce_limits(
        self,
        global_per_s: int = 30,
        per_chat_per_s: int = 1,
        window: float = 1.0,
        per_group_per_min: int | None = 20,
    ) -> None:
        """Strict sliding-window limits on sending calls; excess answers 429 retry_after=1."""
        self._limits = _Limits(global_per_s, per_chat_per_s, window, per_group_per_min)

    def disable_limits(self) -> None:
        self._limits = None

    def clear_failures(self) -> None:
        """Forget every injected failure (blocks, chat failures, migrations, 429s, limits)."""
        self._blocked.clear()
        self._chat_failures.clear()
        self._migrated.clear()
        self._rate_limits.clear()
        self._next_failures.clear()
        self._limits = None

    def _check_request(self, name: str, chat_id: int | str | None, token: str | None) -> None:
        if self.token is not None and token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        self._check_next_failures(name)
        if chat_id is not None and chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if is_sending(name):
            self._check_rate(chat_id)
        if chat_id is not None and chat_id in self._blocked and writes_to_chat(name):
            raise ApiError(403, _blocked_description(chat_id))
        failure = self._chat_failures.get(chat_id) if chat_id is not None else None
        if failure is not None:
            raise ApiError(failure.code, failure.description)

    def _check_next_failures(self, name: str) -> None:
        for failure in self._next_failures:
            if failure.method in (None, name) and (failure.times or 0) > 0:
                failure.times = (failure.times or 0) - 1
                if failure.times == 0:
                    self._next_failures.remove(failure)
                raise ApiError(failure.code, failure.description)

    def _check_rate(self, chat_id: int | str | None) -> None:
        if self._rate_limits:
            retry_after = self._rate_limits.popleft()
            raise rate_limited(retry_after)
        if self._limits is not None:
            _apply_limits(self._limits, chat_id, time.monotonic())


def is_sending(method: str) -> bool:
    """Methods that post a message and count against Telegram's flood limits."""
    if method.startswith("send") and method != "sendChatAction":
        return True
    return method in {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}


def writes_to_chat(method: str) -> bool:
    """Methods a user who blocked the bot refuses (403)."""
    return is_sending(method) or method == "sendChatAction" or method.startswith("editMessage")


def _apply_limits(limits: _Limits, chat_id: int | str | None, now: float) -> None:
    """Sliding windows: global and per chat per `window`, and per group per minute."""
    _expire(limits.sent, now - limits.window)
    if len(limits.sent) >= limits.global_per_s:
        raise rate_limited(1)
    key = chat_id if chat_id is not None else ""
    history = limits.per_chat.setdefault(key, deque())
    _expire(history, now - 60.0)
    recent = sum(1 for moment in history if moment > now - limits.window)
    if recent >= limits.per_chat_per_s:
        raise rate_limited(1)
    is_group = isinstance(chat_id, int) and chat_id < 0
    if is_group and limits.per_group_per_min is not None and len(history) >= limits.per_group_per_min:
        raise rate_limited(int(60 - (now - history[0])) + 1)
    limits.sent.append(now)
    history.append(now)


def _expire(history: deque[float], cutoff: float) -> None:
    while history and history[0] <= cutoff:
        history.popleft()


def _blocked_description(chat_id: int | str) -> str:
    if isinstance(chat_id, int) and chat_id < 0:
        return "Forbidden: bot was kicked from the group chat"
    return "Forbidden: bot was blocked by the user"
