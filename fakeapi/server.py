"""`FakeBotAPIServer`: the FakeTelegram behind real HTTP on 127.0.0.1, for bots running in a subprocess.

Speaks the Bot API URL shapes `/bot<token>/<method>` (GET or POST with JSON, form or multipart) and
`/file/bot<token>/<path>`; point PTB at it with `.base_url(server.base_url)` and
`.base_file_url(server.base_file_url)` (or `TELEGRAM_API_BASE_URL`).
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from fakeapi.state import FakeTelegram
from fakeapi.wire import UploadedFiles


class FakeBotAPIServer:
    """An aiohttp server in the current event loop answering from `state`."""

    def __init__(self, state: FakeTelegram, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host = host
        self.port = port
        self.base_url = ""
        self.base_file_url = ""
        self.tokens_seen: set[str] = set()
        self.requests = 0
        self._runner: web.AppRunner | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (port 0 picks a free one) and fill in `base_url` and `base_file_url`."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        # A client that disconnects (bot stopped or killed) cancels its long poll, as it ends on Telegram.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = _bound_port(self._runner, self.port)
        self.base_url = f"{self.root_url}/bot"
        self.base_file_url = f"{self.root_url}/file/bot"

    async def stop(self) -> None:
        """Release any waiting long poll, then close the server."""
        self.state.release_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPIServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        self.tokens_seen.add(token)
        self.requests += 1
        params, files = await read_request(request)
        method = request.match_info["method"]
        answer = asyncio.ensure_future(self.state.handle(method, params, files, token=token))
        if method.lower() == "getupdates":
            status, body = await answer
        else:
            # Like Telegram, a request that arrived is carried out even if the client hangs up.
            status, body = await asyncio.shield(answer)
        return web.json_response(body, status=status, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.Response:
        self.tokens_seen.add(request.match_info["token"])
        stored = self.state.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data(), content_type=stored.mime_type or "application/octet-stream")


async def read_request(request: web.Request) -> tuple[dict[str, Any], UploadedFiles | None]:
    """Parameters from the query string and the body (JSON, urlencoded or multipart), plus uploads."""
    params: dict[str, Any] = dict(request.query)
    files: UploadedFiles = {}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.method == "POST" and request.can_read_body:
        _merge_form(await request.post(), params, files)
    return params, files or None


def _merge_form(
    form: MultiMapping[str | bytes | bytearray | web.FileField], params: dict[str, Any], files: UploadedFiles
) -> None:
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = (value.filename, value.file.read(), value.content_type)
        elif isinstance(value, bytes | bytearray):
            params[key] = bytes(value).decode()
        else:
            params[key] = value


def _bound_port(runner: web.AppRunner, fallback: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return fallback


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
