"""What members and staff read about memberships: a member's terms, a certificate's verification,
an association's figures (members by status, dues paid and unpaid) and its dues spreadsheet."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.documents import CodeKind, verify_code
from bot.services import terms
from bot.services.errors import NotAllowed, NotFound
from bot.services.staff import StaffScope
from db.models import Application, Association, DuesPayment, Member, Profile
from db.models.membership import PAID, REVIEW


@dataclass(frozen=True)
class Membership:
    """One of a user's memberships, with its status today."""

    member: Member
    association: Association
    status: str


async def memberships_of(session: AsyncSession, user_id: int, day: date) -> list[Membership]:
    """The user's memberships, with their status on `day`."""
    rows = await session.execute(
        select(Member, Association)
        .join(Association, Association.id == Member.association_id)
        .where(Member.user_id == user_id)
        .order_by(Member.id)
    )
    return [Membership(m, a, terms.status_of(m, day)) for m, a in rows]


async def member_name(session: AsyncSession, member: Member) -> tuple[str, str]:
    """The member's name and business, from their application (or profile)."""
    if member.application_id is not None:
        application = await session.get(Application, member.application_id)
        if application is not None and application.full_name:
            return application.full_name, application.business_name or ""
    profile = await session.get(Profile, member.user_id)
    name = getattr(profile, "full_name", None) or "—"
    return str(name), str(getattr(profile, "business_name", None) or "")


@dataclass(frozen=True)
class Verified:
    """What a verification reveals: validity today, the name, the association, the valid-until."""

    valid: bool
    name: str
    association: str
    valid_until: date | None


async def verify(session: AsyncSession, key: bytes, code: str, day: date) -> Verified | None:
    """A certificate's code: None when unknown (or not signed by us: no lookup); else valid or not
    today, for whom and until when."""
    canonical = verify_code(key, CodeKind.MEMBER_CERTIFICATE, code)
    if canonical is None:
        return None
    member = await session.scalar(select(Member).where(Member.verify_code == canonical))
    if member is None:
        return None
    association = await session.get(Association, member.association_id)
    name, _business = await member_name(session, member)
    return Verified(
        terms.is_valid(member, day), name, association.name if association else "—", member.term_end
    )


# ---------------------------------------------------------------------------------- staff figures


@dataclass
class Figures:
    """One association's membership figures for the Jalali year of `day`."""

    association_id: int
    association: str
    by_status: dict[str, int] = field(default_factory=dict)
    paid: int = 0
    unpaid: int = 0
    waiting: int = 0
    collected_rials: int = 0


@dataclass(frozen=True)
class Row:
    """One member in the dues spreadsheet."""

    number: str
    name: str
    status: str
    term_end: date | None
    paid: bool
    amount_rials: int
    receipt: str


def _check(scope: StaffScope, association_id: int) -> None:
    if not scope.covers(association_id):
        raise NotAllowed("not_covered")


async def rows_of(session: AsyncSession, scope: StaffScope, association_id: int, day: date) -> list[Row]:
    """Every member of the association with their status and this term's dues."""
    _check(scope, association_id)
    members = list(
        await session.scalars(
            select(Member)
            .where(Member.association_id == association_id)
            .order_by(Member.member_number, Member.id)
        )
    )
    payments = {
        p.member_id: p
        for p in await session.scalars(
            select(DuesPayment)
            .where(DuesPayment.association_id == association_id, DuesPayment.status == PAID)
            .order_by(DuesPayment.paid_at)
        )
    }
    rows = []
    for member in members:
        payment = payments.get(member.id)
        paid = payment is not None and member.term_end is not None and payment.term_end == member.term_end
        name, _business = await member_name(session, member)
        rows.append(
            Row(
                number=member.member_number or "—",
                name=name,
                status=terms.status_of(member, day),
                term_end=member.term_end,
                paid=paid,
                amount_rials=payment.amount_rials if paid and payment is not None else 0,
                receipt=(payment.receipt_number or "") if paid and payment is not None else "",
            )
        )
    return rows


async def figures(session: AsyncSession, scope: StaffScope, association_id: int, day: date) -> Figures:
    """Members by status and dues paid / unpaid for the current term."""
    association = await session.get(Association, association_id)
    result = Figures(association_id, association.name if association else "—")
    for row in await rows_of(session, scope, association_id, day):
        result.by_status[row.status] = result.by_status.get(row.status, 0) + 1
        if row.paid:
            result.paid += 1
            result.collected_rials += row.amount_rials
        elif row.status != terms.REVOKED:
            result.unpaid += 1
    waiting = await session.scalars(
        select(DuesPayment.id).where(
            DuesPayment.association_id == association_id, DuesPayment.status == REVIEW
        )
    )
    result.waiting = len(list(waiting))
    return result


def spreadsheet(headers: list[str], rows: list[list[object]], title: str) -> bytes:
    """An .xlsx with one right-to-left sheet: a bold header row, then the rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.sheet_view.rightToLeft = True
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = max(12, *(len(str(c.value or "")) + 2 for c in column))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def proof_facts(session: AsyncSession, member_id: int) -> tuple[Member, str, str, str] | None:
    """What the certificate and card show: the member, name, business, association."""
    member = await session.get(Member, member_id)
    if member is None or member.verify_code is None:
        return None
    association = await session.get(Association, member.association_id)
    name, business = await member_name(session, member)
    return member, name, business, association.name if association else "—"


async def association_name(session: AsyncSession, association_id: int) -> str:
    """An association's name ("—" when it is gone)."""
    association = await session.get(Association, association_id)
    return association.name if association is not None else "—"


async def find_member(session: AsyncSession, scope: StaffScope, association_id: int, number: str) -> Member:
    """A member of an association the staff member covers, by member number."""
    _check(scope, association_id)
    member = await session.scalar(
        select(Member).where(Member.association_id == association_id, Member.member_number == number.strip())
    )
    if member is None:
        raise NotFound("member")
    return member


async def revoke(session: AsyncSession, scope: StaffScope, member_id: int) -> Member:
    """Revoke a membership: it never verifies as valid again and gets no more reminders."""
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound("member")
    _check(scope, member.association_id)
    member.revoked = True
    await session.flush()
    return member
