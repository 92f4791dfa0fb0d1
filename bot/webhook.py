"""The bot's one HTTP server (aiohttp, in the bot's own process): the staff dashboard (bot/web) and
/healthz always; in webhook mode also the updates the Bot API posts, on WEBHOOK_LISTEN:WEBHOOK_PORT;
in polling mode it listens on WEB_LISTEN:WEB_PORT for the dashboard (WEB_PORT=0: not at all).

The Bot API sends the secret given to setWebhook in the `X-Telegram-Bot-Api-Secret-Token` header;
a request without the right secret is refused with 403 and never reaches the handlers.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import text
from telegram import Update

from bot.config import Settings
from bot.context import BotApplication

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024


def webhook_path(settings: Settings) -> str:
    """The path the Bot API posts to: the path of WEBHOOK_URL, or /telegram."""
    return urlsplit(settings.webhook_url).path or "/telegram"


class BotServer:
    """Serves the dashboard, GET /healthz and, in webhook mode, POST <path> (updates)."""

    def __init__(self, application: BotApplication, settings: Settings) -> None:
        self.application = application
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.webhook = bool(settings.webhook_url)

    def make_app(self) -> web.Application:
        """The aiohttp application (also used directly by tests)."""
        from bot import web as dashboard

        app = web.Application(client_max_size=MAX_BODY)
        if self.webhook:
            app.router.add_post(webhook_path(self.settings), self.receive)
        app.router.add_get("/healthz", self.healthz)
        dashboard.install(app, self.application)
        return app

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens: the webhook's address, or in polling mode the dashboard's."""
        if self.webhook:
            return self.settings.webhook_listen, self.settings.webhook_port
        return self.settings.web_listen, self.settings.web_port

    async def start(self, *, register: bool = True) -> None:
        """Listen; in webhook mode then tell the Bot API where to post (with the secret)."""
        host, port = self.address
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else port
        if self.webhook and register:
            await self.application.bot.set_webhook(
                url=self.settings.webhook_url,
                secret_token=self.settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        if self.webhook:
            log.info("webhook listening on %s:%s%s", host, self.port, webhook_path(self.settings))
        log.info("dashboard at %s/ (listening on %s:%s)", self.settings.public_url, host, self.port)

    async def stop(self) -> None:
        """Stop listening (the webhook stays registered for the standby that takes over)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def receive(self, request: web.Request) -> web.Response:
        """One update from the Bot API."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.settings.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data: Any = await request.json()
            update = Update.de_json(data, self.application.bot)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError):
            return web.Response(status=400, text="bad update")
        if update is None:
            return web.Response(status=400, text="bad update")
        # Stored before the 200: a crash after answering cannot lose it (a redelivery is stored once).
        for fresh in await self.application.bot_data.inbox.store([update]):
            await self.application.update_queue.put(fresh)
        return web.Response(text="ok")

    async def healthz(self, _request: web.Request) -> web.Response:
        """Database reachable and the time of the last handled update."""
        processor = self.application.update_processor
        last = getattr(processor, "last_update_at", None)
        body: dict[str, Any] = {
            "status": "ok",
            "platform": self.settings.platform,
            "last_update": datetime.fromtimestamp(last, UTC).isoformat() if last else None,
        }
        try:
            async with asyncio.timeout(3), self.application.bot_data.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            body["database"] = "ok"
            async with asyncio.timeout(3):
                figures = await self.application.bot_data.inbox.figures()
            oldest = figures.oldest_unhandled
            body["inbox"] = {
                "size": figures.size,
                "unanswered": figures.unhandled,
                "oldest_unanswered_seconds": round((datetime.now(UTC) - oldest).total_seconds(), 1)
                if oldest
                else None,
                "parked": figures.parked,
            }
        except Exception as exc:  # any failure is "unhealthy", with its kind for the operator
            body.update(status="error", database=type(exc).__name__)
            return web.json_response(body, status=503)
        return web.json_response(body)
