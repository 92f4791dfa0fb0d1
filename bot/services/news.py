"""News: the published items people read and follow, and the news form staff fill in (a draft row,
published to the subscribers of its association through the outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from bot.services import audiences, outbox, subscriptions
from bot.services.actor import Actor
from bot.services.composing import CAPTION_LIMIT, ComposedStore, clean_body, media_of, visible_length
from bot.services.errors import InvalidAnswer, NotAllowed, NotFound
from bot.services.staff import StaffScope
from bot.text import collation_key, normalize_input
from db.models import Association, Broadcast, NewsItem

# The rows the news handlers read (they never import the database layer).
__all__ = ["Association", "Broadcast", "NewsItem"]

PAGE_SIZE = 5
TITLE_LIMITS = (3, 150)
TEXT_LIMIT = 3500  # what a reader sees; with the title and its frame it stays within Telegram's 4,096
# With a photo or file the whole item is one caption: the title and the text, framed by the 📰, the
# source (the association's name, or the chamber's, up to SOURCE_ROOM) and the date.
CAPTION_FRAME = 40
SOURCE_ROOM = 40
CHAMBER = "all"  # the key of chamber-wide news in the form


# ---------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Page:
    items: list[NewsItem]
    page: int
    pages: int


@dataclass(frozen=True)
class Listing:
    """One page of news as a reader sees it: of one association or of all, and their subscription."""

    association: Association | None
    page: Page
    names: dict[int, str]  # the associations of the items on the page
    subscribed: bool


async def listing(session: AsyncSession, user_id: int, association_id: int | None, page: int) -> Listing:
    """The page of news for this reader; NotFound for an association that does not exist."""
    association = await get_association(session, association_id) if association_id is not None else None
    found = await latest(session, association_id, page)
    names = await association_names(session, {i.association_id for i in found.items if i.association_id})
    subscribed = await subscriptions.is_subscribed(session, user_id, association_id)
    return Listing(association, found, names, subscribed)


async def latest(session: AsyncSession, association_id: int | None = None, page: int = 0) -> Page:
    """Published news, newest first; with an association only its items (else all, incl. chamber-wide)."""
    condition: ColumnElement[bool] = NewsItem.published_at.is_not(None)
    if association_id is not None:
        condition = condition & (NewsItem.association_id == association_id)
    total = int(await session.scalar(select(func.count()).select_from(NewsItem).where(condition)) or 0)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    rows = await session.scalars(
        select(NewsItem)
        .where(condition)
        .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return Page(list(rows), page, pages)


async def get_published(session: AsyncSession, news_id: int) -> tuple[NewsItem, str | None]:
    """One published item and its association's name (None: chamber-wide); NotFound for drafts."""
    item = await session.get(NewsItem, news_id)
    if item is None or item.published_at is None:
        raise NotFound("unknown_news")
    return item, await source_of(session, item.association_id)


async def source_of(session: AsyncSession, association_id: int | None) -> str | None:
    """Whose news it is: the association's name, or None for the chamber's own."""
    if association_id is None:
        return None
    return (await association_names(session, {association_id})).get(association_id)


async def association_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Names of the given associations."""
    if not ids:
        return {}
    rows = await session.execute(select(Association.id, Association.name).where(Association.id.in_(ids)))
    return {i: name for i, name in rows.all()}


async def associations_with_news(session: AsyncSession) -> list[Association]:
    """Associations that published at least one item (for the per-association filter), in Persian order."""
    ids = select(NewsItem.association_id).where(NewsItem.published_at.is_not(None)).distinct()
    rows = await session.scalars(select(Association).where(Association.id.in_(ids)))
    return sorted(rows, key=lambda a: collation_key(a.name))


async def get_association(session: AsyncSession, association_id: int) -> Association:
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("unknown_association")
    return association


# ---------------------------------------------------------------------------------------- the form


def clean_title(raw: str) -> str:
    """A one-line title of sensible length."""
    title = " ".join(normalize_input(raw).split())
    if len(title) < TITLE_LIMITS[0]:
        raise InvalidAnswer("title_too_short")
    if len(title) > TITLE_LIMITS[1]:
        raise InvalidAnswer("title_too_long")
    return title


def clean_text(html_text: str) -> str:
    """The body, as the HTML of the author's Telegram formatting."""
    return clean_body(html_text, TEXT_LIMIT)


async def postable(session: AsyncSession, scope: StaffScope) -> list[Association]:
    """The associations this staff member may post news for, in Persian alphabetical order."""
    query = select(Association)
    if not scope.covers(None):
        query = query.where(Association.id.in_(scope.association_ids or {-1}))
    return sorted(await session.scalars(query), key=lambda a: collation_key(a.name))


class NewsStore(ComposedStore[NewsItem]):
    """A news item is its own draft while `published_at` is empty; "scope" is whose news it is."""

    captioned = ("title", "text")

    async def current(self, session: AsyncSession, actor: Actor) -> NewsItem | None:
        return await session.scalar(
            select(NewsItem)
            .where(NewsItem.author_id == actor.user_id, NewsItem.published_at.is_(None))
            .order_by(NewsItem.id.desc())
            .limit(1)
        )

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> NewsItem:
        draft = await self.current(session, actor)
        if draft is None:
            draft = NewsItem(author_id=actor.user_id, title="", text="")
            session.add(draft)
            await session.flush()
        return draft

    def value(self, draft: NewsItem, field: str) -> object | None:
        if field == "scope":
            if not draft.scope_chosen:
                return None
            return CHAMBER if draft.association_id is None else str(draft.association_id)
        return super().value(draft, field)

    async def save(
        self, session: AsyncSession, draft: NewsItem, field: str, value: object, actor: Actor
    ) -> None:
        if field != "scope":
            await super().save(session, draft, field, value, actor)
            return
        association_id = None if value == CHAMBER else int(str(value))
        if not actor.scope.covers(association_id):
            raise NotAllowed("not_your_association")
        if association_id is not None:
            await get_association(session, association_id)
        if media_of(draft)[0] is not None:
            room = await self._room_for(session, association_id)
            if visible_length(draft.title) + visible_length(draft.text) > room:
                raise InvalidAnswer("too_long_for_media", limit=room)
        draft.association_id, draft.scope_chosen = association_id, True

    async def room(self, session: AsyncSession, draft: NewsItem) -> int:
        return await self._room_for(session, draft.association_id)

    async def _room_for(self, session: AsyncSession, association_id: int | None) -> int:
        source = await source_of(session, association_id) or ""
        return CAPTION_LIMIT - CAPTION_FRAME - max(len(source), SOURCE_ROOM)

    async def extras(
        self, session: AsyncSession, draft: NewsItem, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        if field is not None:
            return {}
        return {
            "source": await source_of(session, draft.association_id),
            "count": len(await _recipients(session, actor.scope, draft.association_id)),
        }


STORE = NewsStore()


@dataclass
class Published:
    """A published item, whose name to show on it, and who gets it (the broadcast, once queued)."""

    item: NewsItem
    source: str | None
    recipients: list[int]
    broadcast: Broadcast | None = None


async def publish(session: AsyncSession, draft: NewsItem, actor: Actor) -> Published:
    """Publish a complete draft (it appears in the news at once); `queue` then sends it."""
    if not draft.scope_chosen or not draft.title or not draft.text:
        raise InvalidAnswer("incomplete")
    if not actor.scope.covers(draft.association_id):
        raise NotAllowed("not_your_association")
    draft.media_kind, draft.media_file_id = media_of(draft)
    draft.published_at = datetime.now(UTC)
    recipients = await _recipients(session, actor.scope, draft.association_id)
    return Published(draft, await source_of(session, draft.association_id), recipients)


async def queue(session: AsyncSession, published: Published, text: str, created_by: int) -> Broadcast:
    """Queue the published item for its subscribers: `text` is the item as they will read it."""
    item = published.item
    broadcast = await outbox.create_broadcast(
        session,
        kind="news",
        text=text,
        recipients=published.recipients,
        created_by=created_by,
        association_id=item.association_id,
        audience=audiences.Audience(audiences.SUBSCRIBERS, item.association_id).spec,
        media_kind=item.media_kind,
        media_file_id=item.media_file_id,
    )
    item.broadcast_id = broadcast.id
    published.broadcast = broadcast
    return broadcast


async def _recipients(session: AsyncSession, scope: StaffScope, association_id: int | None) -> list[int]:
    """Who a news item of this association reaches: its reachable subscribers, each once."""
    return await audiences.recipients(
        session, scope, audiences.Audience(audiences.SUBSCRIBERS, association_id)
    )
