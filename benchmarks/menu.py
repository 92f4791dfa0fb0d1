"""`menu`: main-menu navigation through the real application vs a bare PTB echo bot.

Each simulated user runs a round of /start, Help, Main menu, My profile (enters the profile
conversation) and /start (leaves it): commands, presses that edit the menu message, a persistent
conversation entered and left. The echo bot gets the very same updates (it echoes texts, answers
presses) on the same fake transport, so the ratio is what our handlers, database and persistence
cost on top of PTB itself.

Real traffic is many people with a few taps each, so the run has many users (1,000; `--quick` 500)
doing one or two rounds, `IN_FLIGHT` of them at a time: the bot's per-user pacing
(USER_RATE_LIMIT, 10 updates a second per user, left at its default) never holds anyone back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.harness import Timer, echo_app, ratio, real_app, run_users, simulated_users, watching_stalls
from fakeapi.simulator import UserUpdates
from fakeapi.state import JSON

ROUND = 5  # updates per round
IN_FLIGHT = 50  # users active at the same moment


def round_updates(user: UserUpdates) -> list[Callable[[], JSON]]:
    """The round, as builders (a press is built after the previous reply, on the menu message)."""
    return [
        lambda: user.command_update("start"),
        lambda: user.callback_update("menu:help"),
        lambda: user.callback_update("menu:home"),
        lambda: user.callback_update("menu:profile"),
        lambda: user.command_update("start"),
    ]


async def _drive(feed: Callable[[JSON], Awaitable[None]], users: list[UserUpdates], rounds: int) -> None:
    async def script(user: UserUpdates) -> None:
        for _ in range(rounds):
            for build in round_updates(user):
                await feed(build())

    await run_users(users, script, concurrency=IN_FLIGHT)


async def run(users: int = 50, rounds: int = 20, warmup_rounds: int = 1) -> dict[str, Any]:
    """updates = users × rounds × 5, for each of the two bots."""
    total = users * rounds * ROUND
    async with echo_app() as (_, api, sim):
        people = simulated_users(api, 10_000, users)
        await _drive(sim.feed, people, warmup_rounds)
        with Timer() as echo_time:
            await _drive(sim.feed, people, rounds)
        echo_errors = len(sim.errors)
    async with real_app() as rig:
        people = simulated_users(rig.api, 10_000, users)
        await _drive(rig.feed, people, warmup_rounds)  # first contact writes the user rows
        async with watching_stalls() as stalls:
            with Timer() as menu_time:
                await _drive(rig.feed, people, rounds)
        menu_errors = len(rig.sim.errors)
    bare = total / echo_time.seconds
    menu = total / menu_time.seconds
    return {
        "bare_echo_ups": round(bare),
        "menu_ups": round(menu),
        "menu_ratio": ratio(menu, bare),
        "menu_updates": total,
        "menu_users": users,
        "bare_echo_cpu_ms": round(echo_time.cpu * 1000 / total, 3),
        "menu_cpu_ms": round(menu_time.cpu * 1000 / total, 3),
        "menu_cpu_ratio": ratio(echo_time.cpu, menu_time.cpu),
        "menu_errors": echo_errors + menu_errors,
        "menu_stall_ms": stalls.max_stall_ms,
    }
