"""Payments: sendInvoice checked with Telegram's rules, the invoice message it leaves in the chat,
the pre-checkout queries users send, and the bot's answerPreCheckoutQuery.

The rules, from the Bot API reference of sendInvoice and answerPreCheckoutQuery: title 1-32
characters, description 1-255, payload 1-128 bytes; `prices` a non-empty list of LabeledPrice with
integer amounts in the currency's smallest units; for Telegram Stars (XTR) an empty provider_token,
exactly one price and no tips; tips at most 4 suggested amounts, positive, strictly increasing and
not above max_tip_amount; a reply_markup's first button must be a Pay button; a pre-checkout query
is answered within 10 seconds, and `error_message` is required when `ok` is false.
"""

from __future__ import annotations

import itertools
from typing import Any

from fakeapi.errors import bad_request
from fakeapi.messages import Messages
from fakeapi.records import PreCheckoutAnswer, StoredMessage
from fakeapi.wire import JSON, MethodHandler, UploadedFiles

STARS = "XTR"
PRE_CHECKOUT_TIMEOUT = 10.0
MAX_SUGGESTED_TIPS = 4

# Allowed total_amount per currency, (min, max) in the currency's smallest units. Telegram's
# currencies.json (core.telegram.org/bots/payments#supported-currencies) bounds every currency to
# about US$1 .. US$10,000 at the day's rate; the fake keeps round figures for the currencies this
# project may use. A test can add one: `api.currency_limits["GBP"] = (100, 1_000_000)`.
CURRENCY_LIMITS: dict[str, tuple[int, int]] = {
    "USD": (100, 1_000_000),
    "EUR": (100, 1_000_000),
    # Telegram Stars, whole Stars. The reference gives no bound for an invoice; 10,000 is the one it
    # gives for paid media and subscriptions.
    STARS: (1, 10_000),
    # Iranian rial: not one of Telegram's currencies, but what Bale's wallet invoices are priced in.
    # No bounds found in Bale's documentation: any positive amount below 10^13 rials.
    "IRR": (1, 10**13),
}


class Payments(Messages):
    """Invoices sent, pre-checkout queries seen (by id) and the bot's answers to them."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.currency_limits: dict[str, tuple[int, int]] = dict(CURRENCY_LIMITS)
        self.pre_checkout_queries: dict[str, JSON] = {}
        self.pre_checkout_answers: dict[str, PreCheckoutAnswer] = {}
        self._asked_at: dict[str, float] = {}

    def _method_table(self) -> dict[str, MethodHandler]:
        return super()._method_table() | {
            "sendInvoice": self._send_invoice,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
        }

    def observe_update(self, update: JSON) -> None:
        super().observe_update(update)
        query = update.get("pre_checkout_query")
        if isinstance(query, dict):
            query_id = str(query["id"])
            self.pre_checkout_queries[query_id] = query
            self._asked_at.setdefault(query_id, self.clock())
            self._observe_user(query["from"])

    def invoices_to(self, chat_id: int) -> list[StoredMessage]:
        """Invoice messages the bot sent to this chat, oldest first."""
        return [message for message in self.sent_to(chat_id) if message.kind == "invoice"]

    def unanswered_pre_checkout_queries(self) -> list[str]:
        """Ids of pre-checkout queries the bot never answered (Telegram cancels the payment)."""
        return [qid for qid in self.pre_checkout_queries if qid not in self.pre_checkout_answers]

    # ------------------------------------------------------------------ sendInvoice

    def _send_invoice(self, params: JSON, files: UploadedFiles) -> JSON:
        currency = str(params.get("currency", ""))
        total = _check_prices(params.get("prices"))
        _check_text(params)
        self._check_amount(currency, total)
        _check_provider(currency, str(params.get("provider_token") or ""), params)
        _check_tips(currency, params.get("max_tip_amount"), params.get("suggested_tip_amounts"))
        _check_pay_button(params.get("reply_markup"))
        invoice = {
            "title": str(params["title"]),
            "description": str(params["description"]),
            "start_parameter": str(params.get("start_parameter") or ""),
            "currency": currency,
            "total_amount": total,
        }
        return self._store(params.get("chat_id"), "invoice", params, media={"invoice": invoice}).to_api()

    def _check_amount(self, currency: str, total: int) -> None:
        if currency not in self.currency_limits:
            raise bad_request(f"currency '{currency}' is not supported")
        low, high = self.currency_limits[currency]
        if not low <= total <= high:
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")

    # ------------------------------------------------------------------ answerPreCheckoutQuery

    def _answer_pre_checkout_query(self, params: JSON, files: UploadedFiles) -> bool:
        query_id = str(params.get("pre_checkout_query_id", ""))
        asked_at = self._asked_at.get(query_id)
        now = self.clock()
        answered = query_id in self.pre_checkout_answers
        if asked_at is None or answered or now - asked_at > PRE_CHECKOUT_TIMEOUT:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        ok = params.get("ok")
        if not isinstance(ok, bool):
            raise bad_request('parameter "ok" must be a Boolean')
        error_message = params.get("error_message")
        if not ok and not str(error_message or "").strip():
            raise bad_request("error_message must be non-empty when ok is false")
        self.pre_checkout_answers[query_id] = PreCheckoutAnswer(
            query_id=query_id,
            ok=ok,
            error_message=None if ok else str(error_message),
            answered_at=now,
        )
        return True


def _check_text(params: JSON) -> None:
    if not 1 <= len(str(params.get("title") or "")) <= 32:
        raise bad_request("invoice title must be 1-32 characters long")
    if not 1 <= len(str(params.get("description") or "")) <= 255:
        raise bad_request("invoice description must be 1-255 characters long")
    if not 1 <= len(str(params.get("payload") or "").encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")


def _check_prices(prices: Any) -> int:
    """The total of a list of LabeledPrice; amounts are integers (a discount may be negative)."""
    if not isinstance(prices, list) or not prices:
        raise bad_request("prices must be a non-empty array of LabeledPrice")
    total = 0
    for price in prices:
        if not isinstance(price, dict) or not str(price.get("label") or "").strip():
            raise bad_request("can't parse LabeledPrice: label is empty")
        amount = price.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise bad_request("can't parse LabeledPrice: amount must be an Integer")
        total += amount
    return total


def _check_provider(currency: str, provider_token: str, params: JSON) -> None:
    if currency != STARS:
        if not provider_token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        return
    # Stars: the reference says to pass an empty provider_token and exactly one price.
    if provider_token or len(params["prices"]) != 1:
        raise bad_request("STARS_INVOICE_INVALID")


def _check_tips(currency: str, max_tip: Any, suggested: Any) -> None:
    if max_tip is None and not suggested:
        return
    if currency == STARS:
        raise bad_request("STARS_INVOICE_INVALID")
    limit = max_tip if isinstance(max_tip, int) and not isinstance(max_tip, bool) else -1
    if limit < 0:
        raise bad_request("max_tip_amount must be a non-negative Integer")
    tips = suggested if suggested is not None else []
    if not isinstance(tips, list) or len(tips) > MAX_SUGGESTED_TIPS:
        raise bad_request("at most 4 suggested_tip_amounts can be specified")
    valid = all(isinstance(tip, int) and not isinstance(tip, bool) and 0 < tip <= limit for tip in tips)
    increasing = all(a < b for a, b in itertools.pairwise(tips))
    if not valid or not increasing:
        raise bad_request("suggested_tip_amounts must be positive, increasing and at most max_tip_amount")


def _check_pay_button(markup: Any) -> None:
    """An invoice's keyboard is inline and starts with a Pay button (none: Telegram adds one)."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not rows or not rows[0] or not rows[0][0].get("pay"):
        raise bad_request("REPLY_MARKUP_BUY_EMPTY")
