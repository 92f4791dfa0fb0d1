"""The delivery runtime: the outbox senders of one application, and the Bot API calls they make.

Two senders drain the one durable outbox (bot/services/sender.py): the broadcast sender (news,
announcements, reminders) paced under Telegram's limits, and the notice sender for one-off messages
to a person (a new application for staff, a decision for an applicant, a council answer), which go
out at once, ahead of any broadcast, like a reply. Handlers never send a notice themselves: they
queue it in their own transaction, and the commit wakes the sender.

The application holds one `Delivery` in `bot_data.delivery`; a repeating job starts the tasks once
the application runs (and restarts a task that died); they end when the application stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import InputFile
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application

from bot.kit.markup import from_json
from bot.outgoing import OutgoingLimiter, bulk
from bot.services import sender as sender_service
from bot.services.sender import Message, Report, Sender, SenderConfig
from db.models import Broadcast
from db.models.outbox import NOTICE

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
ProgressHook = Callable[[AnyApplication, Broadcast, Report], Awaitable[None]]
# Attachments drawn when they are sent (a certificate's PDF): an outbox row's media_file_id
# "gen:<kind>:<argument>" names the generator registered under <kind> and its argument; the bytes are
# never stored, and a generator that finds nothing (None) makes the delivery fail permanently.
GENERATED = "gen:"
Generator = Callable[[AnyApplication, str], Awaitable[InputFile | None]]
GENERATORS: dict[str, Generator] = {}
WAKE_INTERVAL = 10.0  # seconds between the job's wake-ups (due reminders, a task that died)
# Notices: one to a few people each, sent like replies (no per-chat spacing, never held back).
NOTICE_CONFIG = SenderConfig(
    per_chat_interval=0.0, per_group_interval=0.0, batch_size=20, only_kinds=(NOTICE,)
)


class Delivery:
    """The senders of one application (tests may change `config` before the application starts)."""

    def __init__(self, application: AnyApplication, on_progress: ProgressHook | None = None) -> None:
        self._application = weakref.ref(application)
        self._on_progress = on_progress
        self.config = SenderConfig(global_rate=application.bot_data.settings.send_rate)
        self.notice_config = NOTICE_CONFIG
        self.sender: Sender | None = None
        self.notices: Sender | None = None
        self.task: asyncio.Task[None] | None = None
        self.notice_task: asyncio.Task[None] | None = None
        self._queued = False  # something was queued since the last drain_notices

    # ------------------------------------------------------------------ running

    def wake(self) -> None:
        """New work was committed (or resumed): start or wake the senders now."""
        self._queued = True
        self.ensure_started()

    def ensure_started(self) -> None:
        """Start the sender tasks if they are not running (first wake-up, or one died); else wake them."""
        application = self._application()
        if application is None or not application.running:
            return
        running = [task for task in (self.task, self.notice_task) if task is not None and not task.done()]
        if len(running) == 2:
            for sender in (self.sender, self.notices):
                if sender is not None:
                    sender.wake()
            return
        limiter = application.bot.rate_limiter
        if isinstance(limiter, OutgoingLimiter):
            # The broadcast sender's global rate is the bot's whole budget: replies included.
            limiter.budget.limit = max(1, int(self.config.global_rate))
        if self.task is None or self.task.done():
            self.sender = self._sender(application, self._broadcast_config(), bulk_sends=True)
            self.task = application.create_task(self._run(application, self.sender), name="outbox-sender")
        if self.notice_task is None or self.notice_task.done():
            self.notices = self._sender(application, self.notice_config, bulk_sends=False)
            self.notice_task = application.create_task(
                self._run(application, self.notices), name="notice-sender"
            )

    def _broadcast_config(self) -> SenderConfig:
        return replace(self.config, skip_kinds=tuple({*self.config.skip_kinds, NOTICE}))

    def _sender(self, application: AnyApplication, config: SenderConfig, *, bulk_sends: bool) -> Sender:
        on_progress = self._on_progress

        async def progress(broadcast: Broadcast, report: Report) -> None:
            if on_progress is not None:
                await on_progress(application, broadcast, report)

        return Sender(
            application.bot_data.sessionmaker,
            telegram_transport(application, bulk_sends=bulk_sends),
            config,
            on_progress=progress,
            on_blocked=application.bot_data.seen.forget,
        )

    async def _run(self, application: AnyApplication, sender: Sender) -> None:
        await sender.run(should_stop=lambda: not application.running)

    async def drain_notices(self) -> int:
        """Send every due notice now, without the application running (tests); returns rounds that sent."""
        application = self._application()
        if application is None or not self._queued:
            return 0
        self._queued = False
        if self.notices is None:
            self.notices = self._sender(application, self.notice_config, bulk_sends=False)
        rounds = 0
        while await self.notices.drain_once():
            rounds += 1
        return rounds

    @property
    def rate(self) -> float:
        """The broadcast sender's messages a second (for time estimates)."""
        return self.config.global_rate


def generated(kind: str) -> Callable[[Generator], Generator]:
    """Register the generator of the attachments "gen:<kind>:<argument>" (a feature module does)."""

    def register(generator: Generator) -> Generator:
        GENERATORS[kind] = generator
        return generator

    return register


def attachment_id(kind: str, argument: str) -> str:
    """The outbox's media_file_id of an attachment drawn at send time by the generator of `kind`."""
    return f"{GENERATED}{kind}:{argument}"


async def _media(application: AnyApplication, file_id: str) -> str | InputFile:
    """A Telegram file_id as is, or the generated file it names."""
    if not file_id.startswith(GENERATED):
        return file_id
    kind, _sep, argument = file_id[len(GENERATED) :].partition(":")
    generator = GENERATORS.get(kind)
    made = await generator(application, argument) if generator is not None else None
    if made is None:
        raise sender_service.Permanent(f"nothing to send for {file_id}")
    return made


def schedule(application: AnyApplication) -> None:
    """A repeating job starts the senders once the application runs and wakes them now and then."""

    async def wake(_context: Any) -> None:
        application.bot_data.delivery.ensure_started()

    if application.job_queue is not None:
        application.job_queue.run_repeating(wake, interval=WAKE_INTERVAL, first=0.0, name="outbox-sender")


# ---------------------------------------------------------------------------- Telegram transport


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def telegram_transport(application: AnyApplication, *, bulk_sends: bool = True) -> sender_service.Transport:
    """Send one outbox message with the application's bot, translating Bot API errors for the sender."""
    bot = application.bot

    async def post(chat_id: int, message: Message) -> None:
        markup = from_json(json.loads(message.buttons)) if message.buttons else None
        caption = message.text or None
        media = await _media(application, message.media_file_id) if message.media_file_id else None
        send_media = {"photo": bot.send_photo, "document": bot.send_document}.get(message.media_kind or "")
        if send_media is not None and media is not None:
            await send_media(chat_id, media, caption=caption, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            await bot.send_message(chat_id, message.text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def send(chat_id: int, message: Message) -> None:
        try:
            if bulk_sends:
                # Bulk: it yields to people's replies within the bot's one 30/s budget (bot/outgoing.py).
                with bulk():
                    await post(chat_id, message)
            else:
                await post(chat_id, message)
        except RetryAfter as exc:
            raise sender_service.RateLimited(_seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            raise sender_service.Blocked(exc.message) from exc
        except ChatMigrated as exc:
            raise sender_service.Migrated(int(exc.new_chat_id)) from exc
        except TimedOut as exc:
            if "not* sent" in exc.message or "Pool timeout" in exc.message:
                raise sender_service.Transient(exc.message) from exc
            # The request may have reached Telegram: retrying could send a second copy.
            raise sender_service.Permanent("timed out; delivery unknown") from exc
        except BadRequest as exc:  # a subclass of NetworkError, but retrying cannot fix it
            raise sender_service.Permanent(exc.message) from exc
        except NetworkError as exc:
            raise sender_service.Transient(exc.message) from exc
        except TelegramError as exc:
            raise sender_service.Permanent(exc.message) from exc

    return send


async def acquire_send_slot(application: AnyApplication) -> None:
    """Wait for a slot of the broadcast sender's rate (a progress edit counts against the budget)."""
    sender = application.bot_data.delivery.sender
    if sender is not None:
        await sender.limiter.acquire()
