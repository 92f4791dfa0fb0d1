"""Following an association's news (or all news)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from bot.services.errors import NotFound
from db.models import Association, Subscription

ALL_NEWS = None


async def subscribe(session: AsyncSession, user_id: int, association_id: int | None) -> None:
    """Follow an association's news (None: all news); following twice is the same as once."""
    existing = await _find(session, user_id, association_id)
    if existing is None:
        session.add(Subscription(user_id=user_id, association_id=association_id))
        await session.flush()


async def unsubscribe(session: AsyncSession, user_id: int, association_id: int | None) -> None:
    """Stop following."""
    await session.execute(delete(Subscription).where(Subscription.user_id == user_id, _same(association_id)))


async def follow(session: AsyncSession, user_id: int, association_id: int | None, on: bool) -> None:
    """Subscribe (`on`) or unsubscribe; NotFound for an association that does not exist."""
    if association_id is not None and await session.get(Association, association_id) is None:
        raise NotFound("unknown_association")
    if on:
        await subscribe(session, user_id, association_id)
    else:
        await unsubscribe(session, user_id, association_id)


async def is_subscribed(session: AsyncSession, user_id: int, association_id: int | None) -> bool:
    """Whether the user follows this association's news (or all news, for None)."""
    return await _find(session, user_id, association_id) is not None


async def subscribers(session: AsyncSession, association_id: int | None) -> list[int]:
    """Who should get a news item of this association: its followers and everyone following all news."""
    condition: ColumnElement[bool] = Subscription.association_id.is_(None)
    if association_id is not None:
        condition = condition | (Subscription.association_id == association_id)
    rows = await session.scalars(select(Subscription.user_id).where(condition).distinct())
    return list(rows)


def _same(association_id: int | None) -> ColumnElement[bool]:
    if association_id is None:
        return Subscription.association_id.is_(None)
    return Subscription.association_id == association_id


async def _find(session: AsyncSession, user_id: int, association_id: int | None) -> Subscription | None:
    return await session.scalar(
        select(Subscription).where(Subscription.user_id == user_id, _same(association_id))
    )
