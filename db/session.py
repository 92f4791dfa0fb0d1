"""The engine and session factory built from DATABASE_URL, with SQLite tuned for a bot's workload.

Two kinds of session: `create_sessionmaker` for work that writes (on SQLite every transaction starts
with BEGIN IMMEDIATE and takes the write lock up front) and `create_reader` for reads (a plain,
deferred BEGIN: readers never queue behind the single writer). Open transactions are tracked per
asyncio task so tests can prove that nothing talks to the Bot API while one is open.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "tashakkol_read_only"  # execution option of the reading engine: BEGIN without IMMEDIATE

# Connections with an open transaction -> the task that opened it (see transaction_open()).
_OPEN: dict[int, asyncio.Task[Any] | None] = {}


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE changed (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def transaction_open() -> bool:
    """Whether the current asyncio task has a database transaction open right now."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return False
    return task is not None and task in _OPEN.values()


def is_sqlite(url: str) -> bool:
    """True when the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file if it does not exist yet."""
    database = make_url(url).database
    if is_sqlite(url) and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite with WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE."""
    ensure_sqlite_folder(url)
    if not is_sqlite(url):
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 10)
            kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_async_engine(url, **kwargs)
    else:
        engine = create_async_engine(url, **kwargs)
        _tune_sqlite(engine)
    _track_transactions(engine)
    return engine


def _track_transactions(engine: AsyncEngine) -> None:
    # The events run in SQLAlchemy's greenlet inside the caller's task, so current_task() is the
    # task that began the transaction; a connection going back to the pool ends it in any case.
    def opened(connection: Any) -> None:
        _OPEN[id(connection.connection.dbapi_connection)] = _task()

    def closed(connection: Any) -> None:
        _OPEN.pop(id(connection.connection.dbapi_connection), None)

    def returned(dbapi_connection: Any, _record: Any) -> None:
        _OPEN.pop(id(dbapi_connection), None)

    event.listen(engine.sync_engine, "begin", opened)
    event.listen(engine.sync_engine, "commit", closed)
    event.listen(engine.sync_engine, "rollback", closed)
    event.listen(engine.sync_engine.pool, "checkin", returned)


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _tune_sqlite(engine: AsyncEngine) -> None:
    # The sqlite3 driver's legacy transaction handling emits no BEGIN before a SELECT, so a
    # read-then-write transaction can oversell or fail to upgrade its lock. We take over: the
    # driver stays in autocommit and every transaction starts with BEGIN IMMEDIATE, which takes
    # the write lock up front and waits (busy_timeout) instead of failing (SQLAlchemy's docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite/aiosqlite).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (handlers render after the transaction).
    On SQLite their write transactions take turns within the process (see TurnTakingSession)."""
    if engine.dialect.name == "sqlite":
        return async_sessionmaker(engine, expire_on_commit=False, class_=TurnTakingSession)
    return async_sessionmaker(engine, expire_on_commit=False)


class TurnTakingSession(AsyncSession):
    """SQLite has one writer at a time. Left to itself, a writer that finds the database locked sleeps
    in SQLite's busy handler (1, 2, 5, 10 … up to 100 ms) and polls again, so under contention most
    of the time goes to sleeping. Write transactions of this process therefore queue on an asyncio
    lock before `BEGIN IMMEDIATE`: each starts the moment the one before it commits. Transactions are
    short — nothing waits on the network inside one — so the queue moves fast. Other processes (a
    CLI command, a backup) still meet SQLite's own lock and busy timeout."""

    def begin(self) -> Any:
        return _Turn(self, super().begin())


class _Turn:
    """`async with session.begin():` that first waits for this engine's turn."""

    def __init__(self, session: AsyncSession, transaction: Any) -> None:
        self._transaction = transaction
        self._lock = _write_lock(session.bind)

    async def __aenter__(self) -> Any:
        task = _task()
        if getattr(self._lock, "holder", None) is task and task is not None:
            raise RuntimeError("a write transaction was opened inside another one in the same task")
        await self._lock.acquire()
        self._lock.holder = task  # type: ignore[attr-defined]
        try:
            return await self._transaction.__aenter__()
        except BaseException:
            self._release()
            raise

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._transaction.__aexit__(*exc)
        finally:
            self._release()

    def __await__(self) -> Any:
        # `await session.begin()` has no end the turn could be tied to: it begins without waiting
        # its turn (SQLite's own lock and busy timeout still apply).
        return self._transaction.__await__()

    def _release(self) -> None:
        self._lock.holder = None  # type: ignore[attr-defined]
        self._lock.release()


_TURNS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _write_lock(bind: Any) -> asyncio.Lock:
    engine = getattr(bind, "sync_engine", bind)
    lock = _TURNS.get(engine)
    if lock is None:
        lock = _TURNS[engine] = asyncio.Lock()
    return lock


def create_reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reading: on SQLite a deferred BEGIN, so a read never takes the write lock."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
