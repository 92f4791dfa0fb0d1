"""The dialogue council: reading issues, support (once per person), and staff triage — review,
assign, put on the agenda, merge duplicates, answer (a staff draft per answer being typed).

The member's issue form lives in `council_form`, the weekly digest in `council_digest`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.actor import Actor
from bot.services.drafts import DraftStore
from bot.services.errors import DomainError, InvalidAnswer, NotAllowed, NotFound
from bot.services.outbox import create_broadcast, reachable
from bot.services.staff import StaffScope
from bot.text import collation_key, normalize_input, search_key
from db.models import Association, Broadcast, CouncilAnswerDraft, CouncilIssue, CouncilSupport
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
from db.session import rowcount

__all__ = [
    "ANSWERED",
    "MERGED",
    "ON_AGENDA",
    "OPEN_STATUSES",
    "RECEIVED",
    "TOPICS",
    "UNDER_REVIEW",
    "Answered",
    "Association",
    "CouncilIssue",
    "IssueView",
    "WrongStatus",
]

ANSWER_LIMITS = (5, 3000)
MERGE_CANDIDATES = 8


class WrongStatus(DomainError):
    """The issue is not in a state that allows this (details: status)."""


def clean_text(raw: str, limits: tuple[int, int], what: str) -> str:
    """Normalised free text within limits (keeps line breaks); InvalidAnswer `<what>_too_short/long`."""
    text = "\n".join(" ".join(line.split()) for line in normalize_input(raw).splitlines()).strip()
    if len(text) < limits[0]:
        raise InvalidAnswer(f"{what}_too_short")
    if len(text) > limits[1]:
        raise InvalidAnswer(f"{what}_too_long")
    return text


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


async def _sent(session: AsyncSession, issue_id: int) -> CouncilIssue:
    """An issue that has been sent (drafts are their writer's alone)."""
    issue = await session.get(CouncilIssue, issue_id)
    if issue is None or issue.status == DRAFT:
        raise NotFound("issue")
    return issue


async def view(session: AsyncSession, issue_id: int, viewer_id: int) -> IssueView:
    """A sent issue as `viewer_id` sees it."""
    issue = await _sent(session, issue_id)
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


async def with_counts(session: AsyncSession, issues: list[CouncilIssue]) -> list[tuple[CouncilIssue, int]]:
    """Each issue with its number of supporters."""
    counts = await _counts(session, [i.id for i in issues])
    return [(i, counts.get(i.id, 0)) for i in issues]


async def open_issues(
    session: AsyncSession, *, offset: int = 0, limit: int = 5, association_ids: Collection[int] | None = None
) -> tuple[list[tuple[CouncilIssue, int]], int]:
    """Open issues, most supported first, then newest; with the total count (for paging)."""
    query = select(CouncilIssue).where(CouncilIssue.status.in_(OPEN_STATUSES))
    if association_ids is not None:
        query = query.where(CouncilIssue.association_id.in_(list(association_ids) or [-1]))
    counted = await with_counts(session, list(await session.scalars(query)))
    ordered = sorted(counted, key=lambda pair: (-pair[1], -pair[0].id))
    return ordered[max(0, offset) : max(0, offset) + limit], len(ordered)


async def staff_issues(
    session: AsyncSession, scope: StaffScope, *, offset: int = 0, limit: int = 10
) -> tuple[list[tuple[CouncilIssue, int]], int]:
    """The open issues a staff member triages: all for chamber staff, else their associations'."""
    covered = None if scope.covers(None) else scope.association_ids
    return await open_issues(session, offset=offset, limit=limit, association_ids=covered)


async def by_status(
    session: AsyncSession, scope: StaffScope, status: str, *, limit: int = 50
) -> tuple[list[tuple[CouncilIssue, int]], dict[str, int]]:
    """Sent issues a staff member follows in one status, newest first, with their supporters; and how
    many there are in each status (the dashboard's tabs)."""
    covered = [CouncilIssue.status != DRAFT]
    if not scope.covers(None):
        covered.append(CouncilIssue.association_id.in_(scope.association_ids or {-1}))
    counts = {
        row_status: int(n)
        for row_status, n in await session.execute(
            select(CouncilIssue.status, func.count()).where(*covered).group_by(CouncilIssue.status)
        )
    }
    issues = await session.scalars(
        select(CouncilIssue)
        .where(*covered, CouncilIssue.status == status)
        .order_by(CouncilIssue.submitted_at.desc(), CouncilIssue.id.desc())
        .limit(limit)
    )
    return await with_counts(session, list(issues)), counts


async def mine(session: AsyncSession, user_id: int) -> list[tuple[CouncilIssue, int]]:
    """The member's sent issues, newest first, with their support counts."""
    issues = await session.scalars(
        select(CouncilIssue)
        .where(CouncilIssue.user_id == user_id, CouncilIssue.status != DRAFT)
        .order_by(CouncilIssue.id.desc())
        .limit(20)
    )
    return await with_counts(session, list(issues))


# ---------------------------------------------------------------------------------------- support


async def support(session: AsyncSession, issue_id: int, user_id: int) -> IssueView:
    """Support an open issue once; returns the issue as the supporter now sees it. Raises for one's
    own issue (`own`), a second time (`already`) or a closed one (WrongStatus)."""
    issue = await _sent(session, issue_id)
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
    return await view(session, issue_id, user_id)


# ---------------------------------------------------------------------------------------- staff


def _may_see(scope: StaffScope, issue: CouncilIssue) -> bool:
    return scope.covers(None) or (issue.association_id is not None and scope.covers(issue.association_id))


def _chamber_only(scope: StaffScope) -> None:
    if not scope.covers(None):
        raise NotAllowed("chamber_only")


async def for_staff(session: AsyncSession, scope: StaffScope, issue_id: int) -> CouncilIssue:
    """An issue this staff member may act on: chamber staff any, association staff their own."""
    issue = await _sent(session, issue_id)
    if not _may_see(scope, issue):
        raise NotAllowed("not_covered")
    return issue


async def staff_view(session: AsyncSession, scope: StaffScope, issue_id: int) -> IssueView:
    """An issue as a staff member who may act on it sees it."""
    await for_staff(session, scope, issue_id)
    return await view(session, issue_id, scope.user_id)


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
    _chamber_only(scope)
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    if issue.status == ON_AGENDA:
        raise WrongStatus("status", status=issue.status)
    issue.status = ON_AGENDA
    await session.flush()
    return issue


async def assignable(session: AsyncSession, scope: StaffScope, issue_id: int) -> list[Association]:
    """The associations an issue can be handed to, in Persian alphabetical order (chamber staff only)."""
    _chamber_only(scope)
    _open(await for_staff(session, scope, issue_id))
    found = list(await session.scalars(select(Association)))
    return sorted(found, key=lambda a: (collation_key(a.name), a.id))


async def assign(
    session: AsyncSession, scope: StaffScope, issue_id: int, association_id: int
) -> CouncilIssue:
    """Hand the issue to an association to follow up (chamber staff only); it is then under review."""
    _chamber_only(scope)
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    if await session.get(Association, association_id) is None:
        raise NotFound("association")
    issue.association_id = association_id
    if issue.status == RECEIVED:
        issue.status = UNDER_REVIEW
    await session.flush()
    return issue


async def supporter_ids(session: AsyncSession, issue_id: int) -> list[int]:
    """Who supports the issue, in the order they joined."""
    rows = await session.scalars(
        select(CouncilSupport.user_id).where(CouncilSupport.issue_id == issue_id).order_by(CouncilSupport.id)
    )
    return list(rows)


async def merge_candidates(session: AsyncSession, scope: StaffScope, issue_id: int) -> list[CouncilIssue]:
    """Other open issues this one may duplicate: same topic first, then the most similar text
    (chamber staff only)."""
    _chamber_only(scope)
    issue = await for_staff(session, scope, issue_id)
    _open(issue)
    others = await session.scalars(
        select(CouncilIssue).where(CouncilIssue.status.in_(OPEN_STATUSES), CouncilIssue.id != issue_id)
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
    """Merge a duplicate into `target`: its supporters (and its raiser) now support the target,
    no one twice. Returns the merged issue (its `merged_into_id` is the target)."""
    _chamber_only(scope)
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
    return issue


# ---------------------------------------------------------------------------------------- answering


def clean_answer(raw: str) -> str:
    """The council's answer, as staff type it."""
    return clean_text(raw, ANSWER_LIMITS, "answer")


class AnswerDrafts(DraftStore[CouncilAnswerDraft]):
    """The answer a staff member is typing: one at a time, for the issue they pressed «answer» on."""

    async def current(self, session: AsyncSession, actor: Actor) -> CouncilAnswerDraft | None:
        return await session.get(CouncilAnswerDraft, actor.user_id)

    async def open(
        self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]
    ) -> CouncilAnswerDraft:
        """Answer `issue_id` (an open issue the staff member covers); replaces an earlier one."""
        issue = await for_staff(session, actor.scope, int(target["issue_id"]))
        _open(issue)
        draft = await session.get(CouncilAnswerDraft, actor.user_id)
        if draft is None:
            draft = CouncilAnswerDraft(staff_id=actor.user_id, issue_id=issue.id)
            session.add(draft)
        draft.issue_id, draft.answer, draft.form_field = issue.id, None, None
        await session.flush()
        return draft


ANSWERS = AnswerDrafts()


@dataclass(frozen=True)
class Answered:
    """An issue just answered, with who gets the answer."""

    issue: CouncilIssue
    supporters: list[int]  # reachable supporters other than the raiser (they get it through the outbox)


async def answer(session: AsyncSession, draft: CouncilAnswerDraft, actor: Actor) -> Answered:
    """Record the typed answer; the issue becomes `answered` (the first answer wins) and the draft goes."""
    issue = await for_staff(session, actor.scope, draft.issue_id)
    _open(issue)
    result = await session.execute(
        update(CouncilIssue)
        .where(CouncilIssue.id == issue.id, CouncilIssue.status.in_(OPEN_STATUSES))
        .values(status=ANSWERED, answer=draft.answer, answered_by=actor.user_id, answered_at=_utcnow())
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise WrongStatus("closed", status=ANSWERED)
    await session.delete(draft)
    await session.refresh(issue)
    supporters = [u for u in await supporter_ids(session, issue.id) if u != issue.user_id]
    return Answered(issue, await reachable(session, supporters))


async def queue_answer_for_supporters(
    session: AsyncSession, answered: Answered, text: str, staff_id: int
) -> Broadcast | None:
    """The answer to every supporter, through the outbox (paced; once, by its dedupe key)."""
    if not answered.supporters:
        return None
    issue_id = answered.issue.id
    return await create_broadcast(
        session,
        kind="council",
        text=text,
        recipients=answered.supporters,
        created_by=staff_id,
        audience=f"council:{issue_id}:supporters",
        dedupe_key=f"council:{issue_id}:answer",
    )
