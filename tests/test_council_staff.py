"""The council's staff side on the kit and the form engine: staff reach it from /start, buttons say
what they do, associations in Persian order, paging in words, the member told through the outbox,
and the answer form (cancel, edits of old messages, a restart in the middle)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.context import BotApplication
from bot.registry import bot_commands
from bot.text import collation_key
from db.models import Broadcast, CouncilAnswerDraft, CouncilIssue, Delivery, Staff
from db.models.outbox import NOTICE
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_staff
from tests.test_council import _issue, raise_issue

ANSWER = "ادارهٔ کل مالیات پذیرفت پرونده‌های علی‌الرأس امسال دوباره رسیدگی شود."


def _arrows(labels: list[str]) -> list[str]:
    """Labels that use « or » (quotation marks only, never arrows)."""
    return [label for label in labels if "«" in label or "»" in label]


async def _open_issues(app: BotApplication, count: int) -> list[int]:
    """`count` received issues from different members, straight into the database."""
    ids = []
    async with app.bot_data.sessionmaker() as session, session.begin():
        for n in range(count):
            issue = CouncilIssue(
                user_id=9100 + n,
                status="received",
                topic="customs",
                description=f"ترخیص کالا در گمرک شمارهٔ {n} بیش از یک ماه طول می‌کشد.",
                attachment_file_id="",
                show_name=False,
                raiser_name="عضو",
            )
            session.add(issue)
            await session.flush()
            ids.append(issue.id)
    return ids


async def test_staff_reach_the_issues_from_their_start_menu(sim: Simulator, app: BotApplication) -> None:
    member = sim.user(9001)
    await member.command("/start")
    assert "موضوع‌های شورا" not in member.buttons()
    await add_staff(app, 9002, None)
    staff = sim.user(9002)
    await staff.command("/start")
    assert "موضوع‌های شورا" in staff.buttons()
    await staff.press("موضوع‌های شورا")
    assert "موضوع بازی نیست" in staff.last_text
    await raise_issue(member)
    await staff.command("/start")
    await staff.press("موضوع‌های شورا")
    assert "موضوع‌های باز" in staff.last_text


def test_issues_is_a_staff_command() -> None:
    def names(audience: Any) -> set[str]:
        return {c.command for c in bot_commands(lambda text: text, audience)}

    assert "council" in names("everyone") and "issues" not in names("everyone")
    assert "issues" in names("staff")


async def test_staff_buttons_say_what_they_do(sim: Simulator, app: BotApplication) -> None:
    aid = await add_association(app)
    issue_id = await raise_issue(sim.user(9011))
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:staff:{issue_id}")
    assert admin.buttons() == [
        "شروع بررسی",
        "افزودن به دستور کار شورا",
        "واگذاری به یک تشکل",
        "ادغام با موضوع دیگر",
        "پاسخ به موضوع",
        "بازگشت به فهرست",
    ]
    await admin.press("افزودن به دستور کار شورا")
    assert "افزودن به دستور کار شورا" not in admin.buttons() and "شروع بررسی" not in admin.buttons()
    # An association's staff may start the review and answer; the rest is the chamber's.
    await add_staff(app, 9012, aid)
    other = await raise_issue(sim.user(9013))
    await admin.press_data(f"council:to:{other}:{aid}")
    own = sim.user(9012)
    await own.press_data(f"council:staff:{other}")
    assert own.buttons() == ["پاسخ به موضوع", "بازگشت به فهرست"]  # assigning made it under review


async def test_associations_to_assign_are_in_persian_order(sim: Simulator, app: BotApplication) -> None:
    names = ["یکپارچه‌سازان", "پسته‌کاران", "بازرگانان", "چاپخانه‌داران", "تولیدکنندگان", "آرایشگران"]
    for name in names:
        await add_association(app, name)
    issue_id = await raise_issue(sim.user(9021))
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:assign:{issue_id}")
    shown = [label for label in admin.buttons() if label in names]
    assert shown == sorted(names, key=collation_key)
    assert shown == ["آرایشگران", "بازرگانان", "پسته‌کاران", "تولیدکنندگان", "چاپخانه‌داران", "یکپارچه‌سازان"]
    assert admin.buttons()[-1] == "بازگشت به موضوع"


async def test_paging_says_next_and_previous_in_words(sim: Simulator, app: BotApplication) -> None:
    await _open_issues(app, 12)
    member = sim.user(9031)
    await member.press_data("council:list:0")
    assert "صفحهٔ بعد ◀️" in member.buttons() and "▶️ صفحهٔ قبل" not in member.buttons()
    assert not _arrows(member.buttons())
    await member.press("صفحهٔ بعد ◀️")
    assert "▶️ صفحهٔ قبل" in member.buttons() and "صفحهٔ بعد ◀️" in member.buttons()
    row = member.buttons()
    assert row.index("صفحهٔ بعد ◀️") < row.index("▶️ صفحهٔ قبل"), "next comes first: the arrows point apart"
    admin = sim.user(ADMIN_ID)
    await admin.command("/issues")
    assert "صفحهٔ بعد ◀️" in admin.buttons()
    await admin.press("صفحهٔ بعد ◀️")
    assert "▶️ صفحهٔ قبل" in admin.buttons() and not _arrows(admin.buttons())


async def test_every_change_reaches_the_member_through_the_outbox(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    aid = await add_association(app, "انجمن صنفی بازرگانان کرمان")
    member = sim.user(9041)
    issue_id = await raise_issue(member)
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:staff:{issue_id}")
    await admin.press("شروع بررسی")
    await admin.press("واگذاری به یک تشکل")
    await admin.press("انجمن صنفی بازرگانان کرمان")
    await admin.press("افزودن به دستور کار شورا")
    await admin.press("پاسخ به موضوع")
    await admin.send(ANSWER)
    async with app.bot_data.sessionmaker() as session:
        notices = list(
            await session.scalars(
                select(Broadcast.text)
                .join(Delivery, Delivery.broadcast_id == Broadcast.id)
                .where(Broadcast.kind == NOTICE, Delivery.user_id == member.id)
                .order_by(Broadcast.id)
            )
        )
    assert len(notices) == 4, notices
    assert "در حال بررسی" in notices[0]
    assert "انجمن صنفی بازرگانان کرمان" in notices[1] and "وضعیت: در حال بررسی" in notices[1]
    assert "دستور کار" in notices[2]
    assert "پاسخ داد" in notices[3] and "دوباره رسیدگی شود" in notices[3]
    # Each one reached the member, with a button to their issue.
    sent = [str(c.params.get("text")) for c in api.calls_to("sendMessage", chat_id=member.id, ok=True)]
    assert all(any(notice in text for text in sent) for notice in notices)
    assert "مشاهدهٔ موضوع" in member.buttons()
    await member.press("مشاهدهٔ موضوع")
    assert "پاسخ شورا" in member.last_text and "دوباره رسیدگی شود" in member.last_text
    assert aid


async def test_the_answer_form_cancels_and_ignores_edits(sim: Simulator, app: BotApplication) -> None:
    issue_id = await raise_issue(sim.user(9051))
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:reply:{issue_id}")
    assert "انصراف" in admin.buttons()
    await admin.press("انصراف")
    assert "پاسخی فرستاده نشد" in admin.last_text
    async with app.bot_data.sessionmaker() as session:
        assert await session.get(CouncilAnswerDraft, ADMIN_ID) is None
    await admin.send("این متن پاسخ نیست.")
    assert (await _issue(app, issue_id)).answer is None
    # Too short an answer is asked again; an edit of that message is not taken as the answer.
    await admin.press_data(f"council:reply:{issue_id}")
    await admin.send("باشد")
    assert "چندکلمه‌ای" in admin.last_text
    await admin.edit_last(ANSWER)
    assert (await _issue(app, issue_id)).status == "received"
    await admin.send(ANSWER)
    issue = await _issue(app, issue_id)
    assert issue.status == "answered" and issue.answer == ANSWER


async def test_an_answer_in_progress_survives_a_restart(make_app: Any, api: FakeTelegram) -> None:
    first = await make_app()
    issue_id = await raise_issue(Simulator(first, api).user(9061))
    await Simulator(first, api).user(ADMIN_ID).press_data(f"council:reply:{issue_id}")
    second = await make_app()
    admin = Simulator(second, api).user(ADMIN_ID)
    await admin.send(ANSWER)
    assert "پاسخ ثبت شد" in admin.last_text
    issue = await _issue(second, issue_id)
    assert issue.status == "answered" and issue.answered_by == ADMIN_ID


async def test_an_issue_answered_meanwhile_is_not_answered_twice(sim: Simulator, app: BotApplication) -> None:
    issue_id = await raise_issue(sim.user(9071))
    await add_staff(app, 9072, None)
    first, second = sim.user(ADMIN_ID), sim.user(9072)
    await first.press_data(f"council:reply:{issue_id}")
    await second.press_data(f"council:reply:{issue_id}")
    await first.send(ANSWER)
    await second.send("پاسخ دوم که نباید ثبت شود چون موضوع پاسخ گرفته است.")
    assert "دیگر نمی‌توان به این موضوع پاسخ داد" in second.last_text
    await second.press("انصراف")
    assert (await _issue(app, issue_id)).answer == ANSWER


async def test_staff_removed_mid_answer_is_refused(sim: Simulator, app: BotApplication) -> None:
    issue_id = await raise_issue(sim.user(9081))
    await add_staff(app, 9082, None)
    staff = sim.user(9082)
    await staff.press_data(f"council:reply:{issue_id}")
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(Staff.__table__.delete().where(Staff.telegram_id == 9082))
    await staff.send(ANSWER)
    assert "فقط برای کارشناسان" in staff.last_text
    assert (await _issue(app, issue_id)).status == "received"
