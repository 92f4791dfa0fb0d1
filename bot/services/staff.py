"""Who is staff, with which scope; adding and removing staff (admins only); each person's role, for
the command menu their chat shows."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, InvalidAnswer, NotAllowed, NotFound
from bot.services.numbers import whole_number
from bot.text import collation_key
from db.models import Association, Staff
from db.session import rowcount

ADMIN = "admin"
STAFF = "staff"
STAFF_CHANGED = "staff_changed"  # session.info key: a grant changed in this transaction (see StaffRoster)
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


class Owned(Protocol):
    """A row that belongs to an association (None: to the chamber)."""

    association_id: Any


Row = TypeVar("Row", bound=Owned)


async def covered(
    session: AsyncSession, scope: StaffScope, model: type[Row], key: int, *, what: str, refusal: str
) -> Row:
    """The row `key` of `model`, if this staff member may act for its association: NotFound(what)
    when there is none, NotAllowed(refusal) when it is another association's."""
    row = await session.get(model, key)
    if row is None:
        raise NotFound(what)
    if not scope.covers(row.association_id):
        raise NotAllowed(refusal)
    return row


async def scope_of(session: AsyncSession, user_id: int, admin_ids: Collection[int]) -> StaffScope:
    """The user's staff scope, from ADMIN_IDS and the staff table."""
    rows = await session.execute(select(Staff.role, Staff.association_id).where(Staff.telegram_id == user_id))
    return _scope(user_id, [(role, association_id) for role, association_id in rows], admin_ids)


class StaffRoster:
    """Every staff grant held in memory, for what only decides which buttons a screen shows (the staff
    section of the main menu): a menu tap then reads nothing. It is refreshed when older than
    `max_age` seconds, and at once after a staff change committed in this process (`changed()`).
    Guards never use it: a staff command or button looks the sender up afresh (scope_of)."""

    def __init__(
        self, admin_ids: Collection[int], max_age: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._admin_ids = frozenset(admin_ids)
        self._max_age = max_age
        self._clock = clock
        self._taken_at: float | None = None
        self._scopes: dict[int, StaffScope] = {}

    @property
    def stale(self) -> bool:
        """Whether the roster must be read again before it is used."""
        return self._taken_at is None or self._clock() - self._taken_at > self._max_age

    async def refresh(self, session: AsyncSession) -> None:
        """Read the whole staff table (a few dozen rows) into memory."""
        taken_at = self._clock()
        rows = (await session.execute(select(Staff.telegram_id, Staff.role, Staff.association_id))).all()
        grants: dict[int, list[tuple[str, int | None]]] = {}
        for telegram_id, role, association_id in rows:
            grants.setdefault(telegram_id, []).append((role, association_id))
        self._scopes = {user_id: _scope(user_id, own, self._admin_ids) for user_id, own in grants.items()}
        self._taken_at = taken_at

    def scope(self, user_id: int) -> StaffScope:
        """The user's scope as of the last refresh (admins from ADMIN_IDS always)."""
        return self._scopes.get(user_id) or _scope(user_id, [], self._admin_ids)

    def changed(self) -> None:
        """A staff grant changed: read the table again before the next use."""
        self._taken_at = None


def _scope(user_id: int, grants: Iterable[tuple[str, int | None]], admin_ids: Collection[int]) -> StaffScope:
    grants = list(grants)
    is_admin = user_id in admin_ids or any(role == ADMIN for role, _ in grants)
    chamber_wide = any(association_id is None for _, association_id in grants)
    associations = frozenset(a for _, a in grants if a is not None)
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
    session.info[STAFF_CHANGED] = True
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
    session.info[STAFF_CHANGED] = True
    return rowcount(result)


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
