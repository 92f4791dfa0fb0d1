"""Helpers shared by the directory tests: reading associations back, CSV uploads."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import BotApplication
from db.models import Association
from fakeapi.simulator import SimUser
from fakeapi.state import StoredMessage


async def associations(app: BotApplication) -> list[Association]:
    """Every association, by id."""
    async with app.bot_data.sessionmaker() as session:
        return list(await session.scalars(select(Association).order_by(Association.id)))


async def send_csv(user: SimUser, content: bytes, file_name: str = "associations.csv") -> list[StoredMessage]:
    """The user sends a CSV document whose bytes the fake serves through getFile."""
    return await user.send_document(file_name, "text/csv", content=content)
