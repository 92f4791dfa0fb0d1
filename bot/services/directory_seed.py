"""The associations the chamber announced as being formed (its report, ../shared/seed/), as `forming`.

The report names six although it announces seven ("brand and packaging" may be two); the names are
kept as the report gives them. The 16 active associations are not named in any source: staff import them.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.duplicates import near_duplicates
from bot.text import search_key
from db.models import Association
from db.models.associations import FORMING

FORMING_ASSOCIATIONS = (
    "شرکت‌های بیمه استان",
    "جوانان کارآفرین",
    "کسب‌وکارهای خانگی",
    "اخلاق حرفه‌ای",
    "برند و بسته‌بندی",
    "مدیران کنترل کیفیت جنوب استان کرمان",
)
DESCRIPTION = "در حال تشکیل به اعلام اتاق بازرگانی، صنایع، معادن و کشاورزی کرمان."


async def seed_forming(session: AsyncSession) -> str:
    """Add each announced association unless it (or a near-duplicate, e.g. a staff respelling) exists."""
    added = []
    for name in FORMING_ASSOCIATIONS:
        if await near_duplicates(session, name):
            continue
        session.add(
            Association(name=name, name_key=search_key(name), description=DESCRIPTION, status=FORMING)
        )
        await session.flush()
        added.append(name)
    return f"associations being formed: added {len(added)}" if added else ""
