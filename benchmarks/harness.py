"""What every benchmark shares: the real Application on a migrated SQLite file behind the in-process
fake Bot API, a bare PTB echo bot on the same transport, ways to feed updates, percentiles, and the
event-loop stall monitor.

Updates go through `app.update_processor.process_update(update, app.process_update(update))`, the
path the Updater takes, via the user simulator of `fakeapi/` (its update builders and its
`Simulator.feed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
)
from telegram.ext import filters as ptb_filters

from bot.app import build_application, freeze_startup_heap
from bot.config import Settings, load_settings
from bot.context import BotApplication
from db.migrate import upgrade
from fakeapi.simulator import Simulator, UserUpdates
from fakeapi.state import JSON, FakeTelegram
from fakeapi.transport import FakeRequest

TOKEN = "123456:BENCH-token-for-the-fake-api"
ROUND_TRIP = 0.05  # seconds: the Bot API round trip the latency-bound benchmarks assume
# The bot freezes its start-up heap (bot/app.py `freeze_startup_heap`, called by `serve()` and
# post_init); the rig does the same. `--no-gc-freeze` turns it off to measure the difference.
GC_FREEZE = True

_template: Path | None = None


# ---------------------------------------------------------------------- catalog


def ensure_catalog() -> None:
    """Compile the Persian catalog when the .mo is missing or older than the .po (a fresh clone has
    only the .po; `make bench` compiles it too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from bot.i18n import DEFAULT_LOCALE, DOMAIN, LOCALE_DIR

    folder = LOCALE_DIR / DEFAULT_LOCALE / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return
    with po.open("rb") as source:
        catalog = read_po(source, locale=DEFAULT_LOCALE, domain=DOMAIN)
    with mo.open("wb") as target:
        write_mo(target, catalog)


# ---------------------------------------------------------------------- database


def _migrated_template() -> Path:
    """A SQLite file migrated to head once per process; every rig copies it."""
    global _template
    if _template is None or not _template.exists():
        folder = Path(tempfile.mkdtemp(prefix="tashakkol-bench-template-"))
        path = folder / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        _template = path
    return _template


async def fresh_database(folder: Path) -> Path:
    """A migrated, empty SQLite file in `folder` (migrations run in a thread: Alembic's env uses asyncio.run)."""
    template = await asyncio.to_thread(_migrated_template)
    path = folder / "bot.db"
    shutil.copyfile(template, path)
    return path


# ---------------------------------------------------------------------- the real application


@dataclass
class Rig:
    """The real Application, its fake Bot API and a simulator feeding it."""

    app: BotApplication
    api: FakeTelegram
    sim: Simulator
    database: Path
    settings: Settings

    async def feed(self, data: JSON) -> None:
        """Process one update to the end (handlers, Bot API calls, persistence)."""
        await self.sim.feed(data)

    def forget_fake_history(self) -> None:
        """Drop what the fake Bot API remembers (calls, messages), so long runs stay small."""
        forget_history(self.api)


def forget_history(api: FakeTelegram) -> None:
    """Clear the fake's call log and message store (the bot keeps nothing of them)."""
    api.calls.clear()
    api.messages.clear()
    api.incoming.clear()
    api.callback_queries.clear()
    api.callback_answers.clear()


@contextlib.asynccontextmanager
async def real_app(*, latency: float = 0.0, running: bool = False, inbox: bool = True) -> AsyncIterator[Rig]:
    """build_application on a fresh migrated SQLite file with the fake Bot API answering after `latency`.

    `inbox=False` measures the bot as it was before the durable inbox: updates go straight to the
    processor, nothing is stored first and no update is marked handled."""
    folder = Path(tempfile.mkdtemp(prefix="tashakkol-bench-"))
    try:
        database = await fresh_database(folder)
        settings = load_settings(
            _env_file=None,
            telegram_bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{database}",
            admin_ids=frozenset({900_001}),
        )
        api = FakeTelegram(latency=latency)
        app = build_application(settings, request=FakeRequest(api), get_updates_request=FakeRequest(api))
        if not inbox:
            without_inbox(app)
        await app.initialize()
        sim = Simulator(app, api, capture_errors=True, wait_app_tasks=False)
        if GC_FREEZE:
            freeze_startup_heap()
        if running:
            await app.start()
        try:
            yield Rig(app, api, sim, database, settings)
        finally:
            if app.running:
                await app.stop()
            await app.shutdown()
            await app.bot_data.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def without_inbox(app: BotApplication) -> None:
    """Take the inbox out: no store before processing, no "handled" mark in the step's transaction."""
    processor = app.update_processor
    processor.inbox = None  # type: ignore[attr-defined]
    app.bot_data.unit_hooks = []
    del app.bot_data.inbox  # the simulator then hands updates straight to the processor


_COUNTERS: list[dict[str, int]] = []  # the counting() blocks open now (listeners stay installed)
_COUNTED: set[int] = set()  # engines with the listeners


@contextlib.contextmanager
def counting(app: BotApplication) -> Iterator[dict[str, int]]:
    """Transactions (write and read) and SQL statements the whole process ran during the block."""
    from sqlalchemy import event

    engine = app.bot_data.engine.sync_engine
    if id(engine) not in _COUNTED:  # installed once: removing a listener while it runs breaks SQLAlchemy
        _COUNTED.add(id(engine))

        def begun(connection: Any) -> None:
            kind = "read" if connection.get_execution_options().get("tashakkol_read_only") else "write"
            for counts in _COUNTERS:
                counts[kind] += 1

        def statement(*_args: Any) -> None:
            for counts in _COUNTERS:
                counts["statements"] += 1

        event.listen(engine, "begin", begun)
        event.listen(engine, "before_cursor_execute", statement)
    counts = {"write": 0, "read": 0, "statements": 0}
    _COUNTERS.append(counts)
    try:
        yield counts
    finally:
        _COUNTERS.remove(counts)


def per_update(counts: dict[str, int], updates: int, prefix: str) -> dict[str, float]:
    """`<prefix>_transactions` (writes + reads) and `<prefix>_statements` per update."""
    return {
        f"{prefix}_transactions": round((counts["write"] + counts["read"]) / max(1, updates), 2),
        f"{prefix}_write_transactions": round(counts["write"] / max(1, updates), 2),
        f"{prefix}_statements": round(counts["statements"] / max(1, updates), 2),
    }


async def feed_polled(rig: Rig, updates: Sequence[JSON], batch: int = 100) -> None:
    """Hand updates to the bot the way the polling loop does: a batch of up to 100 (getUpdates'
    limit) stored in one transaction, then processed (users concurrently, each user in order)."""
    for start in range(0, len(updates), batch):
        for data in updates[start : start + batch]:
            rig.sim.enqueue_update(data)
        await asyncio.sleep(0)
    await rig.sim.drain()


# ---------------------------------------------------------------------- the baseline: a bare PTB bot

BareApp = Application[Any, Any, Any, Any, Any, Any]


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


async def _press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer()


def bare_app(api: FakeTelegram) -> BareApp:
    """A PTB application with no handlers yet, on the fake transport, handling updates concurrently."""
    return (
        ApplicationBuilder()
        .token(TOKEN)
        .request(FakeRequest(api))
        .get_updates_request(FakeRequest(api))
        .concurrent_updates(True)
        .build()
    )


@contextlib.asynccontextmanager
async def bare_bot(
    *handlers: BaseHandler[Update, Any, Any], latency: float = 0.0
) -> AsyncIterator[tuple[BareApp, FakeTelegram, Simulator]]:
    """A bare PTB bot with just these handlers, initialised on a fake transport of its own."""
    api = FakeTelegram(latency=latency)
    app = bare_app(api)
    app.add_handlers(list(handlers))
    await app.initialize()
    sim = Simulator(app, api, capture_errors=True, wait_app_tasks=False)
    try:
        yield app, api, sim
    finally:
        await app.shutdown()


def echo_app(
    *, latency: float = 0.0
) -> contextlib.AbstractAsyncContextManager[tuple[BareApp, FakeTelegram, Simulator]]:
    """The bare PTB echo bot on the same fake transport: replies with the text, answers presses."""
    return bare_bot(MessageHandler(ptb_filters.TEXT, _echo), CallbackQueryHandler(_press), latency=latency)


# ---------------------------------------------------------------------- feeding


def simulated_users(api: FakeTelegram, first_id: int, count: int) -> list[UserUpdates]:
    """`count` users in their private chats (update builders only; no Simulator bookkeeping)."""
    return [UserUpdates(api, first_id + i, first_name=persian_name(i)) for i in range(count)]


async def run_users(
    users: Sequence[UserUpdates], script: Callable[[UserUpdates], Awaitable[None]], concurrency: int
) -> None:
    """Run `script` for every user, at most `concurrency` users at a time (closed loop per user)."""
    queue: asyncio.Queue[UserUpdates] = asyncio.Queue()
    for user in users:
        queue.put_nowait(user)

    async def worker() -> None:
        while not queue.empty():
            await script(queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(users))))))


_LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"


def persian_name(index: int) -> str:
    """A distinct, valid two-word Persian name for user number `index` (letters only)."""
    letters = []
    number = index
    for _ in range(4):
        number, digit = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return "کاربر " + "".join(letters)


def national_id(index: int) -> str:
    """A valid 10-digit Iranian national ID derived from `index` (check digit computed)."""
    body = f"{(index * 7919 + 100_000_003) % 1_000_000_000:09d}"
    total = sum(int(digit) * (10 - position) for position, digit in enumerate(body))
    remainder = total % 11
    check = remainder if remainder < 2 else 11 - remainder
    return body + str(check)


def mobile(index: int) -> str:
    """A valid Iranian mobile number derived from `index`."""
    return f"0912{index % 10_000_000:07d}"


# ---------------------------------------------------------------------- measuring


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` percentile (nearest rank) of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class StallMonitor:
    """A task that sleeps `interval` and records how late it wakes: the longest event-loop stall."""

    interval: float = 0.010
    max_stall: float = 0.0
    samples: list[float] = field(default_factory=list)  # how late each wake-up was, in seconds
    gc_pauses: list[float] = field(default_factory=list)  # each garbage collection meanwhile, seconds
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _gc_started: float = field(default=0.0, repr=False)

    def _gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            late = max(0.0, loop.time() - before - self.interval)
            self.samples.append(late)
            self.max_stall = max(self.max_stall, late)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="bench-stall-monitor")
        gc.callbacks.append(self._gc)

    async def stop(self) -> None:
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def max_stall_ms(self) -> float:
        return round(self.max_stall * 1000, 1)

    @property
    def gc_pause_max_ms(self) -> float:
        """The longest garbage collection: the pause the bot's own heap causes."""
        return round(max(self.gc_pauses, default=0.0) * 1000, 1)

    @property
    def p99_ms(self) -> float | None:
        """The 99th percentile of the wake-ups' lateness: how long a typical bad pause is."""
        value = percentile(self.samples, 0.99)
        return None if value is None else round(value * 1000, 1)


# Every stall seen by any benchmark in this process (what `max_loop_stall_ms` reports).
STALLS = StallMonitor()


@contextlib.asynccontextmanager
async def watching_stalls(*, of_the_bot: bool = True) -> AsyncIterator[StallMonitor]:
    """Run a stall monitor around a measured phase. Phases where the bot runs (`of_the_bot`) fold
    their maximum into STALLS; set-up and baselines are watched but not counted against the bot."""
    monitor = StallMonitor()
    monitor.start()
    try:
        yield monitor
    finally:
        await monitor.stop()
        if of_the_bot:
            STALLS.max_stall = max(STALLS.max_stall, monitor.max_stall)
            STALLS.samples.extend(monitor.samples)
            STALLS.gc_pauses.extend(monitor.gc_pauses)


class Timer:
    """Wall-clock seconds of a block, and the CPU seconds this process used meanwhile (all threads).

    On a shared machine the wall clock includes time other processes took from us; CPU seconds do
    not, so figures per CPU-second show what the code costs regardless of the neighbours.
    """

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.seconds = 0.0
        self.cpu = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def errors_of(sims: Iterable[Simulator]) -> int:
    return sum(len(sim.errors) for sim in sims)


# ---------------------------------------------------------------------- process memory


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm (pages × page size)."""
    import os

    with Path("/proc/self/statm").open() as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


async def insert_users(rig: Rig, ids: Iterable[int], batch: int = 5_000) -> None:
    """Rows in `users` for these ids, as if each had written to the bot before (bulk ORM insert)."""
    from sqlalchemy import insert

    from db.models import User

    pending = list(ids)
    for start in range(0, len(pending), batch):
        rows = [
            {"id": user_id, "first_name": persian_name(user_id)} for user_id in pending[start : start + batch]
        ]
        async with rig.app.bot_data.sessionmaker() as session, session.begin():
            await session.execute(insert(User), rows)
