"""`FakeRequest`: a PTB transport (`telegram.request.BaseRequest`) answered in-process by a FakeTelegram.

PTB insists that `ApplicationBuilder().request(...)` and `.get_updates_request(...)` are distinct
objects, so build two `FakeRequest`s over the same `FakeTelegram`.
"""

from __future__ import annotations

import asyncio
import json
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from fakeapi.state import FakeTelegram
from fakeapi.wire import UploadedFiles

FILE_MARKER = "/file/bot"


class FakeRequest(BaseRequest):
    """Sends every Bot API request to `state` instead of the network.

    A call that outlives `read_timeout` raises `TimedOut` in the bot while the fake still completes
    it, just as a real request can reach Telegram after the client gave up.
    """

    __slots__ = ("_read_timeout", "initialized", "requests", "state")

    def __init__(self, state: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        self.state = state
        self._read_timeout = read_timeout
        self.initialized = False
        self.requests = 0

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self.initialized = True

    async def shutdown(self) -> None:
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer a Bot API call or a file download from the fake."""
        self.requests += 1
        if FILE_MARKER in url:
            return self._download(url)
        token, api_method = split_api_url(url)
        params = dict(request_data.json_parameters) if request_data else {}
        files = upload_files(request_data) if request_data and request_data.contains_files else None
        limit = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        status, body = await self._answer(api_method, params, files, token, limit)
        return status, json.dumps(body).encode()

    async def _answer(
        self,
        method: str,
        params: dict[str, Any],
        files: UploadedFiles | None,
        token: str,
        limit: float | None,
    ) -> tuple[int, dict[str, Any]]:
        # The guard looks at the caller's task (e.g. whether it holds a database transaction), so it
        # runs here, before the answer is computed in a task of its own.
        self.state.guard(method)
        call = self.state.handle(method, params, files, token=token, guarded=True)
        if limit is None:
            return await call
        if method.lower() == "getupdates":
            # Cancelling a long poll must really cancel it, or it would keep consuming updates.
            try:
                return await asyncio.wait_for(call, limit)
            except TimeoutError as exc:
                raise TimedOut from exc
        task = asyncio.ensure_future(call)
        try:
            return await asyncio.wait_for(asyncio.shield(task), limit)
        except TimeoutError as exc:
            raise TimedOut from exc

    def _download(self, url: str) -> tuple[int, bytes]:
        path = unquote(urlsplit(url).path.split(FILE_MARKER, 1)[1].split("/", 1)[-1])
        stored = self.state.file_by_path(path)
        if stored is None:
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        return 200, stored.data()


def split_api_url(url: str) -> tuple[str, str]:
    """`https://host/bot<token>/<method>` → (token, method)."""
    path = urlsplit(url).path
    prefix, _, method = path.rpartition("/")
    token = prefix.rpartition("/bot")[2]
    return unquote(token), method


def upload_files(request_data: RequestData) -> UploadedFiles:
    """The multipart parts of a request as (file name, bytes, MIME type)."""
    files: UploadedFiles = {}
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        files[name] = (file_name or name, _read(content), mime_type or "application/octet-stream")
    return files


def _read(content: bytes | IO[bytes]) -> bytes:
    return content if isinstance(content, bytes) else content.read()
