"""Staff roles: admins manage staff; every staff command and button refuses everyone else."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.context import BotApplication
from bot.services.errors import NotAllowed
from bot.services.staff import StaffScope, add_staff, scope_of
from db.models import Staff
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.factories import add_association


async def _grants(app: BotApplication) -> int:
    async with app.bot_data.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Staff)) or 0)


async def test_admin_adds_lists_and_removes_staff(sim: Simulator, app: BotApplication) -> None:
    seven = await add_association(app, "تشکل آزمایشی")
    admin = sim.user(ADMIN_ID)
    await admin.command("/staff", "add ۳۰۰۱")
    assert "اکنون کارشناس است" in admin.last_text
    await admin.command("/staff", f"add 3002 {seven}")
    await admin.command("/staff", "add 3004 999")
    assert "تشکلی با این شماره وجود ندارد" in admin.last_text
    await admin.command("/staff", "add 3003 admin")
    await admin.command("/staff", "list")
    listing = admin.last_text
    assert "کارشناس اتاق" in listing and "کارشناس تشکل شمارهٔ" in listing and ": مدیر" in listing
    async with app.bot_data.sessionmaker() as session:
        scope = await scope_of(session, 3002, app.bot_data.settings.admin_ids)
    assert scope.association_ids == {seven} and not scope.chamber_wide
    assert scope.covers(seven) and not scope.covers(seven + 1)
    await admin.command("/staff", "remove 3001")
    assert "دیگر کارشناس نیست" in admin.last_text
    assert await _grants(app) == 2


async def test_added_admin_can_manage_staff(sim: Simulator, app: BotApplication) -> None:
    await sim.user(ADMIN_ID).command("/staff", "add 3010 admin")
    second = sim.user(3010)
    await second.command("/staff", "add 3011")
    assert "اکنون کارشناس است" in second.last_text


async def test_bad_usage_shows_help(sim: Simulator) -> None:
    admin = sim.user(ADMIN_ID)
    await admin.command("/staff", "add nobody")
    assert "روش استفاده" in admin.last_text
    await admin.command("/staff", "remove " + str(ADMIN_ID))
    assert "خودتان" in admin.last_text


@pytest.mark.parametrize("args", ["list", "add 4001", "add 4001 admin", "remove 900001"])
async def test_non_staff_is_refused_and_nothing_changes(
    sim: Simulator, app: BotApplication, args: str
) -> None:
    before = await _grants(app)
    stranger = sim.user(4000)
    await stranger.command("/staff", args)
    assert "فقط برای کارشناسان" in stranger.last_text
    assert await _grants(app) == before


async def test_association_staff_cannot_manage_staff(sim: Simulator, app: BotApplication) -> None:
    five = await add_association(app, "تشکل دیگر")
    await sim.user(ADMIN_ID).command("/staff", f"add 4100 {five}")
    staffer = sim.user(4100)
    await staffer.command("/staff", "add 4101")
    assert "فقط برای کارشناسان" in staffer.last_text
    assert await _grants(app) == 1


async def test_service_refuses_non_admin(app: BotApplication) -> None:
    async with app.bot_data.sessionmaker() as session:
        with pytest.raises(NotAllowed):
            await add_staff(session, StaffScope(user_id=1), 2)


async def test_forged_staff_callback_is_refused(sim: Simulator, app: BotApplication) -> None:
    """A staff-guarded button handler, forged by a non-staff user, refuses and changes nothing."""
    from telegram.ext import CallbackQueryHandler

    from bot.handlers.guards import staff_only

    touched: list[int] = []

    @staff_only
    async def approve(update: object, context: object) -> None:
        touched.append(1)

    app.add_handler(CallbackQueryHandler(approve, pattern="^test:approve:"), group=-1)
    stranger = sim.user(4200)
    await stranger.press_data("test:approve:42")
    assert touched == []
    assert "فقط برای کارشناسان" in str(stranger.answers[-1].params.get("text") or "")
    await sim.user(ADMIN_ID).press_data("test:approve:42")
    assert touched == [1]
