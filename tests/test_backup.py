"""Backups: an online SQLite copy that opens and holds the same rows; the pg_dump line for PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.context import BotApplication
from db.backup import backup, pg_dump_command
from fakeapi.simulator import Simulator


async def test_online_sqlite_backup_holds_the_same_rows(
    sim: Simulator, app: BotApplication, database_url: str, tmp_path: Path
) -> None:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite backup; PostgreSQL is covered by the pg_dump line test")
    for user_id in range(9100, 9110):
        await sim.user(user_id).command("/start")
    await sim.user(9100).command("/profile")
    await sim.user(9100).send("پریسا نادری")
    # The bot is still running (its engine has open connections, WAL not checkpointed).
    line = backup(database_url, tmp_path / "backups" / "copy.db")
    assert "backed up" in line
    copy = sqlite3.connect(tmp_path / "backups" / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM users").fetchone() == (10,)
        assert copy.execute("SELECT full_name FROM profiles WHERE user_id = 9100").fetchone() == (
            "پریسا نادری",
        )
    finally:
        copy.close()


def test_pg_dump_command() -> None:
    command = pg_dump_command("postgresql+asyncpg://bot:p%40ss@db:5432/tashakkol", Path("/backups/x.dump"))
    assert command.startswith("pg_dump --format=custom --no-owner --file /backups/x.dump ")
    assert "postgresql://bot:p%40ss@db:5432/tashakkol" in command
    assert "asyncpg" not in command
