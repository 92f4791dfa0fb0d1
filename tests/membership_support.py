"""Shared steps for the membership tests: walking the application form, reading applications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.context import BotApplication
from db.models import Application
from fakeapi.simulator import SimUser

NID = "0499370899"
NID_2 = "0012345679"
OWNER = "صاحب کسب‌وکار (مغازه یا شرکت)"
HOME = "کسب‌وکار خانگی"
NO_DEGREE = "بدون مدرک دانشگاهی"
CONTINUE_DOCS = "ادامه (با مدرک یا بدون آن)"
SUBMIT = "ارسال درخواست"

# The question each step asks (a fragment of its Persian text).
ASKS = {
    "applicant_type": "صاحب کسب‌وکار درخواست می‌دهید",
    "full_name": "نام و نام خانوادگی",
    "national_id": "کد ملی",
    "mobile": "شمارهٔ همراه",
    "business_name": "نام کسب‌وکار شما چیست",
    "activity": "در چه زمینه‌ای فعالیت",
    "city": "کدام شهر",
    "experience_years": "چند سال سابقهٔ کار",
    "education": "میزان تحصیلات",
    "permit_number": "شمارهٔ آن را بنویسید",
    "documents": "عکس یا فایل PDF",
    "summary": "درخواست شما؛ لطفاً بررسی کنید",
}


async def applications_of(app: BotApplication, user_id: int) -> list[Application]:
    async with app.bot_data.sessionmaker() as session:
        rows = await session.scalars(
            select(Application).where(Application.user_id == user_id).order_by(Application.id)
        )
        return list(rows)


async def only_application(app: BotApplication, user_id: int) -> Application:
    (application,) = await applications_of(app, user_id)
    return application


async def fill_form(
    user: SimUser,
    association_id: int,
    *,
    home: bool = False,
    name: str = "رضا احمدی",
    nid: str = NID,
    years: str = "۵",
    education: str = NO_DEGREE,
    permit: str | None = None,
) -> None:
    """From the deep link to the summary, answering every step (documents skipped)."""
    await user.command("/start", f"apply_{association_id}")
    assert ASKS["applicant_type"] in user.last_text, user.last_text
    await user.press(HOME if home else OWNER)
    await user.send(name)
    await user.send(nid)
    await user.share_contact("989121234567", own=True)
    await user.send("فرش دستباف ماهان")
    await user.send("بافت و فروش فرش دستباف")
    await user.send("کرمان")
    await user.send(years)
    assert ASKS["education"] in user.last_text, user.last_text
    await user.press(education)
    if home:
        assert ASKS["permit_number"] in user.last_text, user.last_text
        if permit is None:
            await user.press("شمارهٔ مجوز ندارم")
        else:
            await user.send(permit)
    assert ASKS["documents"] in user.last_text, user.last_text
    await user.press(CONTINUE_DOCS)
    assert ASKS["summary"] in user.last_text, user.last_text


async def submitted(user: SimUser, association_id: int, **answers: Any) -> None:
    """Fill the form and submit it."""
    await fill_form(user, association_id, **answers)
    await user.press(SUBMIT)
    assert "فرستاده شد" in user.last_text, user.last_text
