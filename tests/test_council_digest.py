"""The weekly digest for staff: derived from the database, queued once per ISO week, across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.context import BotApplication
from bot.handlers.council_digest import DIGEST_JOB
from bot.services import council_digest as service
from db.models import Broadcast, CouncilIssue, CouncilSupport, Delivery, Staff, utcnow
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID, AppFactory

TZ = "Asia/Tehran"


async def _run_job(app: BotApplication) -> None:
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name(DIGEST_JOB)
    await job.run(app)


async def _issues(app: BotApplication) -> dict[str, int]:
    """Issues sent last week (two), one sent this week, one older; supporters on some."""
    now = utcnow()
    year, week = service.week_of(now - timedelta(days=7), TZ)
    last_week, _end = service.week_bounds(year, week, TZ)
    rows = {
        "customs": (
            "customs",
            "ترخیص کالا در گمرک شهید رجایی بیش از یک ماه طول می‌کشد.",
            last_week + timedelta(days=1),
        ),
        "banking": (
            "banking",
            "بانک‌ها برای تسهیلات ضامن کارمند دولت می‌خواهند.",
            last_week + timedelta(days=2),
        ),
        "today": ("taxes", "سامانهٔ مؤدیان برای صنف ما کار نمی‌کند و جریمه می‌خوریم.", now),
        "old": ("insurance", "حق بیمهٔ کارگاه‌های کوچک دو برابر شده است.", last_week - timedelta(days=20)),
    }
    ids: dict[str, int] = {}
    async with app.bot_data.sessionmaker() as session, session.begin():
        for key, (topic, text, sent) in rows.items():
            issue = CouncilIssue(
                user_id=7000 + len(ids),
                status="received",
                topic=topic,
                description=text,
                attachment_file_id="",
                show_name=False,
                raiser_name="ناشناس",
                submitted_at=sent,
            )
            session.add(issue)
            await session.flush()
            ids[key] = issue.id
        supporters = {"old": range(5), "banking": range(2)}
        for key, people in supporters.items():
            session.add_all(CouncilSupport(issue_id=ids[key], user_id=7100 + p) for p in people)
        session.add(Staff(telegram_id=7200, role="staff", association_id=None))
    return ids


async def test_digest_content_and_recipients(app: BotApplication) -> None:
    ids = await _issues(app)
    await _run_job(app)
    async with app.bot_data.sessionmaker() as session:
        (broadcast,) = list(await session.scalars(select(Broadcast).where(Broadcast.kind == "council")))
        recipients = sorted(
            await session.scalars(select(Delivery.user_id).where(Delivery.broadcast_id == broadcast.id))
        )
    year, week = service.week_of(utcnow() - timedelta(days=7), TZ)
    assert broadcast.dedupe_key == f"council:digest:{year}-W{week:02d}"
    assert recipients == sorted([ADMIN_ID, 7200])
    text = broadcast.text
    new_part, top_part = text.split("بیشترین حمایت")
    assert "موضوع‌های تازهٔ این هفته: ۲" in new_part
    assert "گمرک شهید رجایی" in new_part and "ضامن کارمند دولت" in new_part
    assert "سامانهٔ مؤدیان" not in new_part and "حق بیمه" not in new_part
    # Most supported open issues, best first, over all time.
    assert top_part.index("حق بیمه") < top_part.index("ضامن کارمند دولت") < top_part.index("گمرک")
    assert "۵ حامی" in top_part and "(از ۴ موضوع باز)" in top_part
    assert "ناشناس" not in text
    assert ids


async def test_digest_is_queued_once_across_runs_and_restarts(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    app = await make_app()
    await _issues(app)
    await _run_job(app)
    await _run_job(app)
    app = await make_app()
    await _run_job(app)
    async with app.bot_data.sessionmaker() as session:
        keys = list(await session.scalars(select(Broadcast.dedupe_key).where(Broadcast.kind == "council")))
    assert len(keys) == 1


async def test_an_answered_issue_leaves_the_top_list(app: BotApplication) -> None:
    ids = await _issues(app)
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(
            update(CouncilIssue).where(CouncilIssue.id == ids["old"]).values(status="answered")
        )
    async with app.bot_data.sessionmaker() as session:
        year, week = service.week_of(utcnow() - timedelta(days=7), TZ)
        digest = await service.digest(session, year, week, TZ)
    assert next(i.id for i, _ in digest.top) == ids["banking"]
    assert digest.open_total == 3 and digest.new_total == 2


def test_week_bounds_are_monday_to_monday_in_tehran() -> None:
    start, end = service.week_bounds(2026, 48, TZ)
    assert start.isoformat() == "2026-11-22T20:30:00+00:00"
    assert end - start == timedelta(days=7)
    assert service.week_of(start, TZ) == (2026, 48)
    assert service.week_of(start - timedelta(seconds=1), TZ) == (2026, 47)


async def _council_broadcasts(app: BotApplication) -> list[Broadcast]:
    async with app.bot_data.sessionmaker() as session:
        return list(await session.scalars(select(Broadcast).where(Broadcast.kind == "council")))


async def _add_issue(app: BotApplication, sent: datetime, status: str = "received") -> None:
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add(
            CouncilIssue(
                user_id=7300,
                status=status,
                topic="permits",
                description="صدور مجوز کارگاه خانگی در شهرداری سه ماه طول کشیده است.",
                attachment_file_id="",
                show_name=False,
                submitted_at=sent,
            )
        )


async def test_a_quiet_week_sends_no_digest(app: BotApplication) -> None:
    await _run_job(app)
    assert await _council_broadcasts(app) == []
    # An issue raised after that week does not make it late news: it belongs to this week's digest.
    await _add_issue(app, utcnow())
    await _run_job(app)
    assert await _council_broadcasts(app) == []
    # Nor do issues already closed by then.
    year, week = service.week_of(utcnow() - timedelta(days=7), TZ)
    start, _end = service.week_bounds(year, week, TZ)
    await _add_issue(app, start - timedelta(days=3), status="answered")
    await _run_job(app)
    assert await _council_broadcasts(app) == []


async def test_no_new_issues_but_open_ones_says_so(app: BotApplication, api: FakeTelegram) -> None:
    year, week = service.week_of(utcnow() - timedelta(days=7), TZ)
    start, _end = service.week_bounds(year, week, TZ)
    await _add_issue(app, start - timedelta(days=10))
    await _run_job(app)
    (broadcast,) = await _council_broadcasts(app)
    assert "این هفته موضوع تازه‌ای مطرح نشد" in broadcast.text
    assert "موضوع‌های تازهٔ این هفته" not in broadcast.text
    assert "صدور مجوز کارگاه خانگی" in broadcast.text and "(از ۱ موضوع باز)" in broadcast.text
    assert broadcast.buttons is not None and "council:issues:0" in broadcast.buttons
