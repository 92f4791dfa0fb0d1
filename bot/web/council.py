"""Dialogue council issues on the web, by status: received, under review, on the agenda, answered,
merged (chamber staff see every one, association staff their associations')."""

from __future__ import annotations

from aiohttp import web

from bot.services import council
from bot.services.applications import association_names
from bot.services.council import ANSWERED, MERGED, ON_AGENDA, RECEIVED, UNDER_REVIEW
from bot.views import council as view
from bot.web.pages import Staff, gettext, reading, render, staff_page

TABS = (RECEIVED, UNDER_REVIEW, ON_AGENDA, ANSWERED, MERGED)


@staff_page
async def issues(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /council?status=…"""
    _ = gettext(request)
    status = request.query.get("status", RECEIVED)
    status = status if status in TABS else RECEIVED
    async with reading(request) as session:
        rows, counts = await council.by_status(session, staff.scope, status)
        names = await association_names(session)
    return render(
        request,
        "council.html",
        staff=staff,
        rows=rows,
        counts=counts,
        status=status,
        tabs=[(tab, view.status_label(_, tab)) for tab in TABS],
        topic=lambda issue: view.topic_label(_, issue.topic),
        names=names,
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/council", issues)
