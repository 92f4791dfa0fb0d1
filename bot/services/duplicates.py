"""The near-duplicate guard: is a new association's name close to one the chamber already has?

Names are compared on their *core*: the search key (bot.text.search_key: ی/ک variants, digits,
diacritics, ZWNJ) without the generic words every association name carries (انجمن، صنفی، استان…)
and without spaces, so «کسب‌وکارهای خانگی» and «انجمن کسب و کارهای خانگی استان کرمان» meet.
The core is scored with rapidfuzz's plain `fuzz.ratio`; docs/directory.md explains the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.text import search_key
from db.models import Association

# At or above this core ratio, two names are probably the same trade (see docs/directory.md).
THRESHOLD = 85.0

# Words that say "this is an association" or "in this province", not which trade it is for.
GENERIC_WORDS = frozenset(
    search_key(word)
    for word in (
        "انجمن",
        "صنفی",
        "کارفرمایی",
        "کارفرمائی",
        "تشکل",
        "اتحادیه",
        "کانون",
        "سندیکا",
        "مجمع",
        "جامعه",
        "استان",
        "کرمان",
        "و",
    )
)


def core(name: str) -> str:
    """The distinctive part of a name, for comparison only."""
    words = [word for word in search_key(name).split() if word not in GENERIC_WORDS]
    return "".join(words) or search_key(name).replace(" ", "")


def closeness(a: str, b: str) -> float:
    """How alike two association names are, 0–100."""
    return float(fuzz.ratio(core(a), core(b)))


@dataclass(frozen=True)
class NearDuplicate:
    """An existing association whose name is close to a proposed one."""

    id: int
    name: str
    score: float


def near_in(
    name: str, existing: Iterable[tuple[int, str]], exclude_id: int | None = None
) -> list[NearDuplicate]:
    """The names in `existing` (id, name) close to `name`, closest first."""
    found = [
        NearDuplicate(id_, other, score)
        for id_, other in existing
        if id_ != exclude_id and (score := closeness(name, other)) >= THRESHOLD
    ]
    return sorted(found, key=lambda near: (-near.score, near.id))


async def near_duplicates(
    session: AsyncSession, name: str, exclude_id: int | None = None
) -> list[NearDuplicate]:
    """Existing associations whose names are close to `name`, closest first."""
    rows = await session.execute(select(Association.id, Association.name))
    return near_in(name, [(row[0], row[1]) for row in rows], exclude_id)
