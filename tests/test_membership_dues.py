"""Dues: renewing with an invoice (sendInvoice → pre_checkout_query → successful_payment), recorded
once even when the update comes twice; stale and paid invoices refused at pre-checkout; the receipt
photo path (staff confirm or reject); free renewal; and the rules in the service directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.context import BotApplication
from bot.services import dues
from db.models import DuesPayment
from db.models.membership import PAID, STALE
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID, TOKEN
from tests.membership_terms_support import approved, at, documents, fix_clock, member_of
from tests.test_membership_terms import _g

FEE = 5_000_000
END = _g(1405, 12, 29)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A payment provider is set (on Bale, the wallet token)."""
    return load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        database_url=database_url,
        admin_ids=frozenset({ADMIN_ID}),
        user_rate_limit=0,
        payment_provider_token="WALLET-TOKEN-1234",
    )


async def _payments(app: BotApplication) -> list[DuesPayment]:
    async with app.bot_data.sessionmaker() as session:
        return list(await session.scalars(select(DuesPayment).order_by(DuesPayment.id)))


async def test_invoice_pre_checkout_and_payment_recorded_once(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(END - timedelta(days=20)))
    association, member_user = await approved(sim, app, yearly_fee_rials=FEE)
    assert len(documents(api, member_user)) == 1

    await member_user.command("/membership")
    assert "۲۹ اسفند ۱۴۰۵" in member_user.last_text or "۱۴۰۵/۱۲/۲۹" in member_user.last_text
    await member_user.press_data(f"mem:renew:{association}")
    said = member_user.messages[-2].content
    assert "۵٬۰۰۰٬۰۰۰ ریال" in said and "۵۰۰٬۰۰۰ تومان" in said
    (invoice,) = api.invoices_to(member_user.id)
    assert invoice.invoice == {
        "title": invoice.params["title"],
        "description": invoice.params["description"],
        "start_parameter": "",
        "currency": "IRR",
        "total_amount": FEE,
    }
    assert invoice.params["provider_token"] == "WALLET-TOKEN-1234"

    answer, after = await member_user.checkout()
    assert answer is not None and answer.ok
    (payment,) = await _payments(app)
    assert payment.status == PAID and payment.receipt_number and payment.charge_id
    member = await member_of(app)
    assert member.term_end == _g(1406, 12, 29)  # the next Jalali year
    receipt = next(
        m.content
        for m in after
        if payment.receipt_number.split("-")[-1].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        in m.content
    )
    assert "۵٬۰۰۰٬۰۰۰ ریال" in receipt and "۱۴۰۶/۱۲/۲۹" in receipt
    assert len(documents(api, member_user)) == 2  # the renewed certificate

    # Telegram delivers the same successful_payment again: nothing changes, nothing is sent.
    again = await member_user.redeliver()
    assert again == []
    # The same charge in a new update (another update_id): still recorded once.
    details = invoice.invoice or {}
    await member_user.pay(
        str(invoice.params["payload"]), int(details["total_amount"]), "IRR", payment.charge_id
    )
    assert [p.status for p in await _payments(app)] == [PAID]
    assert (await member_of(app)).term_end == _g(1406, 12, 29)
    assert len(documents(api, member_user)) == 2

    # Paying the paid invoice again is refused at pre-checkout.
    refused = await member_user.pre_checkout(str(invoice.params["payload"]), FEE, "IRR")
    assert refused is not None and not refused.ok and refused.error_message


async def test_a_stale_invoice_or_a_wrong_amount_is_refused(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(END - timedelta(days=20)))
    association, member_user = await approved(sim, app, yearly_fee_rials=FEE)
    await member_user.press_data(f"mem:renew:{association}")
    await member_user.press_data(f"mem:renew:{association}")
    first, second = api.invoices_to(member_user.id)
    assert [p.status for p in await _payments(app)] == [STALE, "invoiced"]
    stale = await member_user.pre_checkout(str(first.params["payload"]), FEE, "IRR")
    assert stale is not None and not stale.ok
    wrong = await member_user.pre_checkout(str(second.params["payload"]), FEE - 1, "IRR")
    assert wrong is not None and not wrong.ok
    unknown = await member_user.pre_checkout("dues:forged", FEE, "IRR")
    assert unknown is not None and not unknown.ok
    answer, _after = await member_user.checkout(second)
    assert answer is not None and answer.ok
    assert [p.status for p in await _payments(app)] == [STALE, PAID]
    # Someone else cannot pay the member's invoice.
    other = sim.user(9901)
    foreign = await other.pre_checkout(str(second.params["payload"]), FEE, "IRR")
    assert foreign is not None and not foreign.ok


async def test_the_service_records_a_payment_once(sim: Simulator, app: BotApplication) -> None:
    now = at(END - timedelta(days=10))
    fix_clock(app, now)
    association, member_user = await approved(sim, app, yearly_fee_rials=FEE)
    async with app.bot_data.sessionmaker() as session, session.begin():
        payment = await dues.open_invoice(session, member_user.id, association, now)
        payload = payment.payload
        assert await dues.pre_checkout(session, payload, FEE, "IRR", member_user.id, now) is None
    for _ in range(3):
        async with app.bot_data.sessionmaker() as session, session.begin():
            recorded = await dues.record_payment(session, payload, "charge-1", FEE, "IRR", now)
    assert not recorded.new
    async with app.bot_data.sessionmaker() as session:
        assert await dues.pre_checkout(session, payload, FEE, "IRR", member_user.id, now) == "paid"
    assert (await member_of(app)).term_end == _g(1406, 12, 29)
