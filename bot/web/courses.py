"""Courses on the web: the courses a staff member runs, and each one's roster (with attendance marked
in place, the chat's own `toggle_attendance`), waiting list in its order, and feedback."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import N_
from bot.services import course_admin as admin
from bot.services.courses import REGISTERED, WAITING, CourseUnavailable
from bot.services.errors import NotAllowed, NotFound
from bot.views import course_documents as documents
from bot.web.pages import (
    Staff,
    back_to,
    data,
    gettext,
    reading,
    refuse,
    render,
    see_other,
    staff_page,
    writing,
)

STATUS = {
    "open": N_("Registration open"),
    "closed": N_("Registration closed"),
    "cancelled": N_("Cancelled"),
    "finished": N_("Held"),
}


def _refused(request: web.Request, staff: Staff, exc: Exception) -> web.Response:
    _ = gettext(request)
    if isinstance(exc, NotAllowed):
        return refuse(
            request, 403, _("This course belongs to another association; you cannot manage it."), staff=staff
        )
    return refuse(request, 404, _("This course was not found. It may have been removed."), staff=staff)


@staff_page
async def courses(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /courses."""
    async with reading(request) as session:
        found = await admin.staff_courses(session, staff.scope, limit=100)
        counts = {course.id: await admin.counts(session, course.id) for course in found}
    return render(request, "courses.html", staff=staff, courses=found, counts=counts, status_words=STATUS)


@staff_page
async def course(request: web.Request, staff: Staff) -> web.StreamResponse:
    """GET /courses/<id>: the roster, the waiting list and the feedback."""
    course_id = int(request.match_info["id"])
    try:
        async with reading(request) as session:
            card = await admin.staff_card(session, staff.scope, course_id)
            roster = await admin.participants(session, course_id, REGISTERED)
            waiting = await admin.participants(session, course_id, WAITING)
            feedback = await admin.feedback(session, course_id)
    except (NotFound, NotAllowed) as exc:
        return _refused(request, staff, exc)
    return render(
        request,
        "course.html",
        staff=staff,
        card=card,
        roster=roster,
        waiting=waiting,
        feedback=feedback,
        status_words=STATUS,
        note=request.query.get("note", ""),
    )


@staff_page
async def attendance(request: web.Request, staff: Staff) -> web.StreamResponse:
    """POST /courses/<id>/attendance/<registration>: present, or not (pressed again)."""
    course_id, registration_id = int(request.match_info["id"]), int(request.match_info["registration"])
    here = f"/courses/{course_id}"
    try:
        async with writing(request) as session:
            registration = await admin.toggle_attendance(session, staff.scope, registration_id)
            if registration.course_id != course_id:
                raise NotFound("registration")
            if registration.attended:  # ticked after the course was marked held: its certificate now
                key = data(request).settings.document_key
                await documents.queue_certificates(
                    session, gettext(request), course_id, key, staff.scope.user_id
                )
    except CourseUnavailable:
        return back_to(here, note="unavailable")
    except (NotFound, NotAllowed) as exc:
        return _refused(request, staff, exc)
    return see_other(f"{here}#r{registration_id}")


def routes(app: web.Application) -> None:
    app.router.add_get("/courses", courses)
    app.router.add_get(r"/courses/{id:\d{1,9}}", course)
    app.router.add_post(r"/courses/{id:\d{1,9}}/attendance/{registration:\d{1,9}}", attendance)
