"""Association ratings: staff scores per period, weighted totals, change, ranking with shared ranks,
and the membership figures the database can show as evidence beside the staff's membership score."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotFound
from bot.text import normalize_input
from db.models import Application, Association, Member, RatingScore, utcnow
from db.models.applications import APPROVED, REJECTED
from db.models.rating import INDICATORS

MIN_SCORE, MAX_SCORE = 0, 100
NOTE_LIMIT = 200
# "Decided within N days" of the (last) submission. A month fits the monthly board meeting where most
# associations approve members, yet separates an association that answers from one that lets requests sit.
DECISION_DAYS = 30
YEARS = (1390, 1500)
_PERIOD = re.compile(r"^(\d{4})(?:\s*[-_/]?\s*H([12]))?$")
_ONE_DECIMAL = Decimal("0.1")


__all__ = ["INDICATORS"]  # the indicators, in order, for the handlers (which never import the database layer)


class InvalidRating(DomainError):
    """A score, period, indicator or note that cannot be recorded; `reason` says which."""


# ---------------------------------------------------------------------------------------- periods


def parse_period(raw: str) -> str:
    """A period as typed ("۱۴۰۵", "1405-h1", "1405H2", «نیمهٔ اول ۱۴۰۵», «سال ۱۴۰۵») in its stored
    form ("1405", "1405-H1")."""
    text = normalize_input(raw)
    year = re.search(r"\d{4}", text)
    words = text.replace("\u200c", " ").replace("ٔ", "")
    if year is not None and ("نیمه" in words or "سال" in words):
        half = "-H1" if "اول" in words else "-H2" if "دوم" in words else ""
        if "نیمه" in words and not half:
            raise InvalidRating("period")
        text = year[0] + half if "نیمه" in words else year[0]
    text = text.upper().replace("ن", "H")
    match = _PERIOD.match(text)
    if match is None or not YEARS[0] <= int(match[1]) <= YEARS[1]:
        raise InvalidRating("period")
    return match[1] if match[2] is None else f"{match[1]}-H{match[2]}"


def previous_period(period: str) -> str:
    """The period before: the year before, or the half-year before."""
    year, half = _split(period)
    if half is None:
        return str(year - 1)
    return f"{year}-H1" if half == 2 else f"{year - 1}-H2"


def period_order(period: str) -> tuple[int, int]:
    """Sort key, oldest first (a whole year after its own halves)."""
    year, half = _split(period)
    return (year, half or 3)


def period_bounds(period: str, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a period in UTC: Jalali Farvardin 1 (or Mehr 1 for H2) at midnight in `tz`."""
    year, half = _split(period)
    first_month = 7 if half == 2 else 1
    start = jdatetime.date(year, first_month, 1)
    end = jdatetime.date(year + 1, 1, 1) if half != 1 else jdatetime.date(year, 7, 1)

    def moment(day: jdatetime.date) -> datetime:
        return datetime.combine(day.togregorian(), time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)

    return moment(start), moment(end)


def current_period(tz: str, now: datetime | None = None, *, half: bool = False) -> str:
    """The Jalali year (or half-year) `now` falls in."""
    local = (now or utcnow()).astimezone(ZoneInfo(tz))
    day = jdatetime.date.fromgregorian(date=local.date())
    if not half:
        return str(day.year)
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def _split(period: str) -> tuple[int, int | None]:
    match = _PERIOD.match(period)
    if match is None:
        raise InvalidRating("period")
    return int(match[1]), int(match[2]) if match[2] else None


# ---------------------------------------------------------------------------------------- recording


def clean_score(raw: str | int) -> int:
    """A score 0–100 (Persian digits accepted)."""
    text = normalize_input(str(raw))
    if not text.isdecimal() or not MIN_SCORE <= int(text) <= MAX_SCORE:
        raise InvalidRating("score")
    return int(text)


async def record(
    session: AsyncSession,
    actor_id: int,
    association_id: int,
    period: str,
    indicator: str,
    score: int,
    note: str = "",
) -> RatingScore:
    """Record (or correct) one indicator's score for an association and period."""
    if indicator not in INDICATORS:
        raise InvalidRating("indicator")
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidRating("score")
    period = parse_period(period)
    note = " ".join(normalize_input(note).split())
    if len(note) > NOTE_LIMIT:
        raise InvalidRating("note")
    if await session.get(Association, association_id) is None:
        raise NotFound("association")
    row = await session.scalar(
        select(RatingScore).where(
            RatingScore.association_id == association_id,
            RatingScore.period == period,
            RatingScore.indicator == indicator,
        )
    )
    if row is None:
        row = RatingScore(association_id=association_id, period=period, indicator=indicator)
        session.add(row)
    row.score = score
    row.note = note
    row.recorded_by = actor_id
    await session.flush()
    return row


# ---------------------------------------------------------------------------------------- scorecards


@dataclass(frozen=True)
class MembershipFigures:
    """What the database shows about membership in a period (evidence, not the score)."""

    members_at_start: int
    members_at_end: int
    decided: int
    decided_in_time: int
    days: int = DECISION_DAYS

    @property
    def growth(self) -> int:
        """Members gained (or lost) over the period."""
        return self.members_at_end - self.members_at_start

    @property
    def growth_percent(self) -> Decimal | None:
        """Growth relative to the members at the start (None when it started with none)."""
        if self.members_at_start == 0:
            return None
        return _round(Decimal(self.growth * 100) / self.members_at_start)

    @property
    def share_in_time(self) -> Decimal | None:
        """Percent of the period's decisions made within `days` of submission (None: no decisions)."""
        if self.decided == 0:
            return None
        return _round(Decimal(self.decided_in_time * 100) / self.decided)


@dataclass(frozen=True)
class Scorecard:
    """An association's scores for one period, with the total and the change since the period before."""

    association_id: int
    name: str
    period: str
    scores: dict[str, RatingScore]
    total: Decimal | None
    previous_total: Decimal | None
    figures: MembershipFigures

    @property
    def complete(self) -> bool:
        """All five indicators are scored."""
        return self.total is not None

    @property
    def change(self) -> Decimal | None:
        """Total minus the previous period's total (None when either is missing)."""
        if self.total is None or self.previous_total is None:
            return None
        return self.total - self.previous_total


def _round(value: Decimal) -> Decimal:
    return value.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def weighted_total(scores: dict[str, int], weights: Sequence[float]) -> Decimal | None:
    """The weighted average of the five scores, to one decimal; None unless all five are scored."""
    if any(indicator not in scores for indicator in INDICATORS):
        return None
    weight = [Decimal(str(w)) for w in weights]
    total = sum((weight[i] * scores[ind] for i, ind in enumerate(INDICATORS)), Decimal(0))
    return _round(total / sum(weight))


async def scores_of(session: AsyncSession, association_id: int, period: str) -> dict[str, RatingScore]:
    rows = await session.scalars(
        select(RatingScore).where(RatingScore.association_id == association_id, RatingScore.period == period)
    )
    return {row.indicator: row for row in rows}


async def periods_of(session: AsyncSession, association_id: int | None = None) -> list[str]:
    """Periods with any score (of one association, or of any), newest first."""
    query = select(RatingScore.period).distinct()
    if association_id is not None:
        query = query.where(RatingScore.association_id == association_id)
    return sorted(await session.scalars(query), key=period_order, reverse=True)


async def scorecard(
    session: AsyncSession,
    association_id: int,
    period: str | None,
    weights: Sequence[float],
    tz: str,
) -> Scorecard:
    """The scorecard of an association for `period` (None: its latest rated period, else this year)."""
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("association")
    if period is None:
        rated = await periods_of(session, association_id)
        period = rated[0] if rated else current_period(tz)
    scores = await scores_of(session, association_id, period)
    before = await scores_of(session, association_id, previous_period(period))
    return Scorecard(
        association_id=association_id,
        name=association.name,
        period=period,
        scores=scores,
        total=weighted_total({k: v.score for k, v in scores.items()}, weights),
        previous_total=weighted_total({k: v.score for k, v in before.items()}, weights),
        figures=await membership_figures(session, association_id, period, tz),
    )


async def membership_figures(
    session: AsyncSession,
    association_id: int,
    period: str,
    tz: str,
    *,
    now: datetime | None = None,
    days: int = DECISION_DAYS,
) -> MembershipFigures:
    """Members at the start and end of the period (its end: now, while it runs), and how many of the
    final decisions made in it (approved or rejected) came within `days` of the last submission."""
    start, end = period_bounds(period, tz)
    end = min(end, now or utcnow())

    async def members_before(moment: datetime) -> int:
        query = (
            select(func.count())
            .select_from(Member)
            .where(Member.association_id == association_id, Member.started_at < moment)
        )
        return int(await session.scalar(query) or 0)

    decisions = (
        await session.execute(
            select(Application.submitted_at, Application.decided_at).where(
                Application.association_id == association_id,
                Application.status.in_((APPROVED, REJECTED)),
                Application.submitted_at.is_not(None),
                Application.decided_at >= start,
                Application.decided_at < end,
            )
        )
    ).all()
    limit = timedelta(days=days)
    in_time = sum(
        1
        for submitted, decided in decisions
        if submitted is not None and decided is not None and decided - submitted <= limit
    )
    return MembershipFigures(
        members_at_start=await members_before(start),
        members_at_end=await members_before(end),
        decided=len(decisions),
        decided_in_time=in_time,
        days=days,
    )


# ---------------------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class Ranked:
    """One line of the ranking; equal totals share a rank (1, 2, 2, 4)."""

    rank: int
    association_id: int
    name: str
    total: Decimal


def rank(totals: Sequence[tuple[int, str, Decimal]]) -> list[Ranked]:
    """Competition ranking ("1224") of (association id, name, total), best first, ties by name."""
    ordered = sorted(totals, key=lambda item: (-item[2], item[1]))
    ranked: list[Ranked] = []
    for position, (association_id, name, total) in enumerate(ordered, start=1):
        shared = ranked[-1].rank if ranked and ranked[-1].total == total else position
        ranked.append(Ranked(shared, association_id, name, total))
    return ranked


async def ranking(session: AsyncSession, period: str, weights: Sequence[float]) -> list[Ranked]:
    """Every association with all five scores in `period`, ranked by total."""
    rows = (
        await session.execute(
            select(RatingScore.association_id, Association.name, RatingScore.indicator, RatingScore.score)
            .join(Association, Association.id == RatingScore.association_id)
            .where(RatingScore.period == period)
        )
    ).all()
    by_association: dict[int, tuple[str, dict[str, int]]] = {}
    for association_id, name, indicator, score in rows:
        by_association.setdefault(association_id, (name, {}))[1][indicator] = score
    totals = []
    for association_id, (name, scores) in by_association.items():
        total = weighted_total(scores, weights)
        if total is not None:
            totals.append((association_id, name, total))
    return rank(totals)


async def ranked_periods(session: AsyncSession) -> list[str]:
    """Periods in which some association has all five scores, newest first."""
    rows = await session.execute(
        select(RatingScore.association_id, RatingScore.period)
        .group_by(RatingScore.association_id, RatingScore.period)
        .having(func.count() == len(INDICATORS))
    )
    return sorted({period for _, period in rows}, key=period_order, reverse=True)
