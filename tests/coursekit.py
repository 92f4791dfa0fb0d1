"""Helpers for the course tests: read courses, registrations and broadcasts back; move time; open the bot.

Courses, members and staff are made with `tests.factories`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.context import BotApplication
from db.models import Broadcast, Course, Delivery, Registration
from fakeapi.simulator import Simulator, SimUser


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
