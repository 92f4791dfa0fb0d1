"""Long polling through the inbox: each batch is stored before the next getUpdates acknowledges it.

python-telegram-bot's Updater acknowledges a batch as soon as it asks for the next one, whether or
not the batch was handled; a process killed in between loses those updates. Here a batch is first
committed to the inbox (one transaction), and only then is the next batch asked for with the offset
that tells the Bot API to forget it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from bot.processing import serial_key

log = logging.getLogger(__name__)

POLL_TIMEOUT = 20  # seconds a getUpdates waits on the Bot API for something to arrive
BACKOFF = (1.0, 2.0, 5.0, 10.0)  # waits after consecutive network errors


async def poll(application: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event) -> None:
    """Fetch, store, acknowledge, hand on — until `stop` is set."""
    inbox = application.bot_data.inbox
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            raw = await application.bot.do_api_request(
                "getUpdates",
                {"offset": offset, "timeout": POLL_TIMEOUT, "allowed_updates": Update.ALL_TYPES},
                read_timeout=POLL_TIMEOUT + 10,
            )
        except TimedOut:
            continue
        except RetryAfter as exc:
            wait = exc.retry_after
            await _sleep(stop, wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
            continue
        except Conflict:
            log.error("another process polls this bot (or a webhook is set); retrying")
            await _sleep(stop, BACKOFF[-1])
            continue
        except (NetworkError, TelegramError) as exc:
            failures += 1
            log.warning("getUpdates failed: %s", exc)
            await _sleep(stop, BACKOFF[min(failures, len(BACKOFF)) - 1])
            continue
        failures = 0
        if not raw:
            continue
        updates = [u for u in (Update.de_json(item, application.bot) for item in raw) if u is not None]
        try:
            # Committed before the next getUpdates: only then may the Bot API forget them.
            fresh = await inbox.store(updates, [json.dumps(item, ensure_ascii=False) for item in raw])
        except Exception:
            # Not stored, so not acknowledged: the same batch comes again with the next getUpdates.
            log.exception("could not store a batch of %d updates; asking for it again", len(updates))
            await _sleep(stop, BACKOFF[0])
            continue
        offset = updates[-1].update_id + 1
        for update in fresh:
            await application.update_queue.put(update)
    if offset is not None:
        # Acknowledge the last batch (it is in the inbox), so a restart is not sent it again.
        try:
            await application.bot.get_updates(
                offset=offset, timeout=0, limit=1, allowed_updates=Update.ALL_TYPES
            )
        except TelegramError as exc:
            log.info("final acknowledgement failed (the inbox dedupes a redelivery): %s", exc)


async def replay(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """On start (and when a standby takes over): what a crash left in the inbox. Updates stored but
    not handled are handled now, in order; those handled but not answered are answered again."""
    inbox = application.bot_data.inbox
    found: tuple[list[Update], list[Update]] = await inbox.unfinished(application.bot)
    again, answer = found
    if again or answer:
        log.warning(
            "inbox: %d updates to replay, %d to answer again after the last stop", len(again), len(answer)
        )
    processor = application.update_processor
    # One answer per person: several of their updates may be waiting, but they are at one place now.
    latest = {serial_key(update): update for update in answer}
    for update in answer:
        hook = getattr(processor, "answer_again", None)
        if hook is not None and latest.get(serial_key(update)) is update:
            try:
                await hook(update)
            except TelegramError as exc:
                log.warning("could not answer update %s again: %s", update.update_id, exc)
        inbox.done(update.update_id)
    # An update whose handling began before a crash may be what crashed the process: those run one
    # at a time first, so each attempt counted against one is its own (bot/inbox.py, MAX_REPLAYS).
    for update in again:
        if inbox.suspect(update.update_id):
            await processor.process_update(update, application.process_update(update))
    for update in again:
        if not inbox.suspect(update.update_id):
            await application.update_queue.put(update)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
