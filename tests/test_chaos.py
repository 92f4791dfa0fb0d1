"""Chaos: the real process killed with SIGKILL at random moments while people use it.

Fifty people walk the membership form and twenty race for five seats of a course, each update pushed to
a Bot API served on 127.0.0.1 (the bot polls it). Meanwhile the process is killed twenty times and
started again at once (on PostgreSQL the same with a standby taking over instead). At the end every
answer every person sent is stored exactly once, every form is complete with the right data, the seats
are exactly the capacity, no update was lost, and no reply was repeated more than once per kill.
Then a broadcast to 2,000 is killed in the middle of a batch: nobody misses it, and only the copies in
flight can arrive twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import outbox
from db.models import Application, ApplicationEvent, Course, Delivery, InboxUpdate, Registration
from db.session import create_engine, create_sessionmaker
from fakeapi.server import FakeBotAPIServer
from fakeapi.simulator import HttpSimUser
from fakeapi.state import FakeTelegram
from tests.conftest import TOKEN
from tests.factories import add_association, add_course, add_users

pytestmark = pytest.mark.slow
ROOT = str(Path(__file__).resolve().parents[1])
APPLICANTS, RACERS, SEATS, KILLS = 50, 20, 5, 20
STEP_TIMEOUT = 240.0  # a guard against hanging, not a timing assertion
OWNER = "صاحب کسب‌وکار (مغازه یا شرکت)"
NO_DEGREE = "بدون مدرک دانشگاهی"
CONTINUE_DOCS = "ادامه (با مدرک یا بدون آن)"


def national_id(index: int) -> str:
    body = f"{(index * 7919 + 100_000_003) % 1_000_000_000:09d}"
    total = sum(int(digit) * (10 - position) for position, digit in enumerate(body))
    remainder = total % 11
    return body + str(remainder if remainder < 2 else 11 - remainder)


class Bot:
    """One `python -m bot run` child process, its output in a file (a pipe nobody reads would fill)."""

    def __init__(self, server: FakeBotAPIServer, database_url: str, workdir: Path, number: int) -> None:
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": ROOT,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "TELEGRAM_API_FILE_URL": server.base_file_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "SEND_RATE": "2000",
        }
        self.workdir, self.log = workdir, workdir / f"bot-{number}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str) -> None:
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                *args,
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=out,
            )

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPIServer]:
    async with FakeBotAPIServer(FakeTelegram()) as running:
        yield running


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def bots() -> AsyncIterator[list[Bot]]:
    made: list[Bot] = []
    yield made
    for bot in made:
        await bot.kill()


def _answers(index: int) -> dict[str, str]:
    return {
        "full_name": f"متقاضی {'ابپتثجچحخدذرزسشصطظعغفقکگلمنوهی'[index % 30]}{'ابپتثجچحخد'[index // 30]} کرمانی",
        "national_id": national_id(index),
        "mobile": f"0912{index:07d}",
        "business_name": f"کارگاه شمارهٔ {index} کرمان",
        "activity": "بافت و فروش فرش دستباف",
        "city": "کرمان",
        "experience_years": str(index % 30),
    }


async def _walk(user: HttpSimUser, association_id: int, answers: dict[str, str]) -> None:
    """One person's form, each answer sent once: they wait for the next question, however long."""
    user.command("/start", f"apply_{association_id}")
    await user.wait_for_text("صاحب کسب‌وکار", STEP_TIMEOUT)
    steps: list[tuple[Callable[[], None], str]] = [
        (lambda: user.press(OWNER), "نام و نام خانوادگی"),
        (lambda: user.send(answers["full_name"]), "کد ملی"),
        (lambda: user.send(answers["national_id"]), "شمارهٔ همراه"),
        (lambda: user.send(answers["mobile"]), "نام کسب‌وکار"),
        (lambda: user.send(answers["business_name"]), "در چه زمینه‌ای"),
        (lambda: user.send(answers["activity"]), "کدام شهر"),
        (lambda: user.send(answers["city"]), "سابقهٔ کار"),
        (lambda: user.send(answers["experience_years"]), "تحصیلات"),
        (lambda: user.press(NO_DEGREE), "عکس یا فایل PDF"),
        (lambda: user.press(CONTINUE_DOCS), "لطفاً بررسی کنید"),
        (lambda: user.press("ارسال درخواست"), "کد پیگیری"),
    ]
    for act, next_question in steps:
        act()
        await user.wait_for_text(next_question, STEP_TIMEOUT)


async def _race(user: HttpSimUser, course_id: int) -> None:
    user.press_data(f"courses:join:{course_id}")
    await user.wait_for_change(STEP_TIMEOUT)


async def _chaos(
    server: FakeBotAPIServer,
    database_url: str,
    tmp_path: Path,
    bots: list[Bot],
    db: async_sessionmaker[AsyncSession],
    *,
    standby: bool,
) -> None:
    association_id = await add_association(db, "انجمن صنفی فرش کرمان", status="active")
    course_id = await add_course(db, title="صادرات فرش", capacity=SEATS, starts_in=timedelta(days=7))
    numbers = iter(range(1000))

    async def started(*args: str) -> Bot:
        bot = Bot(server, database_url, tmp_path, next(numbers))
        bots.append(bot)
        await bot.start(*args)
        return bot

    active = await started()
    waiting = await started("--standby") if standby else None
    people = [HttpSimUser(server.state, 80_000 + i, first_name="متقاضی") for i in range(APPLICANTS)]
    racers = [HttpSimUser(server.state, 81_000 + i, first_name="شرکت‌کننده") for i in range(RACERS)]
    work: list[Awaitable[None]] = [_walk(u, association_id, _answers(i)) for i, u in enumerate(people)]
    work += [_race(u, course_id) for u in racers]
    everyone = asyncio.gather(*work)
    rng = random.Random(20261202)
    kills = 0
    await asyncio.sleep(3.0)  # the first process migrates and starts polling
    while kills < KILLS and not everyone.done():
        await asyncio.sleep(rng.uniform(0.4, 2.5))
        await active.kill()
        kills += 1
        if standby:
            assert waiting is not None
            active, waiting = waiting, await started("--standby")  # the standby takes over
        else:
            active = await started()  # restarted at once
    await asyncio.wait_for(everyone, STEP_TIMEOUT)
    assert kills >= KILLS // 2, f"only {kills} kills happened before everyone finished"
    pushed = set(server.state.pushed)

    async def unanswered() -> int:
        async with db() as session:
            done = set(
                await session.scalars(select(InboxUpdate.update_id).where(InboxUpdate.done_at.is_not(None)))
            )
        return len(pushed - done)

    async with asyncio.timeout(60):  # the last "done" marks are written in small batches
        while await unanswered():  # noqa: ASYNC110 (polling another process's writes)
            await asyncio.sleep(0.2)

    async with db() as session:
        applications = list(await session.scalars(select(Application).order_by(Application.user_id)))
        events = Counter(
            (a, action)
            for a, action in await session.execute(
                select(ApplicationEvent.application_id, ApplicationEvent.action)
            )
        )
        course = await session.get(Course, course_id)
        places = Counter(
            (
                await session.execute(select(Registration.status).where(Registration.course_id == course_id))
            ).scalars()
        )
        stored = {
            i: (handled, done)
            for i, handled, done in await session.execute(
                select(InboxUpdate.update_id, InboxUpdate.handled_at, InboxUpdate.done_at)
            )
        }
    # Every answer stored exactly once, every form complete with the right data.
    assert [a.user_id for a in applications] == [u.id for u in people]
    for index, application in enumerate(applications):
        answers = _answers(index)
        assert application.status == "submitted" and application.tracking_code
        assert application.full_name == answers["full_name"]
        assert application.national_id == answers["national_id"]
        assert application.mobile == "+98" + answers["mobile"][1:]
        assert application.business_name == answers["business_name"]
        assert application.experience_years == int(answers["experience_years"])
        assert events[(application.id, "created")] == 1 and events[(application.id, "submitted")] == 1
    # Seats exactly the capacity; everyone else waits, nobody twice.
    assert course is not None and course.taken == SEATS
    assert places == Counter({"registered": SEATS, "waiting": RACERS - SEATS})
    # No update lost: each one pushed is in the inbox, handled and answered.
    missing = pushed - stored.keys()
    assert not missing, f"{len(missing)} updates never reached the inbox"
    assert all(handled is not None and done is not None for handled, done in (stored[i] for i in pushed))
    # Replies repeated at most once per kill, for each person.
    for user in [*people, *racers]:
        texts = Counter(m.content for m in user.messages)
        repeated = sum(n - 1 for n in texts.values())
        assert repeated <= kills, (user.id, repeated, kills)


async def test_fifty_people_and_a_seat_rush_through_twenty_kills(
    server: FakeBotAPIServer,
    database_url: str,
    tmp_path: Path,
    bots: list[Bot],
    db: async_sessionmaker[AsyncSession],
) -> None:
    await _chaos(server, database_url, tmp_path, bots, db, standby=False)


async def test_the_same_with_a_standby_taking_over(
    server: FakeBotAPIServer,
    database_url: str,
    tmp_path: Path,
    bots: list[Bot],
    db: async_sessionmaker[AsyncSession],
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a standby takes over on PostgreSQL (SQLite: one machine, restarted at once)")
    await _chaos(server, database_url, tmp_path, bots, db, standby=True)


async def test_a_broadcast_to_two_thousand_killed_mid_batch_reaches_everyone(
    server: FakeBotAPIServer,
    database_url: str,
    tmp_path: Path,
    bots: list[Bot],
    db: async_sessionmaker[AsyncSession],
) -> None:
    recipients = list(range(90_000, 92_000))
    await add_users(db, recipients)
    async with db() as session, session.begin():
        broadcast = await outbox.create_broadcast(
            session, kind="announcement", text="جلسهٔ اعضا پنجشنبه ساعت ۱۰", recipients=recipients
        )
        broadcast_id = broadcast.id
    first = Bot(server, database_url, tmp_path, 0)
    bots.append(first)
    await first.start()

    def copies() -> Counter[int | str | None]:
        return Counter(
            c.chat_id for c in server.state.calls_to("sendMessage", ok=True) if c.chat_id in recipients
        )

    await server.state.wait_until(lambda: sum(copies().values()) >= 700, STEP_TIMEOUT)
    await first.kill()  # mid-batch
    second = Bot(server, database_url, tmp_path, 1)
    bots.append(second)
    await second.start()

    async def left() -> int:
        async with db() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.broadcast_id == broadcast_id, Delivery.status.in_(("pending", "sending")))
                )
                or 0
            )

    async with asyncio.timeout(STEP_TIMEOUT):
        while await left():  # noqa: ASYNC110 (polling another process's writes)
            await asyncio.sleep(0.2)
    received = copies()
    assert set(received) == set(recipients)  # nobody missed it
    async with db() as session:
        interrupted = set(
            await session.scalars(
                select(Delivery.user_id).where(
                    Delivery.broadcast_id == broadcast_id, Delivery.interrupted.is_(True)
                )
            )
        )
    twice = {chat for chat, n in received.items() if n > 1}
    assert twice <= interrupted and len(interrupted) <= 10  # only the requests in flight at the kill
