"""Staff roles: admins manage staff; every staff command and button refuses everyone else."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.app import publish_commands
from bot.context import BotApplication
from bot.services.errors import NotAllowed
from bot.services.staff import StaffRoster, StaffScope, add_staff, scope_of
from db.models import Staff
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
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
    assert "کارشناس اتاق" in listing and "کارشناس تشکل آزمایشی (تشکل شمارهٔ" in listing and ": مدیر" in listing
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

    from bot.kit.guards import staff_only

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


# ---------------------------------------------------------------------------------------- command menus


def _chat(chat_id: int) -> dict[str, object]:
    return {"type": "chat", "chat_id": chat_id}


def _names(api: FakeTelegram, scope: dict[str, object] | None = None, language: str = "") -> set[str]:
    return {str(c["command"]) for c in api.commands_for(scope, language)}


STAFF_COMMANDS = {"associations", "stats"}
ADMIN_COMMANDS = {"staff", "rate"}


async def test_command_menus_by_role_at_start(app: BotApplication, api: FakeTelegram) -> None:
    """Issue #13 item 3: the default menu is the newcomer's; staff and admins get theirs per chat."""
    seven = await add_association(app, "تشکل آزمایشی")
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add_all(
            [
                Staff(telegram_id=3201, role="staff", association_id=seven),
                Staff(telegram_id=3202, role="admin"),
            ]
        )
    await publish_commands(app)
    everyone = _names(api)
    assert everyone == _names(api, language="fa") and {"start", "help", "search", "apply"} <= everyone
    assert not everyone & (STAFF_COMMANDS | ADMIN_COMMANDS)
    descriptions = [str(c["description"]) for c in api.commands_for()]
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in d) for d in descriptions)  # Persian descriptions
    staff = _names(api, _chat(3201))
    assert staff >= STAFF_COMMANDS and everyone <= staff and not staff & ADMIN_COMMANDS
    for admin in (3202, ADMIN_ID):  # an admin by the staff table, and one from ADMIN_IDS
        assert (STAFF_COMMANDS | ADMIN_COMMANDS | everyone) <= _names(api, _chat(admin))


async def test_command_menus_follow_staff_changes(
    sim: Simulator, app: BotApplication, api: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    admin = sim.user(ADMIN_ID)
    await admin.command("/staff", "add ۳۳۰۱")
    assert _names(api, _chat(3301)) >= STAFF_COMMANDS and not _names(api, _chat(3301)) & ADMIN_COMMANDS
    await admin.command("/staff", "افزودن 3301 مدیرسامانه")
    assert _names(api, _chat(3301)) >= ADMIN_COMMANDS
    await admin.command("/staff", "remove 3301")
    assert api.commands_for(_chat(3301)) == []  # back to the default menu
    # A chat whose menu cannot be set (Bale may refuse) is logged; the change itself stands.
    api.fail_next(code=400, description="Bad Request: chat not found", method="setMyCommands")
    with caplog.at_level(logging.WARNING, logger="bot.command_menus"):
        await admin.command("/staff", "add 3302")
    assert "اکنون کارشناس است" in admin.last_text and await _grants(app) == 1
    assert any("3302" in record.getMessage() for record in caplog.records)
    sim.assert_no_errors()


async def test_assigning_association_staff_gives_them_their_menu(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    seven = await add_association(app, "تشکل آزمایشی")
    admin = sim.user(ADMIN_ID)
    await admin.command("/start", f"assoc_{seven}")
    await admin.press("✏️ ویرایش")
    await admin.press("👤 تعیین کارشناس")
    await admin.send("٣٤٠١")  # Arabic-Indic digits
    assert _names(api, _chat(3401)) >= STAFF_COMMANDS


async def test_staff_see_their_work_in_their_own_menu(sim: Simulator, app: BotApplication) -> None:
    """Issue #13 item 8: staff reach their work from /start; newcomers do not see it."""
    seven = await add_association(app, "تشکل آزمایشی")
    await sim.user(ADMIN_ID).command("/staff", f"add 3501 {seven}")
    newcomer, staffer, admin = sim.user(3500), sim.user(3501), sim.user(ADMIN_ID)
    for user in (newcomer, staffer, admin):
        await user.command("/start")
    assert not {"مدیریت تشکل‌ها", "آمار", "رتبه‌دهی"} & set(newcomer.buttons())
    assert {"مدیریت تشکل‌ها", "آمار"} <= set(staffer.buttons()) and "رتبه‌دهی" not in staffer.buttons()
    assert {"مدیریت تشکل‌ها", "آمار", "رتبه‌دهی"} <= set(admin.buttons())
    await staffer.press("آمار")
    assert "تشکل آزمایشی" in staffer.last_text
    await staffer.command("/start")
    await staffer.press("مدیریت تشکل‌ها")
    assert "دیدن تشکل‌ها" in staffer.buttons() and "➕ افزودن تشکل" not in staffer.buttons()
    await admin.press("رتبه‌دهی")
    assert "به کدام تشکل امتیاز می‌دهید" in admin.last_text


async def test_usage_text_has_no_line_starting_with_a_latin_command(sim: Simulator) -> None:
    admin = sim.user(ADMIN_ID)
    await admin.command("/staff")
    lines = [line.strip("• \u200e") for line in admin.last_text.splitlines()]
    assert len(lines) > 3 and not any(line.startswith("/") for line in lines)


async def test_the_menu_follows_a_staff_change_at_once(sim: Simulator, app: BotApplication) -> None:
    """The menu's staff section comes from the roster in memory; a grant or removal made through the
    bot refreshes it before the next tap."""
    admin, newcomer = sim.user(ADMIN_ID), sim.user(3301)
    await newcomer.command("/start")
    assert "بررسی درخواست‌ها" not in newcomer.buttons()
    await admin.command("/staff", "add 3301")
    await newcomer.command("/start")
    assert "بررسی درخواست‌ها" in newcomer.buttons()
    await admin.command("/staff", "remove 3301")
    await newcomer.command("/start")
    assert "بررسی درخواست‌ها" not in newcomer.buttons()


async def test_the_roster_is_read_again_when_old_and_guards_never_use_it(app: BotApplication) -> None:
    clock = [0.0]
    roster = StaffRoster(admin_ids={1}, max_age=30, clock=lambda: clock[0])
    assert roster.stale
    async with app.bot_data.sessionmaker() as session:
        await roster.refresh(session)
    assert not roster.stale and roster.scope(1).is_admin and not roster.scope(3401).is_staff
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add(Staff(telegram_id=3401, role="staff", association_id=None))
    assert not roster.scope(3401).is_staff  # written behind the roster's back: not seen yet...
    async with app.bot_data.sessionmaker() as session:
        assert (await scope_of(session, 3401, {1})).chamber_wide  # ...but a guard's look-up sees it
    clock[0] = 31
    assert roster.stale
    async with app.bot_data.sessionmaker() as session:
        await roster.refresh(session)
    assert roster.scope(3401).chamber_wide
    roster.changed()
    assert roster.stale
