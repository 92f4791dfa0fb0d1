"""One poller per database: a kernel file lock beside a SQLite file, an advisory lock on PostgreSQL.

Both are released by the operating system or the server the moment the holder dies (even with
kill -9), so a crashed instance never leaves a stale lock behind for the next one to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# An arbitrary constant: "Tashakkol poller" as a 63-bit number.
ADVISORY_KEY = 0x7461_7368_616B_6B6F


class LockHeld(RuntimeError):
    """Another running instance holds the poller lock for this database."""


class PollerLock:
    """Held for the life of the process; `release()` on a clean exit."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._file: IO[str] | None = None
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> None:
        """Take the lock or raise LockHeld at once (never waits)."""
        url = make_url(str(self._engine.url))
        if url.get_backend_name() == "sqlite":
            self._acquire_file(Path(f"{url.database}.lock"))
        else:
            await self._acquire_advisory()

    def _acquire_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LockHeld(holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._file = handle

    async def _acquire_advisory(self) -> None:
        connection = await self._engine.connect()
        got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if not got:
            await connection.close()
            raise LockHeld("another instance")
        # Leave the transaction the SELECT opened; the session-level lock outlives it.
        await connection.commit()
        self._connection = connection

    async def release(self) -> None:
        """Give the lock up (also happens by itself when the process dies)."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            await self._connection.close()
            self._connection = None
