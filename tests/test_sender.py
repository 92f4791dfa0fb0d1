"""The sender: 2,000 recipients with blocked users and 429s, crash and resume, transient errors."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.context import BotApplication
from bot.services import outbox
from bot.services.sender import SenderConfig, report
from db.models import Delivery, User
from db.models.outbox import D_FAILED, D_SENT, DONE
from fakeapi.state import FakeTelegram
from tests.broadcast_helpers import FAST, copies, start_sender, wait_finished
from tests.conftest import AppFactory
from tests.factories import add_users

RECIPIENTS = list(range(100_000, 102_000))
BLOCKED = RECIPIENTS[::20]  # 5%


async def _queue(app: BotApplication, recipients: list[int], text: str = "اطلاعیهٔ <b>مهم</b>") -> int:
    async with app.bot_data.sessionmaker() as session, session.begin():
        broadcast = await outbox.create_broadcast(
            session, kind="announcement", text=text, recipients=recipients
        )
        return broadcast.id


async def _inject_429s(api: FakeTelegram, at: list[int]) -> None:
    """Answer 429 (retry_after 1) when the sender has sent `at[i]` messages."""
    for threshold in at:
        await api.wait_until(lambda t=threshold: len(api.calls_to("sendMessage", ok=True)) >= t, timeout=60)
        api.rate_limit_once(1, times=2)


async def test_two_thousand_with_blocked_users_and_429s(app: BotApplication, api: FakeTelegram) -> None:
    await add_users(app, RECIPIENTS)
    for chat_id in BLOCKED:
        api.block_chat(chat_id)
    broadcast_id = await _queue(app, RECIPIENTS)
    injector = asyncio.create_task(_inject_429s(api, [300, 900, 1500]))
    await start_sender(app)
    result = await wait_finished(app, broadcast_id)
    await injector

    received = copies(api)
    reachable = set(RECIPIENTS) - set(BLOCKED)
    assert set(received) == reachable
    assert all(n == 1 for n in received.values())
    assert api.too_many_requests == 6
    assert app.bot_data.delivery.sender is not None and app.bot_data.delivery.sender.rate_limited == 6
    assert result.status == DONE
    assert (result.total, result.sent, result.blocked, result.failed, result.remaining) == (
        2000,
        1900,
        100,
        0,
        0,
    )
    assert result.sent + result.blocked + result.failed + result.skipped + result.remaining == result.total
    async with app.bot_data.sessionmaker() as session:
        marked = set(await session.scalars(select(User.id).where(User.blocked_bot.is_(True))))
    assert marked == set(BLOCKED)

    # A second broadcast does not even try the users known to have blocked the bot.
    before = len(api.calls_to("sendMessage", ok=False))
    second = await _queue(app, RECIPIENTS[:100], text="دوم")
    app.bot_data.delivery.wake()
    again = await wait_finished(app, second)
    assert (again.sent, again.blocked) == (95, 5)
    assert len(api.calls_to("sendMessage", ok=False)) == before


async def test_crash_in_the_middle_reaches_everyone_repeating_only_the_copies_in_flight(
    make_app: AppFactory, api: FakeTelegram
) -> None:
    first = await make_app()
    await add_users(first, RECIPIENTS)
    for chat_id in BLOCKED:
        api.block_chat(chat_id)
    broadcast_id = await _queue(first, RECIPIENTS)
    await start_sender(first)
    await api.wait_until(lambda: len(api.calls_to("sendMessage")) >= 700, timeout=60)
    task = first.bot_data.delivery.task
    assert task is not None
    task.cancel()  # the process dies: the copies in flight are not recorded
    await asyncio.gather(task, return_exceptions=True)
    sent_before_crash = len(api.calls_to("sendMessage", ok=True))
    assert sent_before_crash < 1900

    second = await make_app()  # stops the first, builds a new one on the same database
    await start_sender(second)
    result = await wait_finished(second, broadcast_id)

    received = copies(api)
    reachable = set(RECIPIENTS) - set(BLOCKED)
    assert set(received) >= reachable  # nobody missed it
    async with second.bot_data.sessionmaker() as session:
        rows = (await session.execute(select(Delivery.user_id, Delivery.status, Delivery.interrupted))).all()
    interrupted = {user for user, _status, was in rows if was}
    sent = {user for user, status, _ in rows if status == D_SENT}
    assert sent == reachable
    # Only a copy in flight at the crash can have arrived twice; they are at most one batch.
    twice = {user for user, n in received.items() if n > 1}
    assert twice <= interrupted and len(interrupted) <= FAST.batch_size
    assert max(received.values()) <= 2
    assert result.interrupted == len(interrupted & sent)
    assert result.sent + result.blocked + result.failed == 2000 and result.remaining == 0


async def test_transient_errors_are_retried_with_back_off(app: BotApplication, api: FakeTelegram) -> None:
    await add_users(app, [5001, 5002, 5003])
    api.fail_next(times=2, code=502, method="sendMessage")
    broadcast_id = await _queue(app, [5001, 5002, 5003])
    await start_sender(app, SenderConfig(**{**FAST.__dict__, "batch_size": 1}))
    result = await wait_finished(app, broadcast_id)
    assert (result.sent, result.failed) == (3, 0)
    assert copies(api) == {5001: 1, 5002: 1, 5003: 1}
    async with app.bot_data.sessionmaker() as session:
        attempts = dict((await session.execute(select(Delivery.user_id, Delivery.attempts))).all())
    assert attempts[5001] == 3 and attempts[5002] == 1


async def test_permanent_and_repeated_transient_failures_are_recorded(
    app: BotApplication, api: FakeTelegram
) -> None:
    await add_users(app, [5101, 5102, 5103])
    api.fail_chat(5101, 400, "Bad Request: chat not found")
    api.fail_chat(5102, 502, "Bad Gateway")
    broadcast_id = await _queue(app, [5101, 5102, 5103])
    await start_sender(app)
    result = await wait_finished(app, broadcast_id)
    assert (result.sent, result.failed, result.blocked) == (1, 2, 0)
    async with app.bot_data.sessionmaker() as session:
        rows = {
            u: (s, e, a)
            for u, s, e, a in (
                await session.execute(
                    select(Delivery.user_id, Delivery.status, Delivery.last_error, Delivery.attempts)
                )
            ).all()
        }
    assert rows[5101][0] == D_FAILED and "chat not found" in (rows[5101][1] or "").lower()
    assert rows[5102][0] == D_FAILED and rows[5102][2] == FAST.max_attempts
    assert len(api.calls_to("sendMessage", 5102)) == FAST.max_attempts


async def test_group_migration_is_followed(app: BotApplication, api: FakeTelegram) -> None:
    api.migrate_chat(-5201, -1005201)
    broadcast_id = await _queue(app, [-5201])
    await start_sender(app)
    result = await wait_finished(app, broadcast_id)
    assert result.sent == 1
    assert copies(api) == {-1005201: 1}


async def test_not_before_holds_a_reminder_back(app: BotApplication, api: FakeTelegram) -> None:
    from datetime import UTC, datetime, timedelta

    await add_users(app, [5301])
    async with app.bot_data.sessionmaker() as session, session.begin():
        later = await outbox.create_broadcast(
            session,
            kind="reminder",
            text="یادآوری",
            recipients=[5301],
            not_before=datetime.now(UTC) + timedelta(days=1),
            dedupe_key="course:1:reminder:24h",
        )
        now = await outbox.create_broadcast(session, kind="reminder", text="الان", recipients=[5301])
    await start_sender(app)
    result = await wait_finished(app, now.id)
    assert result.sent == 1
    async with app.bot_data.sessionmaker() as session:
        held = await session.get(type(later), later.id)
        assert held is not None and held.status == "pending"
    assert [c.params["text"] for c in api.calls_to("sendMessage", 5301)] == ["الان"]


async def test_blocked_user_is_forgotten_by_the_seen_cache(
    sim: object, app: BotApplication, api: FakeTelegram
) -> None:
    from fakeapi.simulator import Simulator

    assert isinstance(sim, Simulator)
    user = sim.user(5401)
    await user.command("/start")
    assert len(app.bot_data.seen) == 1
    api.block_chat(5401)
    broadcast_id = await _queue(app, [5401])
    await start_sender(app)
    result = await wait_finished(app, broadcast_id)
    assert result.blocked == 1 and len(app.bot_data.seen) == 0
    # They come back: their next message clears the mark.
    api.unblock_chat(5401)
    await user.command("/start")
    async with app.bot_data.sessionmaker() as session:
        row = await session.get(User, 5401)
        assert row is not None and row.blocked_bot is False


async def test_default_pacing_draws_no_429_from_a_strict_fake(app: BotApplication, api: FakeTelegram) -> None:
    """Telegram's own numbers (30/s, 1/s per chat) against a fake that enforces them strictly."""
    recipients = list(range(5500, 5560))
    await add_users(app, recipients)
    api.enforce_limits()
    broadcast_id = await _queue(app, recipients)
    await start_sender(app, SenderConfig(idle_wait=0.2, stop_check=0.05))
    result = await wait_finished(app, broadcast_id)
    assert result.sent == 60
    assert api.too_many_requests == 0
    assert set(copies(api)) == set(recipients)


async def test_a_clean_stop_loses_nothing(make_app: AppFactory, api: FakeTelegram) -> None:
    first = await make_app()
    recipients = list(range(5600, 5800))
    await add_users(first, recipients)
    broadcast_id = await _queue(first, recipients)
    await start_sender(first, SenderConfig(**{**FAST.__dict__, "global_rate": 200.0, "batch_size": 5}))
    await api.wait_until(lambda: len(api.calls_to("sendMessage")) >= 30, timeout=30)
    await first.stop()  # graceful: the sender finishes its call in hand and returns the rest to the queue
    async with first.bot_data.sessionmaker() as session:
        halfway = await report(session, broadcast_id)
    assert halfway.sending == 0 and halfway.interrupted == 0 and 0 < halfway.sent < 200
    second = await make_app()
    await start_sender(second)
    result = await wait_finished(second, broadcast_id)
    assert (result.sent, result.failed) == (200, 0)
    assert copies(api) == dict.fromkeys(recipients, 1)
