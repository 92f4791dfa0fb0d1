"""Staff review: approve, reject with a reason, more information and resubmission, the race of two
decisions, /review paging and scope, the guard on every review button, CSV exports."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from sqlalchemy import func, select

from bot.context import BotApplication
from bot.handlers import review
from bot.kit.guards import guard_of
from bot.services import applications as service
from bot.services import decisions as decisions_service
from bot.services.staff import StaffScope
from bot.views import membership as view
from db.models import Application, ApplicationEvent, Member, PendingDecision
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID
from tests.factories import add_association, add_staff
from tests.membership_support import NID, NID_2, only_application, submitted

STAFF = 7001


async def _setup(
    sim: Simulator, app: BotApplication, user_id: int = 7100, staff: tuple[int, ...] = (STAFF,)
) -> tuple[int, Application]:
    association = await add_association(app)
    for staff_id in staff:
        await add_staff(app, staff_id, association)
        sim.user(staff_id)
    sim.user(ADMIN_ID)
    await submitted(sim.user(user_id), association)
    return association, await only_application(app, user_id)


async def _events(app: BotApplication, application_id: int) -> list[tuple[str, int | None, str | None]]:
    async with app.bot_data.sessionmaker() as session:
        rows = await session.execute(
            select(ApplicationEvent.action, ApplicationEvent.actor_id, ApplicationEvent.reason)
            .where(ApplicationEvent.application_id == application_id)
            .order_by(ApplicationEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_approve_makes_a_member_and_tells_the_applicant(sim: Simulator, app: BotApplication) -> None:
    association, application = await _setup(sim, app)
    staff = sim.user(STAFF)
    await staff.press("تأیید")
    assert "تأیید شد" in staff.last_text
    applicant = sim.user(7100)
    # The decision, then the certificate and the card (tests/test_membership_terms.py).
    (notice,) = [m.content for m in applicant.messages if "تبریک" in m.content]
    assert "شمارهٔ عضویت" in notice
    async with app.bot_data.sessionmaker() as session:
        member = await session.scalar(select(Member).where(Member.user_id == 7100))
    assert (
        member is not None
        and member.association_id == association
        and member.application_id == application.id
    )
    number = member.member_number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert number in notice
    assert (await only_application(app, 7100)).status == "approved"
    assert [e[:2] for e in await _events(app, application.id)][-1] == ("approved", STAFF)
    # The applicant cannot apply again: they are a member now.
    await applicant.command("/start", f"apply_{association}")
    assert "هم‌اکنون عضو" in applicant.last_text


async def test_reject_with_a_template_reason(sim: Simulator, app: BotApplication) -> None:
    _association, application = await _setup(sim, app)
    staff = sim.user(STAFF)
    await staff.press("رد")
    assert "دلیل رد چیست" in staff.last_text
    await staff.press("مدارک فرستاده‌شده خوانا نیست.")
    assert "رد شد" in staff.last_text
    applicant = sim.user(7100)
    assert "تأیید نشد" in applicant.last_text and "مدارک فرستاده‌شده خوانا نیست." in applicant.last_text
    stored = await only_application(app, 7100)
    assert stored.status == "rejected" and stored.decided_by == STAFF
    assert (await _events(app, application.id))[-1] == ("rejected", STAFF, "مدارک فرستاده‌شده خوانا نیست.")


async def test_reject_with_a_typed_reason(sim: Simulator, app: BotApplication) -> None:
    _association, application = await _setup(sim, app)
    staff = sim.user(STAFF)
    await staff.press("رد")
    await staff.send("ن")
    assert "چند کلمه" in staff.last_text
    await staff.send("فعالیت شما تولیدی است، نه صنفی <b>")
    applicant = sim.user(7100)
    assert "فعالیت شما تولیدی است، نه صنفی <b>" in applicant.last_text
    assert (await only_application(app, 7100)).last_reason == "فعالیت شما تولیدی است، نه صنفی <b>"
    async with app.bot_data.sessionmaker() as session:
        assert await session.get(PendingDecision, STAFF) is None
    # The applicant may apply again after a rejection.
    await applicant.command("/start", f"apply_{application.association_id}")
    assert "صاحب کسب‌وکار درخواست می‌دهید" in applicant.last_text


async def test_more_information_reopens_the_asked_fields_and_resubmits(
    sim: Simulator, app: BotApplication
) -> None:
    _association, application = await _setup(sim, app)
    staff = sim.user(STAFF)
    await staff.press("درخواست اطلاعات بیشتر")
    await staff.press("بعدی")
    assert staff.answers[-1].params.get("text") == "اول دست‌کم یک مورد را انتخاب کنید."
    await staff.press("کد ملی")
    await staff.press("✅ کد ملی")
    await staff.press("کد ملی")
    await staff.press("شهر")
    await staff.press("بعدی")
    await staff.send("کد ملی با کارت ملی نمی‌خواند")
    assert "اطلاعات بیشتر خواسته شد" in staff.last_text
    stored = await only_application(app, 7100)
    assert stored.status == "more_info" and stored.requested == ["national_id", "city"]

    applicant = sim.user(7100)
    assert "کد ملی با کارت ملی نمی‌خواند" in applicant.last_text and "کد ملی، شهر" in applicant.last_text
    await applicant.press("به‌روزرسانی درخواست من")
    assert "کد ملی با کارت ملی نمی‌خواند" in applicant.last_text and "کد ملی" in applicant.last_text
    await applicant.send("123")
    assert "کد ملی معتبر نیست" in applicant.last_text
    await applicant.send(NID_2)
    assert "کدام شهر" in applicant.last_text
    await applicant.send("زرند")
    assert "درخواست شما؛ لطفاً بررسی کنید" in applicant.last_text
    mark = staff.mark()
    await applicant.press("ارسال درخواست")
    assert "فرستاده شد" in applicant.last_text
    stored = await only_application(app, 7100)
    assert (stored.status, stored.national_id, stored.city, stored.requested) == (
        "submitted",
        NID_2,
        "زرند",
        [],
    )
    assert stored.tracking_code == application.tracking_code
    assert any("دوباره فرستاده شد" in text for text in staff.texts_since(mark))
    actions = [e[0] for e in await _events(app, application.id)]
    assert actions == ["created", "submitted", "more_info", "resubmitted"]
    await staff.press("تأیید")
    assert (await only_application(app, 7100)).status == "approved"


async def test_two_staff_at_once_the_first_decision_wins(sim: Simulator, app: BotApplication) -> None:
    second = 7002
    _association, application = await _setup(sim, app, staff=(STAFF, second))
    first_staff, second_staff = sim.user(STAFF), sim.user(second)
    # Both press on their own notification at the same moment.
    sim.enqueue_update(first_staff.press_update("تأیید"))
    sim.enqueue_update(second_staff.press_update("تأیید"))
    await sim.drain()
    sim.assert_no_errors()
    assert (await only_application(app, 7100)).status == "approved"
    decisions = [e for e in await _events(app, application.id) if e[0] == "approved"]
    assert len(decisions) == 1
    winner = decisions[0][1]
    loser = second_staff if winner == STAFF else first_staff
    told = [str(a.params.get("text") or "") for a in loser.answers]
    assert any("پیش‌تر کس دیگری تصمیم گرفته" in t for t in told)
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 1
    # The applicant heard once.
    assert len([t for t in sim.user(7100).texts_since(0) if "تبریک" in t]) == 1


async def test_a_late_reject_after_approval_is_told_it_was_decided(
    sim: Simulator, app: BotApplication
) -> None:
    second = 7002
    _association, _application = await _setup(sim, app, staff=(STAFF, second))
    await sim.user(STAFF).press("تأیید")
    late = sim.user(second)
    await late.press("رد")
    assert "پیش‌تر کس دیگری تصمیم گرفته است: تأیید شد" in late.last_text
    assert (await only_application(app, 7100)).status == "approved"


@pytest.mark.parametrize(
    "decisions", [("approved", "rejected"), ("more_info", "approved"), ("rejected", "rejected")]
)
async def test_two_concurrent_decision_calls(
    app: BotApplication, sim: Simulator, decisions: tuple[str, str]
) -> None:
    association, application = await _setup(sim, app)

    async def decide(staff_id: int, decision: str) -> str:
        scope = StaffScope(staff_id, association_ids=frozenset({association}))
        try:
            async with app.bot_data.sessionmaker() as session, session.begin():
                await decisions_service.decide(session, scope, application.id, decision, "دلیل", ["city"])
        except service.AlreadyDecided:
            return "lost"
        return "won"

    results = await asyncio.gather(decide(1, decisions[0]), decide(2, decisions[1]))
    assert sorted(results) == ["lost", "won"]
    stored = await only_application(app, 7100)
    winner = decisions[results.index("won")]
    assert stored.status == winner
    async with app.bot_data.sessionmaker() as session:
        members = await session.scalar(select(func.count()).select_from(Member))
    assert members == (1 if winner == "approved" else 0)
    assert len([e for e in await _events(app, application.id) if e[0] in decisions]) == 1


REVIEW_BUTTONS = [
    "review:approve:{id}",
    "review:reject:{id}",
    "review:info:{id}",
    "review:open:{id}",
    "review:page:0",
    "rv:pick:fields:city",
    "rv:done:fields",
    "rv:set:reason:0",
    "rv:cancel",
    "review:export:{association}",
]


@pytest.mark.parametrize("data", REVIEW_BUTTONS)
async def test_forged_review_buttons_from_non_staff_change_nothing(
    sim: Simulator, app: BotApplication, data: str
) -> None:
    association, application = await _setup(sim, app)
    stranger = sim.user(7300)
    mark = stranger.mark()
    await stranger.press_data(data.format(id=application.id, association=association))
    assert "فقط برای کارشناسان" in str(stranger.answers[-1].params.get("text"))
    assert stranger.texts_since(mark) == []
    assert (await only_application(app, 7100)).status == "submitted"
    async with app.bot_data.sessionmaker() as session:
        assert await session.get(PendingDecision, 7300) is None
        assert await session.scalar(select(func.count()).select_from(Member)) == 0


async def test_staff_of_another_association_cannot_decide(sim: Simulator, app: BotApplication) -> None:
    _association, application = await _setup(sim, app)
    other = await add_association(app, "انجمن بیمه")
    await add_staff(app, 7400, other)
    outsider = sim.user(7400)
    for data in ("approve", "reject", "info", "open"):
        await outsider.press_data(f"review:{data}:{application.id}")
        assert "مربوط به تشکل‌های شما نیست" in str(outsider.answers[-1].params.get("text"))
    await outsider.command("/export", str(application.association_id))
    assert "مربوط به تشکل‌های شما نیست" in outsider.last_text
    assert (await only_application(app, 7100)).status == "submitted"


async def test_every_review_handler_is_guarded() -> None:
    conversation = review.FEATURE.all_handlers()[0]
    callbacks = [cb for _data, cb in view.REVIEW.callbacks()] + [
        cb for _data, cb in review.REASONS.routes.callbacks()
    ]
    callbacks += [h.callback for handlers in conversation.states.values() for h in handlers]  # type: ignore[attr-defined]
    assert len(callbacks) > 10 and all(guard_of(cb) == "staff" for cb in callbacks)


async def test_review_lists_oldest_first_paginated_and_scoped(sim: Simulator, app: BotApplication) -> None:
    carpets = await add_association(app)
    pistachio = await add_association(app, "انجمن پسته")
    await add_staff(app, STAFF, carpets)
    sim.user(STAFF)
    for n in range(7):
        await submitted(
            sim.user(7500 + n), carpets, name=f"متقاضی {['الف', 'ب', 'پ', 'ت', 'ث', 'ج', 'چ'][n]} کرمانی"
        )
    await submitted(sim.user(7510), pistachio, name="متقاضی پسته")
    staff = sim.user(STAFF)
    await staff.command("/review")
    first_page = staff.last_text
    assert "۱ تا ۵ از ۷" in first_page and "متقاضی پسته" not in first_page
    assert first_page.index("متقاضی الف") < first_page.index("متقاضی ب ")
    await staff.press("صفحهٔ بعد ◀️")
    assert "۶ تا ۷ از ۷" in staff.last_text and "متقاضی چ" in staff.last_text
    await staff.press("▶️ صفحهٔ قبل")
    assert "۱ تا ۵ از ۷" in staff.last_text
    admin = sim.user(ADMIN_ID)
    await admin.command("/review")
    assert "از ۸" in admin.last_text
    code = (await only_application(app, 7500)).tracking_code or ""
    await staff.press("باز کردن " + code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    assert "متقاضی الف کرمانی" in staff.last_text and staff.buttons()[0] == "تأیید"


async def test_review_shows_the_documents(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app, min_experience_years=5)
    await add_staff(app, STAFF, association)
    staff = sim.user(STAFF)
    user = sim.user(7600)
    await user.command("/start", f"apply_{association}")
    await user.press("صاحب کسب‌وکار (مغازه یا شرکت)")
    for answer in ("رضا احمدی", NID, "09121234567", "فرش ماهان", "فروش فرش", "کرمان", "0"):
        await user.send(answer)
    await user.press("بدون مدرک دانشگاهی")
    await user.send_document("licence.pdf", "application/pdf")
    await user.send_photo()
    await user.press("ادامه")
    await user.press("ارسال درخواست")
    kinds = [m.kind for m in staff.messages]
    assert kinds == ["text", "document", "photo"]


async def test_export_members_and_applications_as_csv_with_bom(
    sim: Simulator, app: BotApplication, api: object
) -> None:
    association, _application = await _setup(sim, app)
    staff = sim.user(STAFF)
    await staff.press("تأیید")
    await staff.command("/export")
    await staff.press("انجمن صنفی فرش کرمان")
    documents = [m for m in staff.messages if m.kind == "document"]
    assert len(documents) == 2
    files = [sim.state.files[str(m.document["file_id"])].data() for m in documents if m.document]
    assert all(data.startswith("\ufeff".encode()) for data in files)
    members = list(csv.reader(io.StringIO(files[0].decode("utf-8-sig"))))
    assert members[0][0] == "شمارهٔ عضویت" and members[1][2] == "رضا احمدی" and members[1][3] == NID
    applications = list(csv.reader(io.StringIO(files[1].decode("utf-8-sig"))))
    assert applications[1][1] == "تأیید شد" and "بدون مدرک دانشگاهی" in applications[1]
    await staff.command("/export", str(association + 100))
    assert "تشکلی با این شماره وجود ندارد" in staff.last_text


async def test_more_information_with_a_template_and_a_cancelled_decision(
    sim: Simulator, app: BotApplication
) -> None:
    _association, _application = await _setup(sim, app)
    staff = sim.user(STAFF)
    await staff.press("رد")
    await staff.press("انصراف")
    assert "تصمیمی گرفته نشد" in staff.last_text
    async with app.bot_data.sessionmaker() as session:
        assert await session.get(PendingDecision, STAFF) is None
    assert (await only_application(app, 7100)).status == "submitted"
    await staff.press("درخواست اطلاعات بیشتر")
    await staff.press("مدارک")
    await staff.press("بعدی")
    await staff.press("لطفاً عکس واضحی از پروانهٔ کسب یا مجوز خود بفرستید.")
    stored = await only_application(app, 7100)
    assert stored.status == "more_info" and stored.requested == ["documents"] and not stored.documents_done
    applicant = sim.user(7100)
    await applicant.press("به‌روزرسانی درخواست من")
    assert "لطفاً عکس واضحی از پروانهٔ کسب" in applicant.last_text and "عکس یا فایل PDF" in applicant.last_text
    await applicant.send_document("licence.pdf", "application/pdf")
    await applicant.press("ادامه")
    assert "مدارک: ۱" in applicant.last_text
    await applicant.press("ارسال درخواست")
    assert (await only_application(app, 7100)).status == "submitted"
