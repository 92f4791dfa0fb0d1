"""Figures for operators and staff: users, members per association, applications, courses, broadcasts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.text import collation_key
from db.models import Application, Association, Broadcast, Course, Member, User
from db.models.applications import DRAFT, MORE_INFO, SUBMITTED
from db.models.courses import CLOSED, OPEN

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Stats:
    """A snapshot of the bot's figures."""

    users: int
    blocked: int
    members: int
    members_by_association: list[tuple[str, int]] = field(default_factory=list)
    pending_applications: int = 0
    upcoming_courses: int = 0
    courses: int = 0
    broadcasts_by_status: dict[str, int] = field(default_factory=dict)


async def collect(session: AsyncSession, association_ids: frozenset[int] | None = None) -> Stats:
    """The figures; `association_ids` limits association-level figures to those (None: everything)."""

    def scoped(query: Q, column: InstrumentedAttribute[Any]) -> Q:
        return query if association_ids is None else query.where(column.in_(association_ids))

    async def count(query: Select[Any]) -> int:
        return int(await session.scalar(query) or 0)

    users = await count(select(func.count()).select_from(User))
    blocked = await count(select(func.count()).select_from(User).where(User.blocked_bot.is_(True)))
    members_query = (
        select(Association.name, func.count(Member.id))
        .join(Member, Member.association_id == Association.id, isouter=True)
        .group_by(Association.id, Association.name)
    )
    by_association = sorted(
        ((name, int(n)) for name, n in await session.execute(scoped(members_query, Association.id))),
        key=lambda item: (-item[1], collation_key(item[0])),  # most members first, then Persian order
    )
    pending = (
        select(func.count()).select_from(Application).where(Application.status.in_((SUBMITTED, MORE_INFO)))
    )
    upcoming = select(func.count()).select_from(Course).where(Course.status.in_((OPEN, CLOSED)))
    broadcasts = select(Broadcast.status, func.count()).group_by(Broadcast.status)
    return Stats(
        users=users,
        blocked=blocked,
        members=sum(n for _name, n in by_association),
        members_by_association=by_association,
        pending_applications=await count(scoped(pending, Application.association_id)),
        upcoming_courses=await count(scoped(upcoming, Course.association_id)),
        courses=await count(scoped(select(func.count()).select_from(Course), Course.association_id)),
        broadcasts_by_status={
            status: int(n)
            for status, n in await session.execute(scoped(broadcasts, Broadcast.association_id))
        },
    )


async def applications_by_status(
    session: AsyncSession, association_ids: frozenset[int] | None = None
) -> dict[str, int]:
    """How many applications are in each status (unsent drafts left out); `association_ids` limits
    them to those associations (None: every one)."""
    query = (
        select(Application.status, func.count())
        .where(Application.status != DRAFT)
        .group_by(Application.status)
    )
    if association_ids is not None:
        query = query.where(Application.association_id.in_(association_ids))
    return {status: int(n) for status, n in await session.execute(query)}
