"""The profile conversation: validation, contact sharing, /cancel at every step, resume after rebuild."""

from __future__ import annotations

import pytest

from bot.context import BotApplication
from bot.services import profile as profile_service
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import AppFactory

VALID_NID = "0499370899"


async def _profile(app: BotApplication, user_id: int) -> object:
    async with app.bot_data.sessionmaker() as session:
        return await profile_service.get_profile(session, user_id)


async def test_whole_walk_with_persian_digits_and_contact(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(2001, first_name="رضا")
    await user.command("/profile")
    assert "نام و نام خانوادگی" in user.last_text
    await user.send("رضا  احمدی")
    assert "کد ملی" in user.last_text
    await user.send("۰۴۹۹-۳۷۰-۸۹۹")
    assert "شمارهٔ همراه" in user.last_text
    await user.share_contact("989121234567", own=True)
    assert "کدام شهر" in user.last_text
    await user.send("كرمان")
    assert "مشخصات شما" in user.last_text
    profile = await _profile(app, 2001)
    assert profile is not None
    assert (profile.full_name, profile.national_id, profile.mobile, profile.city) == (  # type: ignore[attr-defined]
        "رضا احمدی",
        VALID_NID,
        "+989121234567",
        "کرمان",
    )


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        (["ر"], "خیلی کوتاه"),
        (["Reza123"], "فقط می‌تواند حرف"),
        (["رضا احمدی", "1234567890"], "کد ملی معتبر نیست"),
        (["رضا احمدی", "1111111111"], "کد ملی معتبر نیست"),
        (["رضا احمدی", VALID_NID, "02112345678"], "شمارهٔ همراه معتبر نیست"),
    ],
)
async def test_validation_errors_ask_again(sim: Simulator, answers: list[str], error: str) -> None:
    user = sim.user(2002)
    await user.command("/profile")
    for text in answers:
        await user.send(text)
    assert error in user.last_text
    # Still at the same step: a valid answer is accepted next.
    await user.send({0: "رضا احمدی", 1: VALID_NID, 2: "09121234567"}[len(answers) - 1])
    assert "معتبر نیست" not in user.last_text and "خیلی کوتاه" not in user.last_text


async def test_someone_elses_contact_is_refused(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(2003)
    await user.command("/profile")
    await user.send("رضا احمدی")
    await user.send(VALID_NID)
    await user.share_contact("+989121111111", own=False)
    assert "شمارهٔ خودتان" in user.last_text
    profile = await _profile(app, 2003)
    assert profile is not None and profile.mobile is None  # type: ignore[attr-defined]


async def test_a_photo_where_text_is_expected(sim: Simulator) -> None:
    user = sim.user(2004)
    await user.command("/profile")
    await user.send_photo()
    assert "پیام متنی" in user.last_text


@pytest.mark.parametrize("step", [0, 1, 2, 3])
async def test_cancel_at_every_step_keeps_answers(sim: Simulator, app: BotApplication, step: int) -> None:
    user = sim.user(2010 + step)
    await user.command("/profile")
    answers = ["رضا احمدی", VALID_NID, "09121234567", "کرمان"][:step]
    for text in answers:
        await user.send(text)
    await user.command("/cancel")
    assert "لغو شد" in user.last_text and "منوی اصلی" in user.last_text
    # After /cancel, text is no longer taken as an answer.
    await user.send("بم")
    assert "منظور شما روشن نشد" in user.last_text
    profile = await _profile(app, user.id)
    saved = [getattr(profile, f) for f in profile_service.FIELDS][:step] if profile else []
    assert len([v for v in saved if v]) == step
    # Coming back resumes at the first missing answer.
    await user.command("/profile")
    expected = ["نام و نام خانوادگی", "کد ملی", "شمارهٔ همراه", "کدام شهر"][step]
    assert expected in user.last_text


@pytest.mark.parametrize("exit_command", ["/start"])
async def test_start_mid_conversation_leaves_it(sim: Simulator, exit_command: str) -> None:
    user = sim.user(2020)
    await user.command("/profile")
    await user.command(exit_command)
    assert "سلام" in user.last_text
    await user.send("رضا احمدی")
    assert "منظور شما روشن نشد" in user.last_text


async def test_menu_button_mid_conversation(sim: Simulator) -> None:
    user = sim.user(2021)
    await user.command("/start")
    await user.press("مشخصات من")
    assert "نام و نام خانوادگی" in user.last_text
    mark = user.mark()
    await user.press("راهنما")
    assert any("مدرک دانشگاهی لازم نیست" in t for t in user.texts_since(mark))
    await user.send("رضا احمدی")
    assert "منظور شما روشن نشد" in user.last_text


async def test_edit_from_the_summary(sim: Simulator, app: BotApplication) -> None:
    user = sim.user(2030)
    await user.command("/profile")
    for text in ["رضا احمدی", VALID_NID, "09121234567", "کرمان"]:
        await user.send(text)
    await user.press("ویرایش شهر")
    await user.send("رفسنجان")
    assert "مشخصات شما" in user.last_text and "رفسنجان" in user.last_text
    profile = await _profile(app, 2030)
    assert profile is not None and profile.city == "رفسنجان"  # type: ignore[attr-defined]


async def test_resume_after_application_rebuild(make_app: AppFactory, api: FakeTelegram) -> None:
    first = await make_app()
    user = Simulator(first, api).user(2040)
    await user.command("/profile")
    await user.send("رضا احمدی")
    await user.send(VALID_NID)
    # A new process on the same database: same step, same answers.
    second = await make_app()
    user = Simulator(second, api).user(2040)
    await user.send("09121234567")
    assert "کدام شهر" in user.last_text
    await user.send("کرمان")
    assert "مشخصات شما" in user.last_text and "رضا احمدی" in user.last_text


async def test_opening_another_form_leaves_this_one(sim: Simulator, app: BotApplication) -> None:
    """Mid-profile, the user opens the directory search: their next text is a search, not a name."""
    user = sim.user(2050)
    await user.command("/profile")
    assert "نام و نام خانوادگی" in user.last_text
    await user.command("/search")
    await user.send("فرش")
    assert "نام فقط می‌تواند" not in user.last_text and "مشخصات شما" not in user.last_text
    profile = await _profile(app, 2050)
    assert profile is None or profile.full_name is None  # type: ignore[attr-defined]
    # The profile conversation resumes from the first missing answer when opened again.
    await user.command("/profile")
    await user.send("فرزانه کریمی")
    assert "کد ملی" in user.last_text
