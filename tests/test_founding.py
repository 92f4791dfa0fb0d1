"""Founding members: an association being formed takes applications through the same form and the
same eased rules; approval records a founding member, numbered once the association is active."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import BotApplication
from bot.services import decisions
from db.models import Association, Member
from fakeapi.simulator import Simulator
from tests.factories import add_association, add_staff
from tests.membership_support import only_application, submitted

STAFF = 8801


async def test_a_forming_association_takes_founding_member_applications(
    sim: Simulator, app: BotApplication
) -> None:
    forming = await add_association(app, "برند و بسته‌بندی", status="forming")
    await add_staff(app, STAFF, forming)
    staff = sim.user(STAFF)
    applicant = sim.user(8800)
    await applicant.command("/apply")
    assert any("برند و بسته‌بندی" in label and "مؤسس" in label for label in applicant.buttons())
    await submitted(applicant, forming, home=True)
    assert "عضویت مؤسس" in applicant.last_text
    application = await only_application(app, 8800)
    assert application.founding and application.status == "submitted"
    # Staff see it as a founding-member application, and decide as usual.
    assert "درخواست عضویت مؤسس" in staff.last_text
    await staff.press("تأیید")
    assert "عضویت مؤسس" in applicant.last_text and "شمارهٔ عضویت" in applicant.last_text
    async with app.bot_data.reader() as session:
        member = await session.scalar(select(Member).where(Member.user_id == 8800))
    assert member is not None and member.founding and member.member_number is None
    # «My requests» and /status say so too.
    await applicant.command("/requests")
    assert (
        "به‌عنوان عضو مؤسس تأیید شد" in applicant.last_text
        and "شمارهٔ عضویت شما هنگام آغاز" in applicant.last_text
    )
    # Once the association is active, its founding members are numbered like any member.
    async with app.bot_data.sessionmaker() as session, session.begin():
        numbered = await decisions.number_founders(session, forming)
    assert [m.user_id for m in numbered] == [8800]
    async with app.bot_data.reader() as session:
        member = await session.scalar(select(Member).where(Member.user_id == 8800))
    assert member is not None and member.member_number == f"{forming}-{application.id:05d}"


async def test_an_inactive_association_takes_no_application(sim: Simulator, app: BotApplication) -> None:
    closed = await add_association(app, "انجمن تعطیل", status="inactive")
    user = sim.user(8810)
    await user.command("/apply")
    assert not any("انجمن تعطیل" in label for label in user.buttons())
    await user.command("/start", f"apply_{closed}")
    assert "درخواست عضویت نمی‌پذیرد" in user.last_text


async def test_a_founder_approved_after_the_association_became_active_is_numbered_at_once(
    sim: Simulator, app: BotApplication
) -> None:
    forming = await add_association(app, "جوانان کارآفرین", status="forming")
    await add_staff(app, STAFF, forming)
    applicant = sim.user(8820)
    await submitted(applicant, forming)
    async with app.bot_data.sessionmaker() as session, session.begin():
        association = await session.get(Association, forming)
        assert association is not None
        association.status = "active"
    await sim.user(STAFF).press("تأیید")
    async with app.bot_data.reader() as session:
        member = await session.scalar(select(Member).where(Member.user_id == 8820))
    assert member is not None and member.founding and member.member_number is not None
