"""In-memory Telegram Bot API: the state behind the fake transport and the fake HTTP server.

`FakeTelegram.handle(method, params, files)` answers like api.telegram.org would (status, JSON body),
records every call, keeps the messages the bot sent, serves `getUpdates` from a queue, and can be
told to fail (blocked chats, 429 with retry_after, migrations, strict rate limits, latency).

`FakeTelegram` is put together from one mixin per concern, each over `fakeapi.base.FakeBase`:

    updates.Updates     update queue, getUpdates long polling, offsets, webhook
    payments.Payments   sendInvoice, pre-checkout queries and answers
      messages.Messages send / edit / copy / forward / delete, callback answers, getChat
        files.Files     files users send and the bot uploads, getFile
    commands.Commands   setMyCommands per scope and language, menu buttons
    limits.Limits       injected failures, blocked chats, flood limits

This module adds the request entry point (`handle`), the call log and the request guard.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Mapping
from typing import Any

from fakeapi.base import RequestGuard
from fakeapi.commands import Commands
from fakeapi.errors import ApiError, bad_request
from fakeapi.limits import Limits
from fakeapi.payments import Payments
from fakeapi.records import Call, PreCheckoutAnswer, StoredFile, StoredMessage
from fakeapi.updates import Updates
from fakeapi.wire import (
    BOT_FIRST_NAME,
    BOT_ID,
    BOT_USER,
    BOT_USERNAME,
    JSON,
    MethodHandler,
    UploadedFiles,
    decode_params,
)

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USER",
    "BOT_USERNAME",
    "JSON",
    "ApiError",
    "Call",
    "FakeTelegram",
    "PreCheckoutAnswer",
    "RequestGuard",
    "StoredFile",
    "StoredMessage",
    "UploadedFiles",
]


class FakeTelegram(Updates, Payments, Commands, Limits):
    """The whole fake Bot API for one bot. Single event loop; no locks needed.

    `request_guard`, when set, sees the method name of every request that reaches the fake, before
    it is handled; whatever it returns other than None is appended to `violations`, and the request
    is answered as usual. Tests use it to catch, say, a Bot API call made inside a database
    transaction.
    """

    @functools.cached_property
    def _methods(self) -> dict[str, MethodHandler]:
        return self._method_table()

    @functools.cached_property
    def _lower_names(self) -> dict[str, str]:
        return {name.lower(): name for name in self._methods}

    def _method_table(self) -> dict[str, MethodHandler]:
        return super()._method_table() | {
            "getMe": lambda p, f: dict(BOT_USER),
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
        }

    async def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        files: UploadedFiles | None = None,
        *,
        token: str | None = None,
        guarded: bool = False,
    ) -> tuple[int, JSON]:
        """Answer one Bot API request: (HTTP status, JSON body). `guarded`: the caller already ran the
        request guard in its own task (the transport does, since it answers in a task of its own)."""
        name = self._lower_names.get(method.lower(), method)
        if not guarded:
            self._guard(name)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        decoded = decode_params(params)
        call = self._record(name, decoded, files or {}, token)
        try:
            self._check_request(name, call.chat_id, token)
            result = self._methods.get(name, _unknown_method)(decoded, files or {})
            if inspect.isawaitable(result):
                result = await result
        except ApiError as err:
            return self._fail(call, err)
        except (KeyError, TypeError, ValueError) as exc:
            # A missing or malformed parameter: Telegram answers 400 rather than failing the connection.
            return self._fail(call, bad_request(f"invalid parameters: {exc!r}"))
        self._touch()
        return 200, {"ok": True, "result": result}

    def guard(self, method: str) -> None:
        """Run the request guard for `method` in the calling task."""
        self._guard(self._lower_names.get(method.lower(), method))

    def _guard(self, name: str) -> None:
        if self.request_guard is None:
            return
        violation = self.request_guard(name)
        if violation is not None:
            self.violations.append(violation)

    def _record(self, name: str, params: JSON, files: UploadedFiles, token: str | None) -> Call:
        if token is not None:
            self.tokens_seen.add(token)
        call = Call(
            method=name,
            params=params,
            chat_id=params.get("chat_id"),
            time=time.monotonic(),
            seq=self._next_seq(),
            files={key: value[0] for key, value in files.items()},
        )
        if self.keep_calls:
            self.calls.append(call)
        return call

    def _fail(self, call: Call, err: ApiError) -> tuple[int, JSON]:
        call.status = err.code
        call.error = err.description
        if err.code == 429:
            self.too_many_requests += 1
        self._touch()
        return err.code, err.to_json()


def _unknown_method(params: JSON, files: UploadedFiles) -> bool:
    return True
