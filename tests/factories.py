"""Test data written straight into the database, one definition of each: associations, users,
staff, members, profiles, courses and course registrations. Each call is its own transaction,
so what it writes is there before the test's next update reaches the bot. The first argument is
the bot's Application, or a sessionmaker when the bot runs in another process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import BotApplication
from bot.text import search_key
from db.models import Association, Course, Member, Profile, Registration, Staff, User, utcnow
from db.models.courses import OPEN

CARPETS = "انجمن صنفی فرش کرمان"

Database = BotApplication | async_sessionmaker[AsyncSession]


def _sessions(db: Database) -> async_sessionmaker[AsyncSession]:
    return db if isinstance(db, async_sessionmaker) else db.bot_data.sessionmaker


async def add_association(db: Database, name: str = CARPETS, **values: Any) -> int:
    """An association, as staff would have made it (`values`: status, rules, contacts…); its id."""
    async with _sessions(db)() as session, session.begin():
        association = Association(name=name, name_key=search_key(name), **values)
        session.add(association)
        await session.flush()
        return association.id


async def add_users(db: Database, ids: list[int], *, blocked: bool = False) -> None:
    """Users who have started the bot (or, with `blocked`, have blocked it since)."""
    async with _sessions(db)() as session, session.begin():
        await session.execute(
            insert(User), [{"id": i, "first_name": f"u{i}", "blocked_bot": blocked} for i in ids]
        )


async def add_staff(
    db: Database, telegram_id: int, association_id: int | None = None, *, role: str = "staff"
) -> None:
    """A staff grant: of one association, or of the whole chamber when `association_id` is None."""
    async with _sessions(db)() as session, session.begin():
        session.add(Staff(telegram_id=telegram_id, role=role, association_id=association_id))
    if not isinstance(db, async_sessionmaker):
        db.bot_data.staff_roster.changed()  # as the bot's own staff form does after its commit


async def add_member(db: Database, user_id: int, association_id: int) -> None:
    async with _sessions(db)() as session, session.begin():
        session.add(Member(association_id=association_id, user_id=user_id, member_number=f"M-{user_id}"))


async def add_profile(db: Database, user_id: int, full_name: str, **values: Any) -> None:
    """A profile (`values`: national_id, mobile, city…) of a user the bot already knows."""
    async with _sessions(db)() as session, session.begin():
        session.add(Profile(user_id=user_id, full_name=full_name, **values))


async def add_course(
    db: Database,
    *,
    title: str = "کارگاه بسته‌بندی و برند",
    capacity: int = 30,
    association_id: int | None = None,
    members_only: bool = False,
    starts_in: timedelta = timedelta(days=10),
    status: str = OPEN,
    place: str | None = "کرمان، اتاق بازرگانی، سالن همایش",
    online_url: str | None = None,
    fee_rials: int | None = None,
) -> int:
    """A course, every question of the course form answered, starting `starts_in` from now; its id."""
    starts = utcnow().replace(second=0, microsecond=0) + starts_in
    async with _sessions(db)() as session, session.begin():
        row = Course(
            title=title,
            description="آشنایی با اصول بسته‌بندی، برندسازی و فروش برخط برای کسب‌وکارهای خانگی",
            teacher="مریم رضایی",
            association_id=association_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            place=place,
            online_url=online_url,
            capacity=capacity,
            members_only=members_only,
            fee_rials=fee_rials,
            status=status,
            members_answered=True,
            fee_answered=True,
        )
        session.add(row)
        await session.flush()
        return row.id


async def add_registration(
    db: Database, course_id: int, user_id: int, *, status: str = "registered", **values: Any
) -> None:
    """A registration for a course (`values`: attended…), bypassing the seat counter."""
    async with _sessions(db)() as session, session.begin():
        session.add(Registration(course_id=course_id, user_id=user_id, status=status, **values))
