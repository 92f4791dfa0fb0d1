"""Fuzzing every question of every form, and every button, through the fake Bot API.

For each question of every registered form (`<form>:<field>`, or its summary) a real user (or staff
member) is driven there by a recipe (tests/form_recipes.py), then sent something random: Unicode
text of every script and control character up to 4,096 characters, a photo, sticker, location, voice
note or file where text is expected, an edit of an old message, a message in a group, a channel
post, an update without a user, or callback data no button ever carried (random text, or a real
`prefix:action` of the bot with arguments of the wrong kind, count or size: 2**63, -1, letters…).
Properties:
- no handler raises (the global error handler is never reached);
- a private message always gets an answer with Persian in it (the next question or a hint);
- a forged button is always answered (the client's spinner stops);
- nothing changes in the database except what the current step may set, and the draft's other
  answers stay as they were (read through the form's own store).
Separately, every declared button with integer arguments is pressed with ids out of every range
(2**63 overflows PostgreSQL's bigint, 2**31 its integer): a Persian answer, never an error.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.context import BotApplication
from fakeapi.simulator import Simulator, SimUser, group_chat_dict, make_update_dict
from tests import fuzzkit
from tests.form_recipes import RECIPES, SUMMARY, answers_of, position, reach
from tests.fuzzkit import Allowed, World

EXAMPLES_PER_STATE = int(os.environ.get("FUZZ_EXAMPLES", "8"))  # more for a long local run
PERSIAN = re.compile(r"[\u0600-\u06FF]")
# Letters and marks a phone keyboard in Iran produces, plus what breaks naive code.
ALPHABET = st.one_of(
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),  # Arabic block (Persian, Arabic)
    st.sampled_from(list("\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202e\u2066\u2067\u2069\ufeff")),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.characters(codec="utf-8"),  # anything, including control characters
    st.sampled_from(list("<>&\"'*_[]()`/\\;%")),
)
TEXT = st.text(ALPHABET, min_size=1, max_size=120).filter(lambda t: t.strip() != "" and not t.startswith("/"))
LONG = st.builds(lambda piece: (piece * 4096)[:4096], TEXT)


# Arguments of every wrong kind and size for forged callback data.
OUT_OF_RANGE = ["-1", "2147483648", str(2**63 - 1), str(2**63), "9" * 19, "9" * 40]
ARGUMENT = st.sampled_from(["0", "1", *OUT_OF_RANGE, "۱۲", "all", "", "x" * 30, "<b>", "full_name", "ok"])
# ("", data): random text; ("known", tail): a real `prefix:action` of the bot (drawn from the
# registered routers when the test runs) followed by `tail`.
CALLBACK = st.one_of(
    st.tuples(st.just(""), st.text(ALPHABET, min_size=1, max_size=30)),
    st.tuples(st.just("known"), st.lists(ARGUMENT, min_size=0, max_size=4).map(lambda a: ":".join(["", *a]))),
)
INPUT = st.one_of(
    st.tuples(st.just("text"), TEXT),
    st.tuples(st.just("text"), LONG),
    st.tuples(st.sampled_from(["photo", "sticker", "location", "voice", "document", "contact"]), st.just("")),
    st.tuples(st.sampled_from(["edited", "group", "channel", "nouser"]), TEXT),
    st.tuples(st.just("callback"), CALLBACK),
)
PRIVATE_MESSAGES = {"text", "photo", "sticker", "location", "voice", "document", "contact"}
# A form's new draft, opened by a real button of the bot (a forged `council:new`, `dir:search`…).
DRAFTS = {
    "applications",
    "profiles",
    "council_issues",
    "council_answer_drafts",
    "directory_drafts",
    "courses",
    "course_edits",
    "news_items",
    "broadcasts",
    "pending_decisions",
}
# Rows that belong to a draft (they go with it).
DRAFT_ROWS = {"application_events", "application_documents"}
# A forged button may do what a real one does (follow an association, sign up, open a form's draft,
# the form's own "delete the draft", a dashboard login link); never more.
BUTTON_EFFECTS = Allowed(
    columns={
        "subscriptions": {"*"},
        "founding_interests": {"*"},
        "course_registrations": {"*"},
        "courses": {"taken"},
    },
    new_rows={
        "subscriptions",
        "founding_interests",
        "course_registrations",
        "deliveries",
        "web_tickets",
        *DRAFTS,
    },
)

counters = {"examples": 0}


async def deliver(world: World, user: SimUser, kind: str, value: str) -> None:
    """Send one fuzz input of `kind` from `user` (or from around them)."""
    state = world.sim.state
    if kind == "text":
        await user.send(value)
    elif kind == "photo":
        await user.send_photo()
    elif kind == "sticker":
        await user.send_sticker()
    elif kind == "location":
        await user.send_location()
    elif kind == "document":
        await user.send_document(file_name="x.exe", mime_type="application/octet-stream")
    elif kind == "contact":
        await user.share_contact("989121234567", own=False)
    elif kind == "voice":
        stored = state.new_file("voice", size=9_000, mime_type="audio/ogg")
        voice = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "duration": 3}
        await world.sim.feed(user.message_update(voice=voice))
    elif kind == "edited":
        if user.last_sent is None:
            await user.send("سلام")
        await world.sim.feed(user.edit_update(value))
    elif kind == "group":
        member = world.sim.user(
            user.id, first_name=str(user.user["first_name"]), chat=group_chat_dict(-100_777)
        )
        await member.send(value)
    elif kind == "channel":
        channel = {"id": -100_888, "type": "channel", "title": "کانال اتاق"}
        post = {
            "message_id": state.new_message_id(-100_888),
            "date": int(state.clock()),
            "chat": channel,
            "text": value,
        }
        await world.sim.feed(make_update_dict(state, "channel_post", post))
    elif kind == "nouser":
        # Reaction counts come with a chat but no user at all.
        counts = {
            "chat": group_chat_dict(-100_777),
            "message_id": 1,
            "date": int(state.clock()),
            "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": len(value)}],
        }
        await world.sim.feed(make_update_dict(state, "message_reaction_count", counts))
    elif kind == "callback":
        await user.press_data(value)
    else:  # pragma: no cover - a typo in the strategy
        raise AssertionError(kind)


def _merge(a: Allowed, b: Allowed) -> Allowed:
    columns = {t: set(c) for t, c in a.columns.items()}
    for table, cols in b.columns.items():
        columns.setdefault(table, set()).update(cols)
    return Allowed(
        columns, a.new_rows | b.new_rows, {**a.json_keys, **b.json_keys}, a.gone_rows | b.gone_rows
    )


def button_prefixes(app: BotApplication) -> list[str]:
    """`prefix:action` of every button the bot declares (features' routers and forms' own)."""
    return sorted({f.handler.data for f in fuzzkit.walk(app) if isinstance(f.handler, fuzzkit.Routed)})


def forged(app: BotApplication, draw: tuple[str, str], pick: int) -> str:
    kind, tail = draw
    if kind != "known":
        return tail
    prefixes = button_prefixes(app)
    return (prefixes[pick % len(prefixes)] + tail)[:64]


def places(app: BotApplication) -> set[str]:
    """Every question of every registered form, and the summary of those that have one."""
    found = set()
    for name, form in fuzzkit.forms(app).items():
        found |= {f"{name}:{f.name}" for f in form.form.fields}
        if form.form.auto_submit is not True:
            found.add(f"{name}:{SUMMARY}")
    return found


def test_every_field_has_a_recipe(app: BotApplication) -> None:
    """A new form or field fails here until it gets a recipe (and so is fuzzed)."""
    found = places(app)
    assert len(found) > 50, "no forms found"
    assert found == set(RECIPES), {
        "missing recipes": sorted(found - set(RECIPES)),
        "recipes for fields that are gone": sorted(set(RECIPES) - found),
    }
    # Every conversation is a form's (one state each): nothing is asked outside the form engine.
    assert set(fuzzkit.all_states(app)) == {f"{name}:form" for name in fuzzkit.forms(app)}


async def _world(sim: Simulator, app: BotApplication, where: str) -> tuple[World, dict[str, SimUser]]:
    """The world of this test (made on its first example; hypothesis reuses the fixtures)."""
    made: tuple[World, dict[str, SimUser]] | None = getattr(sim, "fuzz_world", None)
    if made is None:
        made = (await World.make(sim, app, applications=where.startswith("rv:")), {})
        sim.fuzz_world = made  # type: ignore[attr-defined]
    return made


@pytest.mark.parametrize("where", sorted(RECIPES))
@settings(
    max_examples=EXAMPLES_PER_STATE,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: the world is stateful, keep failures cheap
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fuzz=INPUT, pick=st.integers(min_value=0, max_value=10_000))
async def test_fuzz_field(
    sim: Simulator, app: BotApplication, where: str, fuzz: tuple[str, object], pick: int
) -> None:
    world, current = await _world(sim, app, where)
    form = fuzzkit.forms(app)[where.split(":", 1)[0]]
    target = where.split(":", 1)[1]
    recipe = RECIPES[where]
    kind, raw = fuzz
    value = forged(app, raw, pick) if kind == "callback" else str(raw)  # type: ignore[arg-type]
    user = current.get("user")
    if (
        user is None
        or await fuzzkit.state_of(app, form.form.name, user.id) != form.form.state
        or await position(world, form, user.id) != target
    ):
        user = current["user"] = await reach(world, where)
    sim.assert_no_errors()
    before = await fuzzkit.snapshot(app)
    answers_before = await answers_of(world, form, user.id)
    mark = user.mark()
    answered = len(user.answers)
    await deliver(world, user, kind, value)
    counters["examples"] += 1
    sim.assert_no_errors()
    after = await fuzzkit.snapshot(app)
    if kind in PRIVATE_MESSAGES:
        replies = user.texts_since(mark)
        assert any(PERSIAN.search(r) for r in replies), f"no Persian answer to {kind} {value!r}: {replies}"
        allowed = recipe.allowed
        # No answer lost: every other answer of the draft is as it was (unless the form was sent).
        answers_after = await answers_of(world, form, user.id)
        if answers_after:
            lost = {
                name: (old, answers_after.get(name))
                for name, old in answers_before.items()
                if name != target and answers_after.get(name) != old
            }
            assert not lost, f"{kind} {value!r} at {where} changed other answers: {lost}"
    elif kind == "callback":
        assert len(user.answers) > answered or user.texts_since(mark), f"button {value!r} left unanswered"
        # The form's own cancel/drop button deletes its draft, and the draft's own rows with it.
        own = {t for t, c in recipe.allowed.columns.items() if "*" in c and t in DRAFTS}
        own |= {t for t in DRAFT_ROWS if t.split("_")[0] in {d.rstrip("s") for d in own}}
        allowed = _merge(_merge(recipe.allowed, BUTTON_EFFECTS), Allowed(gone_rows=own))
    else:
        allowed = Allowed()  # an edit, a group message, a channel post: nothing may change
    problems = fuzzkit.differences(before, after, allowed)
    assert not problems, f"{kind} {value!r} at {where} changed: {problems}"


async def test_out_of_range_ids_in_every_button(sim: Simulator, app: BotApplication) -> None:
    """Every declared button with integer arguments, pressed with ids no row has and no column can
    hold, by an admin (who passes every guard) and by a member: answered, never an error."""
    world = await World.make(sim, app, applications=False)
    admin = sim.user(fuzzkit.fresh_id(), first_name="مدیر")
    await world.staff(admin.id, role="admin")
    await admin.command("/start")
    member = sim.user(fuzzkit.fresh_id(), first_name="عضو")
    await member.command("/start")
    pressed = 0
    routers = [f.handler.router for f in fuzzkit.walk(app) if isinstance(f.handler, fuzzkit.Routed)]
    for router in {id(r): r for r in routers}.values():
        for action in router.actions():
            if int not in action.types:
                continue
            before = await fuzzkit.snapshot(app)
            for number in ("2147483648", str(2**63), "9" * 19):
                args = [number if kind is int else "all" for kind in action.types]
                data = ":".join([action.prefix, action.name, *args])[:64]
                for user in (admin, member):
                    mark, answered = user.mark(), len(user.answers)
                    await user.press_data(data)
                    pressed += 1
                    sim.assert_no_errors()
                    assert len(user.answers) > answered or user.texts_since(mark), f"{data!r} unanswered"
            problems = fuzzkit.differences(before, await fuzzkit.snapshot(app), BUTTON_EFFECTS)
            assert not problems, f"{action.prefix}:{action.name} with ids out of range changed {problems}"
    assert pressed > 100
