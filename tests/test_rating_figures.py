"""The membership evidence comes from the members and applications tables, period by period."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.context import BotApplication
from bot.services import rating as service
from db.models import Application, Association, Member
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.test_rating import KEEP, rate

TZ = "Asia/Tehran"
START, END = service.period_bounds("1405-H1", TZ)


async def _setup(app: BotApplication) -> tuple[int, int]:
    async with app.bot_data.sessionmaker() as session, session.begin():
        mine = Association(name="تشکل نمونه", name_key="تشکل نمونه")
        other = Association(name="تشکل دیگر", name_key="تشکل دیگر")
        session.add_all([mine, other])
        await session.flush()
        day = timedelta(days=1)
        members = [
            # Four members before the half-year, six who joined during it, one after it.
            *[(mine.id, 100 + i, START - 10 * day) for i in range(4)],
            *[(mine.id, 200 + i, START + (i + 1) * 20 * day) for i in range(6)],
            (mine.id, 300, END + day),
            # Another association's members never count.
            (other.id, 400, START + day),
        ]
        await session.execute(
            insert(Member),
            [
                {"association_id": a, "user_id": u, "member_number": f"{a}-{u}", "started_at": t}
                for a, u, t in members
            ],
        )
        applications = [
            # (status, submitted, decided): decided in the half-year within 30 days ×3, later ×2.
            ("approved", START + day, START + 5 * day),
            ("rejected", START + 10 * day, START + 40 * day),  # exactly 30 days: in time
            ("approved", START + 50 * day, START + 60 * day),
            ("approved", START + 20 * day, START + 80 * day),  # 60 days
            ("rejected", START + 90 * day, START + 131 * day),  # 41 days
            # Not counted: decided outside the period, still open, asked for more information.
            ("approved", START - 40 * day, START - 30 * day),
            ("submitted", START + 5 * day, None),
            ("more_info", START + 5 * day, START + 6 * day),
        ]
        await session.execute(
            insert(Application),
            [
                {
                    "user_id": 500 + i,
                    "association_id": mine.id,
                    "status": status,
                    "submitted_at": submitted,
                    "decided_at": decided,
                }
                for i, (status, submitted, decided) in enumerate(applications)
            ],
        )
        return mine.id, other.id


async def test_figures_match_the_data(app: BotApplication) -> None:
    mine, other = await _setup(app)
    async with app.bot_data.sessionmaker() as session:
        figures = await service.membership_figures(session, mine, "1405-H1", TZ)
        empty = await service.membership_figures(session, other, "1404", TZ)
    assert (figures.members_at_start, figures.members_at_end, figures.growth) == (4, 10, 6)
    assert str(figures.growth_percent) == "150.0"
    assert (figures.decided, figures.decided_in_time, str(figures.share_in_time)) == (5, 3, "60.0")
    assert (empty.members_at_start, empty.members_at_end, empty.decided, empty.share_in_time) == (
        0,
        0,
        0,
        None,
    )


async def test_a_running_period_counts_up_to_now(app: BotApplication) -> None:
    mine, _ = await _setup(app)
    async with app.bot_data.sessionmaker() as session:
        at_start = await service.membership_figures(session, mine, "1405", TZ, now=START + timedelta(days=30))
    # One month into the year: the four old members plus the first newcomer (day 20).
    assert (at_start.members_at_start, at_start.members_at_end, at_start.decided) == (4, 5, 1)


async def test_figures_are_shown_beside_the_staff_score(sim: Simulator, app: BotApplication) -> None:
    mine, _ = await _setup(app)
    admin = sim.user(ADMIN_ID)
    await rate(admin, "تشکل نمونه", "1405-H1", [KEEP, KEEP, "70 رشد خوب", KEEP, KEEP])
    await admin.press("دیدن کارنامه")
    text = admin.last_text
    assert "عضویت: ۷۰ — رشد خوب" in text and mine
    assert "اعضا: ۱۰ (ابتدای بازه ۴، تغییر \u2066+۶\u2069 = \u2066۱۵۰٫۰٪\u2069)" in text
    assert "درخواست‌هایی که ظرف ۳۰ روز تعیین تکلیف شدند: ۳ از ۵ (۶۰٫۰٪)" in text


def test_dates_are_aware() -> None:
    assert isinstance(START, datetime) and START.tzinfo is not None
