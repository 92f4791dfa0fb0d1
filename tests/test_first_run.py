"""The first minutes of a fresh install: a home-business owner with no degree applies to an
association being formed and gets a tracking code; every command a newcomer is shown works for them."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import registry
from bot.app import publish_commands
from bot.context import BotApplication
from bot.seed import run_seeders
from db.models import Application, Association
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram

NID = "0499370899"
REFUSAL = "فقط برای کارشناسان"
NOT_UNDERSTOOD = "منظور شما روشن نشد"


async def test_fresh_install_takes_a_home_business_application_without_a_degree(
    sim: Simulator, app: BotApplication
) -> None:
    assert "added 6" in await run_seeders(app.bot_data.sessionmaker)
    async with app.bot_data.reader() as session:
        statuses = set(await session.scalars(select(Association.status)))
    assert statuses == {"forming"}  # a fresh install knows only the associations being formed

    user = sim.user(4242, first_name="فاطمه")
    await user.command("/start")
    assert "مدرک دانشگاهی لازم نیست" in user.last_text and "کد پیگیری" in user.last_text
    await user.press("درخواست عضویت")
    (home,) = [label for label in user.buttons() if "کسب‌وکارهای خانگی" in label]
    await user.press(home)
    assert "عضو مؤسس" in user.last_text and "مرحلهٔ ۱ از" in user.last_text
    await user.press("کسب‌وکار خانگی")
    await user.send("فاطمه کرمانی")
    await user.send("۰۴۹۹۳۷۰۸۹۹")
    await user.share_contact("989131234567", own=True)
    await user.send("ترشی خانگی فاطمه")
    await user.send("ترشی و مربای خانگی")
    await user.send("کرمان")
    await user.send("۳ سال")
    await user.press("بدون مدرک دانشگاهی")
    await user.press("شمارهٔ مجوز ندارم")
    await user.press("ادامه (با مدرک یا بدون آن)")
    assert "مؤسس" in user.last_text  # the summary says how they apply
    await user.press("ارسال درخواست")
    match = re.search("کد پیگیری: \u2066([۰-۹]{8})\u2069", user.last_text)
    assert match is not None, user.last_text
    async with app.bot_data.reader() as session:
        (application,) = await session.scalars(select(Application).where(Application.user_id == 4242))
    assert application.status == "submitted" and application.founding
    assert (application.applicant_type, application.education, application.experience_years) == (
        "home_business",
        "no_degree",
        3,
    )
    assert application.tracking_code == match.group(1).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))


async def test_the_newcomer_menu_lists_only_what_a_newcomer_can_use(
    app: BotApplication, api: FakeTelegram
) -> None:
    await publish_commands(app)
    listed = {c["command"] for c in api.commands_for()}
    staff_only = {c.name for f in registry.features() for c in f.commands if c.audience != "everyone"}
    assert listed and not listed & staff_only
    assert 8 <= len(listed) <= 11, sorted(listed)
    persian = re.compile("[\u0600-\u06ff]")
    assert all(persian.search(c["description"]) for c in api.commands_for())


async def test_every_public_command_answers_a_newcomer(sim: Simulator, app: BotApplication) -> None:
    """Every command for everyone, listed in the menu or not, answers a newcomer: no refusal, no silence."""
    public = sorted({c.name for f in registry.features() for c in f.commands if c.audience == "everyone"})
    assert len(public) >= 10
    for number, name in enumerate(public):
        user = sim.user(5000 + number, first_name="تازه‌وارد")
        mark = user.mark()
        await user.command(f"/{name}")
        replies = user.texts_since(mark)
        assert replies, f"/{name} left a newcomer without an answer"
        assert not any(REFUSAL in text for text in replies), f"/{name} refused a newcomer"
        assert not any(NOT_UNDERSTOOD in text for text in replies), f"/{name} was not understood"


async def test_staff_see_their_section_in_the_start_menu(sim: Simulator, app: BotApplication) -> None:
    from tests.conftest import ADMIN_ID

    newcomer = sim.user(6001)
    await newcomer.command("/start")
    admin = sim.user(ADMIN_ID)
    await admin.command("/start")
    staff_labels = set(admin.buttons()) - set(newcomer.buttons())
    assert "بررسی درخواست‌ها" in staff_labels
    await admin.press("بررسی درخواست‌ها")
    assert "هیچ درخواستی" in admin.last_text or "درخواست‌های در انتظار" in admin.last_text
