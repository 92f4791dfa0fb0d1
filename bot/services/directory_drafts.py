"""Staff work in progress on the directory, one `directory_drafts` row each (see db.models.directory):
the drafts of the directory's forms (their answers as JSON in `data`, the question being answered in
`form_field`) and a CSV file waiting for staff to confirm its import (the file's text in `data`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.actor import Actor
from bot.services.drafts import DraftStore
from bot.services.errors import NotFound
from db.models import DirectoryDraft

ADD, EDIT, ASSIGN, IMPORT, RATE, SEARCH = "add", "edit", "assign", "import", "rate", "search"

__all__ = ["ADD", "ASSIGN", "EDIT", "IMPORT", "RATE", "SEARCH", "DirectoryDraft", "DraftRows"]


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


async def latest(session: AsyncSession, user_id: int, kind: str) -> DirectoryDraft | None:
    """The user's step of this kind, if any."""
    return await session.scalar(
        select(DirectoryDraft)
        .where(DirectoryDraft.user_id == user_id, DirectoryDraft.kind == kind)
        .order_by(DirectoryDraft.id.desc())
        .limit(1)
    )


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


def answers(draft: DirectoryDraft) -> dict[str, Any]:
    """A form draft's answers so far."""
    loaded = json.loads(draft.data or "{}")
    return loaded if isinstance(loaded, dict) else {}


def put(draft: DirectoryDraft, values: Mapping[str, Any], drop: tuple[str, ...] = ()) -> None:
    """Store answers on a form draft (JSON in `data`), forgetting those named in `drop`."""
    kept = {name: value for name, value in answers(draft).items() if name not in drop}
    draft.data = json.dumps({**kept, **values}, ensure_ascii=False)


class DraftRows(DraftStore[DirectoryDraft]):
    """A form's drafts as `directory_drafts` rows of one kind: the answers by field name in `data`.
    Subclasses check who may open one (`check`) and add what their screens need (`extras`)."""

    def __init__(self, kind: str, *, resume: bool = False) -> None:
        self.kind = kind
        self.resume = resume  # opening takes up the user's unfinished draft instead of starting anew

    async def current(self, session: AsyncSession, actor: Actor) -> DirectoryDraft | None:
        return await latest(session, actor.user_id, self.kind)

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> DirectoryDraft:
        await self.check(session, actor, target)
        unfinished = await self.current(session, actor) if self.resume else None
        if unfinished is not None:
            return unfinished
        association_id = target.get("association_id")
        return await start(
            session,
            actor.user_id,
            self.kind,
            association_id=int(association_id) if association_id is not None else None,
            field=target.get("field"),
        )

    async def check(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> None:
        """Refuse (DomainError) a draft the actor may not open."""

    def value(self, draft: DirectoryDraft, field: str) -> object | None:
        return answers(draft).get(field)

    async def save(
        self, session: AsyncSession, draft: DirectoryDraft, field: str, value: object, actor: Actor
    ) -> None:
        put(draft, {field: value})
