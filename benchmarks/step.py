"""`step`: a conversation step that writes its answer, vs raw aiosqlite single-row transactions.

The baseline commits one-row upserts one after another on one aiosqlite connection, on a copy of
the migrated database with the bot's pragmas (WAL, synchronous=NORMAL, busy_timeout): what SQLite
itself allows. The application side runs the profile conversation's name and city steps for many
users at once (each answer validated and written in its own transaction, the conversation state
saved, the next question sent), so the per-user processor can overlap users.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import func, insert, select, text

from benchmarks.harness import (
    Rig,
    Timer,
    counting,
    fresh_database,
    insert_users,
    mobile,
    national_id,
    per_update,
    persian_name,
    ratio,
    real_app,
    run_users,
    simulated_users,
    watching_stalls,
)
from db.models import Profile
from db.session import SQLITE_BUSY_TIMEOUT_MS
from fakeapi.simulator import UserUpdates

FIRST_USER = 200_000
FLOOR_USER = 190_000
CONCURRENCY = 100
CITIES = ["کرمان", "رفسنجان", "سیرجان", "بم", "جیرفت", "زرند"]


async def sqlite_transactions(count: int) -> tuple[float, float]:
    """Single-row transactions per second on a fresh migrated file with the bot's pragmas, and the
    CPU milliseconds each took."""
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
    await asyncio.to_thread(shutil.rmtree, folder, True)
    return count / timer.seconds, timer.cpu * 1000 / count


async def sqlalchemy_transactions(rig: Rig, count: int) -> tuple[float, float]:
    """The same single-row transactions through the bot's own engine and session (SQLAlchemy on
    aiosqlite, BEGIN IMMEDIATE): the floor under any step that writes through the ORM stack."""
    statement = text(
        "INSERT INTO bench_rows (id, value) VALUES (:id, :value) "
        "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
    )
    sessionmaker = rig.app.bot_data.sessionmaker
    async with sessionmaker() as session, session.begin():
        await session.execute(text("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)"))
    with Timer() as timer:
        for i in range(count):
            async with sessionmaker() as session, session.begin():
                await session.execute(statement, {"id": i % 1000, "value": persian_name(i)})
    return count / timer.seconds, timer.cpu * 1000 / count


async def orm_step_floor(rig: Rig, first: int, count: int) -> tuple[float, float]:
    """The fair floor under a form step: the same work in one ORM transaction and nothing else. Each
    unit reads one profile row by its key, changes one answer and commits (the SELECT and UPDATE a
    step runs), one after another through the bot's own sessionmaker. No Telegram, no conversation,
    no inbox: what the ORM and SQLite cost for the step's own data."""
    sessionmaker = rig.app.bot_data.sessionmaker
    with Timer() as timer:
        for i in range(count):
            async with sessionmaker() as session, session.begin():
                profile = await session.get(Profile, first + i % 1000)
                assert profile is not None
                profile.city = CITIES[i % len(CITIES)]
    return count / timer.seconds, timer.cpu * 1000 / count


async def _seed_half_profiles(rig: Rig, first: int, count: int) -> None:
    """Users whose profile has national ID and mobile, so /profile asks name then city."""
    await insert_users(rig, range(first, first + count))
    async with rig.app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(
            insert(Profile),
            [
                {"user_id": first + i, "national_id": national_id(i), "mobile": mobile(i)}
                for i in range(count)
            ],
        )


async def _all(rig: Rig, users: list[UserUpdates], answer: Any) -> None:
    """Every user answers once; up to CONCURRENCY users are in flight at any moment."""
    index = {user.id: i for i, user in enumerate(users)}

    async def script(user: UserUpdates) -> None:
        await rig.feed(answer(index[user.id], user))

    await run_users(users, script, CONCURRENCY)


async def _without_inbox(users: int) -> float:
    """The same steps on a bot without the durable inbox (updates straight to the handlers, as before
    issue 18): what storing every update before acknowledging it costs a step."""
    async with real_app(inbox=False) as rig:
        await _seed_half_profiles(rig, FIRST_USER, users)
        people = simulated_users(rig.api, FIRST_USER, users)
        await _all(rig, people, lambda i, u: u.command_update("profile"))
        rig.api.keep_only_latest()
        with Timer() as names:
            await _all(rig, people, lambda i, u: u.text_update(persian_name(i)))
        with Timer() as cities:
            await _all(rig, people, lambda i, u: u.text_update(CITIES[i % len(CITIES)]))
    return 2 * users / (names.seconds + cities.seconds)


async def run(users: int = 1000, sqlite_count: int = 2000) -> dict[str, Any]:
    """2 × `users` writing steps (name, then city, for every user at once)."""
    tx_per_s, tx_cpu_ms = await sqlite_transactions(sqlite_count)
    async with real_app() as rig:
        orm_per_s, orm_cpu_ms = await sqlalchemy_transactions(rig, sqlite_count)
        await _seed_half_profiles(rig, FLOOR_USER, 1000)
        floor_per_s, floor_cpu_ms = await orm_step_floor(rig, FLOOR_USER, sqlite_count)
        await _seed_half_profiles(rig, FIRST_USER, users)
        people = simulated_users(rig.api, FIRST_USER, users)
        await _all(rig, people, lambda i, u: u.command_update("profile"))
        rig.api.keep_only_latest()  # the fake's history is not the bot's heap
        async with watching_stalls() as stalls:
            with counting(rig.app) as counts:
                with Timer() as names:
                    await _all(rig, people, lambda i, u: u.text_update(persian_name(i)))
                with Timer() as cities:
                    await _all(rig, people, lambda i, u: u.text_update(CITIES[i % len(CITIES)]))
            async with rig.app.bot_data.sessionmaker() as session:
                written = await session.scalar(
                    select(func.count())
                    .select_from(Profile)
                    .where(
                        Profile.city.is_not(None), Profile.user_id.between(FIRST_USER, FIRST_USER + users - 1)
                    )
                )
            errors = len(rig.sim.errors)
    plain_ups = await _without_inbox(users)
    step_ups = 2 * users / (names.seconds + cities.seconds)
    step_cpu_ms = (names.cpu + cities.cpu) * 1000 / (2 * users)
    return {
        "sqlite_tx_per_s": round(tx_per_s),
        "step_ups": round(step_ups),
        "step_ratio": ratio(step_ups, tx_per_s),
        "step_written": int(written or 0),
        "sqlite_tx_cpu_ms": round(tx_cpu_ms, 3),
        "step_cpu_ms": round(step_cpu_ms, 3),
        "step_cpu_ratio": ratio(tx_cpu_ms, step_cpu_ms),
        "sqlalchemy_tx_per_s": round(orm_per_s),
        "sqlalchemy_tx_cpu_ms": round(orm_cpu_ms, 3),
        "step_ratio_vs_sqlalchemy": ratio(step_ups, orm_per_s),
        "step_orm_floor_per_s": round(floor_per_s),
        "step_orm_floor_cpu_ms": round(floor_cpu_ms, 3),
        "step_orm_floor_ratio": ratio(step_ups, floor_per_s),
        "step_orm_floor_cpu_ratio": ratio(floor_cpu_ms, step_cpu_ms),
        **per_update(counts, 2 * users, "step"),
        "step_ups_without_inbox": round(plain_ups),
        "step_inbox_cost_ratio": ratio(step_ups, plain_ups),
        "step_errors": errors,
        "step_stall_ms": stalls.max_stall_ms,
    }
