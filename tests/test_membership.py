"""The application conversation through the fake Bot API: both applicant types, every validation
error, documents, resume after a rebuild, edit from the summary, duplicates, cancel and discard."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.context import BotApplication
from bot.services import applications as service
from db.models import ApplicationDocument, ApplicationEvent
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID, AppFactory
from tests.factories import add_association, add_profile, add_staff, add_users
from tests.membership_support import (
    ASKS,
    CONTINUE_DOCS,
    HOME,
    NID,
    NO_DEGREE,
    OWNER,
    SUBMIT,
    applications_of,
    fill_form,
    only_application,
)

PERSIAN_CODE = re.compile("[۲-۹]{8}")


async def test_business_owner_whole_walk_from_the_menu(sim: Simulator, app: BotApplication) -> None:
    carpets = await add_association(app)
    other = await add_association(app, "انجمن بسته‌بندی")
    admin = sim.user(ADMIN_ID)
    staff = sim.user(5001)
    outsider = sim.user(5002)
    await add_staff(app, 5001, carpets)
    await add_staff(app, 5002, other)
    user = sim.user(6001, first_name="رضا")
    await user.command("/start")
    await user.press("درخواست عضویت")
    assert "مدرک دانشگاهی لازم نیست" in user.last_text
    await user.press("انجمن صنفی فرش کرمان")
    assert ASKS["applicant_type"] in user.last_text
    await user.press(OWNER)
    await user.send("رضا  احمدی")
    await user.send("۰۴۹۹-۳۷۰-۸۹۹")
    await user.share_contact("989121234567", own=True)
    await user.send("فرش دستباف ماهان")
    await user.send("بافت و فروش فرش")
    await user.send("كرمان")
    await user.send("۱۲ سال")
    await user.press(NO_DEGREE)
    # A business owner is not asked for a home-business permit number.
    assert ASKS["documents"] in user.last_text
    await user.press(CONTINUE_DOCS)
    summary = user.last_text
    for expected in (
        "رضا احمدی",
        "۰۴۹۹۳۷۰۸۹۹",
        "۰۹۱۲ ۱۲۳ ۴۵۶۷",
        "فرش دستباف ماهان",
        "کرمان",
        "۱۲ سال",
        NO_DEGREE,
    ):
        assert expected in summary
    await user.press(SUBMIT)
    confirmation = user.last_text
    assert "فرستاده شد" in confirmation and PERSIAN_CODE.search(confirmation)
    application = await only_application(app, 6001)
    assert application.status == "submitted" and application.submitted_at is not None
    code = application.tracking_code or ""
    assert re.fullmatch("[2-9]{8}", code) and PERSIAN_CODE.search(confirmation)
    assert (
        application.full_name,
        application.national_id,
        application.mobile,
        application.experience_years,
    ) == (
        "رضا احمدی",
        NID,
        "+989121234567",
        12,
    )
    # The association's staff and the admin are told, with the decision buttons; other staff are not.
    for reader in (admin, staff):
        assert "درخواست تازه" in reader.last_text and "۰۴۹۹۳۷۰۸۹۹" in reader.last_text
        assert reader.buttons() == ["تأیید", "رد", "درخواست اطلاعات بیشتر"]
    assert outsider.messages == []


async def test_home_business_without_degree_with_permit_number(sim: Simulator, app: BotApplication) -> None:
    home = await add_association(app, "انجمن کسب‌وکارهای خانگی", min_experience_years=3)
    user = sim.user(6002)
    await fill_form(user, home, home=True, years="0", permit="KR-12/345")
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text
    application = await only_application(app, 6002)
    assert application.applicant_type == "home_business"
    assert application.education == "no_degree" and application.permit_number == "KR12345"
    assert application.status == "submitted"


async def test_degree_free_path_with_no_rules(sim: Simulator, app: BotApplication) -> None:
    """No degree, no experience, no documents: an association without its own rules accepts it."""
    carpets = await add_association(app)
    user = sim.user(6003)
    await fill_form(user, carpets, years="0", education=NO_DEGREE)
    assert "مدرک دانشگاهی (کاردانی" not in user.last_text
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text


async def test_degree_required_by_an_association_explains_instead_of_refusing(
    sim: Simulator, app: BotApplication
) -> None:
    strict = await add_association(app, "انجمن مهندسان ناظر", degree_required=True)
    user = sim.user(6004)
    await fill_form(user, strict, education="دیپلم")
    assert "آیین‌نامهٔ خود این تشکل مدرک دانشگاهی" in user.last_text
    await user.press(SUBMIT)
    assert "هنوز قابل ارسال نیست" in user.last_text and "تشکل دیگری" in user.last_text
    assert (await only_application(app, 6004)).status == "draft"
    await user.press("ویرایش یک پاسخ")
    await user.press("تحصیلات")
    await user.press("کارشناسی")
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text


async def test_missing_experience_asks_for_a_document_and_a_photo_qualifies(
    sim: Simulator, app: BotApplication
) -> None:
    strict = await add_association(app, "انجمن کنترل کیفیت", min_experience_years=3)
    user = sim.user(6005)
    await user.command("/start", f"apply_{strict}")
    await user.press(OWNER)
    for answer in ("رضا احمدی", NID, "09121234567", "کیفیت نوین", "کنترل کیفیت مواد غذایی", "رفسنجان", "1"):
        await user.send(answer)
    await user.press(NO_DEGREE)
    # The document step says why a document is needed, and what else would do.
    assert "یک مدرک لازم است" in user.last_text
    assert "۳ سال سابقهٔ کار" in user.last_text and "پروانهٔ کسب" in user.last_text
    await user.press("ادامه")
    assert "هنوز یک مدرک لازم است" in user.last_text
    await user.send_photo(file_size=200_000)
    assert "دریافت شد" in user.last_text
    await user.press("ادامه")
    assert ASKS["summary"] in user.last_text and "مدارک: ۱" in user.last_text
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text


async def test_changing_experience_instead_of_a_document(sim: Simulator, app: BotApplication) -> None:
    strict = await add_association(app, "انجمن کنترل کیفیت", min_experience_years=3)
    user = sim.user(6006)
    await user.command("/start", f"apply_{strict}")
    await user.press(OWNER)
    for answer in ("رضا احمدی", NID, "09121234567", "کیفیت نوین", "کنترل کیفیت", "رفسنجان", "1"):
        await user.send(answer)
    await user.press(NO_DEGREE)
    await user.press("تغییر سال‌های سابقهٔ کار")
    assert "پاسخ فعلی: ۱ سال" in user.last_text
    await user.send("4")
    assert ASKS["documents"] in user.last_text and "یک مدرک لازم است" not in user.last_text
    await user.press(CONTINUE_DOCS)
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text


@pytest.mark.parametrize(
    ("step", "bad", "error"),
    [
        ("full_name", "ر", "خیلی کوتاه"),
        ("full_name", "Reza123", "فقط می‌تواند حرف"),
        ("full_name", "ا" * 101, "نام خیلی طولانی است"),
        ("national_id", "1234567890", "کد ملی معتبر نیست"),
        ("national_id", "1111111111", "کد ملی معتبر نیست"),
        ("national_id", "۱۲۳", "کد ملی معتبر نیست"),
        ("mobile", "02112345678", "شمارهٔ همراه معتبر نیست"),
        ("mobile", "+4915112345678", "شمارهٔ همراه معتبر نیست"),
        ("business_name", "ف", "نام کسب‌وکار خیلی کوتاه"),
        ("business_name", "12345", "باید حرف داشته باشد"),
        ("activity", "فر", "چند کلمه"),
        ("activity", "x" * 201, "خیلی طولانی"),
        ("city", "ب", "خیلی کوتاه"),
        ("city", "Kerman 1", "نام شهر فقط می‌تواند حرف"),
        ("business_name", "ف" * 101, "نام کسب‌وکار خیلی طولانی"),
        ("experience_years", "پنج", "به عدد بنویسید"),
        ("experience_years", "۹۹", "ممکن به نظر نمی‌رسد"),
        ("permit_number", "؟", "شمارهٔ مجوز ۳ تا ۴۰"),
    ],
)
async def test_every_validation_error_asks_again(
    sim: Simulator, app: BotApplication, step: str, bad: str, error: str
) -> None:
    association = await add_association(app)
    user = sim.user(6100)
    good = {
        "full_name": "رضا احمدی",
        "national_id": NID,
        "mobile": "0912 123 4567",
        "business_name": "فرش ماهان",
        "activity": "فروش فرش",
        "city": "کرمان",
        "experience_years": "3",
    }
    await user.command("/start", f"apply_{association}")
    await user.press(HOME)
    for field, answer in good.items():
        if field == step:
            break
        await user.send(answer)
    else:
        await user.press(NO_DEGREE)
    assert ASKS[step] in user.last_text
    await user.send(bad)
    assert error in user.last_text
    # Still the same step: nothing was stored, and a good answer moves on.
    assert getattr(await only_application(app, 6100), step) is None
    await user.send(good.get(step, "KR1234"))
    assert error not in user.last_text and ASKS[step] not in user.last_text


async def test_someone_elses_contact_and_wrong_kinds_of_input(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6101)
    await user.command("/start", f"apply_{association}")
    await user.send("صاحب کسب‌وکار")
    assert "با دکمه‌های زیر پاسخ دهید" in user.last_text
    await user.press(OWNER)
    await user.send_sticker()
    assert "پیام متنی" in user.last_text
    await user.send("رضا احمدی")
    await user.send(NID)
    await user.share_contact("+989121111111", own=False)
    assert "شمارهٔ خودتان" in user.last_text
    assert (await only_application(app, 6101)).mobile is None
    await user.share_contact("989121234567", own=True)
    assert ASKS["business_name"] in user.last_text


async def test_wrong_file_type_and_size_then_a_pdf(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app, evidence_required=True, accepted_evidence="business_licence")
    user = sim.user(6102)
    await user.command("/start", f"apply_{association}")
    await user.press(OWNER)
    for answer in ("رضا احمدی", NID, "09121234567", "فرش ماهان", "فروش فرش", "کرمان", "2"):
        await user.send(answer)
    await user.press(NO_DEGREE)
    await user.send_document(
        "licence.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "فقط عکس یا فایل PDF" in user.last_text
    await user.send_document("big.pdf", "application/pdf", file_size=25 * 1024 * 1024)
    assert "بزرگ‌تر از ۱۰ مگابایت" in user.last_text
    await user.send("این جواز من است")
    assert "فقط عکس یا فایل PDF" in user.last_text
    application = await only_application(app, 6102)
    async with app.bot_data.sessionmaker() as session:
        assert await service.documents_of(session, application.id) == []
    await user.send_document("licence.pdf", "application/pdf")
    assert "دریافت شد (۱ فایل" in user.last_text
    await user.press("ادامه")
    assert ASKS["summary"] in user.last_text
    async with app.bot_data.sessionmaker() as session:
        (document,) = await service.documents_of(session, application.id)
    assert (document.kind, document.mime, document.size) == ("document", "application/pdf", 100_000)


async def test_resume_after_application_rebuild_mid_form(make_app: AppFactory, api: FakeTelegram) -> None:
    first = await make_app()
    association = await add_association(first)
    user = Simulator(first, api).user(6200)
    await user.command("/start", f"apply_{association}")
    await user.press(HOME)
    await user.send("مریم کرمانی")
    await user.send(NID)
    # A new process on the same database: the next answer lands in the same step of the same draft.
    second = await make_app()
    user = Simulator(second, api).user(6200)
    await user.send("09121234567")
    assert ASKS["business_name"] in user.last_text
    await user.send("شیرینی خانگی مریم")
    application = await only_application(second, 6200)
    assert (application.full_name, application.mobile, application.business_name) == (
        "مریم کرمانی",
        "+989121234567",
        "شیرینی خانگی مریم",
    )


async def test_cancel_keeps_the_draft_and_coming_back_resumes(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6201)
    await user.command("/start", f"apply_{association}")
    await user.press(OWNER)
    await user.send("رضا احمدی")
    await user.command("/cancel")
    assert "ذخیره" in user.last_text
    await user.send(NID)
    assert "منظور شما روشن نشد" in user.last_text
    assert (await only_application(app, 6201)).full_name == "رضا احمدی"
    await user.press("درخواست عضویت")
    await user.press("ادامهٔ درخواست: انجمن صنفی فرش کرمان")
    assert ASKS["national_id"] in user.last_text
    await user.send(NID)
    assert ASKS["mobile"] in user.last_text


async def test_discard_deletes_the_draft(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6202)
    await fill_form(user, association)
    await user.press("حذف این درخواست")
    await user.press("خیر، بازگشت به خلاصه")
    assert ASKS["summary"] in user.last_text
    await user.press("حذف این درخواست")
    await user.press("بله، حذف شود")
    assert "درخواست حذف شد" in user.last_text
    assert await applications_of(app, 6202) == []


async def test_edit_a_field_from_the_summary(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6203)
    await fill_form(user, association)
    await user.press("ویرایش یک پاسخ")
    await user.press("شهر")
    assert "پاسخ فعلی: کرمان" in user.last_text
    await user.send("سیرجان")
    assert ASKS["summary"] in user.last_text and "سیرجان" in user.last_text
    await user.press("ویرایش یک پاسخ")
    await user.press("نوع متقاضی")
    await user.press(HOME)
    # Becoming a home business adds the permit question, then back to the summary.
    assert ASKS["permit_number"] in user.last_text
    await user.send("KR1234")
    assert ASKS["summary"] in user.last_text and "KR۱۲۳۴" in user.last_text
    application = await only_application(app, 6203)
    assert (application.city, application.applicant_type, application.permit_number) == (
        "سیرجان",
        "home_business",
        "KR1234",
    )


async def test_duplicate_application_shows_the_existing_one(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6204)
    await fill_form(user, association)
    await user.press(SUBMIT)
    code = (await only_application(app, 6204)).tracking_code or ""
    await user.command("/start", f"apply_{association}")
    assert "در انتظار بررسی است" in user.last_text
    assert code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in user.last_text
    await user.command("/start")
    await user.press("درخواست عضویت")
    await user.press("انجمن صنفی فرش کرمان")
    assert "در انتظار بررسی است" in user.last_text
    assert len(await applications_of(app, 6204)) == 1


async def test_profile_values_are_offered_as_one_tap_answers(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    await add_users(app, [6205])
    await add_profile(app, 6205, "رضا احمدی", national_id=NID, mobile="+989121234567", city="بم")
    user = sim.user(6205)
    await user.command("/start", f"apply_{association}")
    await user.press(OWNER)
    keyboard = user.last_message.params.get("reply_markup") if user.last_message else None
    assert keyboard is not None and "رضا احمدی" in str(keyboard)
    await user.send("رضا احمدی")  # what tapping the reply-keyboard button sends
    keyboard = user.last_message.params.get("reply_markup") if user.last_message else None
    assert NID in str(keyboard)


async def test_unknown_or_closed_association(sim: Simulator, app: BotApplication) -> None:
    closed = await add_association(app, "انجمن تعطیل‌شده", status="inactive")
    user = sim.user(6206)
    await user.command("/start", "apply_9999")
    assert "تشکلی با این شماره وجود ندارد" in user.last_text
    await user.press_data(f"apply:start:{closed}")
    assert "درخواست عضویت نمی‌پذیرد" in user.last_text
    assert await applications_of(app, 6206) == []


async def test_events_record_creation_and_submission(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6207)
    await fill_form(user, association)
    await user.press(SUBMIT)
    application = await only_application(app, 6207)
    async with app.bot_data.sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(ApplicationEvent.action).where(ApplicationEvent.application_id == application.id)
            )
        )
        documents = list(await session.scalars(select(ApplicationDocument)))
    assert actions == ["created", "submitted"] and documents == []


async def test_home_business_can_give_a_permit_number_instead_of_a_document(
    sim: Simulator, app: BotApplication
) -> None:
    home = await add_association(app, "انجمن کسب‌وکارهای خانگی", min_experience_years=3)
    user = sim.user(6208)
    await user.command("/start", f"apply_{home}")
    await user.press(HOME)
    for answer in ("مریم کرمانی", NID, "09121234567", "شیرینی مریم", "پخت شیرینی", "کرمان", "0"):
        await user.send(answer)
    await user.press(NO_DEGREE)
    await user.press("شمارهٔ مجوز ندارم")
    assert "یک مدرک لازم است" in user.last_text
    await user.press("ادامه")
    assert "هنوز یک مدرک لازم است" in user.last_text
    await user.press("نوشتن شمارهٔ مجوز")
    await user.send("۱۲۳۴۵۶")
    assert ASKS["documents"] in user.last_text and "یک مدرک لازم است" not in user.last_text
    await user.press(CONTINUE_DOCS)
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text
    assert (await only_application(app, 6208)).permit_number == "123456"


async def test_at_most_five_files(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    user = sim.user(6209)
    await user.command("/start", f"apply_{association}")
    await user.press(OWNER)
    for answer in ("رضا احمدی", NID, "09121234567", "فرش ماهان", "فروش فرش", "کرمان", "2"):
        await user.send(answer)
    await user.press(NO_DEGREE)
    for _ in range(5):
        await user.send_photo()
    assert "دریافت شد (۵ فایل" in user.last_text
    await user.send_document("sixth.pdf", "application/pdf")
    assert "۵ فایل فرستاده‌اید" in user.last_text
    application = await only_application(app, 6209)
    async with app.bot_data.sessionmaker() as session:
        assert len(await service.documents_of(session, application.id)) == 5
