"""Membership facts other features ask about (courses for members only, audiences, ratings)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member


async def is_member(session: AsyncSession, user_id: int, association_id: int | None = None) -> bool:
    """Member of this association (None: of any association)."""
    query = select(Member.id).where(Member.user_id == user_id)
    if association_id is not None:
        query = query.where(Member.association_id == association_id)
    return await session.scalar(query.limit(1)) is not None


async def member_ids(session: AsyncSession, association_id: int | None = None) -> list[int]:
    """User ids of the members of an association (None: of every association)."""
    query = select(Member.user_id).distinct()
    if association_id is not None:
        query = query.where(Member.association_id == association_id)
    return list(await session.scalars(query))


async def member_count(session: AsyncSession, association_id: int) -> int:
    """How many members an association has."""
    query = select(func.count()).select_from(Member).where(Member.association_id == association_id)
    return int(await session.scalar(query) or 0)
