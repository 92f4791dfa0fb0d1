"""The member's issue form for the dialogue council: the draft is the issue row itself (status
`draft`), written at every answer; sending it makes it `received`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.actor import Actor
from bot.services.council import clean_text
from bot.services.drafts import DraftStore, FileRef
from bot.services.errors import InvalidAnswer
from db.models import CouncilIssue, Profile
from db.models import utcnow as _utcnow
from db.models.council import DRAFT, RECEIVED

DESCRIPTION_LIMITS = (15, 2000)
ATTACHMENT_LIMIT = 10 * 1024 * 1024
FIELDS = ("topic", "description", "attachment", "consent")
YES, NO = "yes", "no"


def clean_description(raw: str) -> str:
    """What the problem is, in the member's words."""
    return clean_text(raw, DESCRIPTION_LIMITS, "description")


async def draft_of(session: AsyncSession, user_id: int) -> CouncilIssue | None:
    """The member's issue still being written, if any."""
    return await session.scalar(
        select(CouncilIssue)
        .where(CouncilIssue.user_id == user_id, CouncilIssue.status == DRAFT)
        .order_by(CouncilIssue.id.desc())
        .limit(1)
    )


class IssueStore(DraftStore[CouncilIssue]):
    """The issue row is the draft: the attachment is stored as its kind and file id ("" for none),
    the consent as `show_name`, with the name to show taken from the profile, else Telegram."""

    async def current(self, session: AsyncSession, actor: Actor) -> CouncilIssue | None:
        return await draft_of(session, actor.user_id)

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> CouncilIssue:
        """The member's draft (kept, if they left one), or a new one."""
        issue = await draft_of(session, actor.user_id)
        if issue is None:
            issue = CouncilIssue(user_id=actor.user_id, status=DRAFT)
            session.add(issue)
            await session.flush()
        return issue

    def value(self, draft: CouncilIssue, field: str) -> object | None:
        if field == "attachment":
            return None if draft.attachment_file_id is None else draft.attachment_kind or ""
        if field == "consent":
            return None if draft.show_name is None else (YES if draft.show_name else NO)
        return getattr(draft, field, None)

    async def save(
        self, session: AsyncSession, draft: CouncilIssue, field: str, value: object, actor: Actor
    ) -> None:
        if field == "attachment":
            _attach(draft, value if isinstance(value, FileRef) else None)
        elif field == "consent":
            profile = await session.get(Profile, actor.user_id)
            draft.show_name = value == YES
            draft.raiser_name = (profile.full_name if profile and profile.full_name else actor.name)[:256]
        else:
            setattr(draft, field, value)


def _attach(issue: CouncilIssue, file: FileRef | None) -> None:
    """One photo or PDF, or none."""
    if file is not None:
        if file.kind == "document" and file.mime != "application/pdf":
            raise InvalidAnswer("file_type")
        if file.size is not None and file.size > ATTACHMENT_LIMIT:
            raise InvalidAnswer("attachment_too_big")
    issue.attachment_kind = file.kind if file is not None else None
    issue.attachment_file_id = file.file_id if file is not None else ""


STORE = IssueStore()


async def submit(session: AsyncSession, issue: CouncilIssue, actor: Actor) -> CouncilIssue:
    """Send the draft to the council: its status becomes `received`."""
    missing = next((f for f in FIELDS if not STORE.is_answered(issue, f)), None)
    if missing is not None:
        raise InvalidAnswer("incomplete", field=missing)
    issue.status = RECEIVED
    issue.submitted_at = _utcnow()
    await session.flush()
    return issue
