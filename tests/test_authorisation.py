"""Authorisation, table-driven from the registered handlers themselves.

- Every handler is either guarded (`@staff_only`/`@admin_only`) or marked `@public`: a new handler
  with neither fails here (docs/security.md).
- Every guarded command, button pattern and message handler, forged by someone who is not staff,
  is refused and changes nothing at all (every table's row count and contents are compared).
- Association staff pressing forged buttons with another association's ids (applications, courses,
  the association itself, its broadcasts, audiences, news scope) change nothing.
- A staff member whose role is taken away mid-form is refused at the next step.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler

from bot.context import BotApplication
from bot.kit.guards import guard_of, is_public
from db.models import Broadcast, DeletionRequest, Staff
from fakeapi.simulator import Simulator, SimUser
from tests import fuzzkit
from tests.directory_helpers import send_csv
from tests.factories import add_registration, add_users
from tests.fuzzkit import RECIPES, World

REFUSAL = "فقط برای کارشناسان"
# A staff form's own buttons, pressed by someone not in that form, are just stale buttons.
STALE = "این دکمه دیگر معتبر نیست"
FORGED = {"actions": 0}
# The staff surface, declared: a handler for any of these must be guarded, and every guarded handler
# must be one of these. So marking a staff button `@public` by mistake fails, and so does a new staff
# prefix that nobody added here (add it, and the forged-action tests below cover it).
STAFF_COMMANDS = {
    "review",
    "export",
    "postnews",
    "announce",
    "associations",
    "managecourses",
    "staff",
    "stats",
    "broadcasts",
    "issues",
    "rate",
    "dues",
    "revoke",
}
STAFF_BUTTONS = (
    "review:",
    "mem:ok:",
    "mem:no:",
    "mem:fig:",
    "mem:xlsx:",
    "mem:imp:",
    "mem:impno:",
    "mem:revoke:",
    "menu:dues",
    "newspost:",
    "ann:",
    "cadm:",
    "bc:",
    "privacy:ok:",
    "privacy:no:",
    "news:post",
    "dir:add",
    "dir:edit:",
    "dir:st:",
    "dir:tg:",
    "dir:ev:",
    "dir:fl:",
    "dir:ef:",
    "dir:as:",
    "dir:dup:",
    "dir:new:",
    "dir:export",
    "dir:imp:",
    "council:reply:",
    "council:noreply",
    "council:issues:",
    "council:staff:",
    "council:rev:",
    "council:agenda:",
    "council:assign:",
    "council:to:",
    "council:merge:",
    "council:into:",
)


def guarded(app: BotApplication) -> list[fuzzkit.Found]:
    return [f for f in fuzzkit.walk(app) if guard_of(getattr(f.handler, "callback", None)) is not None]


def staff_commands(app: BotApplication) -> list[str]:
    found = {c for f in guarded(app) if isinstance(f.handler, CommandHandler) for c in f.handler.commands}
    return sorted(found)


def staff_patterns(app: BotApplication) -> list[str]:
    found = {
        str(f.handler.pattern.pattern)  # type: ignore[union-attr]
        for f in guarded(app)
        if isinstance(f.handler, CallbackQueryHandler) and f.handler.pattern is not None
    }
    return sorted(found)


def sample(pattern: str, numbers: list[int]) -> str:
    """One string matching a button pattern; each `\\d+` takes the next of `numbers`."""
    queue = list(numbers)

    def render(tokens: Any) -> str:
        out = []
        for op, arg in tokens:
            if op is sre_constants.LITERAL:
                out.append(chr(arg))
            elif op in (sre_constants.AT,):
                continue
            elif op is sre_constants.SUBPATTERN:
                out.append(render(arg[-1]))
            elif op is sre_constants.BRANCH:
                out.append(render(arg[1][0]))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, _high, inner = arg
                if low == 0:
                    continue  # leave optional parts out
                out.append(render_repeat(inner, low))
            elif op is sre_constants.IN:
                out.append(render_in(arg))
            else:
                raise AssertionError(f"pattern {pattern!r}: cannot sample {op}")
        return "".join(out)

    def render_repeat(inner: Any, low: int) -> str:
        (op, arg), *_ = list(inner)
        if op is sre_constants.IN and (sre_constants.CATEGORY, sre_constants.CATEGORY_DIGIT) in arg:
            return str(queue.pop(0) if queue else 1).zfill(low)
        if op is sre_constants.IN and (sre_constants.CATEGORY, sre_constants.CATEGORY_WORD) in arg:
            return "title"
        return render(inner)

    def render_in(arg: Any) -> str:
        op, value = arg[0]
        if op is sre_constants.LITERAL:
            return chr(value)
        if op is sre_constants.RANGE:
            return chr(value[1])
        if value == sre_constants.CATEGORY_DIGIT:
            return "1"
        return "x"

    result = render(sre_parse.parse(pattern))
    assert re.fullmatch(pattern.strip("^$"), result), (pattern, result)
    return result


async def started(sim: Simulator, user_id: int) -> SimUser:
    user = sim.user(user_id, first_name="غریبه")
    await user.command("/start")
    return user


def refused(user: SimUser, mark: int, answers_before: int) -> bool:
    alerts = [str(call.params.get("text") or "") for call in user.answers[answers_before:]]
    return any(REFUSAL in text or STALE in text for text in [*alerts, *user.texts_since(mark)])


# ---------------------------------------------------------------------------------------- the rule


def test_every_handler_is_guarded_or_marked_public(app: BotApplication) -> None:
    unmarked = []
    both = []
    for found in fuzzkit.walk(app):
        callback = getattr(found.handler, "callback", None)
        if callback is None:
            continue  # a ConversationHandler: its own handlers are walked
        name = f"{getattr(callback, '__module__', '?')}.{getattr(callback, '__qualname__', callback)}"
        if guard_of(callback) is None and not is_public(callback):
            unmarked.append(f"{found.where}: {name}")
        if guard_of(callback) is not None and is_public(callback):
            both.append(name)
    assert not unmarked, "neither guarded nor @public:\n" + "\n".join(unmarked)
    assert not both, f"both guarded and @public: {both}"


def test_the_declared_staff_surface_is_exactly_the_guarded_one(app: BotApplication) -> None:
    """Guards and the declared staff commands/buttons agree, in both directions."""
    assert set(staff_commands(app)) == STAFF_COMMANDS
    for found in fuzzkit.walk(app):
        handler = found.handler
        is_guarded = guard_of(getattr(handler, "callback", None)) is not None
        if isinstance(handler, CommandHandler) and handler.commands & STAFF_COMMANDS:
            assert is_guarded, f"{found.where}: /{sorted(handler.commands)} is staff but not guarded"
        if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
            data = sample(str(handler.pattern.pattern), [1, 1, 1])  # type: ignore[union-attr]
            declared = data.startswith(STAFF_BUTTONS)
            assert declared == is_guarded, (
                f"{found.where}: {data!r} declared staff={declared}, guarded={is_guarded}"
            )
    # Guarded message handlers exist inside staff conversations and for the CSV import.
    assert any(isinstance(f.handler, MessageHandler) for f in guarded(app))
    assert not any(isinstance(f.handler, TypeHandler) for f in guarded(app))


# ---------------------------------------------------------------------------------------- strangers


async def test_non_staff_is_refused_everything_and_nothing_changes(
    sim: Simulator, app: BotApplication
) -> None:
    world = await World.make(sim, app)
    stranger = await started(sim, 6_100_001)
    # Midway through their own application: a forged staff button must not even end that form.
    await fuzzkit.reach(world, "apply:national_id", "apply", stranger)
    numbers = [world.copper, world.other_course, world.other_application]
    actions: list[tuple[str, str]] = []
    for command in staff_commands(app):
        actions += [("command", command), ("command", f"{command} add {stranger.id} admin")]
        actions.append(("command", f"{command} {world.carpet}"))
    for pattern in staff_patterns(app):
        actions.append(("button", sample(pattern, numbers)))
        actions.append(("button", sample(pattern, [world.carpet, world.course, world.application])))
    actions.append(("csv", "name,status\nانجمن ساختگی,active\n"))
    assert len(actions) > 100
    for kind, value in actions:
        before = await fuzzkit.snapshot(app, skip=frozenset({"processed_updates"}))
        mark, answers = stranger.mark(), len(stranger.answers)
        if kind == "command":
            command, _, args = value.partition(" ")
            await stranger.command(f"/{command}", args)
        elif kind == "button":
            await stranger.press_data(value)
        else:
            await send_csv(stranger, value.encode())
        FORGED["actions"] += 1
        sim.assert_no_errors()
        assert refused(stranger, mark, answers), (
            f"{kind} {value!r}: no refusal; got {stranger.texts_since(mark)}"
        )
        problems = fuzzkit.differences(
            before, await fuzzkit.snapshot(app, skip=frozenset({"processed_updates"}))
        )
        assert not problems, f"{kind} {value!r} by a stranger changed: {problems}"
    assert await fuzzkit.state_of(app, "apply", stranger.id) == "apply:national_id"


STAFF_STATES = sorted(state for state, recipe in RECIPES.items() if recipe.role is not None)


@pytest.mark.parametrize("state", STAFF_STATES)
async def test_staff_removed_mid_form_is_refused(sim: Simulator, app: BotApplication, state: str) -> None:
    """A staff member who loses the role in the middle of a staff form can go no further."""
    world = await World.make(sim, app, applications=state.startswith("review:"))
    conversation = fuzzkit.all_states(app)[state]
    user = await fuzzkit.reach(world, state, conversation)
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(Staff.__table__.delete().where(Staff.telegram_id == user.id))
    for send in (user.send, user.send_photo):
        before = await fuzzkit.snapshot(app)
        mark, answers = user.mark(), len(user.answers)
        await (send("نمایشگاه فرش دستباف ۱۴۰۵") if send == user.send else user.send_photo())
        FORGED["actions"] += 1
        sim.assert_no_errors()
        problems = fuzzkit.differences(before, await fuzzkit.snapshot(app))
        assert not problems, f"{state}: a former staff member changed {problems}"
        texts = user.texts_since(mark)
        # A step handler refuses; states with buttons only answer text with a hint, which is also fine.
        assert refused(user, mark, answers) or texts, f"{state}: nothing answered"


# ---------------------------------------------------------------------------------------- other associations


def _numbers_for(pattern: str, world: World, broadcast: int, deletion: int, member: int) -> list[int] | None:
    """Ids of the other association's objects for a button pattern with ids (None: no ids in it)."""
    if r"\d" not in pattern:
        return None
    body = pattern.lstrip("^")
    if body.startswith(("review:export", "dir:", "cadm:newfor", "newspost:", "ann:")):
        return [world.copper]
    if body.startswith("review:"):
        return [world.other_application]
    if body.startswith(("cadm:att", "cadm:mark")):
        return [world.other_course, member]
    if body.startswith("cadm:"):
        return [world.other_course]
    if body.startswith("bc:"):
        return [broadcast]
    if body.startswith("privacy:"):
        return [deletion]
    return [world.copper, world.other_course, world.other_application]


async def test_association_staff_cannot_touch_another_association(
    sim: Simulator, app: BotApplication
) -> None:
    world = await World.make(sim, app)
    member = 6_200_002
    async with app.bot_data.sessionmaker() as session, session.begin():
        copper_broadcast = Broadcast(
            kind="announcement", association_id=world.copper, text="اطلاعیه", audience="x"
        )
        deletion = DeletionRequest(user_id=member)
        session.add_all([copper_broadcast, deletion])
        await session.flush()
        ids = copper_broadcast.id, deletion.id
    await add_users(app, [member])
    await add_registration(app, world.other_course, member)
    staffer = await started(sim, 6_200_001)
    await world.staff(staffer.id, association_id=world.carpet)
    tried = 0
    for pattern in staff_patterns(app):
        numbers = _numbers_for(pattern, world, ids[0], ids[1], member)
        if numbers is None:
            continue
        data = sample(pattern, numbers)
        before = await fuzzkit.snapshot(app)
        await staffer.press_data(data)
        tried += 1
        FORGED["actions"] += 1
        sim.assert_no_errors()
        problems = fuzzkit.differences(before, await fuzzkit.snapshot(app))
        assert not problems, f"carpet staff pressing {data!r} changed {problems}"
    # Typed commands with the other association's id.
    for command in (f"/export {world.copper}", "/stats", "/broadcasts"):
        before = await fuzzkit.snapshot(app)
        mark = staffer.mark()
        await staffer.command(*command.split(" ", 1))
        FORGED["actions"] += 1
        assert "مس" not in " ".join(staffer.texts_since(mark)), command
        assert not fuzzkit.differences(before, await fuzzkit.snapshot(app))
    assert tried > 30


async def test_association_staff_cannot_post_or_announce_to_another_association(
    sim: Simulator, app: BotApplication, api: Any
) -> None:
    """Inside the news and announcement forms: another association's scope or audience is refused."""
    world = await World.make(sim, app, applications=False)
    staffer = await started(sim, 6_300_001)
    await world.staff(staffer.id, association_id=world.carpet)
    await staffer.command("/postnews")
    assert f"newspost:scope:{world.copper}" not in str(
        staffer.last_message and staffer.last_message.reply_markup
    )
    before = await fuzzkit.snapshot(app)
    await staffer.press_data(f"newspost:scope:{world.copper}")
    await staffer.press_data("newspost:scope:all")
    assert await fuzzkit.state_of(app, "news_post", staffer.id) == "news:scope"
    assert not fuzzkit.differences(before, await fuzzkit.snapshot(app))
    await staffer.command("/announce")
    await staffer.send("جلسهٔ اعضا")
    await staffer.press_data("ann:nomedia")
    before = await fuzzkit.snapshot(app)
    for data in (
        f"ann:aud:members:{world.copper}",
        "ann:aud:members:all",
        "ann:aud:everyone:all",
        "ann:kind:everyone",
    ):
        await staffer.press_data(data)
        FORGED["actions"] += 1
        assert await fuzzkit.state_of(app, "announce", staffer.id) == "announce:audience", data
    assert not fuzzkit.differences(before, await fuzzkit.snapshot(app))
    assert not api.calls_to("sendMessage", staffer.id, ok=True)[-1].params.get("text", "").startswith("ارسال")
    sim.assert_no_errors()
