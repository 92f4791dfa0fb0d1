"""A user's saved contact details: each answer validated and stored the moment it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError
from bot.services.validators import normalize_mobile, normalize_national_id
from bot.text import normalize_input
from db.models import Profile

FIELDS = ("full_name", "national_id", "mobile", "city")
NAME_LIMITS = (3, 100)
CITY_LIMITS = (2, 60)


class InvalidAnswer(DomainError):
    """An answer that cannot be stored; `reason` says why."""


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


def clean(field: str, raw: str) -> str:
    """Validate and normalise one answer for `field` (raises InvalidAnswer or a ValidationError)."""
    if field == "full_name":
        return clean_name(raw)
    if field == "national_id":
        return normalize_national_id(raw)
    if field == "mobile":
        return normalize_mobile(raw)
    if field == "city":
        return clean_city(raw)
    raise ValueError(f"unknown profile field {field!r}")


async def get_profile(session: AsyncSession, user_id: int) -> Profile | None:
    """The user's profile, if they started one."""
    return await session.get(Profile, user_id)


async def save_answer(session: AsyncSession, user_id: int, field: str, raw: str) -> Profile:
    """Validate and store one answer at once; earlier answers are untouched."""
    value = clean(field, raw)
    profile = await session.get(Profile, user_id)
    if profile is None:
        profile = Profile(user_id=user_id)
        session.add(profile)
    setattr(profile, field, value)
    await session.flush()
    return profile


def next_missing(profile: Profile | None) -> str | None:
    """The first field still unanswered, or None when the profile is complete."""
    for field in FIELDS:
        if profile is None or not getattr(profile, field):
            return field
    return None
