"""INSERT … ON CONFLICT DO UPDATE that works on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import Base, utcnow


async def upsert(
    session: AsyncSession,
    model: type[Base],
    values: dict[str, Any],
    *,
    index: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update the given columns of the row that has the same `index` columns."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, model.__table__)
    row = dict(values)
    for column in ("updated_at", "last_seen"):
        if column in update and column not in row:
            row[column] = utcnow()
    statement = insert(table).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=list(index),
        set_={name: statement.excluded[name] for name in update},
    )
    await session.execute(statement)
