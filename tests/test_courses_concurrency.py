"""No course is ever oversold: 1,000 concurrent sign-ups for 50 seats, on SQLite and PostgreSQL alike,
leave exactly 50 seats taken and 950 people waiting in order; and the same through the real bot.

Each sign-up runs in its own session and transaction (`seats.run`: one transaction, retried when
SQLite was busy), two statements and no lock of its own. At most POOL of them hold a database
connection at a time (a semaphore the size of the engine's pool): asyncpg's pool would otherwise make
the rest wait for a connection and time out after 30 s. A separate test drives the bare service over
raw sessions (no retry) to show the SQL alone never oversells. The waiting-list position is computed
when it is shown, from the stored order.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import BotApplication
from bot.services import courses as service
from bot.services import seats
from bot.text import to_ascii_digits
from db.models import Course, Registration, utcnow
from db.models.courses import REGISTERED, WAITING
from db.session import create_engine, create_sessionmaker
from fakeapi.simulator import Simulator
from tests import coursekit as kit
from tests.factories import add_course

POOL = 20


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=POOL, max_overflow=0)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _new_course(sessions: async_sessionmaker[AsyncSession], capacity: int) -> int:
    from datetime import timedelta

    from db.models import utcnow

    async with sessions() as session, session.begin():
        course = Course(
            title="دورهٔ پرطرفدار",
            description="—",
            teacher="—",
            starts_at=utcnow() + timedelta(days=3),
            ends_at=utcnow() + timedelta(days=3, hours=2),
            place="کرمان",
            capacity=capacity,
            status="open",
        )
        session.add(course)
        await session.flush()
        return course.id


async def _sign_up_all(
    sessions: async_sessionmaker[AsyncSession], course_id: int, user_ids: list[int]
) -> list[service.SignUp]:
    gate = asyncio.Semaphore(POOL)

    async def one(user_id: int) -> service.SignUp:
        async with gate:
            return await seats.run(sessions, lambda session: service.sign_up(session, course_id, user_id))

    return await asyncio.gather(*(one(uid) for uid in user_ids))


async def test_thousand_concurrent_sign_ups_for_fifty_seats(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    course_id = await _new_course(sessions, capacity=50)
    users = list(range(100_000, 101_000))
    results = await _sign_up_all(sessions, course_id, users)  # raises if any user hit an error

    seated = [r.user_id for r in results if not r.waiting]
    assert len(seated) == 50 and len(results) - len(seated) == 950

    async with sessions() as session:
        course = await session.get(Course, course_id)
        assert course is not None and (course.taken, course.capacity) == (50, 50)
        rows = list(await session.scalars(select(Registration).where(Registration.course_id == course_id)))
        assert sorted(r.user_id for r in rows if r.status == REGISTERED) == sorted(seated)
        waiting = sorted((r for r in rows if r.status == WAITING), key=lambda r: (r.created_at, r.id))
        # The positions shown are exactly 1…950, in the stored order.
        told = {r.user_id: await service.waiting_position(session, r) for r in waiting}
        assert [told[r.user_id] for r in waiting] == list(range(1, 951))

    # Seats freed one by one go to the head of the queue, in order.
    for leaver in seated[:3]:
        async with sessions() as session, session.begin():
            result = await service.cancel(session, course_id, leaver)
        assert len(result.promoted) == 1
    async with sessions() as session:
        promoted = [
            r.user_id
            for r in await session.scalars(
                select(Registration).where(
                    Registration.course_id == course_id, Registration.promoted_at.is_not(None)
                )
            )
        ]
        course = await session.get(Course, course_id)
        assert course is not None and course.taken == 50
    assert sorted(promoted, key=lambda uid: told[uid]) == [w.user_id for w in waiting[:3]]


async def test_cancellations_racing_sign_ups_never_oversell_or_strand_a_seat(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    course_id = await _new_course(sessions, capacity=20)
    first = await _sign_up_all(sessions, course_id, list(range(200_000, 200_040)))
    seated = [r.user_id for r in first if not r.waiting]
    gate = asyncio.Semaphore(POOL)

    async def leave(user_id: int) -> None:
        async with gate:
            await seats.run(sessions, lambda session: service.cancel(session, course_id, user_id))

    async def join(user_id: int) -> None:
        async with gate:
            await seats.run(sessions, lambda session: service.sign_up(session, course_id, user_id))

    await asyncio.gather(
        *(leave(uid) for uid in seated[:10]), *(join(uid) for uid in range(200_100, 200_160))
    )
    async with sessions() as session:
        course = await session.get(Course, course_id)
        rows = list(await session.scalars(select(Registration).where(Registration.course_id == course_id)))
    assert course is not None
    registered = sum(r.status == REGISTERED for r in rows)
    waiting = sum(r.status == WAITING for r in rows)
    assert course.taken == registered == 20  # full, and every freed seat went to someone waiting
    assert registered + waiting == 40 - 10 + 60  # everyone who did not leave has a seat or a place


async def test_the_conditional_update_alone_never_oversells(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """No queue, no retry: 300 bare service calls on raw sessions, 5 connections at once."""
    course_id = await _new_course(sessions, capacity=25)
    gate = asyncio.Semaphore(5)

    async def one(user_id: int) -> bool:
        async with gate, sessions() as session, session.begin():
            return not (await service.sign_up(session, course_id, user_id)).waiting

    seated = await asyncio.gather(*(one(uid) for uid in range(400_000, 400_300)))
    async with sessions() as session:
        course = await session.get(Course, course_id)
        queue = list(
            await session.scalars(
                select(Registration).where(
                    Registration.course_id == course_id, Registration.status == WAITING
                )
            )
        )
        positions = sorted([await service.waiting_position(session, r) for r in queue], key=lambda p: p or 0)
    assert course is not None and course.taken == sum(seated) == 25
    assert len(queue) == 275 and positions == list(range(1, 276))


async def test_hundred_users_tap_sign_up_at_once_through_the_bot(sim: Simulator, app: BotApplication) -> None:
    course_id = await add_course(app, title="کارگاه پرطرفدار", capacity=10)
    users = [sim.user(300_000 + i) for i in range(100)]
    for user in users:
        await user.command("/start", f"course_{course_id}")
    for user in users:
        sim.enqueue_press(user, "ثبت‌نام")
    await sim.drain()
    sim.assert_no_errors()

    seated, positions = [], []
    for user in users:
        text = user.last_text
        if "جای شما در دوره ثبت شد" in text:
            seated.append(user.id)
        else:
            match = re.search("فهرست انتظار قرار گرفتید: نفر ([۰-۹]+)", text)
            assert match is not None, text
            positions.append(int(to_ascii_digits(match[1])))
    assert len(seated) == 10 and sorted(positions) == list(range(1, 91))
    course = await kit.get_course(app, course_id)
    assert course.taken == 10
    statuses = await kit.statuses(app, course_id)
    assert sorted(uid for uid, s in statuses.items() if s == REGISTERED) == sorted(seated)


async def _seat_holder_and_course(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """A one-seat course whose seat is taken (by user 500_000); nobody waits."""
    course_id = await _new_course(sessions, capacity=1)
    async with sessions() as session, session.begin():
        assert not (await service.sign_up(session, course_id, 500_000)).waiting
    return course_id, 500_000


async def test_a_cancellation_promotes_a_waiting_sign_up_not_yet_committed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The seat is given back while a waiting-list entry is being written: the entry is not left
    waiting beside a free seat (SQLite: the writer waits for the lock; PostgreSQL: the freed seat's
    UPDATE waits for the entry's shared hold on the course row, then sees it)."""
    course_id, holder = await _seat_holder_and_course(sessions)
    async with sessions() as session:
        await session.begin()
        assert (await service.sign_up(session, course_id, 500_001)).waiting  # not committed yet
        leaving = asyncio.create_task(
            seats.run(sessions, lambda other: service.cancel(other, course_id, holder))
        )
        await asyncio.sleep(0.3)
        assert not leaving.done()  # it waits for the entry
        await session.commit()
    result = await leaving
    assert result.promoted == [500_001]
    async with sessions() as session:
        course = await session.get(Course, course_id)
        statuses = dict((await session.execute(select(Registration.user_id, Registration.status))).all())
    assert course is not None and course.taken == 1
    assert statuses == {holder: "cancelled", 500_001: REGISTERED}


async def test_a_waiting_entry_written_after_a_seat_was_freed_takes_the_seat(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    """PostgreSQL only (on SQLite the sign-up holds the write lock from its first statement): the
    seat UPDATE found the course full, then a cancellation freed the seat; the waiting-list INSERT
    waits for it, sees the free seat and writes nothing, and the sign-up takes the seat instead."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: this interleaving cannot happen")
    course_id, holder = await _seat_holder_and_course(sessions)
    values = {"course_id": course_id, "user_id": 500_002, "now": utcnow(), "joined": utcnow()}
    async with sessions() as joining, sessions() as leaving:
        await joining.begin()
        await leaving.begin()
        connection = await joining.connection()
        assert seats.rowcount(await connection.execute(service.TAKE_SEAT, values)) == 0  # full
        cancelled = await service.cancel(leaving, course_id, holder)  # frees it; nobody waits yet
        assert cancelled.promoted == []
        insert = asyncio.create_task(
            connection.execute(service._register_statement("postgresql", False), values)
        )
        await asyncio.sleep(0.3)
        assert not insert.done()  # held by the cancellation's lock on the course row
        await leaving.commit()
        assert (await insert).scalar() is None  # the course is not full any more: no waiting entry
        assert not (await service.sign_up(joining, course_id, 500_002)).waiting
        await joining.commit()
    async with sessions() as session:
        course = await session.get(Course, course_id)
    assert course is not None and course.taken == 1
