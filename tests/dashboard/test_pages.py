"""The dashboard over HTTP: the way in from the chat (/dashboard, the staff menu, the Mini App menu
button of each staff chat), the decisions with a reason, the race with the chat, members and their
export, council issues by status, the overview's charts."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from bot.app import publish_commands
from bot.context import BotApplication
from db.models import ApplicationEvent, Member
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID
from tests.dashboard.conftest import PUBLIC, Client, apply_with_documents, login_link, sign_in
from tests.factories import add_association, add_staff

STAFF, APPLICANT = 7001, 7100


async def _ready(app: BotApplication, sim: Simulator) -> int:
    association = await add_association(app)
    await add_staff(app, STAFF, association)
    await apply_with_documents(sim.user(APPLICANT), association)
    return association


async def test_staff_get_a_login_link_and_the_mini_app_in_their_chat(
    app: BotApplication, sim: Simulator, api: FakeTelegram
) -> None:
    await _ready(app, sim)
    link = await login_link(sim.user(STAFF))
    assert link.startswith(f"{PUBLIC}/login/")
    message = sim.user(STAFF).last_message
    assert message is not None and "پیشخوان" in message.content and "۱۰ دقیقه" in message.content
    assert message.button("پیشخوان") == {"text": "پیشخوان", "web_app": {"url": f"{PUBLIC}/app"}}
    # From the staff section of the /start menu too.
    await sim.user(STAFF).command("/start")
    await sim.user(STAFF).press("پیشخوان")
    assert "/login/" in sim.user(STAFF).last_text
    # The Mini App is the menu button of every staff chat, and goes when the person stops being staff.
    await publish_commands(app)
    assert api.menu_button_for(STAFF) == {
        "type": "web_app",
        "text": "پیشخوان",
        "web_app": {"url": f"{PUBLIC}/app"},
    }
    assert api.menu_button_for(APPLICANT) == {"type": "commands"}
    await sim.user(ADMIN_ID).command("/staff", f"remove {STAFF}")
    assert api.menu_button_for(STAFF) == {"type": "commands"}


async def test_reject_with_a_reason_and_ask_for_more_on_the_web(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    association = await _ready(app, sim)
    second = 7101
    await apply_with_documents(sim.user(second), association, name="زهرا کرمانی")
    await sign_in(client, sim.user(STAFF))
    csrf = await client.csrf("/applications/1")

    short = await client.post("/applications/1/reject", {"csrf": csrf, "reason": "نه"})
    assert short.headers["Location"].endswith("error=reason_too_short&decision=rejected")
    reason = "تصویر <پروانهٔ کسب> خوانا نیست"
    response = await client.post("/applications/1/reject", {"csrf": csrf, "reason": reason})
    assert response.headers["Location"] == "/applications/1?note=rejected"
    await app.bot_data.delivery.drain_notices()
    told = sim.user(APPLICANT).last_text
    assert "تأیید نشد" in told and reason in told

    none_chosen = await client.post("/applications/2/more", {"csrf": csrf, "template": "0"})
    assert "error=no_fields" in none_chosen.headers["Location"]
    await client.post(
        "/applications/2/more", {"csrf": csrf, "template": "0", "fields": ["documents", "city"]}
    )
    await app.bot_data.delivery.drain_notices()
    asked = sim.user(second).last_message
    assert asked is not None and "اطلاعات بیشتری" in asked.content and "شهر" in asked.content
    assert asked.buttons == ["به‌روزرسانی درخواست من"]

    async with app.bot_data.sessionmaker() as session:
        events = list(await session.scalars(select(ApplicationEvent).order_by(ApplicationEvent.id)))
    decided = [
        (e.application_id, e.action, e.actor_id) for e in events if e.action in ("rejected", "more_info")
    ]
    assert decided == [(1, "rejected", STAFF), (2, "more_info", STAFF)]  # the chat's audit log
    await client.get("/applications/1")
    assert "تصویر &lt;پروانهٔ کسب&gt; خوانا نیست" in client.last  # shown escaped


async def test_the_first_decision_wins_between_the_chat_and_the_web(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _ready(app, sim)
    await sign_in(client, sim.user(STAFF))
    csrf = await client.csrf("/applications/1")  # the page still offers the decision…
    staff = sim.user(STAFF)
    await staff.command("/review")
    await staff.press(staff.buttons()[0])
    await staff.press("تأیید")  # …which is taken in the chat first
    response = await client.post("/applications/1/approve", {"csrf": csrf})
    assert response.headers["Location"] == "/applications/1?note=already"
    await client.get("/applications/1?note=already")
    assert "پیش‌تر" in client.last and 'action="/applications/1/approve"' not in client.last
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 1
        approvals = await session.scalar(
            select(func.count()).select_from(ApplicationEvent).where(ApplicationEvent.action == "approved")
        )
    assert approvals == 1


async def test_members_are_searched_filtered_and_exported(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    association = await _ready(app, sim)
    await sign_in(client, sim.user(STAFF))
    csrf = await client.csrf("/applications/1")
    await client.post("/applications/1/approve", {"csrf": csrf})
    await client.get("/members?q=" + "رضا")
    assert "رضا احمدی" in client.last and "۱-۰۰۰۰۱" in client.last
    await client.get("/members?q=" + "۰۹۱۲۱۲۳")
    assert "رضا احمدی" in client.last
    await client.get("/members?q=" + "مریم")
    assert "رضا احمدی" not in client.last
    await client.get("/members?status=awaiting_number")
    assert "رضا احمدی" not in client.last
    response = await client.get(f"/members/export/{association}/members.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    body = await response.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1][0] == "1-00001" and rows[1][2] == "رضا احمدی"
    applications = await client.get(f"/members/export/{association}/applications.csv")
    assert "رضا احمدی" in (await applications.read()).decode("utf-8-sig")


async def test_the_queue_filters_by_status_and_age(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _ready(app, sim)
    await sign_in(client, sim.user(STAFF))
    await client.get("/applications")
    assert "رضا احمدی" in client.last
    await client.get("/applications?age=7")  # sent today: not seven days old yet
    assert "رضا احمدی" not in client.last
    await client.get("/applications?status=approved")
    assert "رضا احمدی" not in client.last
    await client.get("/applications?status=all&age=0&association=999")
    assert "رضا احمدی" not in client.last


async def test_the_overview_and_its_charts(app: BotApplication, sim: Simulator, client: Client) -> None:
    await _ready(app, sim)
    await sign_in(client, sim.user(STAFF))
    page = await client.get("/")
    assert page.status == 200 and 'dir="rtl"' in client.last and 'lang="fa"' in client.last
    assert re.search(r"درخواست‌های در انتظار بررسی</a><b>۱</b>", client.last)
    assert "کاربران" not in client.last  # chamber-wide figures are for chamber staff
    for chart in ("members", "applications"):
        response = await client.get(f"/charts/{chart}.png")
        assert response.status == 200 and (await response.read()).startswith(b"\x89PNG")


async def test_council_issues_by_status(app: BotApplication, sim: Simulator, client: Client) -> None:
    from db.models import CouncilIssue

    association = await _ready(app, sim)
    async with app.bot_data.sessionmaker() as session, session.begin():
        session.add_all(
            [
                CouncilIssue(
                    user_id=APPLICANT,
                    status="received",
                    topic="taxes",
                    description="مالیات بر ارزش افزوده",
                    association_id=association,
                ),
                CouncilIssue(
                    user_id=APPLICANT,
                    status="answered",
                    topic="customs",
                    description="ترخیص کالا",
                    answer="پیگیری شد",
                    association_id=association,
                ),
                CouncilIssue(
                    user_id=APPLICANT, status="received", topic="banking", description="تسهیلات اتاق"
                ),
            ]
        )
    await sign_in(client, sim.user(STAFF))
    await client.get("/council")
    assert "مالیات بر ارزش افزوده" in client.last and "ترخیص کالا" not in client.last
    assert "تسهیلات اتاق" not in client.last  # the chamber's own issue: for chamber staff
    await client.get("/council?status=answered")
    assert "ترخیص کالا" in client.last and "پیگیری شد" in client.last
