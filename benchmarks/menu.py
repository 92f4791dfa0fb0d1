"""`menu`: main-menu navigation through the real application, against two baselines.

Each simulated user runs a round of /start, Help, Main menu, My profile (enters the profile form) and
/start (leaves it): commands, presses that edit the menu message, a persistent conversation entered
and left. Two bare PTB bots get the very same updates on the same fake transport:
- the echo bot (echoes texts, answers presses): what PTB itself costs (`menu_ratio`, the old key);
- the same-replies bot (benchmarks/same_replies.py): it sends exactly the texts, keyboards and edits
  the real bot sent, with no database and none of our handlers (`menu_same_replies_ratio`, the fair
  floor: building and serialising a 10-button menu is most of a tap's cost in PTB itself).
The real bot is also run without its inbox (updates handed straight to the processor), to show what
storing each update before it is acknowledged costs.

Real traffic is many people with a few taps each, so the run has many users (1,000; `--quick` 500)
doing one or two rounds, `IN_FLIGHT` of them at a time: the bot's per-user pacing
(USER_RATE_LIMIT, 10 updates a second per user, left at its default) never holds anyone back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.harness import (
    Timer,
    counting,
    echo_app,
    per_update,
    ratio,
    real_app,
    run_users,
    simulated_users,
    watching_stalls,
)
from benchmarks.same_replies import record, same_replies_app
from fakeapi.simulator import UserUpdates
from fakeapi.state import JSON

ROUND = 5  # updates per round
IN_FLIGHT = 50  # users active at the same moment
BUILDERS: list[Callable[[UserUpdates], JSON]] = [
    lambda user: user.command_update("start"),
    lambda user: user.callback_update("menu:help"),
    lambda user: user.callback_update("menu:home"),
    lambda user: user.callback_update("menu:profile"),
    lambda user: user.command_update("start"),
]


async def _drive(feed: Callable[[JSON], Awaitable[None]], users: list[UserUpdates], rounds: int) -> None:
    async def script(user: UserUpdates) -> None:
        for _ in range(rounds):
            for build in BUILDERS:  # a press is built after the previous reply, on the menu message
                await feed(build(user))

    await run_users(users, script, concurrency=IN_FLIGHT)


async def _real(
    users: int, rounds: int, warmup_rounds: int, *, inbox: bool
) -> tuple[Timer, int, float, Any, dict[str, int]]:
    async with real_app(inbox=inbox) as rig:
        rig.api.keep_only_latest()
        people = simulated_users(rig.api, 10_000, users)
        await _drive(rig.feed, people, warmup_rounds)  # first contact writes the user rows
        async with watching_stalls(of_the_bot=inbox) as stalls:
            with counting(rig.app) as counts, Timer() as timer:
                await _drive(rig.feed, people, rounds)
        return timer, len(rig.sim.errors), stalls.max_stall_ms, stalls.p99_ms, counts


async def run(users: int = 50, rounds: int = 20, warmup_rounds: int = 1) -> dict[str, Any]:
    """updates = users × rounds × 5, for each of the bots."""
    total = users * rounds * ROUND
    async with real_app() as rig:
        replies = await record(rig, BUILDERS)
    async with echo_app() as (_, api, sim):
        api.keep_only_latest()
        people = simulated_users(api, 10_000, users)
        await _drive(sim.feed, people, warmup_rounds)
        with Timer() as echo_time:
            await _drive(sim.feed, people, rounds)
        echo_errors = len(sim.errors)
    async with same_replies_app(replies) as (_, api, sim):
        api.keep_only_latest()
        people = simulated_users(api, 10_000, users)
        await _drive(sim.feed, people, warmup_rounds)
        with Timer() as same_time:
            await _drive(sim.feed, people, rounds)
        same_errors = len(sim.errors)
    plain_time, plain_errors, _stall, _p99, _counts = await _real(users, rounds, warmup_rounds, inbox=False)
    menu_time, menu_errors, stall, p99, counts = await _real(users, rounds, warmup_rounds, inbox=True)
    bare = total / echo_time.seconds
    same = total / same_time.seconds
    menu = total / menu_time.seconds
    plain = total / plain_time.seconds
    return {
        "bare_echo_ups": round(bare),
        "same_replies_ups": round(same),
        "menu_ups": round(menu),
        "menu_ratio": ratio(menu, bare),
        "menu_same_replies_ratio": ratio(menu, same),
        "menu_ups_without_inbox": round(plain),
        "menu_inbox_cost_ratio": ratio(menu, plain),
        "menu_updates": total,
        "menu_users": users,
        "bare_echo_cpu_ms": round(echo_time.cpu * 1000 / total, 3),
        "same_replies_cpu_ms": round(same_time.cpu * 1000 / total, 3),
        "menu_cpu_ms": round(menu_time.cpu * 1000 / total, 3),
        "menu_cpu_ratio": ratio(echo_time.cpu, menu_time.cpu),
        **per_update(counts, total, "menu_tap"),
        "menu_errors": echo_errors + same_errors + menu_errors + plain_errors,
        "menu_stall_ms": stall,
        "menu_stall_p99_ms": p99,
    }
