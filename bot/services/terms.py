"""Membership terms: when a term ends (the association's rule), a member's status on a day, the first
term at approval, renewal, and the renewal reminders (30 days, 7 days and on the last day).

Days are Tehran calendar days (`today(now)`); a term's `term_end` is its last valid day. The reminders
come from the database like course reminders: each run queues whatever is due under a fixed dedupe
key (`member:<id>:renew:<term_end>:<30|7|0>`), so a second run or a restart never sends a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.documents import CodeKind, new_code
from bot.services.outbox import Buttons, create_broadcast, reachable
from db.models import Association, Broadcast, Member

TEHRAN = ZoneInfo("Asia/Tehran")
ACTIVE, DUE, LAPSED, REVOKED = "active", "due", "lapsed", "revoked"
DUE_WINDOW = 30
# Latest first: within the last week only the 7-day reminder is due (a stale "a month" is not sent).
REMINDER_DAYS = (0, 7, 30)


def today(now: datetime) -> date:
    """The Tehran calendar day of a moment (a naive moment is UTC)."""
    if now.utcoffset() is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(TEHRAN).date()


def _jalali_year_end(day: date) -> date:
    year = jdatetime.date.fromgregorian(date=day).year
    last = 30 if jdatetime.date(year, 1, 1).isleap() else 29
    end: date = jdatetime.date(year, 12, last).togregorian()
    return end


def _add_jalali_months(day: date, months: int) -> date:
    start = jdatetime.date.fromgregorian(date=day)
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    days = 31 if month <= 6 else 30 if month <= 11 else (30 if jdatetime.date(year, 1, 1).isleap() else 29)
    result: date = jdatetime.date(year, month, min(start.day, days)).togregorian()
    return result


def term_end_for(start: date, months: int | None) -> date:
    """The last day of a term starting on `start`: the end of that Jalali year (no rule), or the day
    before the same date `months` Jalali months later."""
    if not months:
        return _jalali_year_end(start)
    return _add_jalali_months(start, months) - timedelta(days=1)


def status_of(member: Member, day: date) -> str:
    """active, due (within 30 days of the end), lapsed (after the end) or revoked."""
    if member.revoked:
        return REVOKED
    if member.term_end is None:
        return ACTIVE
    if day > member.term_end:
        return LAPSED
    return DUE if (member.term_end - day).days <= DUE_WINDOW else ACTIVE


def is_valid(member: Member, day: date) -> bool:
    """Valid proof of membership today: not revoked and within the term."""
    return status_of(member, day) in (ACTIVE, DUE)


async def ensure_code(session: AsyncSession, member: Member, key: bytes) -> str:
    """The membership's verification code (signed; made once, kept across renewals)."""
    if member.verify_code is None:
        member.verify_code = new_code(key, CodeKind.MEMBER_CERTIFICATE)
        await session.flush()
    return member.verify_code


async def start_first_term(
    session: AsyncSession, member: Member, day: date, end: date | None = None
) -> Member:
    """Approval (or an imported member bound): the first term, from `day` to the rule's end."""
    association = await session.get(Association, member.association_id)
    months = association.term_months if association is not None else None
    member.term_start = day
    member.term_end = end or term_end_for(day, months)
    await session.flush()
    return member


def next_term(member: Member, day: date, months: int | None) -> tuple[date, date]:
    """The term a renewal on `day` buys: right after the current one (early renewal), or from today
    when the membership lapsed (renewing without applying again)."""
    start = day if member.term_end is None or member.term_end < day else member.term_end + timedelta(days=1)
    return start, term_end_for(start, months)


async def renew(session: AsyncSession, member: Member, day: date) -> Member:
    """Extend a membership by one term (after its dues are paid, or at once with no fee)."""
    association = await session.get(Association, member.association_id)
    start, end = next_term(member, day, association.term_months if association else None)
    if member.term_end is None or member.term_end < day:
        member.term_start = start
    member.term_end = end
    await session.flush()
    return member


# ------------------------------------------------------------------------------------------ reminders


@dataclass(frozen=True)
class Due:
    """A reminder due: the member, how many days are left, and its key."""

    member: Member
    days: int


Render = Callable[[Member, int, str], str]  # (member, days left, association name) -> HTML


def dedupe_key(member: Member, days: int) -> str:
    """The outbox key that makes a renewal reminder unique (per term: a renewal gets new ones)."""
    assert member.term_end is not None
    return f"member:{member.id}:renew:{member.term_end.isoformat()}:{days}"


def reminder_due(member: Member, day: date) -> int | None:
    """The reminder window the day is in (0, 7 or 30 days before the end), if any."""
    if member.revoked or member.term_end is None or day > member.term_end:
        return None
    left = (member.term_end - day).days
    for days in REMINDER_DAYS:
        if left <= days:
            return days
    return None


async def queue_reminders(
    session: AsyncSession, render: Render, now: datetime, buttons: Callable[[Member], Buttons] | None = None
) -> list[Broadcast]:
    """Queue every renewal reminder due today into the outbox, once each."""
    day = today(now)
    members = await session.scalars(
        select(Member)
        .where(
            Member.revoked.is_(False),
            Member.term_end >= day,
            Member.term_end <= day + timedelta(days=max(REMINDER_DAYS)),
        )
        .order_by(Member.term_end, Member.id)
    )
    created: list[Broadcast] = []
    for member in list(members):
        days = reminder_due(member, day)
        if days is None:
            continue
        key = dedupe_key(member, days)
        if await session.scalar(select(Broadcast.id).where(Broadcast.dedupe_key == key)) is not None:
            continue
        association = await session.get(Association, member.association_id)
        recipients = await reachable(session, [member.user_id])
        created.append(
            await create_broadcast(
                session,
                kind="reminder",
                text=render(member, days, association.name if association else "—"),
                recipients=recipients,
                association_id=member.association_id,
                audience=f"member:{member.id}",
                dedupe_key=key,
                buttons=buttons(member) if buttons is not None else None,
            )
        )
    return created
