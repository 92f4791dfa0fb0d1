"""Webhook mode over real HTTP on 127.0.0.1: the secret is checked, /healthz reports."""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.context import BotApplication
from bot.webhook import SECRET_HEADER, BotServer
from fakeapi.simulator import UserUpdates
from fakeapi.state import FakeTelegram

SECRET = "s3cret-token-for-tests_123"


async def test_right_secret_is_handled_wrong_secret_is_refused(
    app: BotApplication, api: FakeTelegram, settings: Settings
) -> None:
    webhook_settings = settings.model_copy(
        update={"webhook_url": "https://bot.example.ir/telegram", "webhook_secret": SECRET, "webhook_port": 0}
    )
    server = BotServer(app, webhook_settings)
    await app.start()
    await server.start()
    try:
        assert api.calls_to("setWebhook")[-1].params["secret_token"] == SECRET
        base = f"http://127.0.0.1:{server.port}"
        user = UserUpdates(api, 6001, first_name="حسین")
        async with aiohttp.ClientSession() as http:
            forged = user.command_update("/start")
            async with http.post(
                f"{base}/telegram", json=forged, headers={SECRET_HEADER: "wrong"}
            ) as response:
                assert response.status == 403
            async with http.post(f"{base}/telegram", json=forged) as response:
                assert response.status == 403
            async with http.post(
                f"{base}/telegram", data=b"not json", headers={SECRET_HEADER: SECRET}
            ) as response:
                assert response.status == 400
            assert api.sent_to(6001) == []

            async with http.get(f"{base}/healthz") as response:
                body = await response.json()
                assert response.status == 200 and body["database"] == "ok" and body["last_update"] is None

            real = user.command_update("/start")
            async with http.post(f"{base}/telegram", json=real, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            await api.wait_until(lambda: bool(api.sent_to(6001)), 10)
            assert "سلام حسین" in api.sent_to(6001)[-1].content

            async with http.get(f"{base}/healthz") as response:
                body = await response.json()
                assert response.status == 200 and body["last_update"] is not None
    finally:
        await server.stop()
        await app.stop()


async def test_healthz_reports_a_broken_database(app: BotApplication, settings: Settings) -> None:
    webhook_settings = settings.model_copy(update={"webhook_url": "https://x.ir/t", "webhook_secret": SECRET})
    server = BotServer(app, webhook_settings)
    await app.bot_data.engine.dispose()
    app.bot_data.engine.sync_engine.pool._creator = _refuse  # type: ignore[attr-defined]
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(server.make_app())) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["status"] == "error"


def _refuse(*_args: object) -> None:
    raise ConnectionRefusedError("database is down")
