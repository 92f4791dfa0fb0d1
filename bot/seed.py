"""Starting data: what every feature loads into an empty database (idempotent, safe to rerun)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.directory_seed import seed_forming
from db.session import create_engine, create_sessionmaker

# Each seeder adds what is missing and returns a one-line report (empty when nothing was added).
Seeder = Callable[[AsyncSession], Awaitable[str]]
SEEDERS: list[Seeder] = [seed_forming]


async def run_seeders(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """Run every seeder in one transaction; returns their reports."""
    async with sessionmaker() as session, session.begin():
        reports = [await seeder(session) for seeder in SEEDERS]
    return "\n".join(r for r in reports if r)


async def seed(database_url: str) -> str:
    """`python -m bot seed`."""
    engine = create_engine(database_url)
    try:
        return await run_seeders(create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def seed_if_empty(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """On start: seeders add only what is missing, so running them every start is the same thing."""
    return await run_seeders(sessionmaker)
