"""The overview: the figures of /stats within the staff member's scope, and two charts (members by
association, applications by status) drawn with matplotlib."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.services import stats
from bot.views import membership as view
from bot.views.broadcasts import STATUS as BROADCAST_STATUS
from bot.web import charts
from bot.web.pages import Staff, gettext, reading, render, staff_page


def _limit(staff: Staff) -> frozenset[int] | None:
    return None if staff.scope.covers(None) else staff.scope.association_ids


@staff_page
async def overview(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /."""
    async with reading(request) as session:
        figures = await stats.collect(session, _limit(staff))
        by_status = await stats.applications_by_status(session, _limit(staff))
    return render(
        request,
        "overview.html",
        staff=staff,
        figures=figures,
        by_status=by_status,
        chamber_wide=staff.scope.covers(None),
        broadcast_words=BROADCAST_STATUS,
        status_words=view.STATUS,
    )


@staff_page
async def chart(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /charts/<members|applications>.png."""
    _ = gettext(request)
    async with reading(request) as session:
        if request.match_info["which"] == "members":
            figures = await stats.collect(session, _limit(staff))
            pairs = figures.members_by_association[:15]
            title = _("Members by association")
        else:
            counts = await stats.applications_by_status(session, _limit(staff))
            pairs = [(_(view.STATUS[s]), counts[s]) for s in view.STATUS if counts.get(s)]
            title = _("Applications by status")
    labels, values = [name for name, _n in pairs], [n for _name, n in pairs]
    # Drawing takes a while: off the event loop, so the bot keeps answering meanwhile.
    png = await asyncio.to_thread(charts.bars, title, labels, values, empty=_("Nothing yet."))
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"})


def routes(app: web.Application) -> None:
    app.router.add_get("/", overview)
    app.router.add_get("/charts/{which:members|applications}.png", chart)
