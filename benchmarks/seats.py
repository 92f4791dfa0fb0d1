"""`seats`: many people signing up at once for a course with few seats.

1,000 sign-ups arrive together for 50 seats; exactly 50 may be booked and the rest wait, however
the transactions interleave (SQLite with BEGIN IMMEDIATE here; PostgreSQL too when
TEST_DATABASE_URL is set). The seats service (`bot/services/seats.py`, the courses feature) is
measured through `TARGET`: each sign-up is what the course card's sign-up button runs inside its
one transaction, `courses.sign_up(session, course_id, user_id)` (the conditional seat UPDATE and
the registration INSERT; the position in line is read when the card is shown), here through
`seats.run(sessionmaker, …)` (one transaction, retried if SQLite was busy). The statements and
transactions each sign-up costs are counted too (BEGIN and COMMIT are not statements).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from benchmarks.harness import Timer, insert_users, real_app, watching_stalls
from bot.services import courses as courses_service
from bot.services import seats as seats_service
from db.models import Course, Registration, utcnow
from db.models.courses import OPEN, REGISTERED, WAITING

FIRST_USER = 3_000_000


@dataclass(frozen=True)
class SeatsTarget:
    """How to drive the seats service: `prepare` makes a course with `seats` seats and returns its id;
    `sign_up` books or wait-lists one user in its own transaction and returns True when booked;
    `count` returns (booked, waiting) as stored in the database."""

    prepare: Callable[[async_sessionmaker[AsyncSession], int], Awaitable[int]]
    sign_up: Callable[[async_sessionmaker[AsyncSession], int, int], Awaitable[bool]]
    count: Callable[[async_sessionmaker[AsyncSession], int], Awaitable[tuple[int, int]]]


async def _prepare(sessionmaker: async_sessionmaker[AsyncSession], capacity: int) -> int:
    """An open course starting in ten days with `capacity` seats, as staff publish it."""
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(days=10)
    async with sessionmaker() as session, session.begin():
        course = Course(
            title="کارگاه بسته‌بندی و برندسازی",
            teacher="مریم رضایی",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            place="کرمان، اتاق بازرگانی",
            capacity=capacity,
            status=OPEN,
            fee_answered=True,
            members_answered=True,
        )
        session.add(course)
        await session.flush()
        return course.id


async def _sign_up(sessionmaker: async_sessionmaker[AsyncSession], course_id: int, user_id: int) -> bool:
    """The sign-up button's use case (bot/handlers/courses.py `join`), without the reply."""
    outcome = await seats_service.run(
        sessionmaker, lambda session: courses_service.sign_up(session, course_id, user_id)
    )
    return not outcome.waiting


async def _count(sessionmaker: async_sessionmaker[AsyncSession], course_id: int) -> tuple[int, int]:
    """Seats booked and places on the waiting list, from the registrations (not the counter)."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Registration.status, func.count())
            .where(Registration.course_id == course_id)
            .group_by(Registration.status)
        )
        counts = {status: int(n) for status, n in rows.all()}
        taken = await session.scalar(select(Course.taken).where(Course.id == course_id))
    if taken != counts.get(REGISTERED, 0):
        raise AssertionError(f"seat counter {taken} disagrees with {counts.get(REGISTERED, 0)} registrations")
    return counts.get(REGISTERED, 0), counts.get(WAITING, 0)


TARGET = SeatsTarget(prepare=_prepare, sign_up=_sign_up, count=_count)


class StatementCounter:
    """Counts the SQL statements and transactions an engine runs while it is attached."""

    def __init__(self, engine: Engine | None) -> None:
        self.engine, self.statements, self.transactions = engine, 0, 0

    def _statement(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.statements += 1

    def _begin(self, _conn: object) -> None:
        self.transactions += 1

    def __enter__(self) -> StatementCounter:
        if self.engine is not None:
            event.listen(self.engine, "before_cursor_execute", self._statement)
            event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.engine is not None:
            event.remove(self.engine, "before_cursor_execute", self._statement)
            event.remove(self.engine, "begin", self._begin)


async def rush(
    target: SeatsTarget, sessionmaker: async_sessionmaker[AsyncSession], seats: int, user_ids: list[int]
) -> dict[str, Any]:
    """Everyone signs up at the same moment; the database decides who gets a seat."""
    course_id = await target.prepare(sessionmaker, seats)
    bind = sessionmaker.kw.get("bind")
    with (
        Timer() as timer,
        StatementCounter(bind.sync_engine if isinstance(bind, AsyncEngine) else None) as sql,
    ):
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
        "statements_per_signup": round(sql.statements / len(user_ids), 2),
        "transactions_per_signup": round(sql.transactions / len(user_ids), 2),
    }


async def run(signups: int = 1000, seats: int = 50) -> dict[str, Any]:
    result: dict[str, Any] = {}
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
    """The same rush on PostgreSQL, in a scratch database made (and migrated) on that server and
    dropped afterwards, so the database named in the URL is left alone."""
    from sqlalchemy import insert, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from db.migrate import upgrade
    from db.models import User
    from db.session import create_engine, create_sessionmaker

    async def admin(statement: str) -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    name = f"tashakkol_bench_{uuid.uuid4().hex[:10]}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, scratch)
        engine = create_engine(scratch)
        sessionmaker = create_sessionmaker(engine)
        user_ids = list(range(FIRST_USER, FIRST_USER + signups))
        try:
            async with sessionmaker() as session, session.begin():
                await session.execute(insert(User), [{"id": i, "first_name": "کاربر"} for i in user_ids])
            figures = await rush(target, sessionmaker, seats, user_ids)
        finally:
            await engine.dispose()
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {f"seats_postgres_{key}": value for key, value in figures.items()}
