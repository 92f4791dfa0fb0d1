"""Recording who writes to the bot, cheaply: one write per user per few minutes, not per update."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.upsert import upsert


@dataclass(frozen=True)
class Contact:
    """What an update tells us about its sender."""

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


class SeenCache:
    """Remembers whom we recorded recently so an unchanged user is not rewritten on every update."""

    def __init__(self, ttl_seconds: float = 300, capacity: int = 20_000) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._seen: OrderedDict[int, tuple[Contact, float]] = OrderedDict()

    def needs_write(self, contact: Contact) -> bool:
        """True when the user is new, changed, or was last recorded more than ttl ago."""
        entry = self._seen.get(contact.id)
        return entry is None or entry[0] != contact or time.monotonic() - entry[1] > self._ttl

    def remember(self, contact: Contact) -> None:
        """Note that `contact` was just written."""
        self._seen[contact.id] = (contact, time.monotonic())
        self._seen.move_to_end(contact.id)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def forget(self, user_id: int) -> None:
        """Force the next update from this user to be written (e.g. after they blocked the bot)."""
        self._seen.pop(user_id, None)

    def __len__(self) -> int:
        return len(self._seen)


async def record_contact(session: AsyncSession, contact: Contact) -> None:
    """Insert or refresh the user; writing again also clears `blocked_bot` (they are back)."""
    await upsert(
        session,
        User,
        {
            "id": contact.id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "username": contact.username,
            "language_code": contact.language_code,
            "blocked_bot": False,
        },
        index=["id"],
        update=["first_name", "last_name", "username", "language_code", "last_seen", "blocked_bot"],
    )


async def mark_blocked(session: AsyncSession, user_id: int) -> None:
    """The user blocked the bot: stop sending to them until they write again."""
    await session.execute(update(User).where(User.id == user_id).values(blocked_bot=True))


async def count_users(session: AsyncSession) -> int:
    """How many users the bot knows."""
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """The user row, if any."""
    return await session.get(User, user_id)
