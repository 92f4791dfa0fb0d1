"""Members as the dashboard lists them: within the staff member's scope, searched by name, member
number or mobile, filtered by association and status, with what the membership record holds.

The membership's term (the membership year, its validity and dues) is issue #15's: `MemberRow.term`
is where it goes. Until then it is None and the page shows the start date only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.staff import StaffScope
from bot.text import normalize_input
from db.models import Application, Association, Member, Profile

# Status filters: every member, founding members, those with a member number, founders still
# waiting for theirs (their association is being formed).
STATUSES = ("founding", "numbered", "awaiting_number")


@dataclass(frozen=True)
class Term:
    """A membership's current year (issue #15 fills this in): valid until, dues paid or not."""

    valid_until: datetime
    paid: bool


@dataclass(frozen=True)
class MemberRow:
    """One member as the list shows them."""

    member: Member
    association: str
    full_name: str | None
    mobile: str | None
    city: str | None
    tracking_code: str | None
    term: Term | None = None  # the seam for issue #15


@dataclass(frozen=True)
class MemberPage:
    items: list[MemberRow]
    total: int
    offset: int


def _status(status: str) -> ColumnElement[bool] | None:
    return {
        "founding": Member.founding.is_(True),
        "numbered": Member.member_number.is_not(None),
        "awaiting_number": Member.member_number.is_(None),
    }.get(status)


async def search(
    session: AsyncSession,
    scope: StaffScope,
    *,
    association_id: int | None = None,
    text: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = 25,
) -> MemberPage:
    """Members within the scope, oldest membership first."""
    query = (
        select(Member, Association.name, Application, Profile)
        .join(Association, Association.id == Member.association_id)
        .outerjoin(Application, Application.id == Member.application_id)
        .outerjoin(Profile, Profile.user_id == Member.user_id)
    )
    if not scope.covers(None):
        query = query.where(Member.association_id.in_(scope.association_ids or {-1}))
    if association_id is not None:
        query = query.where(Member.association_id == association_id)
    condition = _status(status)
    if condition is not None:
        query = query.where(condition)
    wanted = normalize_input(text).strip()
    if wanted:
        query = query.where(
            or_(
                Application.full_name.contains(wanted, autoescape=True),
                Profile.full_name.contains(wanted, autoescape=True),
                Member.member_number.contains(wanted, autoescape=True),
                Application.mobile.contains(wanted.lstrip("0"), autoescape=True),
                Application.business_name.contains(wanted, autoescape=True),
            )
        )
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.execute(
        query.order_by(Member.started_at, Member.id).offset(max(0, offset)).limit(limit)
    )
    items = [
        MemberRow(
            member,
            name,
            (application.full_name if application else None) or (profile.full_name if profile else None),
            (application.mobile if application else None) or (profile.mobile if profile else None),
            (application.city if application else None) or (profile.city if profile else None),
            application.tracking_code if application else None,
        )
        for member, name, application, profile in rows
    ]
    return MemberPage(items, total, max(0, offset))
