"""Every benchmark runs end to end at a tiny size and reports its keys (no timing is checked)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks import __main__ as cli
from benchmarks import broadcast, integrity, latency, memory, menu, seats, step
from benchmarks.harness import Rig, insert_users, national_id, percentile, persian_name, real_app
from bot.services.validators import normalize_national_id
from db.models import Delivery


def _has(result: dict[str, object], *keys: str) -> None:
    missing = [key for key in keys if key not in result]
    assert not missing, f"missing keys {missing} in {result}"


async def test_menu() -> None:
    result = await menu.run(users=2, rounds=1, warmup_rounds=1)
    _has(result, "bare_echo_ups", "menu_ups", "menu_ratio", "menu_same_replies_ratio", "menu_stall_p99_ms")
    _has(result, "menu_tap_transactions", "menu_tap_write_transactions", "menu_tap_statements")
    assert result["menu_errors"] == 0 and result["menu_updates"] == 10
    assert result["menu_tap_statements"] > 0  # the counters see the bot's SQL


async def test_step_writes_every_answer() -> None:
    result = await step.run(users=3, sqlite_count=10)
    _has(result, "sqlite_tx_per_s", "step_ups", "step_ratio", "step_orm_floor_ratio", "step_orm_floor_per_s")
    _has(result, "step_transactions", "step_write_transactions", "step_statements", "step_ups_without_inbox")
    assert result["step_written"] == 3 and result["step_errors"] == 0
    assert result["step_statements"] > 0


async def test_latency() -> None:
    result = await latency.run(rate=40.0, seconds=0.3, users=4)
    _has(result, "latency_p50_ms", "latency_p99_ms", "unhandled")
    assert result["unhandled"] == 0 and result["latency_updates"] == 12


async def test_integrity_checks_the_database() -> None:
    result = await integrity.run(users=4)
    assert result["integrity_completed"] == 4
    assert result["integrity_wrong_state"] == 0 and result["integrity_errors"] == 0


async def test_memory() -> None:
    result = await memory.run(users_on_record=50, conversations=20, warmup=5)
    _has(result, "memory_mb_per_10k_conversations", "max_loop_stall_ms")
    assert result["memory_open_conversations"] == 25 and result["memory_errors"] == 0


async def test_seats_reports_its_keys() -> None:
    result = await seats.run(signups=10, seats=2)
    _has(result, "seats_booked", "seats_waiting", "seats_attempts_per_s")
    _has(result, "seats_statements_per_signup", "seats_transactions_per_signup")
    assert (result["seats_booked"], result["seats_waiting"], result["seats_failed"]) == (2, 8, 0)
    assert result["seats_told_booked"] == 2


async def test_broadcast_baseline_and_keys() -> None:
    result = await broadcast.run(recipients=4, baseline_recipients=4)
    _has(result, "broadcast_per_s", "broadcast_limit_per_s", "broadcast_429", "broadcast_duplicates")
    _has(result, "chat_p99_ms", "broadcast_baseline_per_s", "broadcast_baseline_429", "outgoing_total_per_s")
    assert result["broadcast_baseline_duplicates"] == 0
    assert result["broadcast_limit_per_s"] == 30
    assert (result["broadcast_duplicates"], result["broadcast_undelivered"]) == (0, 0)


def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", "--only", "seats"]) == 0
    printed = json.loads(capsys.readouterr().out)
    _has(printed, "seats_booked", "max_loop_stall_ms", "stall_p99_ms", "machine", "notes")


def test_table_marks_goals() -> None:
    results = {"menu_same_replies_ratio": 0.4, "unhandled": 0, "seats_booked": None}
    assert "MISSED" in cli.verdict("menu_same_replies_ratio", 0.4, results)
    for key in ("menu_same_replies_ratio", "step_orm_floor_ratio", "outgoing_total_per_s", "stall_p99_ms"):
        assert key in cli.GOALS
    assert "ok" in cli.verdict("unhandled", 0, results)
    assert "not measured" in cli.verdict("seats_booked", None, results)


def test_generated_answers_are_valid() -> None:
    for i in range(200):
        assert normalize_national_id(national_id(i)) == national_id(i)
    assert len({persian_name(i) for i in range(500)}) == 500
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert percentile([], 0.99) is None


# The seats and broadcast drivers wait for their real targets (the lead wires them in); these
# minimal targets on the real database and fake API check that the drivers count correctly.


async def _prepare_seats(sessionmaker: async_sessionmaker[AsyncSession], seats_total: int) -> int:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("CREATE TABLE IF NOT EXISTS bench_seats (course INTEGER, user_id INTEGER, booked BOOLEAN)")
        )
        await session.execute(text("CREATE TABLE IF NOT EXISTS bench_courses (id INTEGER, seats INTEGER)"))
        await session.execute(text("INSERT INTO bench_courses VALUES (1, :seats)"), {"seats": seats_total})
    return 1


async def _sign_up(sessionmaker: async_sessionmaker[AsyncSession], course: int, user_id: int) -> bool:
    async with sessionmaker() as session, session.begin():  # BEGIN IMMEDIATE: one writer at a time
        taken = await session.scalar(
            text("SELECT count(*) FROM bench_seats WHERE course = :c AND booked"), {"c": course}
        )
        seats_total = await session.scalar(
            text("SELECT seats FROM bench_courses WHERE id = :c"), {"c": course}
        )
        booked = int(taken or 0) < int(seats_total or 0)
        await session.execute(
            text("INSERT INTO bench_seats VALUES (:c, :u, :b)"), {"c": course, "u": user_id, "b": booked}
        )
    return booked


async def _count_seats(sessionmaker: async_sessionmaker[AsyncSession], course: int) -> tuple[int, int]:
    async with sessionmaker() as session:
        rows = (await session.execute(text("SELECT booked, count(*) FROM bench_seats GROUP BY booked"))).all()
    counts = {bool(booked): int(number) for booked, number in rows}
    return counts.get(True, 0), counts.get(False, 0)


async def test_seats_rush_counts_what_the_database_holds() -> None:
    target = seats.SeatsTarget(prepare=_prepare_seats, sign_up=_sign_up, count=_count_seats)
    async with real_app() as rig:
        figures = await seats.rush(target, rig.app.bot_data.sessionmaker, 3, list(range(1, 21)))
    assert (figures["booked"], figures["waiting"], figures["failed"], figures["told_booked"]) == (3, 17, 0, 3)


async def test_broadcast_driver_measures_a_sender() -> None:
    async def paced_sender(rig: Rig, broadcast_id: int) -> None:
        async with rig.app.bot_data.sessionmaker() as session:
            deliveries = (
                await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id))
            ).all()
        for delivery in deliveries:
            await rig.app.bot.send_message(delivery.user_id, broadcast.TEXT)
            await asyncio.sleep(1 / 20)

    async with real_app(running=True) as rig:
        rig.api.enforce_limits(global_per_s=30, per_chat_per_s=1, window=1.0)
        recipients = list(range(2_000_000, 2_000_005))
        await insert_users(rig, recipients)
        figures = await broadcast._with_sender(rig, paced_sender, recipients)
    assert figures["broadcast_429"] == 0 and figures["broadcast_duplicates"] == 0
    assert figures["broadcast_undelivered"] == 0 and figures["chat_failed"] == 0
