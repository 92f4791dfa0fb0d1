"""A user's saved contact details: each answer validated and stored the moment it is given, and
offered again (one tap) by every form that asks the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.actor import Actor
from bot.services.drafts import DraftStore
from bot.services.errors import InvalidAnswer
from bot.text import normalize_input
from db.models import Association, Member, Profile

FIELDS = ("full_name", "national_id", "mobile", "city")
NAME_LIMITS = (3, 100)
CITY_LIMITS = (2, 60)


def clean_name(raw: str) -> str:
    """A person's full name: letters (Persian or Latin), spaces, ZWNJ, and a few marks."""
    return _clean_words(raw, NAME_LIMITS, "name")


def clean_city(raw: str) -> str:
    """A city name."""
    return _clean_words(raw, CITY_LIMITS, "city")


def _clean_words(raw: str, limits: tuple[int, int], what: str) -> str:
    text = " ".join(normalize_input(raw).split())
    if len(text) < limits[0]:
        raise InvalidAnswer(f"{what}_too_short")
    if len(text) > limits[1]:
        raise InvalidAnswer(f"{what}_too_long")
    if any(ch.isdigit() for ch in text) or not all(ch.isalpha() or ch in " \u200c-.'" for ch in text):
        raise InvalidAnswer(f"{what}_not_letters")
    return text


async def get_profile(session: AsyncSession, user_id: int) -> Profile | None:
    """The user's profile, if they started one."""
    return await session.get(Profile, user_id)


async def suggestions(session: AsyncSession, user_id: int) -> dict[str, str]:
    """`suggest:<field>` extras for a form: the saved answers it can offer as one tap."""
    profile = await session.get(Profile, user_id)
    if profile is None:
        return {}
    return {f"suggest:{name}": value for name in FIELDS if (value := getattr(profile, name))}


class ProfileStore(DraftStore[Profile]):
    """The profile is its own draft: every answer is final the moment it is given."""

    async def current(self, session: AsyncSession, actor: Actor) -> Profile | None:
        return await session.get(Profile, actor.user_id)

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> Profile:
        profile = await session.get(Profile, actor.user_id)
        if profile is None:
            profile = Profile(user_id=actor.user_id)
            session.add(profile)
            await session.flush()
        return profile

    def is_answered(self, draft: Profile, field: str) -> bool:
        return bool(getattr(draft, field, None))

    async def extras(
        self, session: AsyncSession, draft: Profile, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        if field is not None:
            return {}
        # The summary also shows the person's memberships and their terms.
        rows = await session.execute(
            select(Member, Association.name)
            .join(Association, Association.id == Member.association_id)
            .where(Member.user_id == actor.user_id)
            .order_by(Member.id)
        )
        return {"memberships": [(member, name) for member, name in rows]}


STORE = ProfileStore()
