"""What a news item and an announcement share while staff write them: a text that keeps its Telegram
formatting, an optional photo or file, and the rule that with a photo or file the whole message is
one caption (Telegram: at most 1,024 characters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import strip_html
from bot.services.actor import Actor
from bot.services.drafts import DraftStore, FileRef
from bot.services.errors import InvalidAnswer
from bot.text import drop_controls
from db.models import Broadcast, NewsItem

CAPTION_LIMIT = 1024  # Telegram's limit for a caption, counted like a message: UTF-16 units
MEDIA_KINDS = ("photo", "document")
# `media_kind` of a draft whose author chose to send no photo or file (None: not asked yet).
NO_ATTACHMENT = ""

D = TypeVar("D", NewsItem, Broadcast)


def visible_length(html_text: str) -> int:
    """How long a text reads, as Telegram counts it (UTF-16 units of the text without its tags)."""
    return len(strip_html(html_text).encode("utf-16-le")) // 2


def clean_body(html_text: str, limit: int) -> str:
    """A message body: the HTML of the author's Telegram formatting (anything typed is escaped)."""
    body = drop_controls(html_text)
    if not strip_html(body).strip():
        raise InvalidAnswer("text_empty")
    if visible_length(body) > limit:
        raise InvalidAnswer("text_too_long", limit=limit)
    return body


def media_of(draft: NewsItem | Broadcast) -> tuple[str | None, str | None]:
    """(kind, file id) to send with the message, or (None, None) for a text message."""
    if draft.media_kind in MEDIA_KINDS and draft.media_file_id:
        return draft.media_kind, draft.media_file_id
    return None, None


class ComposedStore(DraftStore[D]):
    """A draft with a text and an attachment step. `captioned` are the fields that travel in the
    caption when there is a photo or file; `room` is how long they may be together."""

    captioned: tuple[str, ...] = ("text",)

    async def room(self, session: AsyncSession, draft: D) -> int:
        """How long the captioned fields may be together (the caption less what frames them)."""
        return CAPTION_LIMIT

    def value(self, draft: D, field: str) -> object | None:
        if field != "media":
            return getattr(draft, field, None)
        if draft.media_kind is None:
            return None
        kind, file_id = media_of(draft)
        if kind is None or file_id is None:
            return NO_ATTACHMENT
        return FileRef(file_id, None, kind, "", None)

    def is_answered(self, draft: D, field: str) -> bool:
        value = self.value(draft, field)
        return value is not None if field == "media" else bool(value)

    async def save(self, session: AsyncSession, draft: D, field: str, value: object, actor: Actor) -> None:
        if field == "media":
            await self._attach(session, draft, value)
            return
        if field in self.captioned and media_of(draft)[0] is not None:
            await self._fits(session, draft, {field: value})
        setattr(draft, field, value)

    async def _attach(self, session: AsyncSession, draft: D, value: object) -> None:
        if not isinstance(value, FileRef):
            draft.media_kind, draft.media_file_id = NO_ATTACHMENT, None
            return
        if value.kind not in MEDIA_KINDS:
            raise InvalidAnswer("file_type")
        await self._fits(session, draft, {})
        draft.media_kind, draft.media_file_id = value.kind, value.file_id

    async def _fits(self, session: AsyncSession, draft: D, changed: Mapping[str, object]) -> None:
        """Refuse (before anything is written) what would not fit in one caption."""
        used = sum(visible_length(str(changed.get(f, getattr(draft, f)) or "")) for f in self.captioned)
        room = await self.room(session, draft)
        if used > room:
            raise InvalidAnswer("too_long_for_media", limit=room)
