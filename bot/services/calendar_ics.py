"""An RFC 5545 calendar file (.ics) for one course, so people can add it to their phone's calendar.

The `icalendar` library does the parts that are easy to get wrong: CRLF line endings, folding at
75 octets (never inside a UTF-8 character) and escaping of commas, semicolons and newlines.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from db.models import Course

PRODID = "-//Tashakkol//Chamber trade associations bot//FA"
UID_DOMAIN = "tashakkol.bot"


def course_ics(course: Course, *, description: str = "", now: datetime | None = None) -> bytes:
    """The .ics bytes for a course (times in UTC, so every calendar shows them in its own zone)."""
    if course.starts_at is None or course.ends_at is None:
        raise ValueError("a course without dates has no calendar entry")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"course-{course.id}@{UID_DOMAIN}")
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0))
    event.add("dtstart", course.starts_at.astimezone(UTC))
    event.add("dtend", course.ends_at.astimezone(UTC))
    event.add("summary", course.title)
    if course.place:
        event.add("location", course.place)
    if course.online_url:
        event.add("location", course.online_url)
        event.add("url", course.online_url)
    if description:
        event.add("description", description)
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
