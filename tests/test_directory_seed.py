"""The seed: the associations the chamber announced as being formed, added once, never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.context import BotApplication
from bot.seed import run_seeders
from bot.services.directory_seed import FORMING_ASSOCIATIONS
from bot.text import search_key
from db.models import Association
from tests.directory_helpers import associations

REPORT = Path(__file__).resolve().parents[2] / "shared" / "seed" / "chamber-report-fa.txt"


def test_names_are_the_reports() -> None:
    """Each seeded name appears in the chamber's report (ZWNJ and letter variants aside)."""
    if not REPORT.exists():  # the report lives beside the repository, not in it
        pytest.skip("the chamber's report is not beside this checkout")
    report = search_key(REPORT.read_text(encoding="utf-8")).replace(" ", "")
    for name in FORMING_ASSOCIATIONS:
        assert search_key(name).replace(" ", "") in report, name


async def test_seed_adds_forming_associations_once(app: BotApplication) -> None:
    report = await run_seeders(app.bot_data.sessionmaker)
    assert "added 6" in report
    saved = await associations(app)
    assert [a.name for a in saved] == list(FORMING_ASSOCIATIONS)
    assert {a.status for a in saved} == {"forming"} and not any(a.degree_required for a in saved)
    assert await run_seeders(app.bot_data.sessionmaker) == ""
    assert len(await associations(app)) == 6


async def test_seed_keeps_staff_changes(app: BotApplication) -> None:
    await run_seeders(app.bot_data.sessionmaker)
    async with app.bot_data.sessionmaker() as session, session.begin():
        for association in await session.scalars(select(Association)):
            if association.name == "جوانان کارآفرین":
                association.name = "انجمن جوانان کارآفرین استان کرمان"
                association.name_key = search_key(association.name)
                association.status = "active"
    await run_seeders(app.bot_data.sessionmaker)
    saved = {a.name: a for a in await associations(app)}
    assert "جوانان کارآفرین" not in saved and len(saved) == 6
    assert saved["انجمن جوانان کارآفرین استان کرمان"].status == "active"
