"""`memory`: resident memory per 10,000 conversations in progress, with 100,000 users on record.

The database gets the users first (bulk insert). A warm-up batch of conversations runs so that
one-off allocations (compiled SQL, caches) are not counted; then RSS (from /proc/self/statm, after
gc.collect) is read before and after `conversations` more users open /profile and stay at its
first question. What the fake Bot API remembers is dropped as the run goes, so only the bot's own
memory is measured: ConversationHandler state, per-user processor slots, caches, SQLAlchemy.
"""

from __future__ import annotations

import gc
from typing import Any

from sqlalchemy import func, select

from benchmarks.harness import (
    STALLS,
    Rig,
    insert_users,
    real_app,
    rss_bytes,
    run_users,
    watching_stalls,
)
from db.models import ConversationState
from fakeapi.simulator import UserUpdates

FIRST_USER = 1_000_000
CONCURRENCY = 100


async def _open_profiles(rig: Rig, first: int, count: int) -> None:
    ids = list(range(first, first + count))

    async def script(user_id: int) -> None:
        user = UserUpdates(rig.api, user_id)
        await rig.feed(user.command_update("profile"))
        rig.api.users.pop(user_id, None)
        rig.api.chats.pop(user_id, None)
        if user_id % 500 == 0:
            rig.forget_fake_history()

    await run_users(ids, script, CONCURRENCY)  # type: ignore[arg-type]
    rig.forget_fake_history()


def _rss_after_collect() -> int:
    gc.collect()
    return rss_bytes()


async def run(
    users_on_record: int = 100_000, conversations: int = 10_000, warmup: int = 1_000
) -> dict[str, Any]:
    async with real_app() as rig:
        await insert_users(rig, range(FIRST_USER, FIRST_USER + users_on_record))
        async with watching_stalls() as stalls:
            await _open_profiles(rig, FIRST_USER, warmup)
            before = _rss_after_collect()
            await _open_profiles(rig, FIRST_USER + warmup, conversations)
            after = _rss_after_collect()
        async with rig.app.bot_data.sessionmaker() as session:
            open_conversations = await session.scalar(
                select(func.count()).select_from(ConversationState).where(ConversationState.name == "profile")
            )
        errors = len(rig.sim.errors)
    growth_mb = (after - before) / 1_048_576
    return {
        "memory_mb_per_10k_conversations": round(growth_mb * 10_000 / conversations, 2),
        "memory_rss_mb": round(after / 1_048_576, 1),
        "memory_open_conversations": int(open_conversations or 0),
        "memory_errors": errors,
        "max_loop_stall_ms": max(stalls.max_stall_ms, STALLS.max_stall_ms),
    }
