"""Where no payment provider is set, the member sends a photo of the bank receipt (a form) and the
association's staff confirm it (renewed, receipt, new certificate) or reject it; free renewal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.context import BotApplication
from db.models import DuesPayment
from db.models.membership import PAID, REJECTED, REVIEW
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.factories import add_association, add_staff
from tests.membership_terms_support import STAFF, approved, at, documents, fix_clock, member_of
from tests.test_membership_terms import _g

FEE = 3_000_000
END = _g(1405, 12, 29)


async def _payments(app: BotApplication) -> list[DuesPayment]:
    async with app.bot_data.sessionmaker() as session:
        return list(await session.scalars(select(DuesPayment).order_by(DuesPayment.id)))


async def test_receipt_photo_confirmed_by_staff(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(END - timedelta(days=5)))
    association, member_user = await approved(sim, app, yearly_fee_rials=FEE)
    staff = sim.user(STAFF)
    await member_user.press_data(f"mem:renew:{association}")
    assert api.invoices_to(member_user.id) == []
    assert "۳٬۰۰۰٬۰۰۰ ریال" in member_user.last_text and "۳۰۰٬۰۰۰ تومان" in member_user.last_text
    await member_user.send_photo()
    (payment,) = await _payments(app)
    assert payment.status == REVIEW and payment.photo_file_id
    shown = staff.messages[-1]
    assert shown.kind == "photo" and "۳٬۰۰۰٬۰۰۰ ریال" in shown.content

    # Staff of another association cannot decide it.
    other_association = await add_association(app, name="انجمن صنفی پسته رفسنجان")
    await add_staff(app, 7002, other_association)
    await sim.user(7002).press_data(f"mem:ok:{payment.id}")
    assert (await _payments(app))[0].status == REVIEW

    await staff.press_data(f"mem:ok:{payment.id}")
    (payment,) = await _payments(app)
    assert payment.status == PAID and payment.receipt_number and payment.decided_by == STAFF
    assert (await member_of(app)).term_end == _g(1406, 12, 29)
    assert any("۱۴۰۶/۱۲/۲۹" in m.content for m in member_user.messages[-3:])
    assert len(documents(api, member_user)) == 2
    # A second press changes nothing.
    await staff.press_data(f"mem:ok:{payment.id}")
    assert (await member_of(app)).term_end == _g(1406, 12, 29)


async def test_receipt_rejected_the_member_may_send_another(sim: Simulator, app: BotApplication) -> None:
    fix_clock(app, at(END - timedelta(days=5)))
    association, member_user = await approved(sim, app, yearly_fee_rials=FEE)
    await member_user.press_data(f"mem:renew:{association}")
    await member_user.send_photo()
    (payment,) = await _payments(app)
    await sim.user(STAFF).press_data(f"mem:no:{payment.id}")
    assert (await _payments(app))[0].status == REJECTED
    assert (await member_of(app)).term_end == END
    await member_user.press_data(f"mem:renew:{association}")
    await member_user.send_photo()
    assert [p.status for p in await _payments(app)] == [REJECTED, REVIEW]


async def test_free_renewal_is_one_tap_and_a_lapsed_member_renews_without_applying(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(END - timedelta(days=5)))
    association, member_user = await approved(sim, app)
    fix_clock(app, at(END + timedelta(days=40)))  # lapsed
    await member_user.command("/membership")
    await member_user.press_data(f"mem:renew:{association}")
    member = await member_of(app)
    assert member.term_start == END + timedelta(days=40) and member.term_end == _g(1406, 12, 29)
    assert len(documents(api, member_user)) == 2
