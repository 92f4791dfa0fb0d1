"""Helpers shared by the directory tests: associations straight into the database, CSV uploads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.context import BotApplication
from bot.text import search_key
from db.models import Association
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import StoredMessage


async def add_association(app: BotApplication, name: str, **values: Any) -> int:
    """An association, as staff would have imported it."""
    async with app.bot_data.sessionmaker() as session, session.begin():
        association = Association(name=name, name_key=search_key(name), **values)
        session.add(association)
        await session.flush()
        return association.id


async def associations(app: BotApplication) -> list[Association]:
    """Every association, by id."""
    async with app.bot_data.sessionmaker() as session:
        return list(await session.scalars(select(Association).order_by(Association.id)))


async def send_csv(
    sim: Simulator, user: SimUser, content: bytes, file_name: str = "associations.csv"
) -> list[StoredMessage]:
    """The user sends a CSV document whose bytes the fake serves through getFile."""
    stored = sim.state.new_file("document", content=content, file_name=file_name, mime_type="text/csv")
    document = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": file_name,
        "mime_type": "text/csv",
        "file_size": stored.file_size,
    }
    mark = user.mark()
    await sim.feed(user.message_update(document=document))
    return user.messages_since(mark)
