"""DraftStore: where a form keeps its answers, one database row per draft.

Every answer is written to the row the moment it is given, and the row's `form_field` column names
the question being answered, so a restart (even `kill -9`) resumes from the row itself. A store
subclasses this and says how to find and open its draft; the defaults read and write the row's
attributes named like the form's fields. Stores know nothing of Telegram or of how a form is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.actor import Actor

D = TypeVar("D")


@dataclass(frozen=True)
class FileRef:
    """A photo or file someone sent (Telegram's file ids, kept as they are)."""

    file_id: str
    unique_id: str | None
    kind: str  # "photo" or "document"
    mime: str
    size: int | None
    name: str | None = None


class DraftStore(Generic[D]):
    """The answers of one form (override `current`, and `open` where the form is entered with a target)."""

    async def current(self, session: AsyncSession, actor: Actor) -> D | None:
        """The draft the actor is filling in, if any."""
        raise NotImplementedError

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> D:
        """Start a draft (or take up the actor's unfinished one) for `target`; may refuse (DomainError)."""
        raise NotImplementedError

    def value(self, draft: D, field: str) -> object | None:
        """The stored answer of a field (None: not answered)."""
        return getattr(draft, field, None)

    def is_answered(self, draft: D, field: str) -> bool:
        """Whether the field needs no (further) answer."""
        return self.value(draft, field) is not None

    async def save(self, session: AsyncSession, draft: D, field: str, value: object, actor: Actor) -> None:
        """Store one cleaned answer (may raise InvalidAnswer before writing anything)."""
        setattr(draft, field, value)

    async def finish(self, session: AsyncSession, draft: D, field: str, actor: Actor) -> None:
        """The user pressed "done" on a step that takes several things (files, a multiple choice)."""

    async def toggle(self, session: AsyncSession, draft: D, field: str, key: str, actor: Actor) -> None:
        """Add or remove one option of a multiple choice."""
        raise NotImplementedError

    async def reopen(self, session: AsyncSession, draft: D, field: str, actor: Actor) -> None:
        """The user asked to answer `field` again (from the summary)."""

    async def extras(
        self, session: AsyncSession, draft: D, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        """What the next screen needs besides the draft (suggestions, counts, a verdict); None: the summary."""
        return {}

    async def discard(self, session: AsyncSession, draft: D, actor: Actor) -> None:
        """Throw the draft away."""
        await session.delete(draft)

    def field_of(self, draft: D) -> str | None:
        """The field being answered."""
        return getattr(draft, "form_field", None)

    def set_field(self, draft: D, field: str | None) -> None:
        """Record the field being answered."""
        setattr(draft, "form_field", field)  # noqa: B010 (the column every draft row has)
