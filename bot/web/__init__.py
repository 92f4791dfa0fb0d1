"""The staff dashboard on the web: server-rendered Persian pages served by the bot's own aiohttp
server (bot/webhook.py), a peer of the chat's handlers over the same services and staff scopes.

`install(app, application)` adds the dashboard to an aiohttp application: the ways in (signin), the
pages per area (overview, review, members, courses, broadcasts, council), the templates and the one
stylesheet, and the security headers every response carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.context import BotApplication
from bot.web import broadcasts, council, courses, members, overview, review, signin
from bot.web.pages import APPLICATION, HERE, TEMPLATES, environment

# Scripts and styles only from the dashboard itself; Telegram's web clients may frame the Mini App.
CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; font-src 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'self' https://web.telegram.org"
)


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer: no sniffing, no referrer (a login link never leaks), a strict content policy."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # aiohttp's own answers (404 of an unknown address …)
        _protect(exc)
        raise
    _protect(response)
    return response


def _protect(response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")


def install(app: web.Application, application: BotApplication) -> None:
    """Add the dashboard's routes, templates and static files to `app`."""
    data = application.bot_data
    app[APPLICATION] = application
    app[TEMPLATES] = environment(data.translations.gettext, data.settings.timezone)
    app.middlewares.append(security_headers)
    for area in (signin, overview, review, members, courses, broadcasts, council):
        area.routes(app)
    app.router.add_static("/static", HERE / "static")
