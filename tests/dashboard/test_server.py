"""The dashboard is served by the bot's own process: `python -m bot run` in polling mode listens on
WEB_PORT and stops cleanly on SIGTERM; in webhook mode the webhook's server carries it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.context import BotApplication
from bot.webhook import BotServer
from fakeapi.server import FakeBotAPIServer
from fakeapi.state import FakeTelegram
from tests.conftest import TOKEN

ROOT = str(Path(__file__).resolve().parents[2])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_the_polling_process_serves_the_dashboard_and_stops_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    async with FakeBotAPIServer(FakeTelegram()) as api:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": ROOT,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_API_FILE_URL": api.base_file_url,
            "DATABASE_URL": database_url,
            "WEB_PORT": str(port),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            status = await _wait_for(f"http://127.0.0.1:{port}/login/not-a-link")
            assert status == 401  # the dashboard answers (and refuses a made-up link)
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
            _out, err = await process.communicate()
            log = err.decode()
            assert code == 0, log
            assert f"dashboard at http://127.0.0.1:{port}/" in log
            assert "Traceback" not in log
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _wait_for(url: str, timeout: float = 60.0) -> int:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    return response.status
            except aiohttp.ClientConnectionError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def test_the_webhook_server_carries_the_dashboard(app: BotApplication, settings: Settings) -> None:
    webhook = settings.model_copy(
        update={
            "webhook_url": "https://bot.example.ir/telegram",
            "webhook_secret": "s3cret-token-for-tests_123",
            "webhook_port": 0,
        }
    )
    server = BotServer(app, webhook)
    await server.start(register=False)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}/app") as response:
                assert response.status == 200 and 'dir="rtl"' in await response.text()
            async with http.get(f"http://127.0.0.1:{server.port}/static/style.css") as response:
                assert response.status == 200
            async with http.post(f"http://127.0.0.1:{server.port}/telegram", json={}) as response:
                assert response.status == 403  # the webhook is there too, with its secret
    finally:
        await server.stop()
