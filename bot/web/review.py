"""The review queue and one application on the web: filters (association, status, age), the answers,
the documents (fetched from the Bot API with getFile and passed through), the history, and the same
decisions as in the chat — the same `decisions.decide`, first decision wins, the applicant told
through the outbox with the chat's own words."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy
from telegram.error import TelegramError

from bot.i18n import Gettext
from bot.services import application_exports, decisions, review_queue
from bot.services.applications import APPROVED, FIELDS, MORE_INFO, REJECTED, AlreadyDecided
from bot.services.errors import InvalidAnswer, NotAllowed, NotFound
from bot.views import decisions as told
from bot.views import membership as view
from bot.web.pages import (
    APPLICATION,
    Staff,
    back_to,
    data,
    gettext,
    number,
    reading,
    refuse,
    render,
    staff_page,
    writing,
)

log = logging.getLogger(__name__)
PAGE = 20
AGES = (0, 3, 7, 14, 30)
ASKABLE = tuple(f for f in FIELDS if f != "applicant_type")
# Documents are shown in the browser only as what they claim to be, and only these kinds.
INLINE_TYPES = {"image/jpeg", "image/png", "application/pdf"}


def _not_yours(request: web.Request, staff: Staff, exc: Exception) -> web.Response:
    _ = gettext(request)
    if isinstance(exc, NotAllowed):
        return refuse(request, 403, _("This application is not one of your associations'."), staff=staff)
    return refuse(request, 404, _("This application was not found."), staff=staff)


@staff_page
async def queue(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /applications: the queue, oldest first, with its filters."""
    query = request.query
    status = query.get("status", "submitted")
    filters = review_queue.Filters(
        association_id=number(query, "association") or None,
        status=status if status in review_queue.QUEUE_STATUSES else "",
        older_than=number(query, "age") if number(query, "age") in AGES else 0,
    )
    offset = number(query, "offset")
    async with reading(request) as session:
        covered = await application_exports.covered_associations(session, staff.scope)
        page = await review_queue.search(session, staff.scope, filters, offset=offset, limit=PAGE)
    names = {a.id: a.name for a in covered}
    return render(
        request,
        "queue.html",
        staff=staff,
        page=page,
        filters=filters,
        associations=covered,
        names=names,
        statuses=review_queue.QUEUE_STATUSES,
        ages=AGES,
        size=PAGE,
        status_text=lambda a: view.status_text(gettext(request), a),
        status_words=view.STATUS,
    )


@staff_page
async def application(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /applications/<id>: answers, documents, history and the decisions."""
    _ = gettext(request)
    application_id = int(request.match_info["id"])
    try:
        async with reading(request) as session:
            found = await review_queue.dossier(session, staff.scope, application_id)
    except (NotFound, NotAllowed) as exc:
        return _not_yours(request, staff, exc)
    app = found.application
    answers = [
        (_(view.LABELS[f]), view.value_text(_, app, f, len(found.documents)))
        for f in FIELDS
        if view.applies(app, f)
    ]
    return render(
        request,
        "application.html",
        staff=staff,
        found=found,
        app=app,
        answers=answers,
        status=view.status_text(_, app),
        events=[Markup(view.event_line(_, event)) for event in found.events],
        askable=[(f, _(view.LABELS[f])) for f in ASKABLE],
        reject_templates=[_(t) for t in view.REJECT_TEMPLATES],
        info_templates=[_(t) for t in view.INFO_TEMPLATES],
        note=request.query.get("note", ""),
        error=request.query.get("error", ""),
    )


def _reason(form: MultiDictProxy[Any], templates: tuple[str, ...], _: Gettext) -> str:
    """The reason typed, else the template picked (in Persian, as the applicant will read it)."""
    typed = str(form.get("reason", "")).strip()
    if typed:
        return decisions.clean_reason(typed)
    picked = str(form.get("template", ""))
    if picked.isdecimal() and int(picked) < len(templates):
        return _(templates[int(picked)])
    raise InvalidAnswer("no_reason")


async def _decide(request: web.Request, staff: Staff, decision: str) -> web.StreamResponse:
    _ = gettext(request)
    application_id = int(request.match_info["id"])
    here = f"/applications/{application_id}"
    form = await request.post()
    try:
        reason = None
        fields: list[str] = []
        if decision == REJECTED:
            reason = _reason(form, view.REJECT_TEMPLATES, _)
        elif decision == MORE_INFO:
            fields = [str(f) for f in form.getall("fields", []) if f in ASKABLE]
            if not fields:
                raise InvalidAnswer("no_fields")
            reason = _reason(form, view.INFO_TEMPLATES, _)
        async with writing(request) as session:
            bot_data = data(request)
            decided = await decisions.decide(
                session, staff.scope, application_id, decision, reason, fields, now=bot_data.clock()
            )
            await told.tell(session, _, decided, bot_data.settings.document_key)
    except AlreadyDecided:
        return back_to(here, note="already")
    except InvalidAnswer as exc:
        return back_to(here, error=exc.reason, decision=decision)
    except (NotFound, NotAllowed) as exc:
        return _not_yours(request, staff, exc)
    log.info("dashboard: user %s decided application %s: %s", staff.user_id, application_id, decision)
    return back_to(here, note=decision)


@staff_page
async def approve(request: web.Request, staff: Staff) -> web.StreamResponse:
    return await _decide(request, staff, APPROVED)


@staff_page
async def reject(request: web.Request, staff: Staff) -> web.StreamResponse:
    return await _decide(request, staff, REJECTED)


@staff_page
async def ask_more(request: web.Request, staff: Staff) -> web.StreamResponse:
    return await _decide(request, staff, MORE_INFO)


@staff_page
async def document(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /applications/<id>/documents/<doc>: the file, fetched from the Bot API (getFile)."""
    _ = gettext(request)
    application_id, document_id = int(request.match_info["id"]), int(request.match_info["doc"])
    try:
        async with reading(request) as session:
            found = await review_queue.document(session, staff.scope, application_id, document_id)
    except (NotFound, NotAllowed) as exc:
        return _not_yours(request, staff, exc)
    try:
        file = await request.app[APPLICATION].bot.get_file(found.file_id)
        content = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("dashboard: document %s could not be fetched: %s", document_id, exc)
        return refuse(
            request, 502, _("The file could not be fetched from Telegram. Please try again."), staff=staff
        )
    kind = "image/jpeg" if found.kind == "photo" else (found.mime or "")
    inline = kind in INLINE_TYPES
    return web.Response(
        body=content,
        content_type=kind if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="document-{document_id}"',
            "Cache-Control": "private, max-age=300",
        },
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/applications", queue)
    app.router.add_get(r"/applications/{id:\d{1,9}}", application)
    app.router.add_post(r"/applications/{id:\d{1,9}}/approve", approve)
    app.router.add_post(r"/applications/{id:\d{1,9}}/reject", reject)
    app.router.add_post(r"/applications/{id:\d{1,9}}/more", ask_more)
    app.router.add_get(r"/applications/{id:\d{1,9}}/documents/{doc:\d{1,9}}", document)
