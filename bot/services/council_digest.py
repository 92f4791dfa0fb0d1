"""The dialogue council's weekly digest for staff: derived from the database, queued once per ISO
week (its dedupe key), and not at all for a week with nothing to say."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.council import open_issues, with_counts
from bot.services.outbox import Buttons, create_broadcast, reachable
from db.models import Broadcast, CouncilIssue, Staff
from db.models import utcnow as _utcnow
from db.models.council import OPEN_STATUSES

DIGEST_NEW_LIMIT = 10
DIGEST_TOP_LIMIT = 5


def week_of(moment: datetime, tz: str) -> tuple[int, int]:
    """ISO (year, week) of a moment in the chamber's time zone."""
    iso = moment.astimezone(ZoneInfo(tz)).isocalendar()
    return iso.year, iso.week


def week_bounds(year: int, week: int, tz: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of an ISO week in `tz`, in UTC."""
    monday = datetime.fromisocalendar(year, week, 1).replace(tzinfo=ZoneInfo(tz))
    return monday.astimezone(UTC), (monday + timedelta(days=7)).astimezone(UTC)


def digest_key(year: int, week: int) -> str:
    """The outbox key of one week's digest."""
    return f"council:digest:{year}-W{week:02d}"


@dataclass(frozen=True)
class Digest:
    """What the weekly digest says: the week's new issues and the most-supported open ones."""

    year: int
    week: int
    new: list[tuple[CouncilIssue, int]]
    new_total: int
    top: list[tuple[CouncilIssue, int]]
    open_total: int
    open_at_end: int  # of the open issues, those sent before the week ended

    @property
    def empty(self) -> bool:
        """Nothing new in the week and nothing left open from it: no digest is sent.

        Issues sent after the week ended do not count, so a quiet week stays quiet when an issue
        arrives later (it is in the next week's digest) and the decision never changes to "send".
        """
        return self.new_total == 0 and self.open_at_end == 0


async def digest(session: AsyncSession, year: int, week: int, tz: str) -> Digest:
    """The digest of one ISO week, from the database."""
    start, end = week_bounds(year, week, tz)
    new = await with_counts(
        session,
        list(
            await session.scalars(
                select(CouncilIssue)
                .where(CouncilIssue.submitted_at >= start, CouncilIssue.submitted_at < end)
                .order_by(CouncilIssue.id)
            )
        ),
    )
    new_sorted = sorted(new, key=lambda pair: (-pair[1], pair[0].id))
    top, open_total = await open_issues(session, limit=DIGEST_TOP_LIMIT)
    open_at_end = await session.scalar(
        select(func.count())
        .select_from(CouncilIssue)
        .where(CouncilIssue.status.in_(OPEN_STATUSES), CouncilIssue.submitted_at < end)
    )
    return Digest(year, week, new_sorted[:DIGEST_NEW_LIMIT], len(new), top, open_total, int(open_at_end or 0))


async def staff_recipients(session: AsyncSession, admin_ids: Collection[int]) -> list[int]:
    """Every admin and staff member (distinct), for the digest."""
    rows = await session.scalars(select(Staff.telegram_id).distinct())
    return list(dict.fromkeys([*sorted(admin_ids), *sorted(rows)]))


async def queue_digest(
    session: AsyncSession,
    render: Callable[[Digest], str],
    admin_ids: Collection[int],
    tz: str,
    *,
    buttons: Buttons | None = None,
    now: datetime | None = None,
) -> Broadcast | None:
    """Queue the digest of the last complete ISO week for all staff, once (dedupe key per week);
    None when it was queued before or the week has nothing to report.

    Derived from the database each time, so the job can run as often as it likes and a restart
    neither loses the digest (it is queued on the next run) nor sends it twice.
    """
    moment = now or _utcnow()
    year, week = week_of(moment - timedelta(days=7), tz)
    key = digest_key(year, week)
    if await session.scalar(select(Broadcast.id).where(Broadcast.dedupe_key == key)) is not None:
        return None
    summary = await digest(session, year, week, tz)
    if summary.empty:
        return None
    recipients = await reachable(session, await staff_recipients(session, admin_ids))
    return await create_broadcast(
        session,
        kind="council",
        text=render(summary),
        recipients=recipients,
        audience="staff",
        buttons=buttons,
        dedupe_key=key,
    )
