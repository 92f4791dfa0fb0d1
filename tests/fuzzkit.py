"""Tools for the reliability tests: walk every registered handler (forms and routers included),
snapshot the whole database and compare snapshots, and the world the forged ids refer to.

The recipes that drive a real user into each question of each form are in tests/form_recipes.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from telegram.ext import BaseHandler, ConversationHandler

from bot.context import BotApplication
from bot.formatting import fa_digits
from bot.forms.conversation import FormConversation, FormHandler
from bot.kit.callbacks import Router, routers_of
from db.models import Base, ConversationState, Course, utcnow
from db.models.courses import FINISHED
from fakeapi.simulator import Simulator
from tests.factories import add_association, add_course, add_registration, add_staff
from tests.membership_support import submitted

# ---------------------------------------------------------------------------------------- handlers


@dataclass(frozen=True)
class Routed:
    """A button's callback behind a router: `data` is its callback data prefix (`prefix:action`)."""

    callback: Any
    data: str
    router: Router


@dataclass(frozen=True)
class Found:
    handler: BaseHandler[Any, Any, Any] | Routed
    where: str  # "group 0", or "<conversation>/entry", "<conversation>/<state>", "<conversation>/fallback"


def walk(app: BotApplication) -> list[Found]:
    """Every registered handler, including the entry points, states and fallbacks of conversations,
    and every button callback behind a router (the router's own dispatch is not a handler of its own)."""

    def inner(handlers: list[BaseHandler[Any, Any, Any]], where: str) -> Iterator[Found]:
        for handler in handlers:
            routers = routers_of(handler)
            if routers:
                for router in routers:
                    for data, callback in router.callbacks():
                        yield Found(Routed(callback, data, router), where)
                continue
            yield Found(handler, where)
            if isinstance(handler, ConversationHandler):
                yield from inner(list(handler.entry_points), f"{handler.name}/entry")
                for state, state_handlers in handler.states.items():
                    yield from inner(list(state_handlers), f"{handler.name}/{state}")
                yield from inner(list(handler.fallbacks), f"{handler.name}/fallback")

    return [
        found
        for group, handlers in sorted(app.handlers.items())
        for found in inner(handlers, f"group {group}")
    ]


def conversations(app: BotApplication) -> list[ConversationHandler[Any]]:
    return [f.handler for f in walk(app) if isinstance(f.handler, ConversationHandler)]


def forms(app: BotApplication) -> dict[str, FormConversation]:
    """Every registered form by its name (the form engine's conversations)."""
    return {c.form_ui.form.name: c.form_ui for c in conversations(app) if isinstance(c, FormHandler)}


def all_states(app: BotApplication) -> dict[str, str]:
    """state -> conversation name, for every state of every registered conversation."""
    return {str(state): str(c.name) for c in conversations(app) for state in c.states}


async def state_of(app: BotApplication, name: str, user_id: int, chat_id: int | None = None) -> object | None:
    """The stored state of `user_id` in conversation `name` (None when not in it)."""
    key = json.dumps([chat_id if chat_id is not None else user_id, user_id], separators=(",", ":"))
    async with app.bot_data.sessionmaker() as session:
        raw = await session.scalar(
            select(ConversationState.state).where(
                ConversationState.name == name, ConversationState.key == key
            )
        )
    return json.loads(raw) if raw is not None else None


# ---------------------------------------------------------------------------------------- snapshots

# Columns that move on their own (presence, timestamps of a write that changed nothing else).
VOLATILE = {"last_seen", "updated_at"}
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


async def snapshot(
    app: BotApplication,
    skip: frozenset[str] = frozenset({"conversation_states", "processed_updates", "inbox"}),
) -> Rows:
    """Every row of every table (keyed by primary key), without volatile columns."""
    result: Rows = {}
    async with app.bot_data.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            keys = [c.name for c in table.primary_key.columns]
            rows = (await session.execute(select(table))).mappings().all()
            result[table.name] = {
                tuple(row[k] for k in keys): {k: v for k, v in row.items() if k not in VOLATILE}
                for row in rows
            }
    return result


def checksum(rows: Rows) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the contents, per table."""
    digest = {}
    for table, content in rows.items():
        body = json.dumps(sorted(repr(sorted(row.items())) for row in content.values()), ensure_ascii=False)
        digest[table] = (len(content), hashlib.sha256(body.encode()).hexdigest()[:16])
    return digest


@dataclass
class Allowed:
    """What one step may change: columns per table ("*" = any column), tables that may gain rows."""

    columns: dict[str, set[str]] = field(default_factory=dict)
    new_rows: set[str] = field(default_factory=set)
    json_keys: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # JSON columns: keys allowed
    gone_rows: set[str] = field(default_factory=set)  # tables whose rows may go (a finished draft)


def differences(before: Rows, after: Rows, allowed: Allowed | None = None) -> list[str]:
    """Human-readable changes between two snapshots that `allowed` does not permit."""
    allowed = allowed or Allowed()
    problems: list[str] = []
    for table, old_rows in before.items():
        new_rows = after.get(table, {})
        for key in old_rows.keys() - new_rows.keys():
            if table not in allowed.gone_rows:
                problems.append(f"{table}{key} was deleted")
        for key in new_rows.keys() - old_rows.keys():
            if table not in allowed.new_rows:
                problems.append(f"{table}{key} was added: {new_rows[key]}")
        free = allowed.columns.get(table, set())
        for key in old_rows.keys() & new_rows.keys():
            old, new = old_rows[key], new_rows[key]
            for column in old:
                if old[column] == new[column] or "*" in free:
                    continue
                if column in free:
                    continue
                keys = allowed.json_keys.get((table, column))
                if keys is not None and _json_same_except(old[column], new[column], keys):
                    continue
                problems.append(f"{table}{key}.{column}: {old[column]!r} -> {new[column]!r}")
    return problems


def _json_same_except(old: Any, new: Any, keys: set[str]) -> bool:
    try:
        a, b = json.loads(old or "{}"), json.loads(new or "{}")
    except (TypeError, ValueError):
        return False
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    return all(a.get(k) == b.get(k) for k in (a.keys() | b.keys()) - keys)


# ---------------------------------------------------------------------------------------- the world

_user_ids = itertools.count(7_000_001)


def fresh_id() -> int:
    """A user id no test has used yet."""
    return next(_user_ids)


def future_jalali(days: int = 30, clock: str = "17:30") -> str:
    import jdatetime

    day = jdatetime.date.fromgregorian(date=(utcnow() + timedelta(days=days)).date())
    return fa_digits(f"{day.year}/{day.month}/{day.day} {clock}")


@dataclass
class World:
    """Objects the recipes and forged buttons refer to, made once per test."""

    sim: Simulator
    app: BotApplication
    carpet: int = 0  # an association
    copper: int = 0  # another association
    course: int = 0  # an open course of `carpet`
    other_course: int = 0  # an open course of `copper`
    finished: int = 0  # a finished course of `carpet`
    application: int = 0  # a submitted application to `carpet`
    other_application: int = 0  # a submitted application to `copper`
    pending: int = 0  # the newest copy of `application` still waiting for a decision
    issue: int = 0  # the newest council issue waiting for an answer

    @classmethod
    async def make(cls, sim: Simulator, app: BotApplication, *, applications: bool = True) -> World:
        world = cls(sim, app)
        world.carpet = await add_association(app, "انجمن صنفی فرش کرمان")
        world.copper = await add_association(app, "انجمن صنایع مس کرمان")
        world.course = await add_course(app, title="کارگاه بسته‌بندی", association_id=world.carpet)
        world.other_course = await add_course(app, title="کارگاه مسگری", association_id=world.copper)
        world.finished = await add_course(
            app,
            title="دورهٔ برگزارشده",
            association_id=world.carpet,
            starts_in=timedelta(days=-3),
            status=FINISHED,
        )
        if applications:
            applicant = sim.user(fresh_id(), first_name="رضا")
            await submitted(applicant, world.carpet)
            world.application = await _last_application(app, applicant.id)
            other = sim.user(fresh_id(), first_name="مریم")
            await submitted(other, world.copper, nid="0012345679")
            world.other_application = await _last_application(app, other.id)
        return world

    def ids(self) -> dict[str, int]:
        return {
            "carpet": self.carpet,
            "copper": self.copper,
            "course": self.course,
            "other_course": self.other_course,
            "finished": self.finished,
            "application": self.application,
            "other_application": self.other_application,
            "pending": self.pending,
            "issue": self.issue,
        }

    async def copy_application(self) -> int:
        """Another applicant's copy of `application`, submitted and waiting (each decision uses one up)."""
        from db.models import Application

        async with self.app.bot_data.sessionmaker() as session, session.begin():
            original = await session.get(Application, self.application)
            assert original is not None
            skip = {"id", "user_id", "tracking_code", "created_at", "updated_at"}
            values = {
                c.key: getattr(original, c.key) for c in Application.__table__.columns if c.key not in skip
            }
            copy = Application(**values, user_id=fresh_id(), tracking_code=f"C{fresh_id()}")
            # Oldest first in the review list, so it is on its first page.
            copy.submitted_at = (original.submitted_at or utcnow()) - timedelta(days=1 + self.pending)
            session.add(copy)
            await session.flush()
            self.pending = copy.id
        return self.pending

    async def staff(self, user_id: int, association_id: int | None = None, role: str = "staff") -> None:
        await add_staff(self.app, user_id, association_id, role=role)

    async def attended(self, user_id: int) -> None:
        """`user_id` attended the finished course (so they may rate it)."""
        await add_registration(self.app, self.finished, user_id, attended=True)


async def _last_application(app: BotApplication, user_id: int) -> int:
    from db.models import Application

    async with app.bot_data.sessionmaker() as session:
        found = await session.scalar(select(Application.id).where(Application.user_id == user_id))
    assert found is not None
    return int(found)


async def course_draft_of(app: BotApplication, user_id: int) -> int:
    async with app.bot_data.sessionmaker() as session:
        found = await session.scalar(
            select(Course.id).where(Course.created_by == user_id).order_by(Course.id.desc())
        )
    assert found is not None
    return int(found)
