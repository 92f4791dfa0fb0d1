"""Online backups: SQLite's backup API (consistent while the bot runs); for PostgreSQL, pg_dump."""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_backup(database: Path, target: Path) -> int:
    """Copy a live SQLite database (WAL included) page by page into `target`; returns its size."""
    if not database.exists():
        raise FileNotFoundError(f"no database at {database}")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination, pages=1024)
    finally:
        destination.close()
        source.close()
    return target.stat().st_size


def pg_dump_command(url: str, target: Path) -> str:
    """The pg_dump command line that backs up the PostgreSQL database named by `url`."""
    parsed = make_url(url)
    libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return f"pg_dump --format=custom --no-owner --file {shlex.quote(str(target))} {shlex.quote(libpq)}"


def backup(url: str, target: Path) -> str:
    """Back up the database at `url` into `target`; returns a line for the operator."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        size = sqlite_backup(Path(parsed.database or ""), target)
        return f"backed up {parsed.database} to {target} ({size} bytes)"
    return "PostgreSQL: run\n  " + pg_dump_command(url, target)
