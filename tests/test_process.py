"""The real process: `python -m bot run` against a Bot API served on 127.0.0.1, killed and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi.server import FakeBotAPIServer
from fakeapi.simulator import HttpSimUser
from fakeapi.state import FakeTelegram
from tests.conftest import TOKEN

pytestmark = pytest.mark.slow
ROOT = str(Path(__file__).resolve().parents[1])
STARTUP_TIMEOUT = 60.0


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPIServer]:
    state = FakeTelegram()
    async with FakeBotAPIServer(state) as running:
        yield running


class BotProcess:
    """One `python -m bot run` child process."""

    def __init__(self, server: FakeBotAPIServer, database_url: str, workdir: Path) -> None:
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": ROOT,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "TELEGRAM_API_FILE_URL": server.base_file_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "INFO",
        }
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *args,
            cwd=self.workdir,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return self.process

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


@pytest.fixture
async def bots(
    server: FakeBotAPIServer, database_url: str, tmp_path: Path
) -> AsyncIterator[list[BotProcess]]:
    made: list[BotProcess] = []
    yield made
    for bot in made:
        await bot.kill()


async def test_start_kill_9_and_resume(
    server: FakeBotAPIServer, database_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    state = server.state
    first = BotProcess(server, database_url, tmp_path)
    bots.append(first)
    await first.start()
    user = HttpSimUser(state, 7001, first_name="نرگس")
    user.command("/start")
    reply = await user.wait_for_reply(STARTUP_TIMEOUT)
    assert "سلام نرگس" in reply.content
    assert "مشخصات من" in reply.buttons and "راهنما" in reply.buttons
    assert state.commands_for(language_code="fa"), "setMyCommands was not published in Persian"

    user.command("/profile")
    assert "نام و نام خانوادگی" in (await user.wait_for_reply()).content
    user.send("نرگس کرمانی")
    assert "کد ملی" in (await user.wait_for_reply()).content

    # A second instance on the same database refuses to poll.
    second = BotProcess(server, database_url, tmp_path)
    bots.append(second)
    process = await second.start()
    _out, err = await asyncio.wait_for(process.communicate(), STARTUP_TIMEOUT)
    assert process.returncode == 3
    assert "another instance" in err.decode()

    await first.kill()  # kill -9 mid-conversation
    third = BotProcess(server, database_url, tmp_path)
    bots.append(third)
    await third.start()
    user.send("۰۴۹۹۳۷۰۸۹۹")
    assert "شمارهٔ همراه" in (await user.wait_for_reply(STARTUP_TIMEOUT)).content
    user.send("09121234567")
    assert "کدام شهر" in (await user.wait_for_reply()).content

    # SIGTERM stops it cleanly.
    assert third.process is not None
    third.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(third.process.wait(), 30)
    assert third.process.returncode == 0


async def test_standby_takes_over_when_the_active_instance_dies(
    server: FakeBotAPIServer, database_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    from collections import Counter

    from sqlalchemy import select

    from bot.services import outbox
    from db.models import Delivery, User
    from db.session import create_engine, create_sessionmaker

    state = server.state
    recipients = list(range(7700, 7820))
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            session.add_all([User(id=i, first_name="عضو") for i in recipients])
            await session.flush()
            await outbox.create_broadcast(
                session, kind="announcement", text="جلسهٔ اعضا", recipients=recipients
            )
    finally:
        await engine.dispose()

    def copies() -> Counter[int | str | None]:
        return Counter(c.chat_id for c in state.calls_to("sendMessage", ok=True) if c.chat_id in recipients)

    active, standby = BotProcess(server, database_url, tmp_path), BotProcess(server, database_url, tmp_path)
    bots += [active, standby]
    await active.start()
    user = HttpSimUser(state, 7101, first_name="امید")
    user.command("/profile")
    assert "نام و نام خانوادگی" in (await user.wait_for_reply(STARTUP_TIMEOUT)).content
    await standby.start("--standby")
    user.send("امید باقری")
    assert "کد ملی" in (await user.wait_for_reply()).content
    assert standby.process is not None and standby.process.returncode is None  # waiting, not exited
    await state.wait_until(
        lambda: sum(copies().values()) >= 20, STARTUP_TIMEOUT
    )  # the broadcast is under way

    await active.kill()
    user.send("0499370899")
    assert "شمارهٔ همراه" in (await user.wait_for_reply(STARTUP_TIMEOUT)).content
    # Exactly one answer to that update: the standby took over, nobody answered twice.
    assert len([m for m in user.messages if "شمارهٔ همراه" in m.content]) == 1
    # The standby finishes the broadcast: everyone gets it. A copy can arrive twice only when it was in
    # flight at the kill (the sender cannot know whether Telegram got it); those are marked interrupted.
    await state.wait_until(lambda: set(copies()) == set(recipients), 60)
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            interrupted = set(
                await session.scalars(select(Delivery.user_id).where(Delivery.interrupted.is_(True)))
            )
    finally:
        await engine.dispose()
    twice = {chat for chat, n in copies().items() if n > 1}
    assert twice <= interrupted, (twice, interrupted)
    assert len(interrupted) <= 30  # at most what was in flight at the kill
    assert max(copies().values()) <= 2
