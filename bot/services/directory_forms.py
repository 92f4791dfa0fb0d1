"""The directory's forms as use cases: where each draft lives, who may open it, what its answers must
be, and what submitting does. Staff: add an association (with the near-duplicate guard), edit one
field, assign an association's staff (admins). Everyone: the words of a search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import association_fields as fields
from bot.services import directory
from bot.services import directory_drafts as drafts
from bot.services import staff as staff_service
from bot.services.actor import Actor
from bot.services.directory_drafts import DirectoryDraft, DraftRows, answers
from bot.services.duplicates import near_duplicates
from bot.services.errors import DomainError, InvalidAnswer, NotAllowed
from bot.text import normalize_input

# The fields staff edit one at a time (status and the yes/no rules are buttons).
EDITABLE = (
    "name",
    "description",
    "category",
    "phone",
    "address",
    "channel",
    "min_experience_years",
    "yearly_fee_rials",
)
SEARCH_LIMIT = 100  # letters of a search that are used


def _covers(actor: Actor, association_id: int | None) -> None:
    if not actor.scope.covers(association_id):
        raise NotAllowed("not_yours")


def answered(draft: DirectoryDraft, name: str) -> bool:
    """Whether the draft holds an answer to `name` (None, e.g. a removed phone, is an answer)."""
    return name in answers(draft)


class _Rows(DraftRows):
    def is_answered(self, draft: DirectoryDraft, field: str) -> bool:
        return answered(draft, field)


# ---------------------------------------------------------------------------------------- add


def clean_description(raw: str) -> str:
    """A new association's short description (typed; the form's skip button leaves it empty)."""
    text = fields.clean("description", raw)
    if not text.strip():
        raise fields.InvalidField("too_short", field="description")
    return str(text)


def near_names(draft: DirectoryDraft) -> list[str]:
    """The existing associations whose names are close to the new one's (the guard asks first)."""
    return [str(name) for name in answers(draft).get("near", [])]


class AddStore(_Rows):
    """An association being added by chamber staff."""

    async def check(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> None:
        _covers(actor, None)

    def is_answered(self, draft: DirectoryDraft, field: str) -> bool:
        return answered(draft, field) and field != "near"

    async def save(
        self, session: AsyncSession, draft: DirectoryDraft, field: str, value: object, actor: Actor
    ) -> None:
        if field != "name":
            return await super().save(session, draft, field, value, actor)
        same = await directory.name_taken(session, str(value))
        if same is not None:
            raise InvalidAnswer("name_taken", name=same.name)
        near = [found.name for found in (await near_duplicates(session, str(value)))[:3]]
        drafts.put(
            draft, {"name": value, "near": near}, drop=("confirm",)
        )  # a new name: the guard asks again


async def add(session: AsyncSession, draft: DirectoryDraft, actor: Actor) -> directory.Card:
    """Add the association (the guard's question was answered) and forget the draft."""
    _covers(actor, None)
    values = answers(draft)
    association = await directory.create(
        session, values.get("name", ""), values.get("description", ""), values.get("status", "")
    )
    await drafts.finish(session, draft)
    await session.flush()
    return await directory.card(session, association.id, actor.user_id, actor.admin_ids)


# ---------------------------------------------------------------------------------------- edit one field


def clean_edit(name: str) -> Any:
    """The cleaner of one editable field (for the form's declaration)."""

    def clean(raw: str) -> Any:
        return fields.clean_typed(name, raw)

    return clean


def editing(name: str) -> Any:
    """The form's condition: this field is the one being edited."""

    def applies(draft: DirectoryDraft) -> bool:
        return draft.field == name

    return applies


class EditStore(_Rows):
    """One field of an association being changed by its staff."""

    async def check(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> None:
        if target.get("field") not in EDITABLE:
            raise DomainError("unknown_field")
        association_id = int(target["association_id"])
        await directory.get(session, association_id)
        _covers(actor, association_id)

    async def save(
        self, session: AsyncSession, draft: DirectoryDraft, field: str, value: object, actor: Actor
    ) -> None:
        if field == "name" and await directory.name_taken(session, str(value), draft.association_id):
            raise InvalidAnswer("name_taken", name=str(value))
        await super().save(session, draft, field, value, actor)

    async def extras(
        self, session: AsyncSession, draft: DirectoryDraft, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        if draft.association_id is None or draft.field is None:
            return {}
        association = await directory.get(session, draft.association_id)
        return {"association": association.name, "now": getattr(association, draft.field)}


async def edit(session: AsyncSession, draft: DirectoryDraft, actor: Actor) -> directory.Card:
    """Store the new value and forget the draft."""
    assert draft.association_id is not None and draft.field is not None
    _covers(actor, draft.association_id)
    await directory.set_field(session, draft.association_id, draft.field, answers(draft)[draft.field])
    await drafts.finish(session, draft)
    return await directory.card(session, draft.association_id, actor.user_id, actor.admin_ids)


# ---------------------------------------------------------------------------------------- assign staff


@dataclass(frozen=True)
class Assigned:
    """A user made staff of one association."""

    telegram_id: int
    association_id: int
    association: str


class AssignStore(_Rows):
    """The Telegram id of a person an admin makes staff of one association."""

    async def check(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> None:
        if not actor.scope.is_admin:
            raise NotAllowed("not_admin")
        await directory.get(session, int(target["association_id"]))


async def assign(session: AsyncSession, draft: DirectoryDraft, actor: Actor) -> Assigned:
    """Grant the role and forget the draft."""
    assert draft.association_id is not None
    telegram_id = int(answers(draft)["telegram_id"])
    await staff_service.add_staff(session, actor.scope, telegram_id, association_id=draft.association_id)
    association = await directory.get(session, draft.association_id)
    await drafts.finish(session, draft)
    return Assigned(telegram_id, association.id, association.name)


# ---------------------------------------------------------------------------------------- search


def clean_words(raw: str) -> str:
    """Search words: the first hundred letters."""
    words = " ".join(normalize_input(raw).split())[:SEARCH_LIMIT]
    if not words:
        raise InvalidAnswer("text_expected")
    return words


@dataclass(frozen=True)
class Found:
    """A search and what it found, closest first."""

    words: str
    associations: list[directory.Association]


async def search(session: AsyncSession, draft: DirectoryDraft, actor: Actor) -> Found:
    """Search for the typed words and forget the draft."""
    words = str(answers(draft).get("words", ""))
    await drafts.finish(session, draft)
    return Found(words, await directory.search(session, words))


ADD = AddStore(drafts.ADD)
EDIT = EditStore(drafts.EDIT)
ASSIGN = AssignStore(drafts.ASSIGN)
SEARCH = _Rows(drafts.SEARCH)
