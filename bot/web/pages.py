"""What every dashboard page shares: the bot's application behind a request, the signed-in staff
member (checked first by `@staff_page`: session, staff scope, CSRF token on every POST), units of
work like the chat's (one write transaction per action, reads on the reader), and rendering with
Jinja2 (autoescaped; Persian digits and solar dates from the same helpers as the chat)."""

from __future__ import annotations

import functools
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import BotApplication, BotData, unit_of_work
from bot.formatting import fa_digits, fa_number, isolate_ltr, jalali_date, jalali_datetime, show_mobile
from bot.i18n import Gettext
from bot.services import web_access
from bot.services.staff import StaffScope, scope_of

APPLICATION = web.AppKey("application", BotApplication)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
COOKIE = "tashakkol_dashboard"
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member of one request: who, what they may see, the form token."""

    user_id: int
    scope: StaffScope
    csrf: str


Handler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]


def data(request: web.Request) -> BotData:
    """The bot's process-wide resources (settings, sessionmaker, reader, translations …)."""
    return request.app[APPLICATION].bot_data


def gettext(request: web.Request) -> Gettext:
    return data(request).translations.gettext


@asynccontextmanager
async def writing(request: web.Request) -> AsyncIterator[AsyncSession]:
    """One action's unit of work: one write transaction through the application's sessionmaker (on
    SQLite it waits its turn like the chat's), messages for others queued in it go out after commit."""
    async with unit_of_work(data(request)) as session:
        yield session


@asynccontextmanager
async def reading(request: web.Request) -> AsyncIterator[AsyncSession]:
    """A read-only session (never takes SQLite's write lock)."""
    async with data(request).reader() as session:
        yield session


# ---------------------------------------------------------------------------------------- rendering


def environment(translations_gettext: Gettext, timezone: str) -> jinja2.Environment:
    """Templates with autoescaping; `_()` translates (the catalog is trusted, values are escaped by
    `.format`, which escapes its arguments on Markup)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = lambda msgid: Markup(translations_gettext(msgid))
    env.filters["fa"] = lambda value: fa_digits(str(value))
    env.filters["number"] = lambda value: fa_number(int(value or 0))
    env.filters["ltr"] = lambda value: isolate_ltr(fa_digits(str(value)))
    env.filters["mobile"] = lambda value: show_mobile(value) if value else "—"
    env.filters["date"] = lambda value: jalali_date(value, timezone) if value else "—"
    env.filters["datetime"] = lambda value: jalali_datetime(value, timezone) if value else "—"
    return env


def render(
    request: web.Request, template: str, *, http_status: int = 200, staff: Staff | None = None, **values: Any
) -> web.Response:
    """A page: the template with the request's path, the staff member and their form token."""
    page = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(staff=staff, path=request.path, query=request.query, **values)
    )
    return web.Response(text=page, status=http_status, content_type="text/html", charset="utf-8")


def refuse(request: web.Request, status: int, message: str, *, staff: Staff | None = None) -> web.Response:
    """A refusal page (401 not signed in, 403 not allowed, 404 not found) saying why in Persian."""
    return render(request, "refused.html", http_status=status, staff=staff, message=message)


def see_other(location: str) -> web.Response:
    """303 See Other: after a POST, the browser fetches `location` with a GET."""
    return web.Response(status=303, headers={"Location": location})


def back_to(path: str, **params: object) -> web.Response:
    """After an action: back to a page (post/redirect/get), with a note key for what happened."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return see_other(f"{path}?{query}" if query else path)


def number(query: Mapping[str, str], key: str, default: int = 0) -> int:
    """A whole number from the query string (anything else: the default)."""
    raw = query.get(key, "")
    return int(raw) if raw.isdecimal() and len(raw) < 10 else default


# ---------------------------------------------------------------------------------------- the guard


def staff_page(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Every dashboard page and action: a live session (401), staff now (403; a person removed from
    staff loses the dashboard at once), and on a POST the session's CSRF token (403)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        _ = gettext(request)
        token = request.cookies.get(COOKIE, "")
        async with reading(request) as session:
            signed = await web_access.signed_in(session, token)
            scope = (
                await scope_of(session, signed.user_id, data(request).settings.admin_ids) if signed else None
            )
        if signed is None or scope is None:
            return refuse(request, 401, _("Please sign in: send /dashboard to the bot for a login link."))
        if not scope.is_staff:
            return refuse(request, 403, _("Sorry, this is only for the chamber's staff."))
        staff = Staff(signed.user_id, scope, signed.csrf)
        if request.method == "POST":
            form = await request.post()
            given = str(form.get("csrf", ""))
            if not given or not hmac.compare_digest(given, signed.csrf):
                return refuse(
                    request, 403, _("This form has expired. Please open the page again."), staff=staff
                )
        return await handler(request, staff)

    guarded.__guard__ = "staff"  # type: ignore[attr-defined]
    return guarded
