"""Dues: the association's yearly fee paid in the chat (an invoice, its pre-checkout, the payment,
recorded once) or by a bank receipt photo staff confirm or reject; each payment renews the term and
gets a receipt number.

A successful payment is recorded by a conditional UPDATE (`status <> 'paid'`) and a unique charge id,
so Telegram delivering the same update twice (or two processes racing) renews the membership once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jdatetime
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import terms
from bot.services.actor import Actor
from bot.services.drafts import DraftStore, FileRef
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.staff import StaffScope
from db.models import Association, DuesPayment, Member, utcnow
from db.models.membership import INVOICE, INVOICED, PAID, RECEIPT, REJECTED, REVIEW, STALE

CURRENCY = "IRR"  # Bale's wallet prices in rials; the amount is in rials (no smaller unit)
DRAFT = "draft"
PAYLOAD_PREFIX = "dues:"


class NoFee(DomainError):
    """The association charges no fee: renewal needs no payment."""


@dataclass(frozen=True)
class Recorded:
    """A payment that stands: whether this call recorded it, the member renewed, the association."""

    payment: DuesPayment
    member: Member
    association: str
    new: bool


async def membership(session: AsyncSession, user_id: int, association_id: int) -> Member:
    """The user's membership of this association."""
    member = await session.scalar(
        select(Member).where(Member.user_id == user_id, Member.association_id == association_id)
    )
    if member is None:
        raise NotFound("member")
    if member.revoked:
        raise NotAllowed("revoked")
    return member


async def fee_of(session: AsyncSession, association_id: int) -> int:
    """The association's yearly fee in rials (0: none)."""
    association = await session.get(Association, association_id)
    return int(association.yearly_fee_rials or 0) if association is not None else 0


async def _next_end(session: AsyncSession, member: Member, now: datetime) -> Any:
    association = await session.get(Association, member.association_id)
    return terms.next_term(member, terms.today(now), association.term_months if association else None)[1]


async def renew_free(session: AsyncSession, user_id: int, association_id: int, now: datetime) -> Member:
    """Renew at once where the association has no fee (one tap)."""
    member = await membership(session, user_id, association_id)
    if await fee_of(session, association_id) > 0:
        raise NotAllowed("fee_due")
    return await terms.renew(session, member, terms.today(now))


async def open_invoice(
    session: AsyncSession, user_id: int, association_id: int, now: datetime
) -> DuesPayment:
    """A new invoice for the next term; earlier unpaid ones go stale (their pre-checkout is refused)."""
    member = await membership(session, user_id, association_id)
    fee = await fee_of(session, association_id)
    if fee <= 0:
        raise NoFee("no_fee")
    await session.execute(
        update(DuesPayment)
        .where(DuesPayment.member_id == member.id, DuesPayment.status == INVOICED)
        .values(status=STALE)
        .execution_options(synchronize_session=False)
    )
    payment = DuesPayment(
        member_id=member.id,
        association_id=association_id,
        user_id=user_id,
        method=INVOICE,
        status=INVOICED,
        amount_rials=fee,
        term_end=await _next_end(session, member, now),
        payload=PAYLOAD_PREFIX + secrets.token_urlsafe(18),
    )
    session.add(payment)
    await session.flush()
    return payment


async def pre_checkout(
    session: AsyncSession, payload: str, total: int, currency: str, user_id: int, now: datetime
) -> str | None:
    """None when the invoice may be paid now; else why not (stale, paid, wrong amount, unknown)."""
    payment = await session.scalar(select(DuesPayment).where(DuesPayment.payload == payload))
    if payment is None or payment.user_id != user_id:
        return "unknown"
    if payment.status == PAID:
        return "paid"
    if payment.status != INVOICED:
        return "stale"
    if currency != CURRENCY or total != payment.amount_rials:
        return "amount"
    member = await session.get(Member, payment.member_id)
    if member is None or member.revoked:
        return "unknown"
    if await fee_of(session, payment.association_id) != payment.amount_rials:
        return "stale"
    if await _next_end(session, member, now) != payment.term_end:
        return "stale"  # the term changed since (renewed another way): a new invoice is needed
    return None


def _receipt_number(payment: DuesPayment, now: datetime) -> str:
    year = jdatetime.date.fromgregorian(date=terms.today(now)).year
    return f"{payment.association_id}-{year}-{payment.id:05d}"


async def _settle(
    session: AsyncSession, payment: DuesPayment, now: datetime, from_status: tuple[str, ...], **values: Any
) -> bool:
    """Mark the payment paid (once) and renew the membership to the term it bought."""
    result = await session.execute(
        update(DuesPayment)
        .where(DuesPayment.id == payment.id, DuesPayment.status.in_(from_status))
        .values(status=PAID, paid_at=now, receipt_number=_receipt_number(payment, now), **values)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        await session.refresh(payment)
        return False
    await session.refresh(payment)
    member = await session.get(Member, payment.member_id)
    assert member is not None
    await terms.renew(session, member, terms.today(now))
    return True


async def _recorded(session: AsyncSession, payment: DuesPayment, new: bool) -> Recorded:
    member = await session.get(Member, payment.member_id)
    association = await session.get(Association, payment.association_id)
    assert member is not None
    return Recorded(payment, member, association.name if association else "—", new)


async def record_payment(
    session: AsyncSession, payload: str, charge_id: str, total: int, currency: str, now: datetime
) -> Recorded:
    """A successful_payment: recorded once (a repeated update finds it paid and changes nothing)."""
    payment = await session.scalar(select(DuesPayment).where(DuesPayment.charge_id == charge_id))
    if payment is not None:
        return await _recorded(session, payment, new=False)
    payment = await session.scalar(select(DuesPayment).where(DuesPayment.payload == payload))
    if payment is None:
        raise NotFound("invoice")
    # The money was taken: a stale invoice paid after all still counts (the member is renewed once).
    new = await _settle(session, payment, now, (INVOICED, STALE), charge_id=charge_id)
    return await _recorded(session, payment, new)


# ------------------------------------------------------------------------------------ receipt photos


class ReceiptStore(DraftStore[DuesPayment]):
    """The receipt form's draft: a payment row by receipt, waiting for its photo."""

    async def current(self, session: AsyncSession, actor: Actor) -> DuesPayment | None:
        return await session.scalar(
            select(DuesPayment).where(
                DuesPayment.user_id == actor.user_id,
                DuesPayment.method == RECEIPT,
                DuesPayment.status == DRAFT,
            )
        )

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> DuesPayment:
        association_id = int(target["association_id"])
        member = await membership(session, actor.user_id, association_id)
        fee = await fee_of(session, association_id)
        if fee <= 0:
            raise NoFee("no_fee")
        draft = await self.current(session, actor)
        if draft is not None:
            await session.delete(draft)
            await session.flush()
        draft = DuesPayment(
            member_id=member.id,
            association_id=association_id,
            user_id=actor.user_id,
            method=RECEIPT,
            status=DRAFT,
            amount_rials=fee,
            term_end=await _next_end(session, member, target.get("now") or utcnow()),
            payload="receipt:" + secrets.token_urlsafe(18),
        )
        session.add(draft)
        await session.flush()
        return draft

    def value(self, draft: DuesPayment, field: str) -> object | None:
        return draft.photo_file_id if field == "photo" else None

    async def save(
        self, session: AsyncSession, draft: DuesPayment, field: str, value: object, actor: Actor
    ) -> None:
        if field == "photo" and isinstance(value, FileRef):
            draft.photo_file_id = value.file_id


RECEIPTS = ReceiptStore()


async def submit_receipt(session: AsyncSession, draft: DuesPayment, actor: Actor) -> DuesPayment:
    """The photo is in: the payment waits for staff."""
    draft.status = REVIEW
    await session.flush()
    return draft


async def for_staff(session: AsyncSession, scope: StaffScope, payment_id: int) -> DuesPayment:
    """A payment the staff member may decide (their association's)."""
    payment = await session.get(DuesPayment, payment_id)
    if payment is None:
        raise NotFound("payment")
    if not scope.covers(payment.association_id):
        raise NotAllowed("not_covered")
    return payment


async def confirm_receipt(
    session: AsyncSession, scope: StaffScope, payment_id: int, now: datetime
) -> Recorded:
    """Staff saw the money: paid, renewed, numbered (the first decision wins)."""
    payment = await for_staff(session, scope, payment_id)
    new = await _settle(session, payment, now, (REVIEW,), decided_by=scope.user_id)
    if not new:
        raise NotAllowed("decided")
    return await _recorded(session, payment, new)


async def reject_receipt(session: AsyncSession, scope: StaffScope, payment_id: int) -> DuesPayment:
    """Staff did not find the money: rejected (the member may send another receipt)."""
    payment = await for_staff(session, scope, payment_id)
    result = await session.execute(
        update(DuesPayment)
        .where(DuesPayment.id == payment_id, DuesPayment.status == REVIEW)
        .values(status=REJECTED, decided_by=scope.user_id)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise NotAllowed("decided")
    await session.refresh(payment)
    return payment
