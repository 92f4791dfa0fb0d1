"""Members on the web: search, association and status filters, what each membership holds (the term
and dues of issue #15 go in the column the page keeps for them), and the export the chat's /export
makes (members and applications as CSV files)."""

from __future__ import annotations

from aiohttp import web

from bot.services import application_exports as exports
from bot.services import member_directory
from bot.services.errors import NotAllowed, NotFound
from bot.views import exports as sheets
from bot.web.pages import Staff, gettext, number, reading, refuse, render, staff_page

PAGE = 25


@staff_page
async def members(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /members."""
    query = request.query
    status = query.get("status", "")
    association_id = number(query, "association") or None
    text = query.get("q", "")[:100]
    async with reading(request) as session:
        covered = await exports.covered_associations(session, staff.scope)
        page = await member_directory.search(
            session,
            staff.scope,
            association_id=association_id,
            text=text,
            status=status if status in member_directory.STATUSES else "",
            offset=number(query, "offset"),
            limit=PAGE,
        )
    return render(
        request,
        "members.html",
        staff=staff,
        page=page,
        associations=covered,
        association_id=association_id,
        text=text,
        status=status,
        statuses=member_directory.STATUSES,
        size=PAGE,
        terms=any(row.term is not None for row in page.items),
    )


@staff_page
async def export(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /members/export/<association>/<members|applications>.csv: the chat's /export files."""
    _ = gettext(request)
    association_id, which = int(request.match_info["association"]), request.match_info["which"]
    try:
        async with reading(request) as session:
            found = await exports.export(session, staff.scope, association_id)
    except NotAllowed:
        return refuse(request, 403, _("This association is not one of yours."), staff=staff)
    except NotFound:
        return refuse(request, 404, _("There is no association with that number."), staff=staff)
    body = sheets.member_sheet(_, found) if which == "members" else sheets.application_sheet(_, found)
    return web.Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{which}-{association_id}.csv"'},
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/members", members)
    app.router.add_get(r"/members/export/{association:\d{1,9}}/{which:members|applications}.csv", export)
