"""Broadcasts on the web: the latest within the staff member's scope, and one broadcast's delivery
report, refreshing itself while it is sent, with pause, resume and cancel (the chat's own services;
the broadcast row is where they are recorded, as in the chat)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import broadcasts as control
from bot.services.broadcasts import PAUSED, PENDING, RUNNING, Status
from bot.services.errors import DomainError, NotFound
from bot.services.staff import StaffScope
from bot.views.broadcasts import KIND, STATUS, time_left
from bot.web.pages import Staff, back_to, data, gettext, reading, refuse, render, staff_page, writing

REFRESH_SECONDS = 5
Operation = Callable[[AsyncSession, StaffScope, int], Awaitable[Status]]


@staff_page
async def broadcasts(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /broadcasts."""
    async with reading(request) as session:
        rows = await control.recent(session, staff.scope, limit=30)
    return render(request, "broadcasts.html", staff=staff, rows=rows, kinds=KIND, statuses=STATUS)


@staff_page
async def broadcast(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /broadcasts/<id>: the report (the page reloads itself while the broadcast goes on)."""
    _ = gettext(request)
    try:
        async with reading(request) as session:
            shown = await control.show(session, staff.scope, int(request.match_info["id"]))
    except NotFound:
        return refuse(request, 404, _("That broadcast was not found."), staff=staff)
    report = shown.report
    going = report.status in (PENDING, RUNNING)
    waits = shown.broadcast.not_before is not None and shown.broadcast.not_before > datetime.now(UTC)
    rate = max(float(getattr(data(request).delivery, "rate", 30.0)), 0.1)
    return render(
        request,
        "broadcast.html",
        staff=staff,
        shown=shown,
        report=report,
        kinds=KIND,
        statuses=STATUS,
        refresh=REFRESH_SECONDS if going else None,
        left=time_left(_, int(report.remaining / rate) + 1)
        if going and report.remaining and not waits
        else None,
        may_pause=report.status in (PENDING, RUNNING),
        may_resume=report.status == PAUSED,
        may_cancel=report.status in (PENDING, RUNNING, PAUSED),
        note=request.query.get("note", ""),
    )


def _operation(operate: Operation, note: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @staff_page
    async def operation(request: web.Request, staff: Staff) -> web.StreamResponse:
        broadcast_id = int(request.match_info["id"])
        here = f"/broadcasts/{broadcast_id}"
        try:
            async with writing(request) as session:
                await operate(session, staff.scope, broadcast_id)
        except NotFound:
            return refuse(request, 404, gettext(request)("That broadcast was not found."), staff=staff)
        except DomainError:
            return back_to(here, note="not_now")
        data(request).delivery.wake()  # resumed: at once; paused or cancelled: it looks again
        return back_to(here, note=note)

    return operation


def routes(app: web.Application) -> None:
    app.router.add_get("/broadcasts", broadcasts)
    app.router.add_get(r"/broadcasts/{id:\d{1,9}}", broadcast)
    app.router.add_post(r"/broadcasts/{id:\d{1,9}}/pause", _operation(control.pause, "paused"))
    app.router.add_post(r"/broadcasts/{id:\d{1,9}}/resume", _operation(control.resume, "resumed"))
    app.router.add_post(r"/broadcasts/{id:\d{1,9}}/cancel", _operation(control.cancel, "cancelled"))
