"""Audiences that span features: pending applicants, home-business applicants, course registrants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.context import BotApplication
from bot.services import audiences
from bot.services.errors import NotAllowed
from bot.services.staff import StaffScope
from db.models import Application, Broadcast, Course, Registration, utcnow
from db.models.applications import (
    APPROVED,
    BUSINESS_OWNER,
    DRAFT,
    HOME_BUSINESS,
    MORE_INFO,
    SUBMITTED,
    WITHDRAWN,
)
from db.models.courses import OPEN, R_CANCELLED, REGISTERED, WAITING
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_users

ADMIN = StaffScope(user_id=ADMIN_ID, is_admin=True)


async def _world(app: BotApplication) -> dict[str, int]:
    copper = await add_association(app, "انجمن صنایع مس")
    pistachio = await add_association(app, "انجمن پسته")
    await add_users(app, list(range(8200, 8212)))
    applications = [
        (8200, copper, SUBMITTED, BUSINESS_OWNER),
        (8201, copper, MORE_INFO, HOME_BUSINESS),
        (8202, copper, DRAFT, HOME_BUSINESS),  # a draft is not an applicant yet
        (8203, copper, APPROVED, HOME_BUSINESS),
        (8204, pistachio, SUBMITTED, HOME_BUSINESS),
        (8205, pistachio, WITHDRAWN, HOME_BUSINESS),
    ]
    start = utcnow() + timedelta(days=10)
    async with app.bot_data.sessionmaker() as session, session.begin():
        for user_id, association_id, status, kind in applications:
            session.add(
                Application(
                    user_id=user_id, association_id=association_id, status=status, applicant_type=kind
                )
            )
        course = Course(
            association_id=pistachio,
            title="بسته‌بندی پسته",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            capacity=2,
            taken=2,
            status=OPEN,
        )
        session.add(course)
        await session.flush()
        for user_id, status in [(8206, REGISTERED), (8207, REGISTERED), (8208, WAITING), (8209, R_CANCELLED)]:
            session.add(Registration(course_id=course.id, user_id=user_id, status=status))
    return {"copper": copper, "pistachio": pistachio, "course": course.id}


async def _resolve(app: BotApplication, scope: StaffScope, kind: str, target: int | None) -> list[int]:
    async with app.bot_data.sessionmaker() as session:
        return sorted(await audiences.recipients(session, scope, audiences.Audience(kind, target)))


async def test_cross_feature_audiences(app: BotApplication) -> None:
    ids = await _world(app)
    assert await _resolve(app, ADMIN, "pending", ids["copper"]) == [8200, 8201]
    assert await _resolve(app, ADMIN, "home_business", None) == [8201, 8203, 8204]
    assert await _resolve(app, ADMIN, "home_business", ids["pistachio"]) == [8204]
    assert await _resolve(app, ADMIN, "course", ids["course"]) == [8206, 8207, 8208]


async def test_course_audience_is_scoped_to_the_courses_association(app: BotApplication) -> None:
    ids = await _world(app)
    copper_staff = StaffScope(user_id=8300, association_ids=frozenset({ids["copper"]}))
    with pytest.raises(NotAllowed):
        await _resolve(app, copper_staff, "course", ids["course"])
    pistachio_staff = StaffScope(user_id=8301, association_ids=frozenset({ids["pistachio"]}))
    assert await _resolve(app, pistachio_staff, "course", ids["course"]) == [8206, 8207, 8208]
    async with app.bot_data.sessionmaker() as session:
        kind = audiences.REGISTRY["course"]
        assert await audiences.targets_for(session, copper_staff, kind) == []
        assert await audiences.targets_for(session, pistachio_staff, kind) == [
            (ids["course"], "بسته‌بندی پسته")
        ]


async def test_announce_to_a_course_through_the_bot(sim: Simulator, app: BotApplication) -> None:
    ids = await _world(app)
    admin = sim.user(ADMIN_ID)
    await admin.command("/announce")
    await admin.send("کلاس فردا در سالن ۳ برگزار می‌شود")
    await admin.press("بدون پیوست")
    await admin.press("ثبت‌نام‌شدگان یک دوره (و فهرست انتظار آن)")
    assert "کدام دوره" in admin.last_text
    await admin.press("بسته‌بندی پسته")
    assert "۳ نفر" in admin.last_text and "بسته‌بندی پسته" in admin.last_text
    await admin.press("ارسال")
    async with app.bot_data.sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast).where(Broadcast.kind == "announcement"))
    # The broadcast belongs to the course's association (not to an association numbered like the course).
    assert broadcast is not None and broadcast.audience == f"course:{ids['course']}"
    assert broadcast.association_id == ids["pistachio"]
    # So the staff of that association see it among their broadcasts, and its report names the course.
    await sim.user(ADMIN_ID).command("/staff", f"add 8310 {ids['pistachio']}")
    staffer = sim.user(8310)
    await staffer.press_data(f"bc:show:{broadcast.id}")
    assert "ثبت‌نام‌شدگان یک دوره (و فهرست انتظار آن): بسته‌بندی پسته" in staffer.last_text
    sim.assert_no_errors()
