"""News: staff write an item step by step (a draft row), publish it to its subscribers; users browse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from bot.formatting import strip_html
from bot.services import audiences, outbox, subscriptions
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.staff import StaffScope
from bot.text import drop_controls, normalize_input
from db.models import Association, Broadcast, NewsItem

PAGE_SIZE = 5
TITLE_LIMITS = (3, 150)
TEXT_LIMIT = 3500  # plain characters; title and footer must still fit in Telegram's 4096
CAPTION_LIMIT = 900  # with a photo or document everything goes in one caption (Telegram: 1024)
MEDIA_KINDS = ("photo", "document")


class InvalidNews(DomainError):
    """A draft answer that cannot be stored; `reason` says why."""


# ---------------------------------------------------------------------------- drafts


async def start_draft(session: AsyncSession, scope: StaffScope) -> NewsItem:
    """A fresh draft for this staff member (their older unfinished drafts are dropped)."""
    if not scope.is_staff:
        raise NotAllowed("not_staff")
    await session.execute(
        delete(NewsItem).where(NewsItem.author_id == scope.user_id, NewsItem.published_at.is_(None))
    )
    draft = NewsItem(author_id=scope.user_id)
    session.add(draft)
    await session.flush()
    return draft


async def current_draft(session: AsyncSession, author_id: int) -> NewsItem:
    """The author's draft in progress; NotFound if there is none (e.g. it was published)."""
    draft = await session.scalar(
        select(NewsItem)
        .where(NewsItem.author_id == author_id, NewsItem.published_at.is_(None))
        .order_by(NewsItem.id.desc())
        .limit(1)
    )
    if draft is None:
        raise NotFound("no_draft")
    return draft


async def set_scope(session: AsyncSession, scope: StaffScope, association_id: int | None) -> NewsItem:
    """Choose the association (None: chamber-wide) the item belongs to; only within one's scope."""
    if not scope.covers(association_id):
        raise NotAllowed("not_your_association")
    if association_id is not None and await session.get(Association, association_id) is None:
        raise NotFound("unknown_association")
    draft = await current_draft(session, scope.user_id)
    draft.association_id = association_id
    draft.scope_chosen = True
    await session.flush()
    return draft


def clean_title(raw: str) -> str:
    """A one-line title of sensible length."""
    title = " ".join(normalize_input(raw).split())
    if len(title) < TITLE_LIMITS[0]:
        raise InvalidNews("title_too_short")
    if len(title) > TITLE_LIMITS[1]:
        raise InvalidNews("title_too_long")
    return title


async def set_title(session: AsyncSession, author_id: int, raw: str) -> NewsItem:
    draft = await current_draft(session, author_id)
    draft.title = clean_title(raw)
    await session.flush()
    return draft


async def set_text(session: AsyncSession, author_id: int, html_text: str, plain_length: int) -> NewsItem:
    """Store the body: `html_text` is rendered from Telegram entities (escaped), `plain_length` its length."""
    if plain_length < 1 or not html_text.strip():
        raise InvalidNews("text_empty")
    if plain_length > TEXT_LIMIT:
        raise InvalidNews("text_too_long", limit=TEXT_LIMIT)
    draft = await current_draft(session, author_id)
    draft.text = drop_controls(html_text)
    await session.flush()
    return draft


async def set_media(session: AsyncSession, author_id: int, kind: str | None, file_id: str | None) -> NewsItem:
    """Attach a photo or document (or nothing); with media the whole item must fit one caption."""
    draft = await current_draft(session, author_id)
    if kind is not None:
        if kind not in MEDIA_KINDS or not file_id:
            raise InvalidNews("bad_media")
        if len(strip_html(draft.text)) + len(draft.title) > CAPTION_LIMIT:
            raise InvalidNews("too_long_for_media", limit=CAPTION_LIMIT)
    draft.media_kind = kind
    draft.media_file_id = file_id if kind is not None else None
    await session.flush()
    return draft


@dataclass(frozen=True)
class Published:
    item: NewsItem
    broadcast: Broadcast
    recipients: int


async def publish(
    session: AsyncSession,
    scope: StaffScope,
    render: Callable[[NewsItem], str],
    *,
    progress_chat_id: int | None = None,
) -> Published:
    """Publish the author's draft and queue it for its subscribers (the sender delivers it)."""
    draft = await current_draft(session, scope.user_id)
    if not draft.scope_chosen or not draft.title or not draft.text:
        raise InvalidNews("incomplete")
    if not scope.covers(draft.association_id):
        raise NotAllowed("not_your_association")
    draft.published_at = datetime.now(UTC)
    audience = audiences.Audience(audiences.SUBSCRIBERS, draft.association_id)
    recipients = await audiences.recipients(session, scope, audience)
    broadcast = await outbox.create_broadcast(
        session,
        kind="news",
        text=render(draft),
        recipients=recipients,
        created_by=scope.user_id,
        association_id=draft.association_id,
        audience=audience.spec,
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
    )
    broadcast.progress_chat_id = progress_chat_id
    draft.broadcast_id = broadcast.id
    await session.flush()
    return Published(draft, broadcast, len(recipients))


async def subscriber_count(session: AsyncSession, association_id: int | None) -> int:
    """How many reachable people a news item of this association would go to."""
    return len(
        await audiences.reachable_users(session, await subscriptions.subscribers(session, association_id))
    )


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Page:
    items: list[NewsItem]
    page: int
    pages: int


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


async def get_published(session: AsyncSession, news_id: int) -> NewsItem:
    """One published item; NotFound for drafts and unknown ids."""
    item = await session.get(NewsItem, news_id)
    if item is None or item.published_at is None:
        raise NotFound("unknown_news")
    return item


async def association_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Names of the given associations."""
    if not ids:
        return {}
    rows = await session.execute(select(Association.id, Association.name).where(Association.id.in_(ids)))
    return {i: name for i, name in rows.all()}


async def associations_with_news(session: AsyncSession) -> list[Association]:
    """Associations that published at least one item (for the per-association filter)."""
    ids = select(NewsItem.association_id).where(NewsItem.published_at.is_not(None)).distinct()
    return list(
        await session.scalars(select(Association).where(Association.id.in_(ids)).order_by(Association.name))
    )


async def get_association(session: AsyncSession, association_id: int) -> Association:
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("unknown_association")
    return association
