"""The dialogue council: members raise issues (a draft row per step), support open ones, and staff
triage them — review, assign, put on the agenda, merge duplicates, answer — plus the weekly digest."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.outbox import create_broadcast, reachable
from bot.services.staff import StaffScope
from bot.text import normalize_input, search_key
from db.models import Association, Broadcast, CouncilAnswerDraft, CouncilIssue, CouncilSupport, Profile, Staff
from db.models import utcnow as _utcnow
from db.models.council import (
    ANSWERED,
    DRAFT,
    MERGED,
    ON_AGENDA,
    OPEN_STATUSES,
    RECEIVED,
    TOPICS,
    UNDER_REVIEW,
)

DESCRIPTION_LIMITS = (15, 2000)
ANSWER_LIMITS = (5, 3000)
ATTACHMENT_LIMIT = 10 * 1024 * 1024
DIGEST_NEW_LIMIT = 10
DIGEST_TOP_LIMIT = 5
MERGE_CANDIDATES = 8


class InvalidIssue(DomainError):
    """An answer that cannot be stored; `reason` says why."""


class WrongStatus(DomainError):
    """The issue is not in a state that allows this (details: status)."""


# ---------------------------------------------------------------------------------------- raising


async def draft_of(session: AsyncSession, user_id: int) -> CouncilIssue | None:
    """The member's issue still being written, if any."""
    return await session.scalar(
        select(CouncilIssue)
        .where(CouncilIssue.user_id == user_id, CouncilIssue.status == DRAFT)
        .order_by(CouncilIssue.id.desc())
        .limit(1)
    )


async def start(session: AsyncSession, user_id: int) -> CouncilIssue:
    """The member's draft (kept, if they left one), or a new one."""
    issue = await draft_of(session, user_id)
    if issue is None:
        issue = CouncilIssue(user_id=user_id, status=DRAFT)
        session.add(issue)
        await session.flush()
    return issue


async def _draft(session: AsyncSession, user_id: int) -> CouncilIssue:
    issue = await draft_of(session, user_id)
    if issue is None:
        raise NotFound("draft")
    return issue


async def set_topic(session: AsyncSession, user_id: int, topic: str) -> CouncilIssue:
    """Step 1: the topic, from the fixed list."""
    if topic not in TOPICS:
        raise InvalidIssue("topic")
    issue = await _draft(session, user_id)
    issue.topic = topic
    await session.flush()
    return issue


def clean_text(raw: str, limits: tuple[int, int], what: str) -> str:
    """Normalised free text within limits (keeps line breaks)."""
    text = "\n".join(" ".join(line.split()) for line in normalize_input(raw).splitlines()).strip()
    if len(text) < limits[0]:
        raise InvalidIssue(f"{what}_too_short")
    if len(text) > limits[1]:
        raise InvalidIssue(f"{what}_too_long")
    return text


async def set_description(session: AsyncSession, user_id: int, raw: str) -> CouncilIssue:
    """Step 2: what the problem is."""
    issue = await _draft(session, user_id)
    issue.description = clean_text(raw, DESCRIPTION_LIMITS, "description")
    await session.flush()
    return issue


async def set_attachment(
    session: AsyncSession, user_id: int, kind: str | None, file_id: str | None, size: int | None = None
) -> CouncilIssue:
    """Step 3: a photo or PDF, or none (kind None)."""
    if kind not in (None, "photo", "document"):
        raise InvalidIssue("attachment")
    if size is not None and size > ATTACHMENT_LIMIT:
        raise InvalidIssue("attachment_too_big")
    issue = await _draft(session, user_id)
    issue.attachment_kind = kind
    issue.attachment_file_id = file_id if kind else ""
    await session.flush()
    return issue


async def set_consent(
    session: AsyncSession, user_id: int, show_name: bool, telegram_name: str
) -> CouncilIssue:
    """Step 4: may the name be shown to others? The name is taken from the profile, else Telegram."""
    issue = await _draft(session, user_id)
    profile = await session.get(Profile, user_id)
    issue.show_name = show_name
    issue.raiser_name = (profile.full_name if profile and profile.full_name else telegram_name)[:256]
    await session.flush()
    return issue


def next_step(issue: CouncilIssue) -> str | None:
    """The first unanswered step of a draft, or None when it can be sent."""
    if issue.topic is None:
        return "topic"
    if issue.description is None:
        return "description"
    if issue.attachment_file_id is None:
        return "attachment"
    if issue.show_name is None:
        return "consent"
    return None


async def submit(session: AsyncSession, user_id: int) -> CouncilIssue:
    """Send the draft to the council: its status becomes `received`."""
    issue = await _draft(session, user_id)
    missing = next_step(issue)
    if missing is not None:
        raise InvalidIssue("incomplete", step=missing)
    issue.status = RECEIVED
    issue.submitted_at = _utcnow()
    await session.flush()
    return issue


# ---------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class IssueView:
    """An issue with its support count, as one viewer may see it."""

    issue: CouncilIssue
    supporters: int
    supported: bool  # the viewer supports it
    own: bool  # the viewer raised it
    association_name: str | None

    def public_name(self) -> str | None:
        """The raiser's name, only if they agreed to show it."""
        return self.issue.raiser_name if self.issue.show_name else None


async def support_count(session: AsyncSession, issue_id: int) -> int:
    """How many members support the issue (its raiser not counted)."""
    query = select(func.count()).select_from(CouncilSupport).where(CouncilSupport.issue_id == issue_id)
    return int(await session.scalar(query) or 0)


async def view(session: AsyncSession, issue_id: int, viewer_id: int) -> IssueView:
    """An issue that has been sent (drafts are their writer's alone)."""
    issue = await session.get(CouncilIssue, issue_id)
    if issue is None or (issue.status == DRAFT):
        raise NotFound("issue")
    supported = await session.scalar(
        select(CouncilSupport.id).where(
            CouncilSupport.issue_id == issue_id, CouncilSupport.user_id == viewer_id
        )
    )
    association = await session.get(Association, issue.association_id) if issue.association_id else None
    return IssueView(
        issue,
        await support_count(session, issue_id),
        supported is not None,
        issue.user_id == viewer_id,
        association.name if association else None,
    )


async def _counts(session: AsyncSession, ids: Collection[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(CouncilSupport.issue_id, func.count())
        .where(CouncilSupport.issue_id.in_(list(ids)))
        .group_by(CouncilSupport.issue_id)
    )
    return {issue_id: int(count) for issue_id, count in rows.all()}


async def open_issues(
    session: AsyncSession, *, offset: int = 0, limit: int = 5, association_ids: Collection[int] | None = None
) -> tuple[list[tuple[CouncilIssue, int]], int]:
    """Open issues, most supported first, then newest; with the total count (for paging)."""
    query = select(CouncilIssue).where(CouncilIssue.status.in_(OPEN_STATUSES))
    if association_ids is not None:
        query = query.where(CouncilIssue.association_id.in_(list(association_ids) or [-1]))
    issues = list(await session.scalars(query))
    counts = await _counts(session, [i.id for i in issues])
    ordered = sorted(issues, key=lambda i: (-counts.get(i.id, 0), -i.id))
    page = ordered[max(0, offset) : max(0, offset) + limit]
    return [(i, counts.get(i.id, 0)) for i in page], len(ordered)


async def mine(session: AsyncSession, user_id: int) -> list[tuple[CouncilIssue, int]]:
    """The member's sent issues, newest first, with their support counts."""
    issues = list(
        await session.scalars(
            select(CouncilIssue)
            .where(CouncilIssue.user_id == user_id, CouncilIssue.status != DRAFT)
            .order_by(CouncilIssue.id.desc())
            .limit(20)
        )
    )
    counts = await _counts(session, [i.id for i in issues])
    return [(i, counts.get(i.id, 0)) for i in issues]


# ---------------------------------------------------------------------------------------- support


async def support(session: AsyncSession, issue_id: int, user_id: int) -> int:
    """Support an open issue once; returns the new count. Raises for one's own or a closed issue."""
    issue = await session.get(CouncilIssue, issue_id)
    if issue is None or issue.status == DRAFT:
        raise NotFound("issue")
    if issue.status not in OPEN_STATUSES:
        raise WrongStatus("closed", status=issue.status)
    if issue.user_id == user_id:
        raise DomainError("own")
    exists = await session.scalar(
        select(CouncilSupport.id).where(
            CouncilSupport.issue_id == issue_id, CouncilSupport.user_id == user_id
        )
    )
    if exists is not None:
        raise DomainError("already")
    try:
        async with session.begin_nested():  # a double tap racing itself: the unique key decides
            session.add(CouncilSupport(issue_id=issue_id, user_id=user_id))
    except IntegrityError:
        raise DomainError("already") from None
    return await support_count(session, issue_id)


# ---------------------------------------------------------------------------------------- staff


def _may_see(scope: StaffScope, issue: CouncilIssue) -> bool:
    return scope.covers(None) or (issue.association_id is not None and scope.covers(issue.association_id))


async def for_staff(session: AsyncSession, scope: StaffScope, issue_id: int) -> CouncilIssue:
    """An issue this staff member may act on: chamber staff any, association staff their own."""
    issue = await session.get(CouncilIssue, issue_id)
    if issue is None or issue.status == DRAFT:
        raise NotFound("issue")
    if not _may_see(scope, issue):
        raise NotAllowed("not_covered")
    return issue


def _open(issue: CouncilIssue) -> None:
    if issue.status not in OPEN_STATUSES:
        raise WrongStatus("closed", status=issue.status)


async def mark_under_review(session: AsyncSession, scope: StaffScope, issue_id: int) -> CouncilIssue:
    """received → under review."""
    issue = await for_staff(session, scope, issue_id)
    if issue.status != RECEIVED:
        raise WrongStatus("status", status=issue.status)
    issue.status = UNDER_REVIEW
    await session.flush()
    return issue


async def put_on_agenda(session: AsyncSession, scope: StaffScope, issue_id: int) -> CouncilIssue:
    """Put the issue on the council's agenda (chamber staff only)."""
    if not scope.covers(None):
        raise NotAllowed("chamber_only")
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    if issue.status == ON_AGENDA:
        raise WrongStatus("status", status=issue.status)
    issue.status = ON_AGENDA
    await session.flush()
    return issue


async def assign(
    session: AsyncSession, scope: StaffScope, issue_id: int, association_id: int
) -> CouncilIssue:
    """Hand the issue to an association to follow up (chamber staff only); it is then under review."""
    if not scope.covers(None):
        raise NotAllowed("chamber_only")
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    if await session.get(Association, association_id) is None:
        raise NotFound("association")
    issue.association_id = association_id
    if issue.status == RECEIVED:
        issue.status = UNDER_REVIEW
    await session.flush()
    return issue


async def start_answer(session: AsyncSession, scope: StaffScope, issue_id: int) -> CouncilIssue:
    """Remember which issue this staff member's next text answers."""
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    draft = await session.get(CouncilAnswerDraft, scope.user_id)
    if draft is None:
        session.add(CouncilAnswerDraft(staff_id=scope.user_id, issue_id=issue_id))
    else:
        draft.issue_id = issue_id
    await session.flush()
    return issue


async def pending_answer(session: AsyncSession, staff_id: int) -> int | None:
    """The issue this staff member is answering, if any."""
    draft = await session.get(CouncilAnswerDraft, staff_id)
    return draft.issue_id if draft else None


async def drop_answer(session: AsyncSession, staff_id: int) -> None:
    """Forget an answer in progress."""
    await session.execute(delete(CouncilAnswerDraft).where(CouncilAnswerDraft.staff_id == staff_id))


async def answer(session: AsyncSession, scope: StaffScope, raw: str) -> CouncilIssue:
    """Record the answer to the issue being answered; the issue becomes `answered`."""
    issue_id = await pending_answer(session, scope.user_id)
    if issue_id is None:
        raise NotFound("no_answer_pending")
    text = clean_text(raw, ANSWER_LIMITS, "answer")
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    result = await session.execute(
        update(CouncilIssue)
        .where(CouncilIssue.id == issue_id, CouncilIssue.status.in_(OPEN_STATUSES))
        .values(status=ANSWERED, answer=text, answered_by=scope.user_id, answered_at=_utcnow())
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise WrongStatus("closed", status=ANSWERED)
    await drop_answer(session, scope.user_id)
    await session.refresh(issue)
    return issue


async def supporter_ids(session: AsyncSession, issue_id: int) -> list[int]:
    """Who supports the issue, in the order they joined."""
    rows = await session.scalars(
        select(CouncilSupport.user_id).where(CouncilSupport.issue_id == issue_id).order_by(CouncilSupport.id)
    )
    return list(rows)


async def queue_answer_for_supporters(
    session: AsyncSession, issue: CouncilIssue, text: str, staff_id: int
) -> Broadcast | None:
    """The answer to every supporter, through the outbox (paced; once, by its dedupe key)."""
    recipients = await reachable(
        session, [u for u in await supporter_ids(session, issue.id) if u != issue.user_id]
    )
    if not recipients:
        return None
    return await create_broadcast(
        session,
        kind="council",
        text=text,
        recipients=recipients,
        created_by=staff_id,
        audience=f"council:{issue.id}:supporters",
        dedupe_key=f"council:{issue.id}:answer",
    )


async def merge_candidates(session: AsyncSession, scope: StaffScope, issue_id: int) -> list[CouncilIssue]:
    """Other open issues this one may duplicate: same topic first, then the most similar text."""
    issue = await for_staff(session, scope, issue_id)
    others = list(
        await session.scalars(
            select(CouncilIssue).where(CouncilIssue.status.in_(OPEN_STATUSES), CouncilIssue.id != issue_id)
        )
    )
    mine_key = search_key(issue.description or "")

    def closeness(other: CouncilIssue) -> tuple[bool, float]:
        return (
            other.topic == issue.topic,
            fuzz.token_set_ratio(mine_key, search_key(other.description or "")),
        )

    visible = [o for o in others if _may_see(scope, o)]
    return sorted(visible, key=closeness, reverse=True)[:MERGE_CANDIDATES]


async def merge(session: AsyncSession, scope: StaffScope, issue_id: int, target_id: int) -> CouncilIssue:
    """Merge a duplicate into `target`: its supporters (and its raiser) now support the target."""
    if not scope.covers(None):
        raise NotAllowed("chamber_only")
    if issue_id == target_id:
        raise DomainError("same")
    issue = await for_staff(session, scope, issue_id)
    target = await for_staff(session, scope, target_id)
    _open(issue)
    _open(target)
    already = set(await supporter_ids(session, target_id)) | {target.user_id}
    moving = [u for u in [issue.user_id, *await supporter_ids(session, issue_id)] if u not in already]
    await session.execute(delete(CouncilSupport).where(CouncilSupport.issue_id == issue_id))
    for user_id in dict.fromkeys(moving):
        session.add(CouncilSupport(issue_id=target_id, user_id=user_id))
    issue.status = MERGED
    issue.merged_into_id = target_id
    await session.flush()
    return target


async def associations(session: AsyncSession) -> list[Association]:
    """Associations an issue can be assigned to, by name."""
    return list(await session.scalars(select(Association).order_by(Association.name)))


# ---------------------------------------------------------------------------------------- digest


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


async def digest(session: AsyncSession, year: int, week: int, tz: str) -> Digest:
    """The digest of one ISO week, from the database."""
    start, end = week_bounds(year, week, tz)
    new = list(
        await session.scalars(
            select(CouncilIssue)
            .where(CouncilIssue.submitted_at >= start, CouncilIssue.submitted_at < end)
            .order_by(CouncilIssue.id)
        )
    )
    counts = await _counts(session, [i.id for i in new])
    new_sorted = sorted(new, key=lambda i: (-counts.get(i.id, 0), i.id))
    top, open_total = await open_issues(session, limit=DIGEST_TOP_LIMIT)
    return Digest(
        year,
        week,
        [(i, counts.get(i.id, 0)) for i in new_sorted[:DIGEST_NEW_LIMIT]],
        len(new),
        top,
        open_total,
    )


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
    now: datetime | None = None,
) -> Broadcast | None:
    """Queue the digest of the last complete ISO week for all staff, once (dedupe key per week).

    Derived from the database each time, so the job can run as often as it likes and a restart
    neither loses the digest (it is queued on the next run) nor sends it twice.
    """
    moment = now or _utcnow()
    year, week = week_of(moment - timedelta(days=7), tz)
    key = digest_key(year, week)
    if await session.scalar(select(Broadcast.id).where(Broadcast.dedupe_key == key)) is not None:
        return None
    summary = await digest(session, year, week, tz)
    recipients = await reachable(session, await staff_recipients(session, admin_ids))
    return await create_broadcast(
        session, kind="council", text=render(summary), recipients=recipients, audience="staff", dedupe_key=key
    )
