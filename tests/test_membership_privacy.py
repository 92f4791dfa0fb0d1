"""My requests, /status, /mydata and the data-deletion request (staff confirm; decisions stay anonymised)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.context import BotApplication
from db.models import Application, ApplicationEvent, DeletionRequest, Member, Profile, User
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_profile, add_staff
from tests.membership_support import NID, fill_form, only_application, submitted

FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


async def test_my_requests_shows_status_and_history(sim: Simulator, app: BotApplication) -> None:
    carpets = await add_association(app)
    pistachio = await add_association(app, "انجمن پسته")
    user = sim.user(8001)
    await user.command("/start")
    await user.press("درخواست‌های من")
    assert "هنوز درخواستی ندارید" in user.last_text
    await submitted(user, carpets)
    await fill_form(user, pistachio)
    await user.command("/start")
    await user.press("درخواست‌های من")
    text = user.last_text
    assert "انجمن صنفی فرش کرمان" in text and "فرستاده شده، در انتظار بررسی" in text
    assert "انجمن پسته" in text and "پیش‌نویس" in text and "آغاز شد" in text
    assert "ادامهٔ درخواست: انجمن پسته" in user.buttons()
    await user.press("ادامهٔ درخواست: انجمن پسته")
    assert "درخواست شما؛ لطفاً بررسی کنید" in user.last_text


async def test_status_by_code_for_the_applicant_only(sim: Simulator, app: BotApplication) -> None:
    carpets = await add_association(app)
    user = sim.user(8002)
    await submitted(user, carpets)
    code = (await only_application(app, 8002)).tracking_code or ""
    await user.command("/status", code.translate(FA)[:4] + " " + code.translate(FA)[4:])
    assert "فرستاده شده، در انتظار بررسی" in user.last_text and code.translate(FA) in user.last_text
    stranger = sim.user(8003)
    await stranger.command("/status", code)
    assert "هیچ درخواستی از شما با این کد" in stranger.last_text
    await stranger.command("/status")
    assert "کد پیگیری را پس از فرمان" in stranger.last_text
    await add_staff(app, 8004, carpets)
    staff = sim.user(8004)
    await staff.command("/status", code)
    assert "فرستاده شده" in staff.last_text


async def test_mydata_sends_everything_stored(sim: Simulator, app: BotApplication) -> None:
    carpets = await add_association(app)
    user = sim.user(8010, first_name="رضا")
    await submitted(user, carpets)
    await user.command("/mydata")
    text_message, file_message = user.messages[-2:]
    assert "اطلاعاتی که ربات از شما نگه می‌دارد" in text_message.content
    assert NID.translate(FA) in text_message.content and "انجمن صنفی فرش کرمان" in text_message.content
    assert file_message.kind == "document" and file_message.document is not None
    data = json.loads(sim.state.files[str(file_message.document["file_id"])].data())
    assert data["user"]["id"] == 8010
    (application,) = data["applications"]
    assert application["national_id"] == NID and application["status"] == "submitted"
    assert [event["action"] for event in application["history"]] == ["created", "submitted"]


async def test_deletion_request_confirmed_by_chamber_staff(sim: Simulator, app: BotApplication) -> None:
    carpets = await add_association(app)
    admin = sim.user(ADMIN_ID)
    await add_staff(app, 8020, carpets)
    staff = sim.user(8020)
    user = sim.user(8021)
    await submitted(user, carpets)
    await staff.press("تأیید")
    await add_profile(app, 8021, "رضا احمدی", national_id=NID)
    await user.command("/mydata")
    mark = user.mark()
    await user.press("حذف اطلاعات من")
    await user.press("بله، درخواست حذف ثبت شود")
    assert "ثبت شد" in user.texts_since(mark)[-1]
    assert "درخواست حذف اطلاعات" in admin.last_text
    assert admin.last_message is not None
    confirm = str(admin.last_message.inline_keyboard[0][0]["callback_data"])
    # Association staff cannot decide a chamber-wide matter; a stranger not at all.
    await staff.press_data(confirm)
    assert "فقط کارشناسان اتاق" in str(staff.answers[-1].params.get("text"))
    stranger = sim.user(8022)
    await stranger.press_data(confirm)
    assert "فقط برای کارشناسان" in str(stranger.answers[-1].params.get("text"))
    async with app.bot_data.sessionmaker() as session:
        assert await session.get(Profile, 8021) is not None
    await admin.press("تأیید حذف")
    assert "حذف شد" in admin.last_text
    assert "اطلاعات شما طبق درخواستتان حذف شد" in user.last_text
    async with app.bot_data.sessionmaker() as session:
        assert await session.get(Profile, 8021) is None
        assert await session.get(User, 8021) is None
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
        (kept,) = list(await session.scalars(select(Application)))
        assert kept.user_id is None and kept.anonymised and kept.status == "approved"
        assert kept.national_id is None and kept.full_name is None
        events = list(await session.execute(select(ApplicationEvent.action, ApplicationEvent.actor_id)))
        request = await session.scalar(select(DeletionRequest))
    # The decision stays, with who made it; the applicant's own steps no longer name them.
    assert ("approved", 8020) in [tuple(e) for e in events]
    assert ("submitted", None) in [tuple(e) for e in events]
    assert request is not None and request.status == "done" and request.user_id is None
    await admin.press_data(confirm)
    assert "پیش‌تر رسیدگی شده" in str(admin.answers[-1].params.get("text"))
