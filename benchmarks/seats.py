"""`seats`: many people signing up at once for a course with few seats.

1,000 sign-ups arrive together for 50 seats; exactly 50 may be booked and the rest wait, however
the transactions interleave (SQLite with BEGIN IMMEDIATE here; PostgreSQL too when
TEST_DATABASE_URL is set). The seats service (`bot/services/seats.py`, the courses feature) is
measured through `TARGET` once it is wired in below; until then the keys are null with a note,
never made-up numbers.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.harness import Timer, insert_users, real_app, watching_stalls

FIRST_USER = 3_000_000


@dataclass(frozen=True)
class SeatsTarget:
    """How to drive the seats service: `prepare` makes a course with `seats` seats and returns its id;
    `sign_up` books or wait-lists one user in its own transaction and returns True when booked;
    `count` returns (booked, waiting) as stored in the database."""

    prepare: Callable[[async_sessionmaker[AsyncSession], int], Awaitable[int]]
    sign_up: Callable[[async_sessionmaker[AsyncSession], int, int], Awaitable[bool]]
    count: Callable[[async_sessionmaker[AsyncSession], int], Awaitable[tuple[int, int]]]


# Wired in by whoever lands bot/services/seats.py; None means not wired yet.
TARGET: SeatsTarget | None = None


def target_status() -> str | None:
    """None when the seats service can be measured, else why not."""
    if importlib.util.find_spec("bot.services.seats") is None:
        return "not built yet: bot/services/seats.py is not in this tree"
    if TARGET is None:
        return "bot/services/seats.py exists but is not wired into benchmarks/seats.py (TARGET)"
    return None


async def rush(
    target: SeatsTarget, sessionmaker: async_sessionmaker[AsyncSession], seats: int, user_ids: list[int]
) -> dict[str, Any]:
    """Everyone signs up at the same moment; the database decides who gets a seat."""
    course_id = await target.prepare(sessionmaker, seats)
    with Timer() as timer:
        outcomes = await asyncio.gather(
            *(target.sign_up(sessionmaker, course_id, user_id) for user_id in user_ids),
            return_exceptions=True,
        )
    booked, waiting = await target.count(sessionmaker, course_id)
    return {
        "booked": booked,
        "waiting": waiting,
        "attempts_per_s": round(len(user_ids) / timer.seconds),
        "failed": sum(isinstance(outcome, BaseException) for outcome in outcomes),
        "told_booked": sum(outcome is True for outcome in outcomes),
    }


async def run(signups: int = 1000, seats: int = 50) -> dict[str, Any]:
    result: dict[str, Any] = {"seats_booked": None, "seats_waiting": None, "seats_attempts_per_s": None}
    note = target_status()
    if note is not None or TARGET is None:
        result["seats_note"] = note
        return result
    async with watching_stalls() as stalls, real_app() as rig:
        user_ids = list(range(FIRST_USER, FIRST_USER + signups))
        await insert_users(rig, user_ids)
        figures = await rush(TARGET, rig.app.bot_data.sessionmaker, seats, user_ids)
    result |= {f"seats_{key}": value for key, value in figures.items()}
    result["seats_stall_ms"] = stalls.max_stall_ms
    postgres = os.environ.get("TEST_DATABASE_URL", "")
    if postgres:
        result |= await _on_postgres(TARGET, postgres, seats, signups)
    return result


async def _on_postgres(target: SeatsTarget, url: str, seats: int, signups: int) -> dict[str, Any]:
    """The same rush on PostgreSQL (the database must be migrated; users are inserted here)."""
    from sqlalchemy import delete, insert

    from db.models import User
    from db.session import create_engine, create_sessionmaker

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    user_ids = list(range(FIRST_USER, FIRST_USER + signups))
    try:
        async with sessionmaker() as session, session.begin():
            await session.execute(delete(User).where(User.id.in_(user_ids)))
            await session.execute(insert(User), [{"id": i, "first_name": "کاربر"} for i in user_ids])
        figures = await rush(target, sessionmaker, seats, user_ids)
    finally:
        await engine.dispose()
    return {f"seats_postgres_{key}": value for key, value in figures.items()}
