"""Course reminders come from the database: the job queues each one in the outbox exactly once,
whether it runs again, or a new process (an application rebuild) runs it."""

from __future__ import annotations

from datetime import timedelta

from bot.context import BotApplication
from bot.handlers.courses import REMINDER_JOB
from bot.services import reminders
from db.models import Course, utcnow
from db.models.courses import CANCELLED, REGISTERED, WAITING
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests import coursekit as kit
from tests.conftest import AppFactory
from tests.factories import add_course


async def _run_job(app: BotApplication) -> None:
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name(REMINDER_JOB)
    await job.run(app)


async def _sign_up(app: BotApplication, api: FakeTelegram, course_id: int, user_ids: list[int]) -> None:
    sim = Simulator(app, api)
    for uid in user_ids:
        user = sim.user(uid)
        await user.command("/start", f"course_{course_id}")
        await user.press_data(f"courses:join:{course_id}")


async def test_reminders_after_a_restart_are_queued_once(make_app: AppFactory, api: FakeTelegram) -> None:
    app = await make_app()
    cid = await add_course(app, title="کارگاه صادرات پسته", capacity=2, starts_in=timedelta(hours=23))
    later = await add_course(app, title="دورهٔ ماه بعد", starts_in=timedelta(days=30))
    await _sign_up(app, api, cid, [9001, 9002, 9003])
    await _sign_up(app, api, later, [9001])
    assert await kit.statuses(app, cid) == {9001: REGISTERED, 9002: REGISTERED, 9003: WAITING}

    await _run_job(app)
    await _run_job(app)
    sent = await kit.broadcasts(app)
    assert len(sent) == 1
    broadcast, recipients = sent[0]
    course = await kit.get_course(app, cid)
    assert course.starts_at is not None
    assert broadcast.kind == "reminder" and broadcast.dedupe_key == f"course:{cid}:reminder:24h"
    assert broadcast.not_before == course.starts_at - timedelta(hours=24)
    assert recipients == [9001, 9002]  # people with a seat, not the waiting list
    assert "کارگاه صادرات پسته" in broadcast.text and "فردا" in broadcast.text

    # A new process on the same database: nothing is queued a second time.
    app = await make_app()
    await _run_job(app)
    assert len(await kit.broadcasts(app)) == 1

    # Time passes (the course now starts in 40 minutes): the one-hour reminder, once, even across restarts.
    await kit.move_start(app, cid, utcnow() + timedelta(minutes=40))
    await _run_job(app)
    app = await make_app()
    await _run_job(app)
    await _run_job(app)
    sent = await kit.broadcasts(app)
    assert [b.dedupe_key for b, _ in sent] == [f"course:{cid}:reminder:24h", f"course:{cid}:reminder:1h"]
    assert sent[1][1] == [9001, 9002] and "یک ساعت دیگر" in sent[1][0].text


async def test_a_run_after_downtime_sends_only_the_reminder_still_relevant(app: BotApplication) -> None:
    """Down for a day: when the bot is back 30 minutes before the start, only the 1-hour reminder goes."""
    cid = await add_course(app, starts_in=timedelta(minutes=30))
    await _run_job(app)
    assert [b.dedupe_key for b, _ in await kit.broadcasts(app)] == [f"course:{cid}:reminder:1h"]


async def test_no_reminders_for_cancelled_far_or_past_courses(app: BotApplication) -> None:
    await add_course(app, starts_in=timedelta(hours=5), status=CANCELLED)
    await add_course(app, starts_in=timedelta(hours=25))
    await add_course(app, starts_in=timedelta(minutes=-10))
    await _run_job(app)
    assert await kit.broadcasts(app) == []


def test_due_windows() -> None:
    start = utcnow()
    course = Course(starts_at=start)
    assert reminders.due(course, start - timedelta(hours=25)) is None
    assert reminders.due(course, start - timedelta(hours=24)) == reminders.REMINDERS[1]
    assert reminders.due(course, start - timedelta(hours=2)) == reminders.REMINDERS[1]
    assert reminders.due(course, start - timedelta(minutes=60)) == reminders.REMINDERS[0]
    assert reminders.due(course, start - timedelta(minutes=1)) == reminders.REMINDERS[0]
    assert reminders.due(course, start) is None


async def test_reminders_are_delivered_by_the_sender_once_across_a_restart(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    from tests.broadcast_helpers import copies, start_sender, wait_finished

    app = await make_app()
    cid = await add_course(app, title="کارگاه بسته‌بندی", capacity=5, starts_in=timedelta(hours=20))
    await _sign_up(app, api, cid, [9101, 9102])
    await _run_job(app)
    await start_sender(app)
    (broadcast, _recipients), *_ = await kit.broadcasts(app)
    report = await wait_finished(app, broadcast.id)
    assert (report.total, report.sent) == (2, 2)
    reminders_seen = {
        c.chat_id for c in api.calls_to("sendMessage", ok=True) if "یادآوری" in str(c.params.get("text"))
    }
    assert reminders_seen == {9101, 9102}

    # Restart: the job runs again and the sender starts again; nobody gets a second reminder.
    before = copies(api)
    app = await make_app()
    await _run_job(app)
    await start_sender(app)
    await wait_finished(app, broadcast.id)
    assert copies(api) == before
