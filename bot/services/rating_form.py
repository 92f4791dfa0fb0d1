"""Scoring an association, as a short form for admins: the association (from a list), the rating
period, then each of the five indicators with its score (a short note may follow the number; an
indicator can be left as it is). The draft is a `directory_drafts` row of kind `rate`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import directory
from bot.services import directory_drafts as drafts
from bot.services.actor import Actor
from bot.services.directory_drafts import DirectoryDraft, DraftRows, answers
from bot.services.errors import InvalidAnswer, NotAllowed
from bot.services.numbers import whole_number
from bot.services.rating import (
    MAX_SCORE,
    NOTE_LIMIT,
    current_period,
    period_order,
    periods_of,
    record,
    scores_of,
)
from bot.text import normalize_input, truncate
from db.models.rating import INDICATORS

NAME_LIMIT = 48  # letters of an association's name on its button
_NOTE_START = " \t\u200c-–—:،,."


@dataclass(frozen=True)
class Entry:
    """One indicator's answer: its score and an optional note."""

    score: int
    note: str = ""


def clean_entry(raw: str) -> list[object]:
    """«۸۰» or «۸۰ جلسه‌های منظم هیئت‌مدیره»: a whole score 0–100, then an optional short note."""
    text = normalize_input(raw)
    number, _space, note = text.partition(" ")
    try:
        score = whole_number(number, limit=MAX_SCORE)
    except InvalidAnswer as exc:
        reason = "score_decimal" if exc.reason == "decimal" else "score"
        raise InvalidAnswer(reason, **exc.details) from None
    note = " ".join(note.lstrip(_NOTE_START).split())
    if len(note) > NOTE_LIMIT:
        raise InvalidAnswer("note")
    return [score, note]


def entry(value: object) -> Entry | None:
    """A stored answer as an Entry (None: the indicator is left as it is)."""
    if isinstance(value, list) and value and isinstance(value[0], int):
        return Entry(value[0], str(value[1]) if len(value) > 1 else "")
    return None


class RateStore(DraftRows):
    """Scores being recorded by an admin (an unfinished draft is taken up again)."""

    async def check(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> None:
        if not actor.scope.is_admin:
            raise NotAllowed("not_admin")

    def is_answered(self, draft: DirectoryDraft, field: str) -> bool:
        return field in answers(draft)

    async def save(
        self, session: AsyncSession, draft: DirectoryDraft, field: str, value: object, actor: Actor
    ) -> None:
        if field == "association":
            await directory.get(session, int(str(value)))
        await super().save(session, draft, field, value, actor)

    async def extras(
        self, session: AsyncSession, draft: DirectoryDraft, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        """The association's name, and the scores already recorded for the chosen period."""
        chosen = answers(draft)
        if "association" not in chosen:
            return {}
        association_id = int(chosen["association"])
        found: dict[str, object] = {"association": (await directory.get(session, association_id)).name}
        if "period" in chosen:
            recorded = await scores_of(session, association_id, str(chosen["period"]))
            found |= {f"now:{ind}": Entry(row.score, row.note) for ind, row in recorded.items()}
        return found


STORE = RateStore(drafts.RATE, resume=True)


async def associations(session: AsyncSession, draft: Any, actor: Actor) -> list[tuple[str, str]]:
    """Every association as (id, name on its button), in Persian alphabetical order."""
    return [(str(a.id), truncate(a.name, NAME_LIMIT)) for a in await directory.in_order(session)]


async def periods(session: AsyncSession, draft: Any, actor: Actor) -> list[str]:
    """The periods to choose from, newest first: this year and last (each whole, or a half), and
    any earlier period the association already has scores for."""
    year = int(current_period(actor.tz))
    offered = {f"{y}{half}" for y in (year, year - 1) for half in ("", "-H1", "-H2")}
    association = answers(draft).get("association") if isinstance(draft, DirectoryDraft) else None
    if association is not None:
        offered |= set(await periods_of(session, int(association)))
    return sorted(offered, key=period_order, reverse=True)


@dataclass(frozen=True)
class Recorded:
    """Scores recorded for one association and period."""

    association_id: int
    association: str
    period: str
    indicators: Sequence[str]


async def submit(session: AsyncSession, draft: DirectoryDraft, actor: Actor) -> Recorded:
    """Record every indicator that has a score (leaving the others as they are); forget the draft."""
    if not actor.scope.is_admin:
        raise NotAllowed("not_admin")
    chosen = answers(draft)
    association_id, period = int(chosen["association"]), str(chosen["period"])
    scored = [(ind, found) for ind in INDICATORS if (found := entry(chosen.get(ind))) is not None]
    if not scored:
        raise InvalidAnswer("no_scores")
    for indicator, given in scored:
        await record(session, actor.user_id, association_id, period, indicator, given.score, given.note)
    association = await directory.get(session, association_id)
    await drafts.finish(session, draft)
    return Recorded(association_id, association.name, period, [ind for ind, _given in scored])
