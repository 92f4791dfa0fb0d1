"""Helpers for the course tests: make associations, courses, members and staff in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.context import BotApplication
from db.models import Association, Broadcast, Course, Delivery, Member, Registration, Staff, utcnow
from db.models.courses import OPEN
from fakeapi.simulator import Simulator, SimUser


async def association(app: BotApplication, name: str = "تشکل کسب‌وکارهای خانگی") -> int:
    async with app.bot_data.sessionmaker() as session, session.begin():
        row = Association(name=name, name_key=name)
        session.add(row)
        await session.flush()
        return row.id


async def course(
    app: BotApplication,
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
    starts = utcnow().replace(second=0, microsecond=0) + starts_in
    async with app.bot_data.sessionmaker() as session, session.begin():
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


async def member(app: BotApplication, user_id: int, association_id: int) -> None:
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add(Member(association_id=association_id, user_id=user_id, member_number=f"M-{user_id}"))


async def staff(app: BotApplication, user_id: int, association_id: int | None = None) -> None:
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add(Staff(telegram_id=user_id, role="staff", association_id=association_id))


async def get_course(app: BotApplication, course_id: int) -> Course:
    async with app.bot_data.sessionmaker() as session:
        row = await session.get(Course, course_id)
        assert row is not None
        return row


async def statuses(app: BotApplication, course_id: int) -> dict[int, str]:
    """user id -> registration status."""
    async with app.bot_data.sessionmaker() as session:
        rows = await session.execute(
            select(Registration.user_id, Registration.status).where(Registration.course_id == course_id)
        )
        return {int(u): str(s) for u, s in rows}


async def broadcasts(app: BotApplication) -> list[tuple[Broadcast, list[int]]]:
    async with app.bot_data.sessionmaker() as session:
        rows = list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))
        result = []
        for row in rows:
            users = await session.scalars(
                select(Delivery.user_id).where(Delivery.broadcast_id == row.id).order_by(Delivery.user_id)
            )
            result.append((row, [int(u) for u in users]))
        return result


async def count(app: BotApplication, model: type) -> int:
    async with app.bot_data.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def move_start(app: BotApplication, course_id: int, starts_at: datetime) -> None:
    """Simulate the passing of time: the course now starts at `starts_at`."""
    async with app.bot_data.sessionmaker() as session, session.begin():
        row = await session.get(Course, course_id)
        assert row is not None
        row.starts_at = starts_at
        row.ends_at = starts_at + timedelta(hours=2)


async def started(sim: Simulator, user_id: int, first_name: str = "علی") -> SimUser:
    """A user who has opened the bot (so a button press has a message to edit)."""
    user = sim.user(user_id, first_name=first_name)
    await user.command("/start")
    return user
