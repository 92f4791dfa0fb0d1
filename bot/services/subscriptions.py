"""Following an association's news (or all news)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from db.models import Subscription

ALL_NEWS = None


async def subscribe(session: AsyncSession, user_id: int, association_id: int | None) -> None:
    """Follow an association's news (None: all news); following twice is the same as once."""
    existing = await _find(session, user_id, association_id)
    if existing is None:
        session.add(Subscription(user_id=user_id, association_id=association_id))
        await session.flush()


async def unsubscribe(session: AsyncSession, user_id: int, association_id: int | None) -> None:
    """Stop following."""
    same = (
        Subscription.association_id.is_(None)
        if association_id is None
        else Subscription.association_id == association_id
    )
    await session.execute(delete(Subscription).where(Subscription.user_id == user_id, same))


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


async def _find(session: AsyncSession, user_id: int, association_id: int | None) -> Subscription | None:
    same = (
        Subscription.association_id.is_(None)
        if association_id is None
        else Subscription.association_id == association_id
    )
    return await session.scalar(select(Subscription).where(Subscription.user_id == user_id, same))
