"""After approval: dues payments (an invoice paid in the chat, or a bank receipt staff confirm) and
invitations for members imported by staff (bound to a Telegram account after the national ID)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow

# Payment states. An invoice is `invoiced` until paid; a receipt photo waits as `review`.
INVOICED, REVIEW, PAID, REJECTED, STALE = "invoiced", "review", "paid", "rejected", "stale"
INVOICE, RECEIPT = "invoice", "receipt"


class DuesPayment(Base):
    """One payment (or attempt) of an association's yearly fee for one term."""

    __tablename__ = "dues_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=INVOICED, index=True)
    amount_rials: Mapped[int] = mapped_column(BigInteger)
    # The term this payment buys (its last day).
    term_end: Mapped[date] = mapped_column(Date)
    # The invoice payload (unique: a successful_payment finds its invoice by it).
    payload: Mapped[str] = mapped_column(String(64), unique=True)
    # Telegram's charge id: unique, so a repeated successful_payment cannot be recorded twice.
    charge_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    receipt_number: Mapped[str | None] = mapped_column(String(24), unique=True)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    # The question being answered while this row is a form's draft (the receipt form).
    form_field: Mapped[str | None] = mapped_column(String(40))


class MemberInvite(Base):
    """An existing member imported by staff, waiting to bind their Telegram account."""

    __tablename__ = "member_invites"
    __table_args__ = (UniqueConstraint("association_id", "national_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(256))
    national_id: Mapped[str] = mapped_column(String(10))
    member_number: Mapped[str] = mapped_column(String(32))
    term_end: Mapped[date | None] = mapped_column(Date)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InviteClaim(Base):
    """A user opened an invitation link and is confirming their national ID (the form's draft)."""

    __tablename__ = "invite_claims"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    invite_id: Mapped[int] = mapped_column(ForeignKey("member_invites.id", ondelete="CASCADE"))
    national_id: Mapped[str | None] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    form_field: Mapped[str | None] = mapped_column(String(40))


class MemberImport(Base):
    """A member file staff sent: its rows and verdicts (JSON), waiting for "import" or "cancel"."""

    __tablename__ = "member_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger, index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"))
    rows: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
