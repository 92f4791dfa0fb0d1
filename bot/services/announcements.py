"""Announcements: a message staff write, with an optional photo or file, for an audience of the
registry (bot/services/audiences.py) within their scope. The draft is a broadcast row in `draft`
status (the sender ignores it); sending resolves the audience again and queues one delivery each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audiences, outbox
from bot.services.actor import Actor
from bot.services.audiences import AudienceKind
from bot.services.composing import ComposedStore, clean_body, media_of
from bot.services.errors import DomainError, InvalidAnswer
from bot.services.staff import StaffScope
from db.models import Broadcast
from db.models.outbox import PENDING

__all__ = ["AudienceKind", "Broadcast"]

DRAFT = "draft"  # an announcement still being written: no deliveries, the sender ignores it
ANNOUNCEMENT = "announcement"
TEXT_LIMIT = 3800
ALL = "all"  # the target of an "optional" kind meaning every association
TARGETS = ("target", "course")  # the form's fields that choose what the audience kind is aimed at


def clean_text(html_text: str) -> str:
    """The message, as the HTML of the author's Telegram formatting."""
    return clean_body(html_text, TEXT_LIMIT)


def kinds(scope: StaffScope) -> list[AudienceKind]:
    """The kinds of audience this staff member may choose."""
    return audiences.kinds_for(scope)


def kind_of(draft: Broadcast) -> AudienceKind | None:
    """The kind of audience chosen so far."""
    return audiences.REGISTRY.get(draft.audience.partition(":")[0])


def asks_association(draft: Broadcast) -> bool:
    """Whether an association is asked for after the kind."""
    kind = kind_of(draft)
    return kind is not None and kind.takes_target and kind.targets is None


def asks_course(draft: Broadcast) -> bool:
    """Whether something else (a course) is asked for after the kind."""
    kind = kind_of(draft)
    return kind is not None and kind.targets is not None


async def targets(session: AsyncSession, draft: Broadcast, scope: StaffScope) -> list[tuple[str, str]]:
    """What this staff member may choose for the kind chosen: (key, name), associations in Persian
    order (courses by date), after "every association" (key ALL) where the kind allows it."""
    kind = kind_of(draft)
    if kind is None:
        return []
    found = [(str(i), label) for i, label in await audiences.targets_for(session, scope, kind)]
    if kind.association == "optional" and scope.covers(None):
        found.insert(0, (ALL, ""))
    return found


def chosen(draft: Broadcast) -> audiences.Audience:
    """The audience of a draft (its target "all" or not yet chosen: none)."""
    kind, _, target = draft.audience.partition(":")
    return audiences.Audience(kind, int(target) if target.isdecimal() else None)


class AnnouncementStore(ComposedStore[Broadcast]):
    """The text and attachment columns, then the audience: `kind`, then its `target` (an association)
    or `course`, both kept in `audience` (`members:12`, `everyone`; `members:` while the association
    is still to be chosen)."""

    async def current(self, session: AsyncSession, actor: Actor) -> Broadcast | None:
        return await session.scalar(
            select(Broadcast)
            .where(Broadcast.created_by == actor.user_id, Broadcast.status == DRAFT)
            .order_by(Broadcast.id.desc())
            .limit(1)
        )

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> Broadcast:
        draft = await self.current(session, actor)
        if draft is None:
            draft = Broadcast(kind=ANNOUNCEMENT, status=DRAFT, created_by=actor.user_id, text="", audience="")
            session.add(draft)
            await session.flush()
        return draft

    def value(self, draft: Broadcast, field: str) -> object | None:
        kind, _, target = draft.audience.partition(":")
        if field == "kind":
            return kind or None
        if field in TARGETS:
            return target or None
        return super().value(draft, field)

    async def save(
        self, session: AsyncSession, draft: Broadcast, field: str, value: object, actor: Actor
    ) -> None:
        if field == "kind":
            kind = audiences.REGISTRY.get(str(value))
            if kind is None or kind not in kinds(actor.scope):
                raise InvalidAnswer("not_your_association")
            draft.audience = kind.key + (":" if kind.takes_target else "")
        elif field in TARGETS:
            kind_key, key = draft.audience.partition(":")[0], str(value)
            if key != ALL and not key.isdecimal():
                raise InvalidAnswer("choice")
            await audiences.check(
                session, actor.scope, audiences.Audience(kind_key, None if key == ALL else int(key))
            )
            draft.audience = f"{kind_key}:{key}"
        else:
            await super().save(session, draft, field, value, actor)

    async def extras(
        self, session: AsyncSession, draft: Broadcast, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        if field is not None:
            return {}
        audience = chosen(draft)
        try:
            count = len(await audiences.recipients(session, actor.scope, audience))
        except DomainError:
            count = 0
        return {"count": count, "target": await audiences.target_name(session, audience)}


STORE = AnnouncementStore()


@dataclass(frozen=True)
class Queued:
    """An announcement on its way, and to how many people."""

    broadcast: Broadcast
    recipients: int


async def send(session: AsyncSession, draft: Broadcast, actor: Actor) -> Queued:
    """Queue a complete draft: its audience is resolved again now (it may have changed) and each
    reachable person gets one delivery; nobody to reach: refused (DomainError "nobody")."""
    if not draft.text or not draft.audience or draft.audience.endswith(":"):
        raise InvalidAnswer("incomplete")
    audience = chosen(draft)
    recipients = await audiences.recipients(session, actor.scope, audience)
    if not recipients:
        raise DomainError("nobody")
    draft.audience = audience.spec
    draft.association_id = await audiences.owner_of(session, audience)
    draft.media_kind, draft.media_file_id = media_of(draft)
    draft.status = PENDING
    draft.created_at = datetime.now(UTC)
    await outbox.deliver_to(session, draft, recipients)
    return Queued(draft, len(recipients))
