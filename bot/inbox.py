"""The durable inbox between the Bot API and the handlers: store first, acknowledge second.

Every update is stored (a batch in one transaction) before the Bot API is told it arrived: the
polling loop asks for the next batch only after the commit, the webhook answers 200 only after it.
While the update is handled, every write transaction it opens also marks it handled, so its
effects and the mark commit together (a replay never applies an answer, a seat or a decision
twice). Once it was answered it is marked done, in small batches. After a crash, start-up replays
what was stored but not handled, in order, and answers again what was handled but not answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, Update

from bot.services.errors import is_database_busy
from db import inbox as rows
from db.inbox import AlreadyHandled

__all__ = ["CURRENT", "AlreadyHandled", "Handling", "Inbox"]

log = logging.getLogger(__name__)


@dataclass
class Handling:
    """The inbox update the current task is handling, and whether a transaction of this attempt
    already committed its "handled" mark (a later transaction of the same update does not mark again)."""

    update_id: int
    marked: bool = False


# None: a job, or an update that did not come through the inbox.
CURRENT: ContextVar[Handling | None] = ContextVar("inbox_update", default=None)
AFTER_COMMIT = "after_commit"  # the session.info key bot.context runs after a commit
MAX_REPLAYS = 5  # handling began this many times after crashes (it may crash the process): parked
STORE_RETRY_DELAYS = (0.2, 0.6, 1.5, 3.0)  # waits when the database is busy while storing


class Inbox:
    """The inbox of one application (bot_data.inbox)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        retention: timedelta = timedelta(days=3),
        delay: float = 0.05,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.retention = retention
        self._delay = delay
        self._done: list[int] = []
        self._parked: dict[int, str] = {}
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # never cancel the writer in the middle of a transaction
        self._writer: asyncio.Task[None] | None = None
        self._arriving: list[tuple[list[tuple[int, str]], asyncio.Future[set[int]]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._replays: set[int] = set()  # replayed updates whose handling has not begun yet
        self._suspects: set[int] = set()  # replayed updates whose handling began before a crash

    # ------------------------------------------------------------------ arriving

    async def store(self, updates: Sequence[Update], raw: Sequence[str] | None = None) -> list[Update]:
        """Store the updates; returns those not seen before, in order. Until this returns nothing is
        acknowledged. `raw`: the updates' JSON as the Bot API sent it (else it is serialised again).

        Stores that arrive at the same moment (webhook requests, or a burst) are committed together
        in one transaction, the way a database group-commits; a database that is busy is waited for.
        """
        if not updates:
            return []
        payload = list(
            zip((u.update_id for u in updates), raw or [u.to_json() for u in updates], strict=True)
        )
        loop = asyncio.get_running_loop()
        arrival: asyncio.Future[set[int]] = loop.create_future()
        self._arriving.append((payload, arrival))
        if self._committer is None or self._committer.done():
            self._committer = loop.create_task(self._commit_arrivals(), name="inbox-store")
        fresh = await arrival
        return [u for u in updates if u.update_id in fresh]

    async def _commit_arrivals(self) -> None:
        await asyncio.sleep(0)  # let the stores of this moment join
        while self._arriving:
            batch, self._arriving = self._arriving, []
            try:
                stored = await self._store_rows([item for payload, _ in batch for item in payload])
            except BaseException as exc:  # each waiting store sees the failure; none is acknowledged
                for _, arrival in batch:
                    if not arrival.done():
                        arrival.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for payload, arrival in batch:  # an id stored twice at once belongs to its first arrival
                mine = {update_id for update_id, _ in payload if update_id in stored}
                stored -= mine
                if not arrival.done():
                    arrival.set_result(mine)

    async def _store_rows(self, payload: list[tuple[int, str]]) -> set[int]:
        for delay in (*STORE_RETRY_DELAYS, None):
            try:
                async with self._sessionmaker() as session, session.begin():
                    return await rows.store(session, payload)
            except OperationalError as exc:
                if delay is None or not is_database_busy(exc):
                    raise
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ handling

    async def mark_handled(self, session: AsyncSession) -> None:
        """A unit-of-work hook: the update being handled is marked handled with its effects (raises
        AlreadyHandled when an earlier run committed them: a replay applies nothing twice)."""
        handling = CURRENT.get()
        if handling is None or handling.marked:
            return
        await rows.mark_handled(session, handling.update_id)
        session.info.setdefault(AFTER_COMMIT, []).append(lambda: setattr(handling, "marked", True))

    def done(self, update_id: int, error: str | None = None) -> None:
        """The update was answered (or, with an error, parked); written with the next batch."""
        if error is None:
            self._done.append(update_id)
        else:
            self._parked[update_id] = error
        self._wake.set()

    # ------------------------------------------------------------------ after a crash

    async def unfinished(self, bot: Bot) -> tuple[list[Update], list[Update]]:
        """(to replay, to answer again): updates not handled, and handled but not answered, in
        order. A replay counts as an attempt when its handling begins (`begin`), so a process killed
        again before it got to an update does not count against that update; an update whose
        handling began too often after a crash (it may be what stops the process) is parked."""
        async with self._sessionmaker() as session, session.begin():
            found = await rows.unfinished(session)
            worn = {
                u.update_id: "replayed too often (it may stop the bot)"
                for u in found
                if u.attempts >= MAX_REPLAYS
            }
            if worn:
                await rows.mark_done(session, [], worn)
        replay: list[Update] = []
        answer: list[Update] = []
        for item in found:
            if item.update_id in worn:
                log.error("update %s parked: it was replayed %s times", item.update_id, item.attempts)
                continue
            update = Update.de_json(json.loads(item.payload), bot)
            if update is not None:
                (answer if item.handled else replay).append(update)
        self._replays.update(update.update_id for update in replay)
        self._suspects = {u.update_id for u in found if u.attempts > 0 and u.update_id not in worn}
        return replay, answer

    def suspect(self, update_id: int) -> bool:
        """Whether a replayed update's handling began before the last crash: it is replayed alone,
        before the others, so a crash it causes is counted against it and nothing else."""
        return update_id in self._suspects

    async def begin(self, update_id: int) -> None:
        """The handling of an update begins: a replayed one counts one more attempt first (committed
        before its handler runs, so a crash inside the handler is counted)."""
        if update_id not in self._replays:
            return
        self._replays.discard(update_id)
        try:
            async with self._sessionmaker() as session, session.begin():
                await rows.count_replay(session, [update_id])
        except Exception:  # the count is a safeguard; the update is handled either way
            log.warning("could not count the replay of update %s", update_id, exc_info=True)

    # ------------------------------------------------------------------ bookkeeping

    def start(self) -> None:
        """Start the writer of done marks (one long-lived task)."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="inbox-writer")

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._delay)  # let a batch gather
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # a failed batch is retried with the next one
                log.warning("could not record answered updates", exc_info=True)

    async def flush(self) -> None:
        """Write every pending mark now."""
        async with self._flushing:
            if not self._done and not self._parked:
                return
            done, parked = self._done, self._parked
            self._done, self._parked = [], {}
            try:
                async with self._sessionmaker() as session, session.begin():
                    await rows.mark_done(session, done, parked)
            except BaseException:
                self._done, self._parked = done + self._done, parked | self._parked
                raise

    async def close(self) -> None:
        """Stop the writer and write what is pending (on shutdown)."""
        if self._writer is not None and not self._writer.done():
            async with self._flushing:  # wait out a batch being written, then stop the writer
                self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.flush()

    async def purge(self) -> int:
        """Delete updates answered longer ago than the retention period."""
        async with self._sessionmaker() as session, session.begin():
            return await rows.purge(session, self.retention)

    async def parked(self, limit: int = 5) -> list[tuple[int, str, object]]:
        """The latest parked updates: (update id, error, when), for staff."""
        async with self._sessionmaker() as session:
            return [
                (u.update_id, u.error or "", u.parked_at) for u in await rows.parked_updates(session, limit)
            ]

    async def figures(self) -> rows.Figures:
        """The inbox's size, unanswered updates and the oldest of them, parked updates."""
        async with self._sessionmaker() as session:
            return await rows.figures(session)


PURGE_INTERVAL = timedelta(hours=1)


def schedule(application: Any) -> None:
    """Delete answered updates past the retention period, every hour (the job only reads the database)."""

    async def purge(_context: Any) -> None:
        removed = await application.bot_data.inbox.purge()
        if removed:
            log.info("inbox: deleted %d answered updates older than the retention period", removed)

    if application.job_queue is not None:
        application.job_queue.run_repeating(
            purge, interval=PURGE_INTERVAL, first=timedelta(minutes=1), name="inbox-purge"
        )
