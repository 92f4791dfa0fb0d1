"""Migrations: from every earlier revision to head with data in place, down to nothing and up again,
and the models agree with the migrations (nothing left for autogenerate to find)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrate import alembic_config, upgrade
from tests.conftest import POSTGRES_URL, _admin_sql

REVISIONS = [
    s.revision
    for s in reversed(list(ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()))
]

# Rows written at the first revision that has their table; each must survive every later migration.
SEED = {
    "0001_foundation": [
        "INSERT INTO users (id, first_name, first_seen, last_seen, blocked_bot) "
        "VALUES (42, 'مهسا', '2026-01-01 00:00:00', '2026-01-01 00:00:00', false)",
        "INSERT INTO profiles (user_id, full_name, national_id, updated_at) "
        "VALUES (42, 'مهسا کرمانی', '0499370899', '2026-01-01 00:00:00')",
        "INSERT INTO staff (telegram_id, role, added_at) VALUES (43, 'admin', '2026-01-01 00:00:00')",
        "INSERT INTO conversation_states (name, key, state, updated_at) "
        "VALUES ('profile', '[42,42]', '\"profile:city\"', '2026-01-01 00:00:00')",
    ],
    "0002_associations_outbox": [
        "INSERT INTO associations (id, name, name_key, description, status, category, degree_required, "
        "accepted_evidence, min_experience_years, evidence_required, created_at, updated_at) VALUES "
        "(7, 'انجمن پسته', 'انجمن پسته', '', 'active', '', false, 'experience', 0, false, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    ],
    "0003_people": [
        "INSERT INTO members (association_id, user_id, member_number, started_at) "
        "VALUES (7, 42, '7-1', '2026-01-01 00:00:00')",
        "INSERT INTO subscriptions (user_id, association_id, created_at) VALUES (42, 7, '2026-01-01 00:00:00')",
    ],
}
CHECKS = {
    "SELECT first_name FROM users WHERE id = 42": "مهسا",
    "SELECT national_id FROM profiles WHERE user_id = 42": "0499370899",
    "SELECT role FROM staff WHERE telegram_id = 43": "admin",
    # The form engine keeps one state per form; the question being answered is on the draft row.
    "SELECT state FROM conversation_states WHERE key = '[42,42]'": '"profile:form"',
    "SELECT name FROM associations WHERE id = 7": "انجمن پسته",
    "SELECT member_number FROM members WHERE user_id = 42": "7-1",
    "SELECT count(*) FROM subscriptions": 1,
}


@pytest.fixture
async def empty_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database nobody else uses, never migrated."""
    if not POSTGRES_URL:
        yield f"sqlite+aiosqlite:///{tmp_path}/empty.db"
        return
    name = f"tashakkol_mig_{uuid.uuid4().hex[:10]}"
    await _admin_sql(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_sql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _execute(url: str, statements: list[str]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _scalar(url: str, query: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(query))).scalar()
    finally:
        await engine.dispose()


def test_the_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert REVISIONS[0] == "0001_foundation" and len(REVISIONS) >= 7


@pytest.mark.parametrize(
    "start", [r for r in REVISIONS if r in ("0001_foundation", "0002_associations_outbox", "0003_people")]
)
async def test_upgrade_with_data_from_an_earlier_revision_keeps_every_row(empty_url: str, start: str) -> None:
    await asyncio.to_thread(upgrade, empty_url, "0001_foundation")
    await _execute(empty_url, SEED["0001_foundation"])
    for revision in REVISIONS[1 : REVISIONS.index(start) + 1]:
        await asyncio.to_thread(upgrade, empty_url, revision)
        await _execute(empty_url, SEED.get(revision, []))
    await asyncio.to_thread(upgrade, empty_url, "head")
    for query, expected in CHECKS.items():
        table = query.split(" FROM ")[1].split()[0]
        seeded_at = next(r for r, rows in SEED.items() if any(f"INTO {table} " in row for row in rows))
        if REVISIONS.index(seeded_at) <= REVISIONS.index(start):
            assert await _scalar(empty_url, query) == expected, query


async def test_every_revision_upgrades_and_downgrades(empty_url: str) -> None:
    config = alembic_config(empty_url)
    for revision in REVISIONS:
        await asyncio.to_thread(command.upgrade, config, revision)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)  # models and migrations agree
