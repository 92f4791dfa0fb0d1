"""Payments in the fake Bot API: sendInvoice's rules, the invoice message, pre-checkout queries and
their answers, successful payments and their redelivery, driven by a tiny real PTB Application."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from fakeapi import FakeBotAPIServer, FakeRequest, FakeTelegram, HttpSimUser, Simulator
from fakeapi.payments import PRE_CHECKOUT_TIMEOUT

TOKEN = "123:ABC"
AnyApp = Application[Any, Any, Any, Any, Any, Any]
REFUSAL = "ظرفیت این دوره پر شده است."


async def buy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An invoice for 50 Stars for the course in the command's argument."""
    assert update.effective_chat is not None
    await context.bot.send_invoice(
        update.effective_chat.id,
        title="دورهٔ بازاریابی",
        description="ثبت‌نام در دورهٔ بازاریابی دیجیتال",
        payload=f"course:{' '.join(context.args or ['7'])}",
        provider_token="",
        currency="XTR",
        prices=[LabeledPrice("شهریه", 50)],
    )


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Course 7 has seats; every other course is full."""
    query = update.pre_checkout_query
    assert query is not None
    if query.invoice_payload == "course:7":
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=REFUSAL)


async def paid(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.successful_payment is not None
    payment = message.successful_payment
    await message.reply_text(f"پرداخت شد: {payment.total_amount} {payment.telegram_payment_charge_id}")


def add_handlers(app: AnyApp) -> AnyApp:
    app.add_handler(CommandHandler("buy", buy))
    app.add_handler(PreCheckoutQueryHandler(confirm))
    app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, paid))
    return app


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def shop(fake: FakeTelegram) -> AsyncIterator[AnyApp]:
    builder = ApplicationBuilder().token(TOKEN).request(FakeRequest(fake))
    app = add_handlers(builder.get_updates_request(FakeRequest(fake)).build())
    await app.initialize()
    yield app
    await app.shutdown()


@pytest.fixture
def sim(shop: AnyApp, fake: FakeTelegram) -> Simulator:
    return Simulator(shop, fake)


def invoice(**changes: Any) -> dict[str, Any]:
    """sendInvoice parameters as on the wire, valid unless changed."""
    params: dict[str, Any] = {
        "chat_id": 1001,
        "title": "حق عضویت ۱۴۰۴",
        "description": "حق عضویت سالانه در اتحادیه",
        "payload": "membership:12:1404",
        "provider_token": "284685063:TEST:abc",
        "currency": "USD",
        "prices": [{"label": "حق عضویت", "amount": 1500}, {"label": "تخفیف", "amount": -500}],
    }
    params.update(changes)
    return params


# ---------------------------------------------------------------------- sendInvoice


async def test_invoice_is_stored_and_parsed_by_ptb(shop: AnyApp, fake: FakeTelegram) -> None:
    sent = await shop.bot.send_invoice(
        1001,
        "حق عضویت ۱۴۰۴",
        "حق عضویت سالانه در اتحادیه",
        "membership:12:1404",
        "USD",
        [LabeledPrice("حق عضویت", 1500), LabeledPrice("تخفیف", -500)],
        provider_token="284685063:TEST:abc",
        max_tip_amount=500,
        suggested_tip_amounts=[100, 200],
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("پرداخت ۱۰ دلار", pay=True)]]),
    )
    assert sent.invoice is not None
    assert (sent.invoice.currency, sent.invoice.total_amount) == ("USD", 1000)
    [stored] = fake.invoices_to(1001)
    assert stored.kind == "invoice" and stored.params["payload"] == "membership:12:1404"
    assert stored.invoice == sent.invoice.to_dict()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": "ع" * 33}, "title"),
        ({"title": ""}, "title"),
        ({"description": "ت" * 256}, "description"),
        ({"payload": "پ" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes in UTF-8
        ({"currency": "ABC"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"prices": []}, "prices"),
        ({"prices": [{"label": "شهریه", "amount": 10.5}]}, "Integer"),
        ({"prices": [{"label": "", "amount": 1000}]}, "label"),
        ({"prices": [{"label": "شهریه", "amount": 99}]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"prices": [{"label": "شهریه", "amount": 1_000_001}]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"provider_token": ""}, "PAYMENT_PROVIDER_INVALID"),
        ({"currency": "XTR", "prices": [{"label": "شهریه", "amount": 50}]}, "STARS_INVOICE_INVALID"),
        ({"currency": "XTR", "provider_token": ""}, "STARS_INVOICE_INVALID"),  # two prices
        (
            {
                "currency": "XTR",
                "provider_token": "",
                "prices": [{"label": "a", "amount": 5}],
                "max_tip_amount": 5,
            },
            "STARS_INVOICE_INVALID",
        ),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [10, 20, 30, 40, 50]}, "at most 4"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [50, 20]}, "increasing"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [50, 200]}, "max_tip_amount"),
        ({"reply_markup": {"inline_keyboard": [[{"text": "لغو", "callback_data": "x"}]]}}, "BUY_EMPTY"),
    ],
)
async def test_invoice_rules(fake: FakeTelegram, changes: dict[str, Any], error: str) -> None:
    status, body = await fake.handle("sendInvoice", invoice(**changes))
    assert status == 400
    assert error.lower() in body["description"].lower()
    assert fake.invoices_to(1001) == []


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"currency": "EUR", "title": "ع" * 32, "description": "ت" * 255, "payload": "p" * 128},
        {"currency": "XTR", "provider_token": "", "prices": [{"label": "شهریه", "amount": 10_000}]},
        {"currency": "IRR", "prices": [{"label": "شهریه", "amount": 25_000_000}]},
    ],
)
async def test_valid_invoices(fake: FakeTelegram, changes: dict[str, Any]) -> None:
    status, body = await fake.handle("sendInvoice", invoice(**changes))
    assert status == 200, body
    assert body["result"]["invoice"]["currency"] == invoice(**changes)["currency"]


async def test_more_currencies_can_be_allowed(fake: FakeTelegram) -> None:
    assert (await fake.handle("sendInvoice", invoice(currency="GBP")))[0] == 400
    fake.currency_limits["GBP"] = (100, 1_000_000)
    assert (await fake.handle("sendInvoice", invoice(currency="GBP")))[0] == 200


# ---------------------------------------------------------------------- pre-checkout and payment


async def test_checkout_pays_and_a_redelivered_payment_keeps_its_update_id(sim: Simulator) -> None:
    ali = sim.user(1001)
    await ali.command("buy", "7")
    assert ali.latest_invoice().invoice == {
        "title": "دورهٔ بازاریابی",
        "description": "ثبت‌نام در دورهٔ بازاریابی دیجیتال",
        "start_parameter": "",
        "currency": "XTR",
        "total_amount": 50,
    }

    answer, replies = await ali.checkout()

    assert answer is not None and answer.ok and answer.error_message is None
    [reply] = replies
    assert reply.text is not None and reply.text.startswith("پرداخت شد: 50 fake_tg_charge_")
    payment_update = ali.last_update
    assert payment_update is not None and "successful_payment" in payment_update["message"]
    again = await ali.redeliver()  # this tiny bot does not deduplicate; the project's bot must
    assert ali.last_update is payment_update  # the same update, update_id included
    assert [m.text for m in again] == [reply.text]
    assert sim.state.unanswered_pre_checkout_queries() == []


async def test_refused_pre_checkout_needs_a_message_and_stops_the_payment(sim: Simulator) -> None:
    ali = sim.user(1001)
    await ali.command("buy", "9")
    answer, replies = await ali.checkout()
    assert answer is not None and not answer.ok and answer.error_message == REFUSAL
    assert replies == []
    accepted = await ali.pre_checkout("course:7", 50, "XTR")
    assert accepted is not None and accepted.ok
    assert [a.ok for a in sim.state.pre_checkout_answers.values()] == [False, True]


async def test_pay_with_chosen_charge_ids(sim: Simulator) -> None:
    ali = sim.user(1001)
    replies = await ali.successful_payment("course:7", 50, "XTR", telegram_payment_charge_id="stxABC")
    assert [m.text for m in replies] == ["پرداخت شد: 50 stxABC"]


async def test_answer_pre_checkout_query_rules() -> None:
    now = [1_700_000_000.0]
    fake = FakeTelegram(clock=lambda: now[0])
    buyer = HttpSimUser(fake, 1001)
    for _ in range(4):
        fake.observe_update(buyer.pre_checkout_update("course:7", 50, "XTR"))
    first, second, third, late = list(fake.pre_checkout_queries)

    async def answer(query_id: str, **fields: Any) -> int:
        status, _ = await fake.handle("answerPreCheckoutQuery", {"pre_checkout_query_id": query_id, **fields})
        return status

    assert await answer(first, ok="true") == 200  # form-encoded, as PTB sends it
    assert await answer(first, ok=True) == 400  # answered once only
    assert await answer(second, ok=False) == 400  # a refusal needs error_message
    assert await answer(third, ok="false", error_message=REFUSAL) == 200
    now[0] += PRE_CHECKOUT_TIMEOUT + 1
    assert await answer(late, ok=True) == 400  # Telegram waits 10 seconds for the answer
    assert await answer("42", ok=True) == 400
    answers = [(a.ok, a.error_message) for a in fake.pre_checkout_answers.values()]
    assert answers == [(True, None), (False, REFUSAL)]
    assert fake.unanswered_pre_checkout_queries() == [second, late]


async def test_payments_over_http(fake: FakeTelegram) -> None:
    async with FakeBotAPIServer(fake) as server:
        builder = ApplicationBuilder().token(TOKEN).base_url(server.base_url)
        app = add_handlers(builder.base_file_url(server.base_file_url).build())
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        await app.start()
        try:
            maryam = HttpSimUser(fake, 3003, first_name="مریم")
            answer = await maryam.pre_checkout("course:8", 50, "XTR")
            assert (answer.ok, answer.error_message) == (False, REFUSAL)
            update_id = maryam.pay("course:7", 50, "XTR", telegram_payment_charge_id="stx1")
            assert (await maryam.wait_for_reply()).text == "پرداخت شد: 50 stx1"
            assert maryam.redeliver() == update_id
            await fake.wait_until(lambda: len(maryam.messages) == 2)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
