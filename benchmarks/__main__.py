"""`python -m benchmarks [--quick] [--json] [--only menu,step] [--no-gc-freeze]`

Runs the benchmarks one after another (memory first, on a clean heap) and prints a table, or with
`--json` exactly one JSON object on stdout (progress goes to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import telegram

from benchmarks import broadcast, harness, integrity, latency, memory, menu, seats, step

Runner = Callable[..., Coroutine[Any, Any, dict[str, Any]]]

# name → (function, full sizes, --quick sizes); memory runs first so its heap is clean.
BENCHMARKS: dict[str, tuple[Runner, dict[str, Any], dict[str, Any]]] = {
    "memory": (
        memory.run,
        {"users_on_record": 100_000, "conversations": 10_000, "warmup": 1_000},
        {"users_on_record": 100_000, "conversations": 2_000, "warmup": 500},
    ),
    "menu": (menu.run, {"users": 1_000, "rounds": 2}, {"users": 500, "rounds": 1}),
    "step": (step.run, {"users": 2_000, "sqlite_count": 5_000}, {"users": 500, "sqlite_count": 2_000}),
    "latency": (
        latency.run,
        {"rate": 200.0, "seconds": 60.0, "users": 2_000},
        {"rate": 200.0, "seconds": 20.0, "users": 1_000},
    ),
    "integrity": (integrity.run, {"users": 1_000}, {"users": 1_000}),
    "seats": (seats.run, {"signups": 1_000, "seats": 50}, {"signups": 1_000, "seats": 50}),
    "broadcast": (
        broadcast.run,
        {"recipients": 10_000, "baseline_recipients": 900},
        {"recipients": 900, "baseline_recipients": 900},
    ),
}

# key → (comparison, goal); a goal of None means "equal to the number of users" (filled in below).
GOALS: dict[str, tuple[str, float]] = {
    "menu_same_replies_ratio": (">=", 0.7),
    "step_orm_floor_ratio": (">=", 0.7),
    "outgoing_total_per_s": (">=", 27),
    "stall_p99_ms": ("<=", 10),
    "latency_p99_ms": ("<=", 100),
    "unhandled": ("==", 0),
    "integrity_wrong_state": ("==", 0),
    "broadcast_per_s": (">=", 27),
    "broadcast_429": ("==", 0),
    "broadcast_duplicates": ("==", 0),
    "chat_p99_ms": ("<=", 500),
    "seats_booked": ("==", 50),
    "seats_waiting": ("==", 950),
    "seats_attempts_per_s": (">=", 500),
    "seats_postgres_booked": ("==", 50),
    "seats_postgres_attempts_per_s": (">=", 500),
    "memory_mb_per_10k_conversations": ("<=", 10),
    "max_loop_stall_ms": ("<=", 50),
    "gc_pause_max_ms": ("<=", 50),
}


def verdict(key: str, value: Any, results: dict[str, Any]) -> str:
    goal = GOALS.get(key)
    if key == "integrity_completed":
        goal = ("==", results.get("integrity_users", 1000))
    if goal is None:
        return ""
    comparison, target = goal
    if value is None:
        return f"{comparison} {target:g}: not measured"
    met = {">=": value >= target, "<=": value <= target, "==": value == target}[comparison]
    return f"{comparison} {target:g}: {'ok' if met else 'MISSED'}"


def table(results: dict[str, Any]) -> str:
    rows = [("key", "value", "goal")]
    for key, value in results.items():
        if key in ("machine", "notes"):
            continue
        shown = "null" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        rows.append((key, shown, verdict(key, value, results)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    machine = results["machine"]
    lines.append("")
    lines.append(
        f"{machine['cpus']} CPUs, Python {machine['python']}, python-telegram-bot {machine['ptb']}, "
        f"{'quick' if machine['quick'] else 'full'} run, {machine['seconds']} s, "
        f"load average at the end {machine['load_average']}"
    )
    lines += [f"note: {note}" for note in results["notes"]]
    return "\n".join(lines)


def profiled(runner: Runner, sizes: dict[str, Any]) -> dict[str, Any]:
    """Run one benchmark under pyinstrument (a developer tool, not a project dependency)."""
    try:
        from pyinstrument import Profiler
    except ModuleNotFoundError:
        sys.exit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
    profiler = Profiler(async_mode="disabled")
    profiler.start()
    try:
        return asyncio.run(runner(**sizes))
    finally:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False), file=sys.stderr)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object for machines")
    parser.add_argument("--quick", action="store_true", help="smaller runs (within 3 minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="do not freeze the start-up heap as the bot does (to measure what the freeze brings)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a pyinstrument profile of each benchmark to stderr (pip install pyinstrument)",
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    args.names = names or list(BENCHMARKS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.disable(logging.CRITICAL)  # 429s and errors are counted, not printed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = run(args)
    finally:
        logging.disable(logging.NOTSET)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        print(table(results))
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen benchmarks; every key, plus `machine` and `notes`."""
    harness.GC_FREEZE = not args.no_gc_freeze
    harness.ensure_catalog()
    results: dict[str, Any] = {}
    notes: list[str] = []
    started = time.perf_counter()
    for name in args.names:
        runner, full, quick = BENCHMARKS[name]
        print(f"running {name}…", file=sys.stderr, flush=True)
        sizes = quick if args.quick else full
        collections_before = len(harness.STALLS.gc_pauses)
        figures: dict[str, Any] = profiled(runner, sizes) if args.profile else asyncio.run(runner(**sizes))
        notes += [f"{name}: {figures.pop(key)}" for key in list(figures) if key.endswith("_note")]
        results |= figures
        pauses = harness.STALLS.gc_pauses[collections_before:]
        results[f"{name}_gc_pause_ms"] = round(max(pauses, default=0.0) * 1000, 1)
    results["max_loop_stall_ms"] = harness.STALLS.max_stall_ms
    results["stall_p99_ms"] = harness.STALLS.p99_ms
    results["gc_pause_max_ms"] = harness.STALLS.gc_pause_max_ms
    if args.no_gc_freeze:
        notes.append("run with --no-gc-freeze (the start-up heap not frozen, unlike the bot)")
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ptb": telegram.__version__,
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    results["notes"] = notes
    return results


if __name__ == "__main__":
    sys.exit(main())
