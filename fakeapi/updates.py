"""Updates: the queue users' updates wait in, getUpdates with long polling, offsets that confirm
updates, one poller at a time (409 for the one taken over), and the webhook that excludes polling."""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from typing import Any

from fakeapi.base import FakeBase
from fakeapi.errors import ApiError, bad_request
from fakeapi.wire import JSON, MethodHandler, UploadedFiles, update_type

# Update types Telegram leaves out unless `allowed_updates` names them explicitly.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class _Poll:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False
    released: bool = False


class Updates(FakeBase):
    """The update queue and the webhook setting."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.webhook: JSON | None = None
        self.allowed_updates: list[str] = []
        self.conflicts = 0
        self._pending: list[JSON] = []
        self.pushed: list[int] = []  # every update id ever queued, in order (what a bot must not lose)
        self._next_update_id = 1
        self._active_poll: _Poll | None = None

    def _method_table(self) -> dict[str, MethodHandler]:
        return super()._method_table() | {
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    def next_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def push_update(self, update: JSON) -> int:
        """Queue an update for getUpdates (assigning update_id if missing) and wake the poller."""
        if "update_id" not in update:
            update = {"update_id": self.next_update_id(), **update}
        else:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self.observe_update(update)
        self._pending.append(update)
        self.pushed.append(int(update["update_id"]))
        if self._active_poll is not None:
            self._active_poll.wake.set()
        self._touch()
        return int(update["update_id"])

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by an offset."""
        return list(self._pending)

    def release_pollers(self) -> None:
        """Make a waiting long poll return at once with no updates (used when stopping a server)."""
        if self._active_poll is not None:
            self._active_poll.released = True
            self._active_poll.wake.set()

    async def _get_updates(self, params: JSON, files: UploadedFiles) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._confirm(int(params.get("offset", 0)))
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        limit = max(1, min(100, int(params.get("limit", 100))))
        deadline = time.monotonic() + float(params.get("timeout", 0))
        poll = self._take_over_polling()
        try:
            return await self._wait_for_updates(poll, limit, deadline)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    def _take_over_polling(self) -> _Poll:
        """A new getUpdates terminates the one still waiting, as Telegram does (409 for the old)."""
        if self._active_poll is not None:
            self._active_poll.terminated = True
            self._active_poll.wake.set()
            self.conflicts += 1
        poll = _Poll()
        self._active_poll = poll
        return poll

    async def _wait_for_updates(self, poll: _Poll, limit: int, deadline: float) -> list[JSON]:
        while True:
            poll.wake.clear()
            if poll.terminated:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._select_updates(limit)
            remaining = deadline - time.monotonic()
            if batch or poll.released or remaining <= 0:
                return batch
            try:
                await asyncio.wait_for(poll.wake.wait(), remaining)
            except TimeoutError:
                return self._select_updates(limit)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _select_updates(self, limit: int) -> list[JSON]:
        wanted = [u for u in self._pending if self._is_allowed(u)]
        # Updates of types the bot did not ask for are never delivered: Telegram drops them.
        self._pending = wanted
        return [copy.deepcopy(u) for u in wanted[:limit]]

    def _is_allowed(self, update: JSON) -> bool:
        kind = update_type(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in OPT_IN_UPDATES

    # ------------------------------------------------------------------ webhook

    def _delete_webhook(self, params: JSON, files: UploadedFiles) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _set_webhook(self, params: JSON, files: UploadedFiles) -> bool:
        url = str(params.get("url", ""))
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        return True

    def _get_webhook_info(self, params: JSON, files: UploadedFiles) -> JSON:
        info: JSON = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook and "max_connections" in self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
        return info
