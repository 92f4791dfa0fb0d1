"""The dialogue council through the bot: raising an issue, the status lifecycle and its notices,
support, merge, anonymity, and staff-only triage (forged buttons change nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.context import BotApplication
from db.models import Broadcast, CouncilIssue, CouncilSupport, Delivery
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_staff

DESCRIPTION = "ادارهٔ مالیات برای سال گذشته مالیات علی‌الرأس سنگینی بدون رسیدگی به دفاتر تعیین کرده است."


async def raise_issue(
    user: SimUser,
    *,
    topic: str = "مالیات",
    text: str = DESCRIPTION,
    attach: str | None = None,
    show_name: bool = False,
) -> int:
    """Walk the form from the menu to «Send»; returns the issue id."""
    await user.command("/start")
    await user.press("شورای گفت‌وگو")
    assert "شورای گفت‌وگو" in user.last_text
    await user.press("✍️ طرح موضوع")
    assert "در چه زمینه‌ای" in user.last_text
    await user.press(topic)
    assert "مشکل را شرح دهید" in user.last_text
    await user.send(text)
    assert "عکس یا فایل PDF" in user.last_text
    if attach == "photo":
        await user.send_photo()
    elif attach == "pdf":
        await user.send_document("notice.pdf", "application/pdf")
    else:
        await user.press("بدون پیوست")
    assert "نام شما را کنار این موضوع ببینند" in user.last_text
    await user.press("بله، نامم نمایش داده شود" if show_name else "خیر، ناشناس بمانم")
    assert "لطفاً بررسی کنید" in user.last_text
    await user.press("ارسال به شورا")
    assert "موضوع شما دریافت شد" in user.last_text
    return await _latest_id(user)


async def _latest_id(user: SimUser) -> int:
    app = user.sim.app  # type: ignore[attr-defined]
    async with app.bot_data.sessionmaker() as session:
        issue_id = await session.scalar(
            select(CouncilIssue.id).where(CouncilIssue.user_id == user.id).order_by(CouncilIssue.id.desc())
        )
    assert issue_id is not None
    return int(issue_id)


async def _issue(app: BotApplication, issue_id: int) -> CouncilIssue:
    async with app.bot_data.sessionmaker() as session:
        issue = await session.get(CouncilIssue, issue_id)
    assert issue is not None
    return issue


async def _supporters(app: BotApplication, issue_id: int) -> list[int]:
    async with app.bot_data.sessionmaker() as session:
        rows = await session.scalars(
            select(CouncilSupport.user_id)
            .where(CouncilSupport.issue_id == issue_id)
            .order_by(CouncilSupport.user_id)
        )
        return list(rows)


async def test_raise_an_issue_with_a_pdf_and_walk_the_whole_lifecycle(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    member = sim.user(6001, first_name="مریم", last_name="کاظمی")
    issue_id = await raise_issue(member, attach="pdf", show_name=True)
    issue = await _issue(app, issue_id)
    assert (issue.status, issue.topic, issue.attachment_kind, issue.show_name) == (
        "received",
        "taxes",
        "document",
        True,
    )
    assert issue.raiser_name == "مریم کاظمی" and issue.description == DESCRIPTION

    supporter = sim.user(6002)
    await supporter.press_data(f"council:view:{issue_id}")
    await supporter.press("👍 من هم این مشکل را دارم (۰)")
    assert "شما از این موضوع حمایت می‌کنید" in supporter.last_text

    admin = sim.user(ADMIN_ID)
    await admin.command("/issues")
    assert "موضوع‌های باز" in admin.last_text
    mark = admin.mark()
    await admin.press_data(f"council:staff:{issue_id}")
    assert any("مریم کاظمی" in t for t in admin.texts_since(mark))
    assert api.calls_to("sendDocument", chat_id=ADMIN_ID), "staff get the attachment"

    notices: list[str] = []
    mark = member.mark()
    await admin.press("شروع بررسی")
    await admin.press("افزودن به دستور کار شورا")
    notices = member.texts_since(mark)
    assert any("اکنون در حال بررسی است" in t for t in notices)
    assert any("در دستور کار شورای گفت‌وگو است" in t for t in notices)
    assert (await _issue(app, issue_id)).status == "on_agenda"

    await admin.press("پاسخ به موضوع")
    assert "پاسخ موضوع" in admin.last_text
    await admin.send("پیگیری شد؛ ادارهٔ کل مالیاتی استان قرار است پرونده‌ها را دوباره بررسی کند.")
    assert "پاسخ ثبت شد" in admin.last_text and "حامیانی که پاسخ را دریافت می‌کنند: ۱" in admin.last_text
    assert "شورای گفت‌وگو به موضوع" in member.last_text and "دوباره بررسی کند" in member.last_text
    issue = await _issue(app, issue_id)
    assert issue.status == "answered" and issue.answered_by == ADMIN_ID

    # Supporters get the answer through the outbox, once.
    async with app.bot_data.sessionmaker() as session:
        broadcast = await session.scalar(
            select(Broadcast).where(Broadcast.dedupe_key == f"council:{issue_id}:answer")
        )
        assert broadcast is not None and "دوباره بررسی کند" in broadcast.text
        recipients = list(
            await session.scalars(select(Delivery.user_id).where(Delivery.broadcast_id == broadcast.id))
        )
    assert recipients == [6002]

    # An answered issue can no longer be supported, moved or answered again.
    late = sim.user(6003)
    await late.press_data(f"council:sup:{issue_id}")
    assert await _supporters(app, issue_id) == [6002]
    await admin.press_data(f"council:agenda:{issue_id}")
    assert "این کار ممکن نیست" in admin.last_text
    assert (await _issue(app, issue_id)).status == "answered"


async def test_the_answer_reaches_supporters_through_the_sender(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    from tests.broadcast_helpers import start_sender, wait_finished

    issue_id = await raise_issue(sim.user(6101))
    for uid in (6102, 6103):
        await sim.user(uid).press_data(f"council:sup:{issue_id}")
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:reply:{issue_id}")
    await admin.send("بانک مرکزی بخشنامهٔ تازه‌ای صادر کرد.")
    async with app.bot_data.sessionmaker() as session:
        broadcast_id = await session.scalar(select(Broadcast.id).where(Broadcast.kind == "council"))
    assert broadcast_id is not None
    await start_sender(app)
    report = await wait_finished(app, broadcast_id)
    assert (report.total, report.sent) == (2, 2)
    for uid in (6102, 6103):
        texts = [str(c.params.get("text")) for c in api.calls_to("sendMessage", chat_id=uid, ok=True)]
        assert any("بخشنامهٔ تازه" in t and "از آن حمایت کرده بودید" in t for t in texts)


async def test_support_once_per_person_and_counts(sim: Simulator, app: BotApplication) -> None:
    raiser = sim.user(6201)
    issue_id = await raise_issue(raiser)
    # The raiser cannot support their own issue; there is no button for them.
    await raiser.press_data(f"council:view:{issue_id}")
    assert "این موضوع را شما مطرح کرده‌اید" in raiser.last_text
    assert not any(label.startswith("👍") for label in raiser.buttons())
    await raiser.press_data(f"council:sup:{issue_id}")
    assert await _supporters(app, issue_id) == []
    for n, uid in enumerate((6202, 6203, 6204), start=1):
        user = sim.user(uid)
        await user.press_data(f"council:view:{issue_id}")
        await user.press_data(f"council:sup:{issue_id}")
        await user.press_data(f"council:sup:{issue_id}")  # a second tap counts nothing
        assert f"حامیان: {'۰۱۲۳'[n]}" in user.last_text
    assert await _supporters(app, issue_id) == [6202, 6203, 6204]
    # The open list puts the most supported first.
    other = await raise_issue(
        sim.user(6205), topic="گمرکی", text="ترخیص کالا در گمرک بندرعباس بیش از یک ماه طول می‌کشد."
    )
    viewer = sim.user(6206)
    await viewer.press_data("council:list:0")
    ids = [b for b in viewer.buttons() if b.startswith("\u2066#")]
    assert ids[0].startswith(f"\u2066#{str(issue_id).translate(str.maketrans('0123456789', '۰۱۲۳۴۵۶۷۸۹'))}")
    assert len(ids) == 2 and other != issue_id


async def test_anonymity_is_respected_but_staff_see_the_raiser(sim: Simulator, app: BotApplication) -> None:
    hidden = sim.user(6301, first_name="ناصر", last_name="پنهان")
    shown = sim.user(6302, first_name="سارا", last_name="آشکار")
    hidden_id = await raise_issue(hidden, show_name=False)
    shown_id = await raise_issue(
        shown, show_name=True, topic="بیمه", text="تأمین اجتماعی حق بیمهٔ کارگاه‌های کوچک را دو برابر کرده است."
    )
    viewer = sim.user(6303)
    await viewer.press_data(f"council:view:{hidden_id}")
    assert "ناصر" not in viewer.last_text and "پنهان" not in viewer.last_text
    assert "یکی از اعضا (نام نمایش داده نمی‌شود)" in viewer.last_text
    await viewer.press_data("council:list:0")
    assert all("ناصر" not in label for label in viewer.buttons())
    await viewer.press_data(f"council:view:{shown_id}")
    assert "مطرح‌کننده: سارا آشکار" in viewer.last_text
    # Staff always see who raised it, and whether the name may be shown.
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:staff:{hidden_id}")
    assert "ناصر پنهان" in admin.last_text and "برای اعضای دیگر ناشناس" in admin.last_text
    # The answer to supporters never carries the raiser's name.
    await viewer.press_data(f"council:sup:{hidden_id}")
    await admin.press_data(f"council:reply:{hidden_id}")
    await admin.send("موضوع با ادارهٔ کل مالیات در میان گذاشته شد.")
    async with app.bot_data.sessionmaker() as session:
        text = await session.scalar(
            select(Broadcast.text).where(Broadcast.dedupe_key == f"council:{hidden_id}:answer")
        )
    assert text is not None and "ناصر" not in text


async def test_merge_moves_supporters_and_tells_the_raiser(sim: Simulator, app: BotApplication) -> None:
    target_raiser = sim.user(6401)
    target = await raise_issue(target_raiser)
    dup_raiser = sim.user(6402)
    duplicate = await raise_issue(
        dup_raiser, text="مالیات علی‌الرأس امسال بدون رسیدگی به دفاتر ما تعیین شده و بسیار سنگین است."
    )
    for uid in (6403, 6404):
        await sim.user(uid).press_data(f"council:sup:{duplicate}")
    await sim.user(6404).press_data(f"council:sup:{target}")  # already supports both
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:staff:{duplicate}")
    await admin.press("ادغام با موضوع دیگر")
    assert any(label.startswith("\u2066#") for label in admin.buttons())
    await admin.press_data(f"council:into:{duplicate}:{target}")
    assert "ادغام شد و به عضو اطلاع داده شد" in admin.last_text
    assert "ادغام شدند" in dup_raiser.last_text
    merged = await _issue(app, duplicate)
    assert (merged.status, merged.merged_into_id) == ("merged", target)
    assert await _supporters(app, duplicate) == []
    assert await _supporters(app, target) == [6402, 6403, 6404]
    # The merged issue can no longer be supported; its page points to the target.
    late = sim.user(6405)
    await late.press_data(f"council:sup:{duplicate}")
    assert await _supporters(app, duplicate) == []
    await late.press_data(f"council:view:{duplicate}")
    assert "ادغام‌شده در موضوعی دیگر" in late.last_text
    # A merge into itself is refused.
    await admin.press_data(f"council:into:{target}:{target}")
    assert (await _issue(app, target)).status == "received"


async def test_assign_to_an_association_and_its_staff_follow_up(sim: Simulator, app: BotApplication) -> None:
    aid = await add_association(app, "انجمن صنفی بازرگانان کرمان")
    other = await add_association(app, "تشکل دیگر")
    member = sim.user(6501)
    issue_id = await raise_issue(member)
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"council:staff:{issue_id}")
    await admin.press("واگذاری به یک تشکل")
    await admin.press("انجمن صنفی بازرگانان کرمان")
    assert "به انجمن صنفی بازرگانان کرمان ارجاع شد" in admin.last_text
    assert "برای پیگیری به انجمن صنفی بازرگانان کرمان ارجاع شد" in member.last_text
    issue = await _issue(app, issue_id)
    assert (issue.status, issue.association_id) == ("under_review", aid)
    await add_staff(app, 6510, aid)
    await add_staff(app, 6511, other)
    # The association's staff see and may answer it; another association's staff may not.
    own = sim.user(6510)
    await own.command("/issues")
    assert "۱" in own.last_text and own.buttons()
    foreign = sim.user(6511)
    await foreign.command("/issues")
    assert "موضوع بازی نیست" in foreign.last_text
    await foreign.press_data(f"council:reply:{issue_id}")
    assert "پیدا نشد" in foreign.last_text
    await foreign.send("این پاسخ نباید ثبت شود.")
    assert (await _issue(app, issue_id)).answer is None
    # Association staff may not put it on the agenda or merge (chamber staff only).
    await own.press_data(f"council:agenda:{issue_id}")
    assert "فقط از کارشناسان اتاق" in own.last_text
    await own.press_data(f"council:reply:{issue_id}")
    await own.send("انجمن با ادارهٔ مالیات جلسه گذاشت.")
    assert (await _issue(app, issue_id)).status == "answered"


STAFF_ACTIONS = [
    "council:staff:{id}",
    "council:rev:{id}",
    "council:agenda:{id}",
    "council:assign:{id}",
    "council:to:{id}:{aid}",
    "council:merge:{id}",
    "council:into:{id}:{other}",
    "council:reply:{id}",
    "council:issues:0",
]


@pytest.mark.parametrize("action", STAFF_ACTIONS)
async def test_non_staff_forged_buttons_change_nothing(
    sim: Simulator, app: BotApplication, action: str
) -> None:
    aid = await add_association(app, "انجمن صنفی بازرگانان کرمان")
    issue_id = await raise_issue(sim.user(6601))
    other = await raise_issue(
        sim.user(6602), topic="بانکی", text="بانک‌ها برای وام سرمایه در گردش ضامن کارمند دولت می‌خواهند."
    )
    stranger = sim.user(6603)
    before = await _issue(app, issue_id)
    await stranger.press_data(action.format(id=issue_id, aid=aid, other=other))
    assert "فقط برای کارشناسان" in str(stranger.answers[-1].params.get("text") or "")
    await stranger.send("پاسخ جعلی")
    after = await _issue(app, issue_id)
    assert (after.status, after.association_id, after.answer, after.merged_into_id) == (
        before.status,
        before.association_id,
        before.answer,
        before.merged_into_id,
    )
    assert await _supporters(app, other) == []


async def test_non_staff_issues_command_is_refused(sim: Simulator) -> None:
    stranger = sim.user(6701)
    await stranger.command("/issues")
    assert "فقط برای کارشناسان" in stranger.last_text


async def test_bad_input_in_the_form(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(6801)
    await user.command("/council")
    await user.press("✍️ طرح موضوع")
    await user.send("متن بدون انتخاب زمینه")
    assert "لطفاً با دکمه‌های زیر پاسخ دهید" in user.last_text
    await user.press("سایر")
    await user.send("کوتاه")
    assert "دست‌کم ۱۵ حرف" in user.last_text
    await user.send("خ" * 2001)
    assert "خیلی طولانی" in user.last_text
    await user.send("کمبود برق صنعتی در شهرک صنعتی خضرا تولید را متوقف کرده است.")
    await user.send_document("sheet.xlsx", "application/vnd.ms-excel")
    assert "فقط عکس یا فایل PDF" in user.last_text
    await user.send_photo()
    assert "نام شما را کنار این موضوع ببینند" in user.last_text
    # Leaving and coming back resumes the draft at the same step.
    await user.command("/cancel")
    await user.command("/council")
    await user.press("✍️ طرح موضوع")
    assert "نام شما را کنار این موضوع ببینند" in user.last_text
    await user.press("خیر، ناشناس بمانم")
    await user.press("حذف این پیش‌نویس")
    await user.press("بله، حذف شود")
    assert "پیش‌نویس حذف شد" in user.last_text
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(CouncilIssue.id).where(CouncilIssue.user_id == 6801)) is None


async def test_my_issues(sim: Simulator) -> None:
    user = sim.user(6901)
    await raise_issue(user)
    await user.press_data("council:mine")
    assert "موضوع‌های شما" in user.last_text and "مالیات" in user.last_text and "دریافت شد" in user.last_text


async def test_the_form_resumes_after_a_restart_and_edits_one_answer(
    make_app: Any, api: FakeTelegram
) -> None:
    first = await make_app()
    user = Simulator(first, api).user(6951)
    await user.command("/council")
    await user.press("✍️ طرح موضوع")
    assert "مرحلهٔ ۱ از ۴" in user.last_text
    await user.press("گمرکی")
    second = await make_app()
    user = Simulator(second, api).user(6951)
    await user.send("ترخیص مواد اولیه در گمرک کرمان بیش از یک ماه طول می‌کشد.")
    assert "مرحلهٔ ۳ از ۴" in user.last_text and "عکس یا فایل PDF" in user.last_text
    await user.press("بدون پیوست")
    await user.press("بله، نامم نمایش داده شود")
    assert "زمینه: گمرکی" in user.last_text and "پیوست: ندارد" in user.last_text
    await user.press("ویرایش یک پاسخ")
    await user.press("زمینه")
    await user.press("بانکی")
    assert "لطفاً بررسی کنید" in user.last_text and "زمینه: بانکی" in user.last_text
    await user.press("ارسال به شورا")
    issue = await _issue(second, await _latest_id(user))
    assert (issue.status, issue.topic, issue.show_name) == ("received", "banking", True)
