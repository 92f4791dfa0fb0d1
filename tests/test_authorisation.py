"""Authorisation, table-driven from the registered handlers themselves.

- Every handler is either guarded (`@staff_only`/`@admin_only`) or marked `@public`: a new handler
  with neither fails here (docs/security.md).
- Every guarded command, button pattern and message handler, forged by someone who is not staff,
  is refused and changes nothing at all (every table's row count and contents are compared).
- Association staff pressing forged buttons with another association's ids (applications, courses,
  the association itself, its broadcasts, audiences, news scope) change nothing.
- A staff member whose role is taken away mid-form is refused at the next step (the form engine's
  staff check inside each step), for every question of every staff form, and nothing is stored.
The staff forms and buttons are read from the registered forms and routers, so a new staff form or
button is covered without changing this file.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler

from bot.context import BotApplication
from bot.forms.conversation import FormConversation
from bot.kit.guards import guard_of, is_public
from bot.registry import features
from db.models import Broadcast, DeletionRequest, Staff
from fakeapi.simulator import Simulator, SimUser
from tests import fuzzkit
from tests.directory_helpers import send_csv
from tests.factories import add_registration, add_users
from tests.form_recipes import RECIPES, offered, position, reach
from tests.fuzzkit import World

REFUSAL = "فقط برای کارشناسان"
# A staff form's own buttons, pressed by someone not in that form, are just stale buttons.
STALE = "این دکمه دیگر معتبر نیست"
FORGED = {"actions": 0}
# The staff surface, declared: a handler for any of these must be guarded, and every guarded handler
# must be one of these (or belong to a form declared `audience="staff"`/"admin"). So marking a staff
# button `@public` by mistake fails, and so does a new staff button nobody declared here.
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
    "dashboard",
    "dues",
    "revoke",
}
# Routers whose every button is for staff, and single staff buttons of routers everyone uses.
STAFF_ROUTERS = {"review", "cadm", "bc"}
STAFF_ACTIONS = {
    *(f"mem:{name}" for name in ("ok", "no", "fig", "xlsx", "imp", "impno", "revoke")),
    "privacy:ok",
    "privacy:no",
    "news:post",
    *(
        f"dir:{name}"
        for name in (
            "add",
            "edit",
            "ef",
            "as",
            "st",
            "activate",
            "tg",
            "ev",
            "fl",
            "export",
            "exportfa",
            "imp",
        )
    ),
    *(
        f"council:{name}"
        for name in ("issues", "staff", "rev", "agenda", "assign", "to", "merge", "into", "reply")
    ),
    *(
        f"menu:{name}"
        for name in (
            "review",
            "managecourses",
            "manage_associations",
            "broadcasts",
            "stats",
            "council_issues",
            "dashboard",
            "postnews",
            "announce",
            "rate",
            "dues",
        )
    ),
}


def staff_forms(app: BotApplication) -> dict[str, FormConversation]:
    """The forms only staff (or admins) may fill in, from their declarations."""
    return {name: form for name, form in fuzzkit.forms(app).items() if form.form.audience != "everyone"}


def declared_staff(app: BotApplication, data: str) -> bool:
    prefix, _, rest = data.partition(":")
    action = f"{prefix}:{rest.split(':', 1)[0]}"
    return prefix in STAFF_ROUTERS or action in STAFF_ACTIONS or prefix in staff_forms(app)


def guarded(app: BotApplication) -> list[fuzzkit.Found]:
    return [f for f in fuzzkit.walk(app) if guard_of(getattr(f.handler, "callback", None)) is not None]


def staff_commands(app: BotApplication) -> list[str]:
    found = {c for f in guarded(app) if isinstance(f.handler, CommandHandler) for c in f.handler.commands}
    return sorted(found)


def staff_buttons(app: BotApplication, numbers: list[int]) -> list[str]:
    """Callback data for every guarded button: each declared action with its arguments (`numbers`
    for the integers in turn, a form's first field for a form's own), and each guarded pattern."""
    found: set[str] = set()
    for item in guarded(app):
        handler = item.handler
        if isinstance(handler, fuzzkit.Routed):
            action = next(a for a in handler.router.actions() if f"{a.prefix}:{a.name}" == handler.data)
            queue = list(numbers)
            form = fuzzkit.forms(app).get(action.prefix)
            words = [form.form.fields[0].name, "x"] if form is not None else ["all", "x"]
            args = [
                str(queue.pop(0) if queue else 1) if kind is int else (words.pop(0) if words else "x")
                for kind in action.types
            ]
            found.add(action(*args))
        elif isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
            found.add(sample(handler.pattern.pattern, numbers))
    return sorted(found)


def sample(pattern: str, numbers: list[int]) -> str:
    """One string matching a (plain, anchored) button pattern such as `^menu:postnews$`."""
    text = pattern.strip("^$")
    assert re.fullmatch(r"[a-z_:]+", text), f"pattern {pattern!r}: declare it as a router action instead"
    return text


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
    published = {c.name for f in features() for c in f.commands if c.audience != "everyone"}
    assert published <= STAFF_COMMANDS, published - STAFF_COMMANDS
    buttons = 0
    for found in fuzzkit.walk(app):
        handler = found.handler
        is_guarded = guard_of(getattr(handler, "callback", None)) is not None
        if isinstance(handler, CommandHandler) and handler.commands & STAFF_COMMANDS:
            assert is_guarded, f"{found.where}: /{sorted(handler.commands)} is staff but not guarded"
        if isinstance(handler, fuzzkit.Routed):
            data = handler.data
        elif isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
            data = sample(handler.pattern.pattern, [1])
        else:
            continue
        buttons += 1
        declared = declared_staff(app, data)
        assert declared == is_guarded, (
            f"{found.where}: {data!r} declared staff={declared}, guarded={is_guarded}"
        )
    assert buttons > 100
    # Every staff form is declared so (its steps check the role), and its buttons are guarded.
    assert {
        "rv",
        "newspost",
        "announce",
        "diradd",
        "diredit",
        "dirstaff",
        "cform",
        "council_answer",
        "rate",
    } <= set(staff_forms(app))
    # Guarded message handlers exist inside staff forms and for the CSV import.
    assert any(isinstance(f.handler, MessageHandler) for f in guarded(app))
    assert not any(isinstance(f.handler, TypeHandler) for f in guarded(app))


# ---------------------------------------------------------------------------------------- strangers


async def test_non_staff_is_refused_everything_and_nothing_changes(
    sim: Simulator, app: BotApplication
) -> None:
    world = await World.make(sim, app)
    stranger = await started(sim, 6_100_001)
    # Midway through their own application: a forged staff button must not even end that form.
    await reach(world, "apply:national_id", stranger)
    actions: list[tuple[str, str]] = []
    for command in staff_commands(app):
        actions += [("command", command), ("command", f"{command} add {stranger.id} admin")]
        actions.append(("command", f"{command} {world.carpet}"))
    buttons = set(staff_buttons(app, [world.copper, world.other_course, world.other_application]))
    buttons |= set(staff_buttons(app, [world.carpet, world.course, world.application]))
    actions += [("button", data) for data in sorted(buttons)]
    assert len(actions) > 150
    for kind, value in actions:
        before = await fuzzkit.snapshot(app, skip=frozenset({"processed_updates", "inbox"}))
        mark, answers = stranger.mark(), len(stranger.answers)
        if kind == "command":
            command, _, args = value.partition(" ")
            await stranger.command(f"/{command}", args)
        else:
            await stranger.press_data(value)
        FORGED["actions"] += 1
        sim.assert_no_errors()
        assert refused(stranger, mark, answers), (
            f"{kind} {value!r}: no refusal; got {stranger.texts_since(mark)}"
        )
        problems = fuzzkit.differences(
            before, await fuzzkit.snapshot(app, skip=frozenset({"processed_updates", "inbox"}))
        )
        assert not problems, f"{kind} {value!r} by a stranger changed: {problems}"
    apply = fuzzkit.forms(app)["apply"]
    assert await fuzzkit.state_of(app, "apply", stranger.id) == apply.form.state
    assert await position(world, apply, stranger.id) == "national_id"
    # Files go to a form being filled in first (its answer); outside a form, a stranger's associations
    # CSV reaches the staff import, which refuses it.
    outsider = await started(sim, 6_100_002)
    before = await fuzzkit.snapshot(app, skip=frozenset({"processed_updates", "inbox"}))
    mark, answers = outsider.mark(), len(outsider.answers)
    await send_csv(outsider, "name,status\nانجمن ساختگی,active\n".encode())
    assert refused(outsider, mark, answers), outsider.texts_since(mark)
    after = await fuzzkit.snapshot(app, skip=frozenset({"processed_updates", "inbox"}))
    assert not fuzzkit.differences(before, after)


def staff_places() -> list[str]:
    return sorted(where for where, recipe in RECIPES.items() if recipe.role is not None)


def test_every_question_of_every_staff_form_is_tried(app: BotApplication) -> None:
    """The places tried below are exactly the questions (and summaries) of the staff forms."""
    forms = staff_forms(app)
    expected = {where for where in RECIPES if where.split(":", 1)[0] in forms}
    assert set(staff_places()) == expected
    assert {where.split(":", 1)[0] for where in expected} == set(forms)


async def _next_answer(user: SimUser, form: FormConversation, where: str) -> None:
    """What a staff member would send next at `where`: the question's own button, or a typed answer."""
    name = where.split(":", 1)[1]
    prefix = form.form.name
    buttons = offered(user)
    for verb in ("set", "pick", "skip", "done", "submit"):
        mine = [b for b in buttons if b.startswith(f"{prefix}:{verb}:{name}") or b == f"{prefix}:{verb}"]
        if mine:
            await user.press_data(mine[0])
            return
    await user.send("نمایشگاه فرش دستباف ۱۴۰۵")


@pytest.mark.parametrize("where", staff_places())
async def test_staff_removed_mid_form_is_refused(sim: Simulator, app: BotApplication, where: str) -> None:
    """A staff member who loses the role in the middle of a staff form can go no further."""
    world = await World.make(sim, app, applications=where.startswith("rv:"))
    form = fuzzkit.forms(app)[where.split(":", 1)[0]]
    user = await reach(world, where)
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(Staff.__table__.delete().where(Staff.telegram_id == user.id))
    sends: list[Callable[[], Awaitable[object]]] = [
        lambda: _next_answer(user, form, where),
        lambda: user.send("۱۲۳۴۵۶۷۸۹"),
        lambda: user.send_photo(),
    ]
    for send in sends:
        before = await fuzzkit.snapshot(app)
        mark, answers = user.mark(), len(user.answers)
        await send()
        FORGED["actions"] += 1
        sim.assert_no_errors()
        problems = fuzzkit.differences(before, await fuzzkit.snapshot(app))
        assert not problems, f"{where}: a former staff member changed {problems}"
        assert refused(user, mark, answers), f"{where}: not refused; got {user.texts_since(mark)}"


# ---------------------------------------------------------------------------------------- other associations


def _numbers_for(data: str, world: World, broadcast: int, deletion: int, member: int) -> list[int]:
    """Ids of the other association's objects for a staff button (by its `prefix:action`)."""
    if data.startswith(("review:export", "dir:", "cadm:newfor")):
        return [world.copper]
    if data.startswith("review:"):
        return [world.other_application]
    if data.startswith(("cadm:att", "cadm:mark")):
        return [world.other_course, member]
    if data.startswith("cadm:"):
        return [world.other_course]
    if data.startswith("bc:"):
        return [broadcast]
    if data.startswith("privacy:"):
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
    forms = staff_forms(app)
    for found in guarded(app):
        handler = found.handler
        if not isinstance(handler, fuzzkit.Routed) or handler.data.split(":")[0] in forms:
            continue
        action = next(a for a in handler.router.actions() if f"{a.prefix}:{a.name}" == handler.data)
        if int not in action.types:
            continue
        queue = _numbers_for(handler.data, world, ids[0], ids[1], member)
        args = [str(queue.pop(0) if queue else 1) if kind is int else "all" for kind in action.types]
        data = action(*args)
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
    news, announce = fuzzkit.forms(app)["newspost"], fuzzkit.forms(app)["announce"]
    await staffer.command("/postnews")
    assert f"newspost:set:scope:{world.copper}" not in offered(staffer)
    assert f"newspost:set:scope:{world.carpet}" in offered(staffer)
    before = await fuzzkit.snapshot(app)
    for data in (f"newspost:set:scope:{world.copper}", "newspost:set:scope:all"):
        await staffer.press_data(data)
        FORGED["actions"] += 1
        assert await position(world, news, staffer.id) == "scope", data
    assert not fuzzkit.differences(before, await fuzzkit.snapshot(app))
    await staffer.command("/announce")
    await staffer.send("جلسهٔ اعضا")
    await staffer.press_data("announce:skip:media")
    assert await position(world, announce, staffer.id) == "kind"
    assert "announce:set:kind:everyone" not in offered(staffer)
    before = await fuzzkit.snapshot(app)
    await staffer.press_data("announce:set:kind:everyone")
    assert await position(world, announce, staffer.id) == "kind"
    assert not fuzzkit.differences(before, await fuzzkit.snapshot(app))
    await staffer.press_data("announce:set:kind:members")
    assert await position(world, announce, staffer.id) == "target"
    assert f"announce:set:target:{world.copper}" not in offered(staffer)
    before = await fuzzkit.snapshot(app)
    for data in (f"announce:set:target:{world.copper}", "announce:set:target:all"):
        await staffer.press_data(data)
        FORGED["actions"] += 1
        assert await position(world, announce, staffer.id) == "target", data
    assert not fuzzkit.differences(before, await fuzzkit.snapshot(app))
    assert not api.calls_to("sendMessage", staffer.id, ok=True)[-1].params.get("text", "").startswith("ارسال")
    sim.assert_no_errors()
