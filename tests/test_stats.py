"""Figures: `python -m bot stats` and /stats match the data; staff see their own scope; others refused."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.context import BotApplication
from bot.services.stats import collect
from db.models import Application, Broadcast, Course, Member
from db.models.applications import APPROVED, SUBMITTED
from db.models.courses import CANCELLED, OPEN
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_users

ROOT = str(Path(__file__).resolve().parents[1])


async def _data(app: BotApplication) -> tuple[int, int]:
    copper = await add_association(app, "انجمن مس")
    carpet = await add_association(app, "انجمن فرش")
    await add_users(app, [1, 2, 3, 4])
    await add_users(app, [5], blocked=True)
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add_all(
            [
                Member(association_id=copper, user_id=1, member_number="1"),
                Member(association_id=copper, user_id=2, member_number="2"),
                Member(association_id=carpet, user_id=3, member_number="1"),
                Application(user_id=4, association_id=copper, status=SUBMITTED),
                Application(user_id=5, association_id=carpet, status=SUBMITTED),
                Application(user_id=1, association_id=copper, status=APPROVED),
                Course(association_id=copper, title="الف", status=OPEN, capacity=5),
                Course(association_id=None, title="ب", status=CANCELLED, capacity=5),
                Broadcast(kind="news", status="done"),
                Broadcast(kind="announcement", status="done", association_id=copper),
            ]
        )
    return copper, carpet


async def test_figures_match_the_data(app: BotApplication) -> None:
    copper, _carpet = await _data(app)
    async with app.bot_data.sessionmaker() as session:
        figures = await collect(session)
        scoped = await collect(session, frozenset({copper}))
    assert (figures.users, figures.blocked, figures.members) == (5, 1, 3)
    assert figures.members_by_association == [("انجمن مس", 2), ("انجمن فرش", 1)]
    assert (figures.pending_applications, figures.upcoming_courses, figures.courses) == (2, 1, 2)
    assert figures.broadcasts_by_status == {"done": 2}
    assert scoped.members_by_association == [("انجمن مس", 2)]
    assert (scoped.pending_applications, scoped.courses, scoped.broadcasts_by_status) == (1, 1, {"done": 1})


async def test_stats_command_scoped_and_guarded(sim: Simulator, app: BotApplication) -> None:
    copper, _carpet = await _data(app)
    admin = sim.user(ADMIN_ID)
    await admin.command("/stats")
    assert "کاربران: ۶" in admin.last_text and "انجمن فرش: ۱" in admin.last_text  # the admin too
    await admin.command("/staff", f"add 77 {copper}")
    staffer = sim.user(77)
    await staffer.command("/stats")
    assert "انجمن مس: ۲" in staffer.last_text and "انجمن فرش" not in staffer.last_text
    assert "کاربران" not in staffer.last_text
    stranger = sim.user(78)
    await stranger.command("/stats")
    assert "فقط برای کارشناسان" in stranger.last_text


async def test_stats_cli(app: BotApplication, database_url: str, tmp_path: Path) -> None:
    await _data(app)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "stats",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ROOT, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    stdout = out.decode()
    assert "users: 5 (1 blocked the bot)" in stdout
    assert "انجمن مس: 2" in stdout and "pending applications: 2" in stdout
