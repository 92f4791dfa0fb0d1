"""Feedback after a course: an attendee's 1–5 rating (a button), then an optional comment (a
one-question form whose draft is the registration just rated).

The comment is the question being answered while the row has a rating and no comment yet, so the
form's resume point is read from the row itself; «No comment» stores an empty comment. Rating again
later changes the rating and keeps the comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.actor import Actor
from bot.services.courses import registration_of, words
from bot.services.drafts import DraftStore
from bot.services.errors import InvalidAnswer, NotAllowed
from db.models import Registration

RATINGS = range(1, 6)


async def may_rate(session: AsyncSession, course_id: int, user_id: int) -> bool:
    """Whether the user attended the course (only they are asked, and only they may answer)."""
    registration = await registration_of(session, course_id, user_id)
    return registration is not None and registration.attended


async def save_rating(session: AsyncSession, course_id: int, user_id: int, rating: int) -> Registration:
    """An attendee's 1–5 rating (changing it is allowed)."""
    if rating not in RATINGS:
        raise InvalidAnswer("rating")
    registration = await registration_of(session, course_id, user_id)
    if registration is None or not registration.attended:
        raise NotAllowed("not_attended")
    registration.rating = rating
    await session.flush()
    return registration


def clean_comment(raw: str) -> str:
    """A comment of a few words, at most 1,000 letters."""
    return words(raw, 2, 1000)


class CommentStore(DraftStore[Registration]):
    """The registration whose rating was given last: its comment is asked for until answered."""

    async def current(self, session: AsyncSession, actor: Actor) -> Registration | None:
        return await session.scalar(
            select(Registration)
            .where(
                Registration.user_id == actor.user_id,
                Registration.attended.is_(True),
                Registration.rating.is_not(None),
            )
            .order_by(Registration.updated_at.desc(), Registration.id.desc())
            .limit(1)
        )

    async def save(
        self, session: AsyncSession, draft: Registration, field: str, value: object, actor: Actor
    ) -> None:
        """The first answer stays (an old «No comment» button does not erase a comment)."""
        if field == "comment" and draft.comment is None:
            draft.comment = str(value)

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> Registration:
        """`target`: course_id and the rating pressed."""
        return await save_rating(session, int(target["course_id"]), actor.user_id, int(target["rating"]))

    def field_of(self, draft: Registration) -> str | None:
        return "comment" if draft.rating is not None and draft.comment is None else None

    def set_field(self, draft: Registration, field: str | None) -> None:
        """Nothing to write: the question being answered follows from the row (see field_of)."""


COMMENTS = CommentStore()


async def submit(session: AsyncSession, draft: Registration, actor: Actor) -> Registration:
    """The comment (or «No comment») is already saved; the feedback is complete."""
    return draft
