"""Injection: text that looks like HTML, Markdown or SQL is stored verbatim and shown escaped.

The fake Bot API parses HTML the way Telegram does and answers 400 to bad markup, so an unescaped
echo fails visibly; what the user reads (the parsed text) must contain exactly what they typed.
Long names and texts are shortened cleanly where they are shown: never a 400 for a message over
4,096 characters or a caption over 1,024.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.context import BotApplication
from db.models import Application, Association, Course, NewsItem
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests import fuzzkit
from tests.form_recipes import RECIPES, reach
from tests.fuzzkit import World

PAYLOADS = [
    "<b>ویژه</b>",
    '<a href="http://x.ir">پیوند</a>',
    "&amp; و &lt;",
    "<i نیمه",
    "*پررنگ* _کج_ [a](b)",
    "'; DROP TABLE users;--",
]


def no_rejections(api: FakeTelegram) -> None:
    bad = [
        f"{c.method}: {c.error}" for c in api.calls if c.status >= 400 and c.method != "answerCallbackQuery"
    ]
    assert not bad, bad


async def _one(app: BotApplication, model: Any, *where: Any) -> Any:
    async with app.bot_data.sessionmaker() as session:
        row = await session.scalar(select(model).where(*where).order_by(model.id.desc()))
    assert row is not None
    return row


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_application_answers_verbatim_and_escaped(
    sim: Simulator, app: BotApplication, api: FakeTelegram, payload: str
) -> None:
    world = await World.make(sim, app, applications=False)
    user = await reach(world, "apply:business_name")
    business, activity = f"فرش {payload}", f"بافت فرش {payload}"
    await user.send(business)
    await user.send(activity)
    await user.send("کرمان")
    await user.send("۵")
    await user.press_data("apply:set:education:no_degree")
    await user.press_data("apply:done:documents")
    assert business in user.last_text and activity in user.last_text, user.last_text
    draft = await _one(app, Application, Application.user_id == user.id)
    assert (draft.business_name, draft.activity) == (business, activity)
    # The staff side shows it escaped too, and so does a typed reason sent back to the applicant.
    await user.press_data("apply:submit")
    staffer = sim.user(fuzzkit.fresh_id())
    await world.staff(staffer.id)
    await staffer.press_data(f"review:open:{draft.id}")
    assert business in staffer.last_text
    await staffer.press_data(f"review:reject:{draft.id}")
    reason = f"مدرک {payload}"
    await staffer.send(reason)
    assert any(reason in text for text in [m.content for m in user.messages]), user.last_text
    no_rejections(api)
    sim.assert_no_errors()


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_staff_texts_verbatim_and_escaped(
    sim: Simulator, app: BotApplication, api: FakeTelegram, payload: str
) -> None:
    world = await World.make(sim, app, applications=False)
    staffer = sim.user(fuzzkit.fresh_id())
    await world.staff(staffer.id)
    # A new association: name and description.
    await staffer.command("/associations")
    await staffer.press_data("dir:add")
    name, description = f"انجمن زعفران {payload}", f"معرفی {payload}"
    await staffer.send(name)
    await staffer.send(description)
    await staffer.press_data("diradd:set:status:active")
    association = await _one(app, Association, Association.name == name)
    assert association.description == description
    visitor = sim.user(fuzzkit.fresh_id())
    await visitor.command("/start", f"assoc_{association.id}")
    assert name in visitor.last_text and description in visitor.last_text, visitor.last_text
    # Searching for it echoes the search term safely.
    await visitor.command("/search")
    await visitor.send(f"زعفران {payload}")
    assert PERSIAN_ANSWER(visitor.last_text)
    # A course title.
    title = f"کارگاه {payload}"
    for step in RECIPES["cform:title"].steps:
        await step(world, staffer)
    await staffer.send(title)
    course = await _one(app, Course, Course.created_by == staffer.id)
    assert course.title == title
    await staffer.command("/cancel")
    # A news item: title and text.
    await staffer.command("/postnews")
    await staffer.press_data("newspost:set:scope:all")
    await staffer.send(f"خبر {payload}")
    await staffer.send(f"متن {payload}")
    await staffer.press_data("newspost:skip:media")
    preview = " ".join(staffer.texts_since(0))
    assert f"خبر {payload}" in preview and f"متن {payload}" in preview
    item = await _one(app, NewsItem, NewsItem.author_id == staffer.id)
    assert item.title == f"خبر {payload}"
    no_rejections(api)
    sim.assert_no_errors()


def PERSIAN_ANSWER(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


# ---------------------------------------------------------------------------------------- long values

LONG_WORDS = ("فرش‌های دستباف <کرمان> & «رفسنجان» " * 400).strip()


async def test_long_association_name_and_description_are_shortened(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    async with app.bot_data.sessionmaker() as session, session.begin():
        association = Association(name=LONG_WORDS[:200], name_key="long", description=LONG_WORDS[:6000])
        session.add(association)
        await session.flush()
        aid = association.id
    visitor = sim.user(fuzzkit.fresh_id())
    await visitor.command("/start", f"assoc_{aid}")
    await visitor.command("/associations")
    await visitor.press_data("dir:page:all:0")
    await visitor.press_data(f"dir:open:{aid}:all:0")
    no_rejections(api)
    sim.assert_no_errors()
    assert "…" in visitor.last_text


async def test_long_course_card_is_shortened(sim: Simulator, app: BotApplication, api: FakeTelegram) -> None:
    world = await World.make(sim, app, applications=False)
    async with app.bot_data.sessionmaker() as session, session.begin():
        course = await session.get(Course, world.course)
        assert course is not None
        course.title, course.description, course.teacher = (
            LONG_WORDS[:200],
            LONG_WORDS[:6000],
            LONG_WORDS[:200],
        )
        course.place = LONG_WORDS[:300]
    visitor = sim.user(fuzzkit.fresh_id())
    await visitor.command("/start", f"course_{world.course}")
    await visitor.command("/courses")
    await visitor.press_data(f"courses:view:{world.course}")
    no_rejections(api)
    sim.assert_no_errors()
    assert "…" in visitor.last_text


async def test_long_application_summary_and_reason(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    world = await World.make(sim, app, applications=False)
    async with app.bot_data.sessionmaker() as session, session.begin():
        association = await session.get(Association, world.carpet)
        assert association is not None
        association.name = LONG_WORDS[:200]
    user = await reach(world, "apply:business_name")
    await user.send(LONG_WORDS[:100])
    await user.send(LONG_WORDS[:300])
    await user.send("کرمان")
    await user.send("۵")
    await user.press_data("apply:set:education:no_degree")
    await user.press_data("apply:done:documents")
    await user.press_data("apply:submit")
    draft = await _one(app, Application, Application.user_id == user.id)
    staffer = sim.user(fuzzkit.fresh_id())
    await world.staff(staffer.id)
    await staffer.command("/review")
    await staffer.press_data(f"review:open:{draft.id}")
    await staffer.press_data(f"review:reject:{draft.id}")
    await staffer.send(LONG_WORDS[:4000])
    await user.command("/requests")
    no_rejections(api)
    sim.assert_no_errors()


@pytest.mark.parametrize("media", ["photo", "document"])
async def test_news_with_a_long_caption(
    sim: Simulator, app: BotApplication, api: FakeTelegram, media: str
) -> None:
    """A news item whose text is too long for a caption is refused with a hint, or sent shortened."""
    world = await World.make(sim, app, applications=False)
    reader = sim.user(fuzzkit.fresh_id())
    await reader.command("/start")
    await reader.press_data("news:sub:all")
    staffer = sim.user(fuzzkit.fresh_id())
    await world.staff(staffer.id)
    await staffer.command("/postnews")
    await staffer.press_data("newspost:set:scope:all")
    await staffer.send(LONG_WORDS[:190])
    await staffer.send(LONG_WORDS[:1000])
    if media == "photo":
        await staffer.send_photo()
    else:
        await staffer.send_document()
    if "newspost:submit" in str(staffer.last_message and staffer.last_message.reply_markup):
        await staffer.press_data("newspost:submit")
    else:
        assert PERSIAN_ANSWER(staffer.last_text)
    no_rejections(api)
    sim.assert_no_errors()


async def test_control_characters_never_reach_the_database(sim: Simulator, app: BotApplication) -> None:
    """PostgreSQL refuses NUL in text: control characters are dropped at the edge, not crashed on."""
    world = await World.make(sim, app, applications=False)
    user = await reach(world, "apply:business_name")
    await user.send("فرش\x00 ماهان\x07")
    draft = await _one(app, Application, Application.user_id == user.id)
    assert draft.business_name == "فرش ماهان"
    staffer = sim.user(fuzzkit.fresh_id())
    await world.staff(staffer.id)
    await staffer.command("/postnews")
    await staffer.press_data("newspost:set:scope:all")
    await staffer.send("نمایشگاه\x00 فرش")
    await staffer.send("متن\x00 خبر\x1b")
    item = await _one(app, NewsItem, NewsItem.author_id == staffer.id)
    assert (item.title, item.text) == ("نمایشگاه فرش", "متن خبر")
    sim.assert_no_errors()
