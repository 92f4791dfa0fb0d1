"""THE sender: drains the durable outbox (news, announcements, course reminders) at Telegram's pace.

One engine for every broadcast. It claims a small batch of deliveries, marks them `sending` and
commits, then makes the Bot API calls, recording each copy as `sent` the moment its call returns;
the batch's other outcomes (blocked, failed) are recorded together afterwards.
Pacing: an `aiolimiter.AsyncLimiter` for the global rate (evenly spaced, no bursts) and a minimum
interval per chat; a 429 pauses *all* sending for its `retry_after`.

Guarantee: everyone gets it; a repeat only for a copy in flight at a crash. A missed announcement
(a course cancelled, a deadline moved) costs more than a repeated one. After a crash, a delivery
still `sending` was not recorded as sent: it goes back to `pending`, marked `interrupted`, and is
sent again — only the few whose request was in flight at the crash can arrive twice, and the report
counts them as "may have arrived twice". See docs/news.md.

This module knows nothing of Telegram: the caller passes a `Transport` that sends one message and
translates the Bot API's errors into the exceptions below.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aiolimiter import AsyncLimiter
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.users import mark_blocked
from db.models import Broadcast, Delivery, User
from db.models.outbox import (
    D_BLOCKED,
    D_FAILED,
    D_PENDING,
    D_SENDING,
    D_SENT,
    D_SKIPPED,
    DONE,
    PENDING,
    RUNNING,
)
from db.session import rowcount

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
MAX_RATE_LIMITED = 20  # 429s in a row for one message before we give it up (never reached in practice)


# ---------------------------------------------------------------------------- transport contract


class RateLimited(Exception):
    """429: nothing was sent; wait `retry_after` seconds before sending anything."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


class Blocked(Exception):
    """403: the user blocked the bot (or deleted their account)."""


class Migrated(Exception):
    """The group became a supergroup with a new chat id."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Transient(Exception):
    """A failure where the message certainly did not go out (network, 5xx): worth retrying."""


class Permanent(Exception):
    """A failure that retrying will not fix; `reason` is recorded on the delivery."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Message:
    """What a broadcast sends: HTML text (a caption when there is media), optional media, and an
    inline keyboard as JSON (notices)."""

    text: str
    media_kind: str | None = None
    media_file_id: str | None = None
    buttons: str | None = None


Transport = Callable[[int, Message], Awaitable[None]]


# ---------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Report:
    """Where a broadcast stands; the figures always add up to `total`."""

    broadcast_id: int
    status: str
    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    pending: int = 0
    sending: int = 0
    interrupted: int = 0  # in flight at a crash and sent again: may have arrived twice

    @property
    def remaining(self) -> int:
        """Not yet attempted (including the batch in flight)."""
        return self.pending + self.sending

    @property
    def finished(self) -> bool:
        return self.remaining == 0


async def report(session: AsyncSession, broadcast_id: int) -> Report:
    """Count a broadcast's deliveries by state."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return Report(broadcast_id, status="")
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.status)
    )
    counts = {status: int(n) for status, n in rows.all()}
    interrupted = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.broadcast_id == broadcast_id, Delivery.interrupted.is_(True), Delivery.status == D_SENT
        )
    )
    return Report(
        broadcast_id,
        status=broadcast.status,
        total=sum(counts.values()),
        sent=counts.get(D_SENT, 0),
        failed=counts.get(D_FAILED, 0),
        blocked=counts.get(D_BLOCKED, 0),
        skipped=counts.get(D_SKIPPED, 0),
        pending=counts.get(D_PENDING, 0),
        sending=counts.get(D_SENDING, 0),
        interrupted=int(interrupted or 0),
    )


# ---------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SenderConfig:
    """Pacing and batching. The defaults are Telegram's limits; tests pass faster ones."""

    global_rate: float = 30.0  # messages a second, all chats together
    per_chat_interval: float = 1.0  # seconds between two messages to one private chat
    per_group_interval: float = 3.0  # 20 a minute to one group
    batch_size: int = 10  # deliveries claimed (and committed `sending`) at a time
    max_attempts: int = 3  # tries for transient errors
    backoff: float = 1.0  # first wait after a transient error; doubles each time
    idle_wait: float = 5.0  # longest sleep when nothing is due (a wake() ends it early)
    progress_interval: float = 3.0  # at most one progress report per broadcast this often
    stop_check: float = 0.25  # how often long waits look at the stop flag
    only_kinds: tuple[str, ...] = ()  # send only broadcasts of these kinds (the notice sender)
    skip_kinds: tuple[str, ...] = ()  # never these (the broadcast sender leaves notices alone)


ProgressCallback = Callable[[Broadcast, Report], Awaitable[None]]
BlockedCallback = Callable[[int], None]


@dataclass
class _Outcome:
    delivery_id: int
    user_id: int
    status: str
    attempts: int = 1
    error: str | None = None
    recorded: bool = False  # already written (a copy marked sent the moment it went out)


class _Stopping(Exception):
    """Raised inside a wait when the application is stopping: the delivery was not sent."""


@dataclass
class _Claim:
    broadcast: Broadcast
    deliveries: list[tuple[int, int]] = field(default_factory=list)  # (delivery id, user id)
    looked_at: int = 0  # pending rows seen (claimed or found blocked)


class Sender:
    """Drains the outbox until `should_stop()`; one instance per running application."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        transport: Transport,
        config: SenderConfig | None = None,
        *,
        on_progress: ProgressCallback | None = None,
        on_blocked: BlockedCallback | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessionmaker = sessionmaker
        self.transport = transport
        self.config = config or SenderConfig()
        self.on_progress = on_progress
        self.on_blocked = on_blocked
        self.clock = clock
        # Evenly spaced: capacity 1 refilled every 1/rate s, so no burst can exceed the rate.
        self.limiter = AsyncLimiter(1, 1.0 / self.config.global_rate)
        self._wake = asyncio.Event()
        self._paused_until = 0.0
        self._last_sent: dict[int, float] = {}
        self._last_progress: dict[int, float] = {}
        self._should_stop: Callable[[], bool] = lambda: False
        self.rate_limited = 0  # 429s seen, for logs and tests

    # ------------------------------------------------------------------ lifecycle

    def wake(self) -> None:
        """Something was queued, paused or resumed: look at the outbox now."""
        self._wake.set()

    async def run(self, should_stop: Callable[[], bool]) -> None:
        """Recover from a crash, then drain due broadcasts until `should_stop()`."""
        self._should_stop = should_stop
        interrupted = await self.recover()
        if interrupted:
            log.warning("%d deliveries were in flight at the last stop; sending them again", interrupted)
        while not should_stop():
            try:
                worked = await self.drain_once()
            except _Stopping:
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender round failed; retrying shortly")
                worked = False
                # Outcomes of the batch may not have been written: treat it like a crash (never re-send).
                try:
                    await self.recover()
                except Exception:
                    log.exception("could not release the batch in flight")
            if not worked:
                await self._idle()

    async def recover(self) -> int:
        """Release this sender's batch left in flight (by a crash, or a failed round)."""
        return await recover(self.sessionmaker, self.config.only_kinds, self.config.skip_kinds)

    async def _idle(self) -> None:
        self._wake.clear()
        deadline = time.monotonic() + self.config.idle_wait
        while not self._should_stop() and not self._wake.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), min(remaining, self.config.stop_check))
            except TimeoutError:
                continue

    async def drain_once(self) -> bool:
        """Claim and send one batch of the first due broadcast; False when nothing was due."""
        claim = await self._claim()
        if claim is None:
            return False
        outcomes: list[_Outcome] = []
        try:
            if claim.deliveries:
                message = Message(
                    claim.broadcast.text,
                    claim.broadcast.media_kind,
                    claim.broadcast.media_file_id,
                    claim.broadcast.buttons,
                )
                results = await asyncio.gather(
                    *(self._deliver(d_id, user_id, message) for d_id, user_id in claim.deliveries),
                    return_exceptions=True,
                )
                for (d_id, user_id), result in zip(claim.deliveries, results, strict=True):
                    if isinstance(result, _Outcome):
                        outcomes.append(result)
                    elif isinstance(result, _Stopping):
                        outcomes.append(_Outcome(d_id, user_id, D_PENDING, attempts=0))
                    elif isinstance(result, asyncio.CancelledError):
                        raise result
                    else:
                        log.error("delivery %s failed unexpectedly: %r", d_id, result)
                        outcomes.append(_Outcome(d_id, user_id, D_FAILED, error=repr(result)[:300]))
        finally:
            if outcomes:
                await self._record(claim.broadcast.id, outcomes)
        await self._after_batch(claim.broadcast.id)
        if any(o.status == D_PENDING for o in outcomes):
            raise _Stopping
        return claim.looked_at > 0

    # ------------------------------------------------------------------ database steps

    async def _claim(self) -> _Claim | None:
        """Pick the first due broadcast and mark its next batch `sending` (committed before sending)."""
        now = self.clock()
        due = select(Broadcast).where(
            Broadcast.status.in_((PENDING, RUNNING)),
            or_(Broadcast.not_before.is_(None), Broadcast.not_before <= now),
        )
        if self.config.only_kinds:
            due = due.where(Broadcast.kind.in_(self.config.only_kinds))
        if self.config.skip_kinds:
            due = due.where(Broadcast.kind.not_in(self.config.skip_kinds))
        async with self.sessionmaker() as session, session.begin():
            broadcast = await session.scalar(due.order_by(Broadcast.id).limit(1))
            if broadcast is None:
                return None
            if broadcast.status == PENDING:
                broadcast.status = RUNNING
                broadcast.started_at = now
            rows = (
                await session.execute(
                    select(Delivery.id, Delivery.user_id, User.blocked_bot)
                    .outerjoin(User, User.id == Delivery.user_id)
                    .where(Delivery.broadcast_id == broadcast.id, Delivery.status == D_PENDING)
                    .order_by(Delivery.id)
                    .limit(self.config.batch_size)
                )
            ).all()
            blocked = [d_id for d_id, _, is_blocked in rows if is_blocked]
            claimed = [(d_id, user_id) for d_id, user_id, is_blocked in rows if not is_blocked]
            if blocked:
                # Known to have blocked the bot (maybe by an earlier broadcast): do not even try.
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(blocked))
                    .values(status=D_BLOCKED, last_error="blocked the bot")
                )
            if claimed:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_([d_id for d_id, _ in claimed]))
                    .values(status=D_SENDING, attempts=Delivery.attempts + 1)
                )
            return _Claim(broadcast, claimed, len(rows))

    async def _record(self, broadcast_id: int, outcomes: Sequence[_Outcome]) -> None:
        """Write a whole batch's outcomes in one transaction (plain successes in one statement)."""
        now = self.clock()
        outcomes = [o for o in outcomes if not o.recorded]
        if not outcomes:
            return
        plain_sent = [o.delivery_id for o in outcomes if o.status == D_SENT and o.attempts == 1]
        async with self.sessionmaker() as session, session.begin():
            if plain_sent:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(plain_sent), Delivery.status == D_SENDING)
                    .values(status=D_SENT, sent_at=now, last_error=None)
                )
            for outcome in outcomes:
                if outcome.status == D_SENT and outcome.attempts == 1:
                    continue
                values: dict[str, object] = {"status": outcome.status, "last_error": outcome.error}
                if outcome.status == D_SENT:
                    values["sent_at"] = now
                if outcome.status == D_PENDING:
                    # Not sent (the application is stopping): undo the claim's attempt.
                    values["attempts"] = Delivery.attempts - 1
                elif outcome.attempts > 1:
                    values["attempts"] = Delivery.attempts + (outcome.attempts - 1)
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == outcome.delivery_id, Delivery.status == D_SENDING)
                    .values(**values)
                )
                if outcome.status == D_BLOCKED:
                    await mark_blocked(session, outcome.user_id)
        for outcome in outcomes:
            if outcome.status == D_BLOCKED and self.on_blocked is not None:
                self.on_blocked(outcome.user_id)

    async def _after_batch(self, broadcast_id: int) -> None:
        """Finish the broadcast when nothing is left, and report progress (throttled)."""
        async with self.sessionmaker() as session, session.begin():
            current = await report(session, broadcast_id)
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                return
            if current.finished and broadcast.status == RUNNING:
                broadcast.status = DONE
                broadcast.finished_at = self.clock()
                current = replace(current, status=DONE)
        now = time.monotonic()
        last = self._last_progress.get(broadcast_id, 0.0)
        if current.finished or now - last >= self.config.progress_interval:
            self._last_progress[broadcast_id] = now
            if current.finished:
                self._last_progress.pop(broadcast_id, None)
            if self.on_progress is not None:
                try:
                    await self.on_progress(broadcast, current)
                except Exception:
                    log.exception("progress report for broadcast %s failed", broadcast_id)

    # ------------------------------------------------------------------ one message

    async def _deliver(self, delivery_id: int, user_id: int, message: Message) -> _Outcome:
        chat_id = user_id
        attempts = 1
        rate_limited = 0
        while True:
            await self._wait_turn(chat_id)
            try:
                await self.transport(chat_id, message)
            except RateLimited as exc:
                # Nothing was sent: pause everything, then try the same message again.
                self.rate_limited += 1
                rate_limited += 1
                self._paused_until = max(self._paused_until, time.monotonic() + exc.retry_after)
                if rate_limited >= MAX_RATE_LIMITED:
                    return _Outcome(delivery_id, user_id, D_FAILED, attempts, "rate limited")
                continue
            except Blocked:
                return _Outcome(delivery_id, user_id, D_BLOCKED, attempts, "blocked the bot")
            except Migrated as exc:
                if exc.new_chat_id == chat_id:
                    return _Outcome(delivery_id, user_id, D_FAILED, attempts, "migration loop")
                chat_id = exc.new_chat_id
                continue
            except Transient as exc:
                if attempts >= self.config.max_attempts:
                    return _Outcome(delivery_id, user_id, D_FAILED, attempts, f"transient: {exc}"[:300])
                await self._sleep(self.config.backoff * 2 ** (attempts - 1))
                attempts += 1
                continue
            except Permanent as exc:
                return _Outcome(delivery_id, user_id, D_FAILED, attempts, exc.reason[:300])
            # Recorded at once: a crash after this point never sends this copy again.
            await self._mark_sent(delivery_id, attempts)
            return _Outcome(delivery_id, user_id, D_SENT, attempts, recorded=True)

    async def _mark_sent(self, delivery_id: int, attempts: int) -> None:
        values: dict[str, object] = {"status": D_SENT, "sent_at": self.clock(), "last_error": None}
        if attempts > 1:
            values["attempts"] = Delivery.attempts + (attempts - 1)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status == D_SENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _wait_turn(self, chat_id: int) -> None:
        """Wait out a 429 pause and this chat's interval, then take a slot of the global rate."""
        interval = self.config.per_group_interval if chat_id < 0 else self.config.per_chat_interval
        while True:
            if self._should_stop():
                raise _Stopping
            now = time.monotonic()
            wait = max(self._paused_until - now, self._last_sent.get(chat_id, 0.0) + interval - now)
            if wait > 0:
                await self._sleep(wait)
                continue
            await self.limiter.acquire()
            # A 429 may have arrived while we waited for the limiter: then wait again.
            if self._paused_until <= time.monotonic():
                break
        now = time.monotonic()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 10_000:
            horizon = now - max(self.config.per_chat_interval, self.config.per_group_interval)
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > horizon}

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up (raise _Stopping) as soon as the application stops."""
        deadline = time.monotonic() + seconds
        while True:
            if self._should_stop():
                raise _Stopping
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, self.config.stop_check))


async def recover(
    sessionmaker: async_sessionmaker[AsyncSession],
    only_kinds: Sequence[str] = (),
    skip_kinds: Sequence[str] = (),
) -> int:
    """After a crash: deliveries left `sending` were not recorded as sent; they go back to `pending`,
    marked interrupted (their copy may have arrived), and are sent again. With kinds, only those of
    broadcasts of those kinds (each sender recovers its own)."""
    stuck = update(Delivery).where(Delivery.status == D_SENDING)
    if only_kinds or skip_kinds:
        ids = select(Broadcast.id)
        if only_kinds:
            ids = ids.where(Broadcast.kind.in_(only_kinds))
        if skip_kinds:
            ids = ids.where(Broadcast.kind.not_in(skip_kinds))
        stuck = stuck.where(Delivery.broadcast_id.in_(ids))
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            stuck.values(status=D_PENDING, last_error=INTERRUPTED, interrupted=True).execution_options(
                synchronize_session=False
            )
        )
        return rowcount(result)
