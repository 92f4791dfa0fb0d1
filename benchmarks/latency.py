"""`latency`: an open loop of updates at a fixed rate with a 50 ms Bot API round trip.

Updates arrive on schedule whether or not earlier ones are done (as Telegram delivers them), from
a pool of users who each send /start, press Help, send /help and type a free text, in turn. The
latency of an update runs from its scheduled arrival to the end of its processing (handlers, Bot
API calls, conversation state saved). Presses are reported apart too: a press costs two round
trips (answerCallbackQuery, then editMessageText).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from benchmarks.harness import (
    ROUND_TRIP,
    Rig,
    Timer,
    percentile,
    real_app,
    rounded,
    simulated_users,
    watching_stalls,
)
from fakeapi.simulator import UserUpdates
from fakeapi.state import JSON

FIRST_USER = 300_000
GRACE = 10.0  # seconds to wait for stragglers after the last arrival


def _sequence(user: UserUpdates) -> list[tuple[str, Callable[[], JSON]]]:
    return [
        ("message", lambda: user.command_update("start")),
        ("press", lambda: user.callback_update("menu:help")),
        ("message", lambda: user.command_update("help")),
        ("message", lambda: user.text_update("سلام، وقت بخیر")),
    ]


async def _timed(rig: Rig, data: JSON, due: float, kind: str, out: dict[str, list[float]]) -> None:
    loop = asyncio.get_running_loop()
    await rig.feed(data)
    out[kind].append((loop.time() - due) * 1000)


async def run(rate: float = 200.0, seconds: float = 60.0, users: int = 2000) -> dict[str, Any]:
    """rate × seconds updates, spread over `users` users (each writes every users/rate seconds)."""
    total = int(rate * seconds)
    samples: dict[str, list[float]] = {"message": [], "press": []}
    async with real_app(latency=ROUND_TRIP) as rig, watching_stalls() as stalls:
        rig.api.keep_only_latest()  # the fake keeps no history for the bot's collections to scan
        people = simulated_users(rig.api, FIRST_USER, users)
        scripts = [itertools.cycle(_sequence(user)) for user in people]
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()
        start = loop.time() + 0.1
        timer = Timer().__enter__()
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, build = next(scripts[i % users])
            task = asyncio.create_task(_timed(rig, build(), due, kind, samples))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        unfinished = 0
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=GRACE)
            unfinished = len(pending)
            for task in pending:
                task.cancel()
        timer.__exit__()
        errors = len(rig.sim.errors)
    every = samples["message"] + samples["press"]
    return {
        "latency_p50_ms": rounded(percentile(every, 0.50)),
        "latency_p99_ms": rounded(percentile(every, 0.99)),
        "unhandled": unfinished + errors,
        "latency_message_p99_ms": rounded(percentile(samples["message"], 0.99)),
        "latency_press_p99_ms": rounded(percentile(samples["press"], 0.99)),
        "latency_updates": total,
        # CPU this process used per update, and the share of one core it got (starved when ≪ need).
        "latency_cpu_ms": round(timer.cpu * 1000 / total, 3),
        "latency_cpu_share": round(timer.cpu / timer.seconds, 2),
        "latency_rate": rate,
        "latency_stall_ms": stalls.max_stall_ms,
    }
