"""`integrity`: many users each sending a 4-step conversation back-to-back, at a 50 ms round trip.

Every user sends /profile, their name, national ID and mobile at once, without waiting for any
reply (as a hurried user on a slow line does), through `app.update_queue` of the running app. The
per-user processor must run each user's steps in order while users overlap. Afterwards the
database is checked: each profile holds exactly that user's answers and their conversation waits
for the city, the fourth question (in the conversation's state and on the draft row).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select

from benchmarks.harness import (
    ROUND_TRIP,
    Timer,
    mobile,
    national_id,
    persian_name,
    real_app,
    simulated_users,
    watching_stalls,
)
from bot.handlers.profile import FORM
from bot.services.validators import normalize_mobile
from db.models import ConversationState, Profile
from db.persistence import decode_key

FIRST_USER = 400_000


async def run(users: int = 1000) -> dict[str, Any]:
    async with real_app(latency=ROUND_TRIP, running=True) as rig, watching_stalls() as stalls:
        rig.api.keep_only_latest()
        people = simulated_users(rig.api, FIRST_USER, users)
        with Timer() as timer:
            for i, user in enumerate(people):
                rig.sim.enqueue_command(user, "profile")
                rig.sim.enqueue(user, persian_name(i))
                rig.sim.enqueue(user, national_id(i))
                rig.sim.enqueue(user, mobile(i))
                await asyncio.sleep(0)  # as the Updater does between batches: never stall the loop
            await rig.sim.drain()
        await rig.app.update_persistence()
        async with rig.app.bot_data.sessionmaker() as session:
            profiles = {p.user_id: p for p in await session.scalars(select(Profile))}
            states = {
                decode_key(row.key)[-1]: json.loads(row.state)
                for row in await session.scalars(
                    select(ConversationState).where(ConversationState.name == "profile")
                )
            }
        errors = len(rig.sim.errors)
    completed = 0
    for i, user in enumerate(people):
        profile = profiles.get(user.id)
        right = (
            profile is not None
            and profile.full_name == persian_name(i)
            and profile.national_id == national_id(i)
            and profile.mobile == normalize_mobile(mobile(i))
            and profile.city is None
            and profile.form_field == "city"
            and states.get(user.id) == FORM.state
        )
        completed += right
    return {
        "integrity_completed": completed,
        "integrity_wrong_state": users - completed,
        "integrity_users": users,
        "integrity_errors": errors,
        "integrity_seconds": round(timer.seconds, 2),
        "integrity_stall_ms": stalls.max_stall_ms,
    }
