"""`step`: a conversation step that writes its answer, vs raw aiosqlite single-row transactions.

The baseline commits one-row upserts one after another on one aiosqlite connection, on a copy of
the migrated database with the bot's pragmas (WAL, synchronous=NORMAL, busy_timeout): what SQLite
itself allows. The application side runs the profile conversation's name and city steps for many
users at once (each answer validated and written in its own transaction, the conversation state
saved, the next question sent), so the per-user processor can overlap users.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import func, insert, select

from benchmarks.harness import (
    Rig,
    Timer,
    fresh_database,
    insert_users,
    mobile,
    national_id,
    persian_name,
    ratio,
    real_app,
    simulated_users,
    watching_stalls,
)
from db.models import Profile
from db.session import SQLITE_BUSY_TIMEOUT_MS
from tests.fakeapi.simulator import UserUpdates

FIRST_USER = 200_000
CITIES = ["کرمان", "رفسنجان", "سیرجان", "بم", "جیرفت", "زرند"]


async def sqlite_transactions(count: int) -> float:
    """Single-row transactions per second on a fresh migrated file with the bot's pragmas."""
    folder = Path(tempfile.mkdtemp(prefix="tashakkol-bench-sqlite-"))
    path = await fresh_database(folder)
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
        upsert = (
            "INSERT INTO bench_rows (id, value) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
        )
        with Timer() as timer:
            for i in range(count):
                await db.execute("BEGIN IMMEDIATE")
                await db.execute(upsert, (i % 1000, persian_name(i)))
                await db.execute("COMMIT")
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    return count / timer.seconds


async def _seed_half_profiles(rig: Rig, first: int, count: int) -> None:
    """Users whose profile has national ID and mobile, so /profile asks name then city."""
    await insert_users(rig, range(first, first + count))
    async with rig.app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(
            insert(Profile),
            [{"user_id": first + i, "national_id": national_id(i), "mobile": mobile(i)} for i in range(count)],
        )


async def _all(rig: Rig, users: list[UserUpdates], answer: Any) -> None:
    await asyncio.gather(*(rig.feed(answer(i, user)) for i, user in enumerate(users)))


async def run(users: int = 1000, sqlite_count: int = 2000) -> dict[str, Any]:
    """2 × `users` writing steps (name, then city, for every user at once)."""
    async with watching_stalls() as stalls:
        tx_per_s = await sqlite_transactions(sqlite_count)
        async with real_app() as rig:
            await _seed_half_profiles(rig, FIRST_USER, users)
            people = simulated_users(rig.api, FIRST_USER, users)
            await _all(rig, people, lambda i, u: u.command_update("profile"))
            with Timer() as names:
                await _all(rig, people, lambda i, u: u.text_update(persian_name(i)))
            with Timer() as cities:
                await _all(rig, people, lambda i, u: u.text_update(CITIES[i % len(CITIES)]))
            async with rig.app.bot_data.sessionmaker() as session:
                written = await session.scalar(
                    select(func.count()).select_from(Profile).where(Profile.city.is_not(None))
                )
            errors = len(rig.sim.errors)
    step_ups = 2 * users / (names.seconds + cities.seconds)
    return {
        "sqlite_tx_per_s": round(tx_per_s),
        "step_ups": round(step_ups),
        "step_ratio": ratio(step_ups, tx_per_s),
        "step_written": int(written or 0),
        "step_errors": errors,
        "step_stall_ms": stalls.max_stall_ms,
    }
