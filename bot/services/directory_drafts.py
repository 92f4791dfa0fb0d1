"""Staff steps in progress on the directory, one row each (see db.models.directory)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import NotFound
from db.models import DirectoryDraft

ADD, EDIT, ASSIGN, IMPORT = "add", "edit", "assign", "import"


async def start(
    session: AsyncSession,
    user_id: int,
    kind: str,
    *,
    association_id: int | None = None,
    field: str | None = None,
    data: str = "",
) -> DirectoryDraft:
    """Begin a step, replacing the user's earlier unfinished step of the same kind."""
    await session.execute(
        delete(DirectoryDraft).where(DirectoryDraft.user_id == user_id, DirectoryDraft.kind == kind)
    )
    draft = DirectoryDraft(user_id=user_id, kind=kind, association_id=association_id, field=field, data=data)
    session.add(draft)
    await session.flush()
    return draft


async def current(session: AsyncSession, user_id: int, kind: str) -> DirectoryDraft:
    """The user's step of this kind (NotFound when there is none, e.g. it was finished elsewhere)."""
    draft = await session.scalar(
        select(DirectoryDraft)
        .where(DirectoryDraft.user_id == user_id, DirectoryDraft.kind == kind)
        .order_by(DirectoryDraft.id.desc())
        .limit(1)
    )
    if draft is None:
        raise NotFound("no_draft")
    return draft


async def by_id(session: AsyncSession, user_id: int, draft_id: int) -> DirectoryDraft:
    """A draft of this user by its id (another user's draft is NotFound)."""
    draft = await session.get(DirectoryDraft, draft_id)
    if draft is None or draft.user_id != user_id:
        raise NotFound("no_draft")
    return draft


async def finish(session: AsyncSession, draft: DirectoryDraft) -> None:
    """The step is done (or cancelled)."""
    await session.delete(draft)
    await session.flush()
