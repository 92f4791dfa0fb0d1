"""Fuzzing every conversation state through the fake Bot API.

For each state of every registered conversation a real user (or staff member) is driven there by a
recipe (tests/fuzzkit.py), then sent something random: Unicode text of every script and control
character up to 4,096 characters, a photo, sticker, location, voice note or file where text is
expected, an edit of an old message, a message in a group, a channel post, an update without a
user, or callback data no button ever carried. Properties:
- no handler raises (the global error handler is never reached);
- a private message always gets an answer with Persian in it (the next question or a hint);
- a forged button is always answered (the client's spinner stops);
- nothing changes in the database except what the current step may set: earlier answers stay.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.context import BotApplication
from fakeapi.simulator import Simulator, SimUser, group_chat_dict, make_update_dict
from tests import fuzzkit
from tests.fuzzkit import RECIPES, Allowed, World

EXAMPLES_PER_STATE = 12
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


# Prefixes of the bot's button patterns, so forged data also gets past the first regex.
KNOWN_PREFIXES = [
    "apply:",
    "apply:edit:",
    "apply:type:",
    "apply:resume:",
    "review:",
    "review:f:",
    "newspost:scope:",
    "ann:kind:",
    "ann:aud:",
    "dir:",
    "dir:ef:",
    "dir:dup:",
    "dir:new:",
    "cadm:",
    "cadm:edit:",
    "cadm:members:",
    "courses:",
    "courses:rate:",
    "news:",
    "profile:edit:",
    "privacy:",
    "bc:",
    "menu:",
]
CALLBACK = st.one_of(
    st.text(ALPHABET, min_size=1, max_size=30),
    st.builds(
        lambda prefix, tail: (prefix + tail)[:64],
        st.sampled_from(KNOWN_PREFIXES),
        st.lists(st.sampled_from([*"0123456789:abcxyz_-", "99999999", "-1", "all", "۱۲"]), max_size=8).map(
            "".join
        ),
    ),
)
INPUT = st.one_of(
    st.tuples(st.just("text"), TEXT),
    st.tuples(st.just("text"), LONG),
    st.tuples(st.sampled_from(["photo", "sticker", "location", "voice", "document", "contact"]), st.just("")),
    st.tuples(st.sampled_from(["edited", "group", "channel", "nouser"]), TEXT),
    st.tuples(st.just("callback"), CALLBACK),
)
PRIVATE_MESSAGES = {"text", "photo", "sticker", "location", "voice", "document", "contact"}
# A forged button may do what a real one does (follow an association, sign up); never more.
BUTTON_EFFECTS = Allowed(
    columns={
        "subscriptions": {"*"},
        "founding_interests": {"*"},
        "course_registrations": {"*"},
        "courses": {"taken"},
    },
    new_rows={"subscriptions", "founding_interests", "course_registrations", "broadcasts", "deliveries"},
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


def test_every_state_has_a_recipe(app: BotApplication) -> None:
    """A new conversation state fails here until it gets a recipe (and so is fuzzed)."""
    states = fuzzkit.all_states(app)
    assert states, "no conversation found"
    assert set(states) == set(RECIPES), {
        "missing recipes": sorted(set(states) - set(RECIPES)),
        "recipes for states that are gone": sorted(set(RECIPES) - set(states)),
    }


async def _world(sim: Simulator, app: BotApplication, state: str) -> tuple[World, dict[str, SimUser]]:
    """The world of this test (made on its first example; hypothesis reuses the fixtures)."""
    made: tuple[World, dict[str, SimUser]] | None = getattr(sim, "fuzz_world", None)
    if made is None:
        made = (await World.make(sim, app, applications=state.startswith("review:")), {})
        sim.fuzz_world = made  # type: ignore[attr-defined]
    return made


@pytest.mark.parametrize("state", sorted(RECIPES))
@settings(
    max_examples=EXAMPLES_PER_STATE,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: the world is stateful, keep failures cheap
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fuzz=INPUT)
async def test_fuzz_state(sim: Simulator, app: BotApplication, state: str, fuzz: tuple[str, str]) -> None:
    world, current = await _world(sim, app, state)
    conversation = fuzzkit.all_states(app)[state]
    recipe = RECIPES[state]
    kind, value = fuzz
    user = current.get("user")
    if user is None or await fuzzkit.state_of(app, conversation, user.id) != state:
        user = current["user"] = await fuzzkit.reach(world, state, conversation)
    sim.assert_no_errors()
    before = await fuzzkit.snapshot(app)
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
    elif kind == "callback":
        assert len(user.answers) > answered or user.texts_since(mark), f"button {value!r} left unanswered"
        allowed = _merge(recipe.allowed, BUTTON_EFFECTS)
    else:
        allowed = Allowed()  # an edit, a group message, a channel post: nothing may change
    problems = fuzzkit.differences(before, after, allowed)
    assert not problems, f"{kind} {value!r} in {state} changed: {problems}"
