"""Who is staff, with which scope; adding and removing staff (admins only); each person's role, for
the command menu their chat shows."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, InvalidAnswer, NotAllowed
from bot.services.numbers import whole_number
from bot.text import collation_key
from db.models import Association, Staff

ADMIN = "admin"
STAFF = "staff"
Role = Literal["everyone", "staff", "admin"]
MAX_USER_ID_DIGITS = 15


@dataclass(frozen=True)
class StaffScope:
    """What a user may do as staff: admins and chamber staff everywhere, others per association."""

    user_id: int
    is_admin: bool = False
    chamber_wide: bool = False
    association_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        """Any staff role at all."""
        return self.is_admin or self.chamber_wide or bool(self.association_ids)

    def covers(self, association_id: int | None) -> bool:
        """May act for this association (None: chamber-wide matters)."""
        if self.is_admin or self.chamber_wide:
            return True
        return association_id is not None and association_id in self.association_ids


async def scope_of(session: AsyncSession, user_id: int, admin_ids: Collection[int]) -> StaffScope:
    """The user's staff scope, from ADMIN_IDS and the staff table."""
    rows = (await session.execute(select(Staff).where(Staff.telegram_id == user_id))).scalars().all()
    is_admin = user_id in admin_ids or any(r.role == ADMIN for r in rows)
    chamber_wide = any(r.association_id is None for r in rows)
    associations = frozenset(r.association_id for r in rows if r.association_id is not None)
    return StaffScope(user_id, is_admin, chamber_wide, associations)


async def add_staff(
    session: AsyncSession,
    actor: StaffScope,
    telegram_id: int,
    *,
    association_id: int | None = None,
    admin: bool = False,
) -> Staff:
    """Grant a staff role; only admins may. Granting the same role twice is a no-op."""
    if not actor.is_admin:
        raise NotAllowed("not_admin")
    if admin and association_id is not None:
        raise DomainError("admin_is_chamber_wide")
    if association_id is not None and await session.get(Association, association_id) is None:
        raise DomainError("unknown_association")
    same_scope = (
        Staff.association_id.is_(None) if association_id is None else Staff.association_id == association_id
    )
    existing = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id, same_scope))
    role = ADMIN if admin else STAFF
    if existing is not None:
        existing.role = ADMIN if admin or existing.role == ADMIN else STAFF
        await session.flush()
        return existing
    grant = Staff(telegram_id=telegram_id, role=role, association_id=association_id, added_by=actor.user_id)
    session.add(grant)
    await session.flush()
    return grant


async def remove_staff(session: AsyncSession, actor: StaffScope, telegram_id: int) -> int:
    """Remove every staff grant of a user; returns how many were removed."""
    if not actor.is_admin:
        raise NotAllowed("not_admin")
    if telegram_id == actor.user_id:
        raise DomainError("cannot_remove_self")
    result = await session.execute(delete(Staff).where(Staff.telegram_id == telegram_id))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Grant:
    """A staff grant as the staff list shows it (the association by name)."""

    telegram_id: int
    role: str
    association_id: int | None
    association: str | None


async def list_staff(session: AsyncSession) -> list[Grant]:
    """Every staff grant: admins, then chamber staff, then each association's staff in Persian order."""
    rows = await session.execute(
        select(Staff, Association.name).outerjoin(Association, Association.id == Staff.association_id)
    )
    grants = [Grant(s.telegram_id, s.role, s.association_id, name) for s, name in rows]
    return sorted(
        grants,
        key=lambda g: (
            g.role != ADMIN,
            g.association_id is not None,
            collation_key(g.association or ""),
            g.telegram_id,
        ),
    )


def role_of(scope: StaffScope) -> Role:
    """The command menu a scope gets."""
    return "admin" if scope.is_admin else "staff" if scope.is_staff else "everyone"


async def roles(
    session: AsyncSession, admin_ids: Collection[int], user_ids: Iterable[int] | None = None
) -> dict[int, Role]:
    """The role of each of `user_ids` (None: of everyone who is staff or admin)."""
    wanted = (
        set(await session.scalars(select(Staff.telegram_id).distinct())) | set(admin_ids)
        if user_ids is None
        else set(user_ids)
    )
    return {uid: role_of(await scope_of(session, uid, admin_ids)) for uid in sorted(wanted)}


def clean_user_id(raw: str) -> int:
    """A Telegram user id as typed (Persian or Arabic-Indic digits too; never a decimal)."""
    try:
        user_id = whole_number(raw, limit=10**MAX_USER_ID_DIGITS - 1)
    except InvalidAnswer:
        raise InvalidAnswer("user_id") from None
    if user_id == 0:
        raise InvalidAnswer("user_id")
    return user_id
