"""Every benchmark runs end to end at a tiny size and reports its keys (no timing is checked)."""

from __future__ import annotations

import json

import pytest

from benchmarks import __main__ as cli
from benchmarks import broadcast, integrity, latency, memory, menu, seats, step
from benchmarks.harness import national_id, percentile, persian_name
from bot.services.validators import normalize_national_id


def _has(result: dict[str, object], *keys: str) -> None:
    missing = [key for key in keys if key not in result]
    assert not missing, f"missing keys {missing} in {result}"


async def test_menu() -> None:
    result = await menu.run(users=2, rounds=1, warmup_rounds=1)
    _has(result, "bare_echo_ups", "menu_ups", "menu_ratio")
    assert result["menu_errors"] == 0 and result["menu_updates"] == 10


async def test_step_writes_every_answer() -> None:
    result = await step.run(users=3, sqlite_count=10)
    _has(result, "sqlite_tx_per_s", "step_ups", "step_ratio")
    assert result["step_written"] == 3 and result["step_errors"] == 0


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
    if seats.target_status() is not None:
        assert result["seats_booked"] is None and "seats_note" in result


async def test_broadcast_baseline_and_keys() -> None:
    result = await broadcast.run(recipients=4, baseline_recipients=4)
    _has(result, "broadcast_per_s", "broadcast_limit_per_s", "broadcast_429", "broadcast_duplicates")
    _has(result, "chat_p99_ms", "broadcast_baseline_per_s", "broadcast_baseline_429")
    assert result["broadcast_baseline_duplicates"] == 0
    assert result["broadcast_limit_per_s"] == 30
    if broadcast.sender_status() is not None:
        assert result["broadcast_per_s"] is None and "broadcast_note" in result


def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", "--only", "seats"]) == 0
    printed = json.loads(capsys.readouterr().out)
    _has(printed, "seats_booked", "max_loop_stall_ms", "machine", "notes")


def test_table_marks_goals() -> None:
    results = {"menu_ratio": 0.4, "unhandled": 0, "seats_booked": None}
    assert "MISSED" in cli.verdict("menu_ratio", 0.4, results)
    assert "ok" in cli.verdict("unhandled", 0, results)
    assert "not measured" in cli.verdict("seats_booked", None, results)


def test_generated_answers_are_valid() -> None:
    for i in range(200):
        assert normalize_national_id(national_id(i)) == national_id(i)
    assert len({persian_name(i) for i in range(500)}) == 500
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert percentile([], 0.99) is None
