"""Shared helpers for the news, sender and broadcast tests: a fast sender, waiting for it, counting copies."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from bot.context import BotApplication
from bot.services.sender import Report, SenderConfig, report
from db.models import Broadcast
from db.models.outbox import CANCELLED, DONE
from fakeapi.state import FakeTelegram

# Fast pacing for the fake API: the logic is the same, only the numbers differ.
FAST = SenderConfig(
    global_rate=5000.0,
    per_chat_interval=1.0,
    batch_size=50,
    backoff=0.01,
    idle_wait=0.2,
    progress_interval=0.2,
    stop_check=0.05,
)


async def start_sender(app: BotApplication, config: SenderConfig = FAST) -> None:
    """Start the application (and with it the sender) with test pacing."""
    app.bot_data.delivery.config = config
    await app.start()
    app.bot_data.delivery.ensure_started()


async def wait_finished(app: BotApplication, broadcast_id: int, timeout: float = 60.0) -> Report:  # noqa: ASYNC109
    """Wait until the broadcast is done or cancelled and no batch of it is still in flight
    (a guard against hanging, not a timing assertion)."""
    async with asyncio.timeout(timeout):
        while True:
            async with app.bot_data.sessionmaker() as session:
                status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
                if status in (DONE, CANCELLED):
                    result = await report(session, broadcast_id)
                    if not result.sending:
                        return result
            await asyncio.sleep(0.05)


def copies(api: FakeTelegram, method: str = "sendMessage") -> Counter[int | str | None]:
    """How many messages each chat received successfully."""
    return Counter(call.chat_id for call in api.calls_to(method, ok=True))
