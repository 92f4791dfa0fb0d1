"""Handled update ids, kept in the database so a redelivery after a restart is recognised.

The Bot API can deliver an update again when the bot stopped before acknowledging it (a failed last
getUpdates at shutdown, or a crash). Ids are written in small batches a moment after handling, so
the log costs one short transaction per batch instead of one per update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ProcessedUpdate

log = logging.getLogger(__name__)


class UpdateLog:
    """Batches handled update ids into `processed_updates` and reads the recent ones back."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, keep: int = 10_000, delay: float = 0.2
    ) -> None:
        self._sessionmaker = sessionmaker
        self._keep = keep
        self._delay = delay
        self._pending: list[int] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # never cancel the writer in the middle of a transaction
        self._writer: asyncio.Task[None] | None = None

    async def recent(self) -> list[int]:
        """The most recently handled ids, newest first."""
        async with self._sessionmaker() as session:
            query = (
                select(ProcessedUpdate.update_id).order_by(ProcessedUpdate.update_id.desc()).limit(self._keep)
            )
            return list(await session.scalars(query))

    def start(self) -> None:
        """Start the background writer (one long-lived task, not one per batch)."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="update-log-writer")

    def note(self, update_id: int) -> None:
        """Remember an id; it is written with the next batch."""
        self._pending.append(update_id)
        self._wake.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._delay)  # let a batch gather
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # a failed batch is retried with the next one
                log.warning("could not record handled update ids", exc_info=True)

    async def flush(self) -> None:
        """Write every pending id now, and forget ids far older than the ones kept."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            async with self._sessionmaker() as session, session.begin():
                dialect = session.get_bind().dialect.name
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                rows = [{"update_id": update_id} for update_id in dict.fromkeys(batch)]
                await session.execute(insert(ProcessedUpdate).on_conflict_do_nothing(), rows)
                newest = await session.scalar(select(func.max(ProcessedUpdate.update_id)))
                if newest is not None:
                    await session.execute(
                        delete(ProcessedUpdate).where(ProcessedUpdate.update_id < newest - 2 * self._keep)
                    )
        except BaseException:
            self._pending = batch + self._pending
            raise

    async def close(self) -> None:
        """Stop the writer and write what is pending (on shutdown)."""
        if self._writer is not None and not self._writer.done():
            async with self._flushing:  # wait out a batch being written, then stop the writer
                self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.flush()
