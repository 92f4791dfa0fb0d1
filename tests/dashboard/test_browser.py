"""The dashboard in a real browser (headless Chromium, driven by Playwright): a staff member signs in
with a login link from the chat, opens the queue and an application, approves it, the applicant gets
the decision in the chat, and the page shows it decided; a decision taken in the chat shows on the
page too. The Mini App signs in from Telegram's init data. Every page is photographed at a phone's
width and a desktop's: into the test's temporary folder, or with DASHBOARD_SCREENSHOTS=1 into
docs/images/ (the pictures docs/dashboard.md shows)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.context import BotApplication
from db.models import CouncilIssue, CouncilSupport, utcnow
from fakeapi.simulator import Simulator
from tests.dashboard.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    Web,
    apply_with_documents,
    chromium_or_skip,
    init_data,
    login_link,
)
from tests.factories import add_association, add_course, add_profile, add_registration, add_staff, add_users

STAFF, APPLICANT, OTHER_APPLICANT = 7001, 7100, 7101
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = IMAGES if os.environ.get("DASHBOARD_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _shoot(page: Any, folder: Path, name: str) -> None:
    """The whole page at a phone's width and a desktop's."""
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(folder / f"dashboard-{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def _world(app: BotApplication, sim: Simulator) -> int:
    """An association with its staff member, two applications with documents, a course with a
    roster, a waiting list and feedback."""
    association = await add_association(app)
    await add_staff(app, STAFF, association)
    await apply_with_documents(sim.user(APPLICANT), association)
    await apply_with_documents(sim.user(OTHER_APPLICANT, first_name="زهرا"), association, name="زهرا کرمانی")
    for stored in sim.state.files.values():  # the photos the applicants sent, as real pictures
        if stored.mime_type == "image/jpeg":
            stored.content = _licence_photo()
    course = await add_course(
        app, association_id=association, title="بازاریابی آنلاین برای کسب‌وکارهای خانگی", capacity=2
    )
    people = [7201, 7202, 7203]
    await add_users(app, people)
    for person, name in zip(people, ("مریم سلطانی", "علی رضایی", "سارا محمدی"), strict=True):
        await add_profile(app, person, name, mobile="+989131234567")
    await add_registration(app, course, 7201, attended=True, rating=5, comment="بسیار کاربردی بود")
    await add_registration(app, course, 7202)
    await add_registration(app, course, 7203, status="waiting")
    async with app.bot_data.sessionmaker() as session, session.begin():
        for topic, text in (
            ("taxes", "محاسبهٔ مالیات بر ارزش افزوده برای کسب‌وکارهای خانگی روشن نیست."),
            ("permits", "صدور مجوز کسب‌وکار خانگی بیش از سه ماه طول می‌کشد."),
        ):
            session.add(
                CouncilIssue(
                    user_id=7201,
                    status="received",
                    topic=topic,
                    description=text,
                    association_id=association,
                    submitted_at=utcnow(),
                )
            )
        await session.flush()
        session.add(CouncilSupport(issue_id=1, user_id=7202))
    return association


def _licence_photo() -> bytes:
    """A small JPEG that looks like a photographed document."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (420, 300), "#f4efe1")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((12, 12, 407, 287), outline="#7a5c2e", width=4)
    for row in range(6):
        draw.line((60, 70 + row * 35, 360, 70 + row * 35), fill="#9c8a6a", width=3)
    draw.ellipse((300, 200, 370, 270), outline="#2f6f8f", width=4)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


async def test_the_whole_review_in_a_browser(
    app: BotApplication, sim: Simulator, web: Web, browser: Any, shots: Path
) -> None:
    await _world(app, sim)
    staff, applicant = sim.user(STAFF), sim.user(APPLICANT)
    link = web.local(await login_link(staff))

    page = await browser.new_page(viewport=DESKTOP, locale="fa-IR")
    await page.goto(link)
    await _shoot(page, shots, "login")
    await page.get_by_role("button", name="ورود").click()
    await page.wait_for_url(web.base + "/")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "fa"
    await page.wait_for_load_state("networkidle")
    await _shoot(page, shots, "overview")

    await page.get_by_role("link", name="درخواست‌ها", exact=True).click()
    await page.wait_for_url(web.base + "/applications")
    assert "رضا احمدی" in await page.content()
    await _shoot(page, shots, "queue")

    await page.get_by_role("link", name="رضا احمدی").first.click()
    await page.wait_for_load_state("networkidle")
    assert "در انتظار بررسی" in await page.locator("#status").inner_text()
    await _shoot(page, shots, "application")

    await page.get_by_role("button", name="تأیید", exact=True).click()
    await page.wait_for_load_state("networkidle")
    await app.bot_data.delivery.drain_notices()
    # The decision, then the membership certificate and card (docs/membership.md).
    notice = next(m.content for m in applicant.messages if "تبریک" in m.content)
    assert "تأیید شد" in notice
    assert [m.kind for m in applicant.messages[-2:]] == ["document", "photo"]
    assert "تأیید" in await page.locator("#status").inner_text()
    assert await page.get_by_role("button", name="تأیید", exact=True).count() == 0
    await _shoot(page, shots, "application-approved")

    # A decision taken in the chat shows on the page: staff reject the other one from /review.
    await page.goto(web.base + "/applications")
    await page.get_by_role("link", name="زهرا کرمانی").click()
    await page.wait_for_load_state("networkidle")
    other = page.url
    await staff.command("/review")
    await staff.press(staff.buttons()[0])
    await staff.press("رد")
    await staff.press(staff.buttons()[0])
    await page.goto(other)
    assert "تأیید نشد" in await page.locator("#status").inner_text()
    assert await page.get_by_role("button", name="تأیید", exact=True).count() == 0

    for path, name in (
        ("/members", "members"),
        ("/courses", "courses"),
        ("/broadcasts", "broadcasts"),
        ("/council", "council"),
    ):
        await page.goto(web.base + path)
        await page.wait_for_load_state("networkidle")
        await _shoot(page, shots, name)
    await page.goto(web.base + "/courses")
    await page.get_by_role("link", name="بازاریابی آنلاین برای کسب‌وکارهای خانگی").click()
    await page.wait_for_load_state("networkidle")
    await page.get_by_role("button", name="ثبت حضور").first.click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_role("button", name="ثبت غیبت").count() == 2
    await _shoot(page, shots, "course")


async def test_the_mini_app_signs_in_with_telegrams_init_data(
    app: BotApplication, sim: Simulator, web: Web, browser: Any
) -> None:
    await _world(app, sim)
    page = await browser.new_page(viewport=PHONE, locale="fa-IR")
    launch = "tgWebAppData=" + quote(init_data(STAFF), safe="") + "&tgWebAppVersion=8.0&tgWebAppPlatform=ios"
    await page.goto(f"{web.base}/app#{launch}")
    await page.wait_for_url(web.base + "/")
    assert "نمای کلی" in await page.content()
    # Opened outside Telegram (no init data): it says how to get in, and nothing else happens.
    outside = await browser.new_page(viewport=PHONE, locale="fa-IR")
    await outside.goto(f"{web.base}/app")
    assert await outside.locator("#outside").is_visible()
    assert outside.url == f"{web.base}/app"


async def test_a_broadcast_report_refreshes_itself_while_sending(
    app: BotApplication, sim: Simulator, web: Web, browser: Any, shots: Path
) -> None:
    from bot.services import outbox

    association = await _world(app, sim)
    await add_users(app, list(range(8000, 8040)))
    async with app.bot_data.sessionmaker() as session, session.begin():
        broadcast = await outbox.create_broadcast(
            session,
            kind="announcement",
            text="اطلاعیهٔ آزمایشی",
            recipients=list(range(8000, 8040)),
            association_id=association,
            created_by=STAFF,
            not_before=utcnow() + timedelta(hours=1),
        )
        broadcast_id = broadcast.id
    page = await browser.new_page(viewport=DESKTOP, locale="fa-IR")
    await page.goto(web.local(await login_link(sim.user(STAFF))))
    await page.get_by_role("button", name="ورود").click()
    await page.wait_for_url(web.base + "/")
    await page.goto(f"{web.base}/broadcasts/{broadcast_id}")
    assert await page.locator('meta[http-equiv="refresh"]').count() == 1
    await _shoot(page, shots, "broadcast")
    await page.get_by_role("button", name="توقف موقت").click()
    await page.wait_for_load_state("networkidle")
    assert "متوقف" in await page.locator("#status").inner_text()
    assert await page.locator('meta[http-equiv="refresh"]').count() == 0
    await page.get_by_role("button", name="لغو ارسال").click()
    await page.wait_for_load_state("networkidle")
    assert "لغو" in await page.locator("#status").inner_text()
