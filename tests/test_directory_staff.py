"""Staff editing of the directory: add with the near-duplicate guard, edit, status, staff assignment,
and every staff action refused to everyone else (forged buttons included)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.context import BotApplication
from bot.services.staff import scope_of
from db.models import Application, DirectoryDraft, FoundingInterest, Member, Staff
from fakeapi.simulator import Simulator
from tests.conftest import ADMIN_ID, AppFactory
from tests.directory_helpers import associations, send_csv
from tests.factories import add_association

LRI, PDI = "\u2066", "\u2069"
REFUSED = "فقط برای کارشناسان"


async def _open_add(sim: Simulator, user_id: int = ADMIN_ID) -> None:
    admin = sim.user(user_id)
    await admin.command("/associations")
    await admin.press("➕ افزودن تشکل")


async def test_add_warns_about_near_duplicate_and_can_cancel_or_confirm(
    sim: Simulator, app: BotApplication
) -> None:
    await add_association(app, "کسب‌وکارهای خانگی", status="forming")
    admin = sim.user(ADMIN_ID)
    await _open_add(sim)
    assert "نام تشکل را بنویسید" in admin.last_text
    await admin.send("انجمن کسب و کارهاي خانگي استان کرمان")
    warning = admin.last_text
    assert "شبیه تشکلی است که از قبل داریم" in warning and "• کسب‌وکارهای خانگی" in warning
    assert len(await associations(app)) == 1
    await admin.press("خیر، افزوده نشود")
    assert "چیزی افزوده نشد" in admin.last_text
    assert len(await associations(app)) == 1
    await _open_add(sim)
    await admin.send("انجمن کسب و کارهای خانگی استان کرمان")
    await admin.press("بله، افزوده شود")
    assert "معرفی کوتاه" in admin.last_text
    await admin.send("تشکل صاحبان کسب‌وکار خانگی در شهرستان‌ها")
    await admin.press("فعال")
    card = admin.last_text  # the status question, now confirming, with the new association's page
    assert "افزوده شد" in card
    assert "انجمن کسب و کارهای خانگی استان کرمان" in card and "وضعیت: فعال" in card
    saved = {a.name: a for a in await associations(app)}
    assert saved["انجمن کسب و کارهای خانگی استان کرمان"].description.startswith("تشکل صاحبان")
    sim.assert_no_errors()


async def test_add_refuses_exact_duplicate_and_skips_warning_for_distinct_names(
    sim: Simulator, app: BotApplication
) -> None:
    await add_association(app, "برند و بسته‌بندی", status="forming")
    admin = sim.user(ADMIN_ID)
    await _open_add(sim)
    await admin.send("برند و بسته بندي")
    assert "از قبل در فهرست هست" in admin.last_text
    await admin.send("ab")
    assert "کوتاه" in admin.last_text
    await admin.send("انجمن صادرکنندگان زعفران")
    assert "معرفی کوتاه" in admin.last_text  # no warning: a different trade
    await admin.send("")
    await admin.send("صادرکنندگان زعفران استان")
    await admin.press("در حال تأسیس")
    assert "🤝 می‌خواهم عضو مؤسس باشم" in admin.buttons()
    assert len(await associations(app)) == 2


async def test_add_survives_a_restart(sim: Simulator, app: BotApplication, make_app: AppFactory) -> None:
    admin = sim.user(ADMIN_ID)
    await _open_add(sim)
    await admin.send("انجمن صنایع چوب")
    fresh = Simulator(await make_app(), sim.state)
    again = fresh.user(ADMIN_ID)
    await again.send("تولیدکنندگان مبلمان و درودگری")
    await again.press("فعال")
    saved = {a.name: a for a in await associations(fresh.app)}
    assert saved["انجمن صنایع چوب"].description == "تولیدکنندگان مبلمان و درودگری"


async def test_edit_fields_status_and_rules(sim: Simulator, app: BotApplication) -> None:
    youth = await add_association(app, "جوانان کارآفرین", status="forming")
    admin = sim.user(ADMIN_ID)
    await admin.command("/start", f"assoc_{youth}")
    await admin.press("✏️ ویرایش")
    assert "ویرایش «جوانان کارآفرین»" in admin.last_text
    await admin.press("تلفن")
    await admin.send("تلفن ندارد")
    assert "شمارهٔ تلفن نیست" in admin.last_text
    await admin.send("۰۳۴-۳۲۲۲ ۱۲۳۴")
    assert f"{LRI}۰۳۴۳۲۲۲۱۲۳۴{PDI}" in admin.last_text
    await admin.press("✏️ ویرایش")
    await admin.press("حق عضویت سالانه (ریال)")
    await admin.send("۳٬۰۰۰٬۰۰۰")
    assert "حق عضویت سالانه: ۳٬۰۰۰٬۰۰۰ ریال" in admin.last_text
    await admin.press("✏️ ویرایش")
    await admin.press("کانال")
    await admin.send("kerman")
    assert "@username" in admin.last_text
    await admin.send("@kerman_youth")
    await admin.press("✏️ ویرایش")
    await admin.press("مدرک دانشگاهی لازم باشد")
    assert "مدرک دانشگاهی دیگر لازم نباشد" in admin.buttons()
    await admin.press("✓ پروانهٔ کسب")
    assert "✗ پروانهٔ کسب" in admin.buttons()
    # Forming → active is asked once more (its founding members would be numbered).
    await admin.press("فعال شود")
    await admin.press("بله، فعال شود")
    assert "وضعیت: فعال" in admin.last_text and "فعال شود" not in admin.buttons()
    (saved,) = await associations(app)
    assert saved.phone == "03432221234" and saved.yearly_fee_rials == 3_000_000
    assert saved.channel == "@kerman_youth" and saved.degree_required and saved.status == "active"
    assert saved.evidence_kinds == ["experience", "home_permit"]
    await admin.press("بازگشت به صفحهٔ تشکل")
    assert "مدرک دانشگاهی لازم است" in admin.last_text
    sim.assert_no_errors()


async def test_admin_assigns_association_staff_who_then_edit_only_their_own(
    sim: Simulator, app: BotApplication
) -> None:
    mine = await add_association(app, "انجمن پسته", status="active")
    other = await add_association(app, "انجمن خرما", status="active")
    admin = sim.user(ADMIN_ID)
    await admin.command("/start", f"assoc_{mine}")
    await admin.press("✏️ ویرایش")
    await admin.press("👤 تعیین کارشناس")
    await admin.send("یک نفر")
    assert "با رقم" in admin.last_text
    await admin.send("۷۰۰۱")
    assert f"{LRI}۷۰۰۱{PDI} اکنون کارشناس این تشکل است" in admin.last_text
    async with app.bot_data.sessionmaker() as session:
        scope = await scope_of(session, 7001, app.bot_data.settings.admin_ids)
    assert scope.association_ids == {mine} and not scope.chamber_wide
    staffer = sim.user(7001)
    await staffer.command("/start", f"assoc_{mine}")
    await staffer.press("✏️ ویرایش")
    assert "👤 تعیین کارشناس" not in staffer.buttons()
    await staffer.press("معرفی")
    await staffer.send("انجمن صنفی تولیدکنندگان و صادرکنندگان پسته")
    assert "تولیدکنندگان و صادرکنندگان" in staffer.last_text
    # Another association's card has no staff tools for them, and forged buttons are refused.
    await staffer.command("/start", f"assoc_{other}")
    assert "✏️ ویرایش" not in staffer.buttons()
    for data in (
        f"dir:edit:{other}",
        f"dir:st:{other}:inactive",
        f"dir:ef:{other}:name",
        f"dir:fl:{other}",
        "dir:add",
    ):
        await staffer.press_data(data)
        assert "فقط تشکل خودتان" in str(staffer.answers[-1].params.get("text"))
    await staffer.press_data(f"dir:as:{mine}")
    assert REFUSED in str(staffer.answers[-1].params.get("text"))
    await send_csv(staffer, b"name\n\xd8\xa7\xd9\x86\xd8\xac\xd9\x85\xd9\x86 \xd9\x85\xd8\xb3\n")
    assert "فقط تشکل خودتان" in staffer.last_text
    saved = {a.id: a for a in await associations(app)}
    assert saved[other].status == "active" and len(saved) == 2


async def _snapshot(app: BotApplication) -> tuple[object, ...]:
    async with app.bot_data.sessionmaker() as session:
        counts = [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (DirectoryDraft, FoundingInterest, Staff)
        ]
    rows = [
        (a.id, a.name, a.status, a.phone, a.degree_required, a.accepted_evidence, a.updated_at)
        for a in await associations(app)
    ]
    return (*counts, rows)


STAFF_BUTTONS = [
    "dir:add",
    "dir:export",
    "dir:edit:{id}",
    "dir:ef:{id}:name",
    "dir:ef:{id}:phone",
    "dir:st:{id}:inactive",
    "dir:tg:{id}:degree_required",
    "dir:tg:{id}:evidence_required",
    "dir:ev:{id}:home_permit",
    "dir:fl:{id}",
    "dir:as:{id}",
    "dir:imp:all:{draft}",
    "dir:imp:no:{draft}",
]


@pytest.mark.parametrize("template", STAFF_BUTTONS)
async def test_non_staff_forged_staff_buttons_are_refused(
    sim: Simulator, app: BotApplication, template: str
) -> None:
    youth = await add_association(app, "جوانان کارآفرین", status="forming")
    # A real pending import of the admin's, so the forged decision has something to hit.
    await add_association(app, "کسب‌وکارهای خانگی", status="forming")
    await send_csv(sim.user(ADMIN_ID), "name\nانجمن کسب و کارهای خانگی\n".encode())
    async with app.bot_data.sessionmaker() as session:
        draft = int(await session.scalar(select(func.max(DirectoryDraft.id))) or 0)
    await sim.user(5999).command("/start")
    await sim.user(5999).press_data(f"dir:found:{youth}:1")
    before = await _snapshot(app)
    stranger = sim.user(6000)
    await stranger.command("/start")
    mark = stranger.mark()
    await stranger.press_data(template.format(id=youth, draft=draft))
    assert REFUSED in str(stranger.answers[-1].params.get("text"))
    assert not any("document" in m.media for m in stranger.messages_since(mark))
    # A follow-up text is not taken as an answer to a staff question.
    await stranger.send("انجمن تازه")
    assert await _snapshot(app) == before
    sim.assert_no_errors()


async def test_non_staff_commands_and_uploads_are_refused(sim: Simulator, app: BotApplication) -> None:
    before = await _snapshot(app)
    stranger = sim.user(6001)
    await stranger.command("/associations")
    assert REFUSED in stranger.last_text
    await send_csv(stranger, "name\nانجمن پسته\n".encode())
    assert REFUSED in stranger.last_text
    assert await _snapshot(app) == before


async def test_staff_form_buttons_refuse_strangers(sim: Simulator, app: BotApplication) -> None:
    """Forged buttons of the staff forms (confirm a near-duplicate, pick a status, cancel) change nothing
    for non-staff, and a follow-up text is not taken as an answer."""
    youth = await add_association(app, "جوانان کارآفرین", status="forming")
    before = await _snapshot(app)
    stranger = sim.user(6002)
    await stranger.command("/start")
    for data in (
        "diradd:set:confirm:ok",
        "diradd:set:status:active",
        "diradd:cancel",
        "diredit:skip:name",
        "dirstaff:cancel",
        f"dir:activate:{youth}",
    ):
        await stranger.press_data(data)
        assert REFUSED in str(stranger.answers[-1].params.get("text"))
    await stranger.send("انجمن تازه")
    assert await _snapshot(app) == before


def test_every_staff_handler_is_guarded() -> None:
    """Every staff button of the directory's router, every step of the staff forms, the panel and the
    CSV upload carry a guard; only the public directory's buttons are @public."""
    from telegram.ext import ConversationHandler

    from bot.handlers import directory_csv, directory_staff
    from bot.handlers import directory_view as view
    from bot.kit.guards import guard_of, is_public

    public = {"dir:page", "dir:open", "dir:news", "dir:found", "dir:search"}
    routed = dict(view.DIR.callbacks())
    assert all(is_public(cb) for data, cb in routed.items() if data in public)
    assert all(guard_of(cb) for data, cb in routed.items() if data not in public)
    forms = [directory_staff.ADDING, directory_staff.EDITING, directory_staff.ASSIGNING]
    assert all(guard_of(cb) for form in forms for _data, cb in form.routes.callbacks())
    found = []
    for handler in [*directory_staff.FEATURE.all_handlers(), *directory_csv.FEATURE.all_handlers()]:
        inner = (
            [*handler.states[next(iter(handler.states))]]
            if isinstance(handler, ConversationHandler)
            else [handler]
        )
        found += [h.callback for h in inner]
    assert found and all(guard_of(callback) for callback in found)


async def test_making_a_forming_association_active_numbers_and_tells_its_founding_members(
    sim: Simulator, app: BotApplication
) -> None:
    """Issue #13 item 1: founding-member applications are shown to staff as such; switching the
    association to active numbers its approved founding members in the same transaction and tells
    each of them (through the outbox) that it is active and what their member number is."""
    youth = await add_association(app, "جوانان کارآفرین", status="forming")
    founder, waiting, curious = sim.user(7101), sim.user(7102), sim.user(7103)
    application = await _founding_application(app, youth, 7101, "رضا احمدی")
    await _founding_application(app, youth, 7102, "مریم کرمانی")
    await curious.command("/start", f"assoc_{youth}")
    await curious.press("🤝 می‌خواهم عضو مؤسس باشم")
    admin = sim.user(ADMIN_ID)
    await admin.press_data(f"review:approve:{application}")
    await admin.command("/start", f"assoc_{youth}")
    assert "۱ نفر می‌خواهند عضو مؤسس باشند" in admin.last_text
    assert "۱ درخواست عضویت مؤسس در انتظار بررسی است" in admin.last_text
    await admin.press("فهرست متقاضیان عضویت مؤسس")
    listing = admin.last_text
    assert "۳ نفر" in listing
    assert "عضو مؤسس پذیرفته‌شده" in listing and "درخواست عضویت مؤسس در انتظار بررسی" in listing
    assert (
        "هنوز فرم درخواست عضویت را نفرستاده" in listing and "۰۹۱۲" in listing
    )  # mobiles as Iranians write them
    await admin.press("بازگشت به صفحهٔ تشکل")
    await admin.press("✏️ ویرایش")
    await admin.press("فعال شود")
    assert "شمارهٔ عضویت می‌گیرند" in admin.last_text and await _members(app) == [(7101, None)]
    await admin.press("بله، فعال شود")
    assert "۱ عضو مؤسس شمارهٔ عضویت گرفتند" in admin.last_text
    number = f"{youth}-{application:05d}"
    assert await _members(app) == [(7101, number)]
    # The news, then the membership certificate and card (tests/test_membership_terms.py).
    told = next(m.content for m in founder.messages if "آغاز کرد" in m.content)
    assert "جوانان کارآفرین فعالیت خود را آغاز کرد" in told
    assert f"{LRI}{fa(number)}{PDI}" in told
    assert "آغاز کرد" not in waiting.last_text and "آغاز کرد" not in curious.last_text
    # Once active, the page offers the ordinary application and no founding interest.
    await curious.command("/start", f"assoc_{youth}")
    assert "📝 درخواست عضویت" in curious.buttons() and "🤝 می‌خواهم عضو مؤسس باشم" not in curious.buttons()
    sim.assert_no_errors()


async def _founding_application(app: BotApplication, association_id: int, user_id: int, name: str) -> int:
    """A founding-member application as the membership form leaves it once sent."""
    async with app.bot_data.sessionmaker() as session, session.begin():
        application = Application(
            user_id=user_id,
            association_id=association_id,
            status="submitted",
            founding=True,
            tracking_code=f"2345{user_id}",
            full_name=name,
            mobile="+989121234567",
            city="کرمان",
            submitted_at=datetime.now(UTC),
        )
        session.add(application)
        await session.flush()
        return application.id


def fa(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


async def _members(app: BotApplication) -> list[tuple[int, str | None]]:
    async with app.bot_data.sessionmaker() as session:
        return [
            (m.user_id, m.member_number) for m in await session.scalars(select(Member).order_by(Member.id))
        ]


# ---------------------------------------------------------------- numbers people type (issue #13 item 6)

NUMBER_TABLE = [
    # (cleaner, typed, expected value or the reason it is refused)
    ("min_experience_years", "۵", 5),
    ("min_experience_years", "٥ سال", 5),
    ("min_experience_years", "5 ساله", 5),
    ("min_experience_years", "۱.۵", "decimal"),
    ("min_experience_years", "۲٫۵", "decimal"),
    ("min_experience_years", "۳-۴", "range"),
    ("min_experience_years", "۹۹", "too_large"),
    ("yearly_fee_rials", "۲٬۵۰۰٬۰۰۰", 2_500_000),
    ("yearly_fee_rials", "٢٥٠٠٠٠٠ ریال", 2_500_000),
    ("yearly_fee_rials", "2,500,000", 2_500_000),
    ("yearly_fee_rials", "۰", None),
    ("yearly_fee_rials", "۱۲٫۵", "decimal"),
    ("score", "۸۰", [80, ""]),
    ("score", "٨٠ گزارش مالی", [80, "گزارش مالی"]),
    ("score", "80 - جلسه‌های منظم", [80, "جلسه‌های منظم"]),
    ("score", "۸۰٫۵", "score_decimal"),
    ("score", "101", "score"),
    ("score", "-5", "score"),
    ("user_id", "۷۰۰۱", 7001),
    ("user_id", "٧٠٠١", 7001),
    ("user_id", "7001", 7001),
    ("user_id", "۷۰٫۰۱", "user_id"),
]


@pytest.mark.parametrize(("name", "typed", "expected"), NUMBER_TABLE)
def test_numbers_in_every_staff_form(name: str, typed: str, expected: object) -> None:
    from bot.services import association_fields, rating_form
    from bot.services.errors import DomainError
    from bot.services.staff import clean_user_id

    cleaners = {
        "score": rating_form.clean_entry,
        "user_id": clean_user_id,
        "min_experience_years": lambda raw: association_fields.clean_typed("min_experience_years", raw),
        "yearly_fee_rials": lambda raw: association_fields.clean_typed("yearly_fee_rials", raw),
    }
    if isinstance(expected, str):
        with pytest.raises(DomainError) as refused:
            cleaners[name](typed)
        assert refused.value.reason == expected
    else:
        assert cleaners[name](typed) == expected
