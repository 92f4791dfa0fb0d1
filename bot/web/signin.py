"""The ways into the dashboard, both for staff only: a login link from the chat (GET shows a page with
one button, so a link previewer fetching it cannot use it up; the POST uses it, once), and the Mini
App (`/app` reads the init data Telegram puts in the address's fragment and posts it to
`/auth/telegram`, which verifies it). Both set an HttpOnly, SameSite=Strict session cookie. Logout
ends the session."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.services import web_access
from bot.services.errors import NotAllowed
from bot.services.web_access import Opened, SignInRefused
from bot.web.pages import (
    COOKIE,
    Staff,
    data,
    gettext,
    reading,
    refuse,
    render,
    see_other,
    staff_page,
    writing,
)

log = logging.getLogger(__name__)


def _refusal(request: web.Request, exc: Exception) -> web.Response:
    _ = gettext(request)
    if isinstance(exc, NotAllowed):
        return refuse(request, 403, _("Sorry, this is only for the chamber's staff."))
    reason = getattr(exc, "reason", "")
    message = {
        "used": _("This login link was already used. Send /dashboard to the bot for a new one."),
        "expired": _("This login link has expired. Send /dashboard to the bot for a new one."),
    }.get(reason, _("This login link is not valid. Send /dashboard to the bot for a new one."))
    return refuse(request, 401, message)


def _signed_in(request: web.Request, opened: Opened, to: str = "/") -> web.StreamResponse:
    response = see_other(to)
    response.set_cookie(
        COOKIE,
        opened.token,
        max_age=int(web_access.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=data(request).settings.public_url.startswith("https://"),
    )
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    """GET /login/<token>: a page with one button (the link is used only by the POST)."""
    token = request.match_info["token"]
    try:
        async with reading(request) as session:
            await web_access.check_link(session, token)
    except SignInRefused as exc:
        return _refusal(request, exc)
    return render(request, "login.html", token=token)


async def login(request: web.Request) -> web.StreamResponse:
    """POST /login/<token>: use the link (once) and open a session."""
    token = request.match_info["token"]
    try:
        async with writing(request) as session:
            opened = await web_access.redeem_link(session, token, data(request).settings.admin_ids)
    except (SignInRefused, NotAllowed) as exc:
        return _refusal(request, exc)
    log.info("dashboard: user %s signed in with a login link", opened.user_id)
    return _signed_in(request, opened)


async def mini_app(request: web.Request) -> web.StreamResponse:
    """GET /app: the Mini App's address; its script sends Telegram's init data to /auth/telegram."""
    return render(request, "app.html")


async def telegram_auth(request: web.Request) -> web.StreamResponse:
    """POST /auth/telegram (init_data): verified as Telegram's documentation says, used once."""
    _ = gettext(request)
    settings = data(request).settings
    form = await request.post()
    try:
        user = web_access.verify_init_data(str(form.get("init_data", "")), settings.telegram_bot_token)
        async with writing(request) as session:
            opened = await web_access.redeem_init_data(session, user, settings.admin_ids)
    except NotAllowed:
        return refuse(request, 403, _("Sorry, this is only for the chamber's staff."))
    except SignInRefused:
        return refuse(
            request, 401, _("Telegram's sign-in could not be verified. Please open the dashboard again.")
        )
    log.info("dashboard: user %s signed in from the Mini App", opened.user_id)
    return _signed_in(request, opened)


@staff_page
async def logout(request: web.Request, staff: Staff) -> web.StreamResponse:
    """POST /logout: end this browser's session."""
    async with writing(request) as session:
        await web_access.sign_out(session, request.cookies.get(COOKIE, ""))
    response = render(request, "refused.html", message=gettext(request)("You have signed out."))
    response.del_cookie(COOKIE, path="/")
    return response


def routes(app: web.Application) -> None:
    app.router.add_get("/login/{token}", login_page)
    app.router.add_post("/login/{token}", login)
    app.router.add_get("/app", mini_app)
    app.router.add_post("/auth/telegram", telegram_auth)
    app.router.add_post("/logout", logout)
