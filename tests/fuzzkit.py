"""Tools for the reliability tests: walk every registered handler, snapshot the whole database and
compare snapshots, and recipes that drive a real user (or staff member) into each conversation state.

A recipe only presses buttons the bot itself offers on the way and types valid answers; it ends by
checking (in `conversation_states`) that the user really is in the state it promised.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from telegram.ext import BaseHandler, ConversationHandler

from bot.context import BotApplication
from bot.formatting import fa_digits
from bot.kit.callbacks import routers_of
from db.models import Base, ConversationState, Course, utcnow
from db.models.courses import FINISHED
from fakeapi.simulator import Simulator, SimUser
from tests.factories import add_association, add_course, add_registration, add_staff
from tests.membership_support import submitted

# ---------------------------------------------------------------------------------------- handlers


@dataclass(frozen=True)
class Routed:
    """A button's callback behind a router: `data` is its callback data prefix (`prefix:action`)."""

    callback: Any
    data: str


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
                        yield Found(Routed(callback, data), where)
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
    app: BotApplication, skip: frozenset[str] = frozenset({"conversation_states", "processed_updates"})
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


# ---------------------------------------------------------------------------------------- recipes

Step = Callable[[World, SimUser], Awaitable[Any]]


@dataclass(frozen=True)
class Recipe:
    """How to reach one state, who gets there, and what an answer in that state may change."""

    steps: tuple[Step, ...]
    role: str | None = None  # "staff" (chamber-wide) or "admin"; None for an ordinary user
    allowed: Allowed = field(default_factory=Allowed)


def cmd(command: str, args: str = "") -> Step:
    async def run(world: World, user: SimUser) -> Any:
        return await user.command(command, args.format(**world.ids()))

    return run


def say(*texts: str) -> Step:
    async def run(world: World, user: SimUser) -> Any:
        for answer in texts:
            await user.send(answer)

    return run


def press(data: str) -> Step:
    """Press the button carrying `data`: it must be on one of the bot's messages to this user."""

    async def run(world: World, user: SimUser) -> Any:
        wanted = data.format(**world.ids())
        carried = {
            str(b.get("callback_data"))
            for m in user.messages
            for row in (m.reply_markup or {}).get("inline_keyboard", [])
            for b in row
        }
        assert wanted in carried, f"no button with {wanted!r}; the bot offered {sorted(carried)}"
        return await user.press_data(wanted)

    return run


def contact() -> Step:
    async def run(world: World, user: SimUser) -> Any:
        return await user.share_contact("989121234567", own=True)

    return run


def attended() -> Step:
    async def run(world: World, user: SimUser) -> Any:
        await world.attended(user.id)
        # The bot's own prompt after a course: the rating buttons (sent by the reminder job).
        return await user.press_data(f"courses:rate:{world.finished}:5")

    return run


def new_issue() -> Step:
    """A member's council issue, submitted and waiting for staff (each answer uses one up)."""

    async def run(world: World, user: SimUser) -> Any:
        from db.models.council import CouncilIssue

        async with world.app.bot_data.sessionmaker() as session, session.begin():
            issue = CouncilIssue(
                user_id=fresh_id(),
                status="received",
                topic="taxes",
                description="مالیات کسب‌وکار خانگی",
                show_name=False,
            )
            session.add(issue)
            await session.flush()
            world.issue = issue.id

    return run


def tap(data: str) -> Step:
    """Press a button by its data (a staff member's own button on a message they were shown)."""

    async def run(world: World, user: SimUser) -> Any:
        return await user.press_data(data.format(**world.ids()))

    return run


def new_application() -> Step:
    async def run(world: World, user: SimUser) -> Any:
        return await world.copy_application()

    return run


def edit_course(name: str) -> Step:
    async def run(world: World, user: SimUser) -> Any:
        course_id = await course_draft_of(world.app, user.id)
        return await press(f"cadm:edit:{course_id}:{name}")(world, user)

    return run


APPLY_ORDER = [
    ("applicant_type", press("apply:type:business_owner")),
    ("full_name", say("رضا احمدی")),
    ("national_id", say("0499370899")),
    ("mobile", contact()),
    ("business_name", say("فرش دستباف ماهان")),
    ("activity", say("بافت و فروش فرش دستباف")),
    ("city", say("کرمان")),
    ("experience_years", say("۵")),
    ("education", press("apply:edu:no_degree")),
    ("documents", press("apply:docs:done")),
]
APP_COLUMNS = {"applicant_type", "full_name", "national_id", "mobile", "business_name", "activity", "city"}
APP_COLUMNS |= {"experience_years", "education", "permit_number", "documents_done"}


def _apply_until(field_name: str) -> tuple[Step, ...]:
    steps: list[Step] = [cmd("/start", "apply_{carpet}")]
    for name, step in APPLY_ORDER:
        if name == field_name:
            break
        steps.append(step)
    return tuple(steps)


def _apply_allowed(*columns: str) -> Allowed:
    """An answer may set its own column (and the same profile field), plus the bookkeeping."""
    own = set(columns) | {"last_reason", "requested_fields"}
    return Allowed(
        columns={
            "applications": own,
            "profiles": set(columns) & {"full_name", "national_id", "mobile", "city"},
        },
        new_rows={"profiles", "application_documents", "application_events"},
    )


COURSE_ANSWERS = {
    "title": "کارگاه فروش برخط",
    "description": "آشنایی با فروش در شبکه‌های اجتماعی",
    "teacher": "مریم رضایی",
    "starts_at": future_jalali(),
    "ends_at": "۱۹:۳۰",
    "place": "کرمان، اتاق بازرگانی",
    "capacity": "۳۰",
}
COURSE_COLUMNS = {"title", "description", "teacher", "starts_at", "ends_at", "place", "online_url"}
COURSE_COLUMNS |= {"capacity", "members_only", "fee_rials", "members_answered", "fee_answered"}


def _course_until(name: str) -> tuple[Step, ...]:
    steps: list[Step] = [cmd("/managecourses"), press("cadm:new"), press("cadm:newfor:{carpet}")]
    for key, value in COURSE_ANSWERS.items():
        if key == name:
            return tuple(steps)
        steps.append(say(value))
    if name == "members_only":
        return tuple(steps)
    steps.append(press("cadm:members:0"))
    if name == "fee":
        return tuple(steps)
    steps.append(say("۰"))
    return tuple(steps)


OPEN_CARD = (cmd("/associations"), press("dir:page:all:0"), press("dir:open:{carpet}:all:0"))
COURSE_ALLOWED = Allowed(columns={"courses": COURSE_COLUMNS}, new_rows={"course_edits"})
NEWS_ALLOWED = Allowed(
    columns={"news_items": {"title", "text", "media_kind", "media_file_id", "scope_chosen"}}
)
ANNOUNCE_ALLOWED = Allowed(columns={"broadcasts": {"text", "media_kind", "media_file_id", "audience"}})
DRAFT_ALLOWED = Allowed(json_keys={("directory_drafts", "data"): {"name", "description", "status"}})


COUNCIL_TEXT = "مالیات بر ارزش افزوده برای کسب‌وکارهای خانگی سنگین است و راهنمایی لازم داریم"
# A member's council draft: every answer is stored on the draft issue row.
COUNCIL_ALLOWED = Allowed(columns={"council_issues": {"*"}}, new_rows={"council_issues"})


def _recipes() -> dict[str, Recipe]:
    recipes: dict[str, Recipe] = {
        "apply:choose": Recipe((cmd("/apply"),)),
        "apply:summary": Recipe(_apply_until("none")),
        "apply:permit_number": Recipe(
            (
                cmd("/start", "apply_{carpet}"),
                press("apply:type:home_business"),
                say("رضا احمدی", "0499370899"),
                contact(),
                say("فرش دستباف ماهان", "بافت و فروش فرش دستباف", "کرمان", "۵"),
                press("apply:edu:no_degree"),
            ),
            allowed=_apply_allowed("permit_number"),
        ),
        "profile:full_name": Recipe((cmd("/profile"),), allowed=_profile_allowed("full_name")),
        "profile:national_id": Recipe(
            (cmd("/profile"), say("رضا احمدی")), allowed=_profile_allowed("national_id")
        ),
        "profile:mobile": Recipe(
            (cmd("/profile"), say("رضا احمدی", "0499370899")), allowed=_profile_allowed("mobile")
        ),
        "profile:city": Recipe(
            (cmd("/profile"), say("رضا احمدی", "0499370899"), contact()), allowed=_profile_allowed("city")
        ),
        "profile:review": Recipe(
            (cmd("/profile"), say("رضا احمدی", "0499370899"), contact(), say("کرمان")),
        ),
        "directory:search": Recipe((cmd("/search"),)),
        "courses:comment": Recipe(
            (cmd("/start"), attended()),
            allowed=Allowed(columns={"course_registrations": {"comment"}}),
        ),
        "review:reason": Recipe(
            (
                new_application(),
                cmd("/review"),
                press("review:open:{pending}"),
                press("review:reject:{pending}"),
            ),
            role="staff",
            allowed=Allowed(
                columns={
                    "applications": {"status", "last_reason", "decided_at", "decided_by"},
                    "pending_decisions": {"*"},
                },
                new_rows={"application_events", "members", "broadcasts", "deliveries"},
                gone_rows={"pending_decisions"},
            ),
        ),
        "council:topic": Recipe((cmd("/council"), press("council:new")), allowed=COUNCIL_ALLOWED),
        "council:description": Recipe(
            (cmd("/council"), press("council:new"), press("council:topic:taxes")), allowed=COUNCIL_ALLOWED
        ),
        "council:attachment": Recipe(
            (cmd("/council"), press("council:new"), press("council:topic:taxes"), say(COUNCIL_TEXT)),
            allowed=COUNCIL_ALLOWED,
        ),
        "council:consent": Recipe(
            (
                cmd("/council"),
                press("council:new"),
                press("council:topic:taxes"),
                say(COUNCIL_TEXT),
                press("council:noatt"),
            ),
            allowed=COUNCIL_ALLOWED,
        ),
        "council:confirm": Recipe(
            (
                cmd("/council"),
                press("council:new"),
                press("council:topic:taxes"),
                say(COUNCIL_TEXT),
                press("council:noatt"),
                press("council:name:no"),
            ),
            allowed=COUNCIL_ALLOWED,
        ),
        "council:answer": Recipe(
            (new_issue(), tap("council:reply:{issue}")),
            role="staff",
            allowed=Allowed(
                columns={"council_issues": {"status", "answer", "answered_by", "answered_at", "updated_at"}},
                new_rows={"broadcasts", "deliveries"},
                gone_rows={"council_answer_drafts"},
            ),
        ),
        "news:scope": Recipe((cmd("/postnews"),), role="staff", allowed=NEWS_ALLOWED),
        "news:title": Recipe(
            (cmd("/postnews"), press("newspost:scope:all")), role="staff", allowed=NEWS_ALLOWED
        ),
        "news:text": Recipe(
            (cmd("/postnews"), press("newspost:scope:all"), say("نمایشگاه فرش")),
            role="staff",
            allowed=NEWS_ALLOWED,
        ),
        "news:media": Recipe(
            (
                cmd("/postnews"),
                press("newspost:scope:all"),
                say("نمایشگاه فرش", "نمایشگاه فرش دستباف در کرمان"),
            ),
            role="staff",
            allowed=NEWS_ALLOWED,
        ),
        "news:preview": Recipe(
            (
                cmd("/postnews"),
                press("newspost:scope:all"),
                say("نمایشگاه فرش", "نمایشگاه فرش دستباف در کرمان"),
                press("newspost:nomedia"),
            ),
            role="staff",
            allowed=NEWS_ALLOWED,
        ),
        "announce:text": Recipe((cmd("/announce"),), role="staff", allowed=ANNOUNCE_ALLOWED),
        "announce:media": Recipe(
            (cmd("/announce"), say("جلسهٔ هم‌اندیشی اعضا")), role="staff", allowed=ANNOUNCE_ALLOWED
        ),
        "announce:audience": Recipe(
            (cmd("/announce"), say("جلسهٔ هم‌اندیشی اعضا"), press("ann:nomedia")),
            role="staff",
            allowed=ANNOUNCE_ALLOWED,
        ),
        "announce:confirm": Recipe(
            (cmd("/announce"), say("جلسهٔ هم‌اندیشی اعضا"), press("ann:nomedia"), press("ann:kind:everyone")),
            role="staff",
            allowed=ANNOUNCE_ALLOWED,
        ),
        "directory:add_name": Recipe(
            (cmd("/associations"), press("dir:add")), role="staff", allowed=DRAFT_ALLOWED
        ),
        "directory:add_confirm": Recipe(
            (cmd("/associations"), press("dir:add"), say("تشکل فرش کرمان")),
            role="staff",
            allowed=DRAFT_ALLOWED,
        ),
        "directory:add_description": Recipe(
            (cmd("/associations"), press("dir:add"), say("انجمن زعفران‌کاران")),
            role="staff",
            allowed=DRAFT_ALLOWED,
        ),
        "directory:add_status": Recipe(
            (cmd("/associations"), press("dir:add"), say("انجمن زعفران‌کاران", "تشکل کشاورزان زعفران استان")),
            role="staff",
            allowed=DRAFT_ALLOWED,
        ),
        "directory:edit_value": Recipe(
            (*OPEN_CARD, press("dir:edit:{carpet}"), press("dir:ef:{carpet}:address")),
            role="staff",
            allowed=Allowed(columns={"associations": {"address"}}, gone_rows={"directory_drafts"}),
        ),
        "directory:assign": Recipe(
            (*OPEN_CARD, press("dir:edit:{carpet}"), press("dir:as:{carpet}")),
            role="admin",
            allowed=Allowed(new_rows={"staff"}, gone_rows={"directory_drafts"}),
        ),
        "course_staff:review": Recipe(_course_until("review"), role="staff", allowed=COURSE_ALLOWED),
    }
    for name, _step in APPLY_ORDER:
        recipes[f"apply:{name}"] = Recipe(_apply_until(name), allowed=_apply_allowed(name))
    for name in [*COURSE_ANSWERS, "members_only", "fee"]:
        recipes[f"course_staff:{name}"] = Recipe(_course_until(name), role="staff", allowed=COURSE_ALLOWED)
    return recipes


def _profile_allowed(column: str) -> Allowed:
    return Allowed(columns={"profiles": {column}}, new_rows={"profiles"})


RECIPES = _recipes()


async def reach(world: World, state: str, conversation: str, user: SimUser | None = None) -> SimUser:
    """A new user (staff if the recipe says so) driven into `state`; fails if they did not get there."""
    recipe = RECIPES[state]
    user = user or world.sim.user(fresh_id(), first_name="کاربر")
    if recipe.role is not None:
        await world.staff(user.id, role=recipe.role)
    for step in recipe.steps:
        await step(world, user)
    reached = await state_of(world.app, conversation, user.id)
    assert reached == state, f"recipe for {state} ended in {reached!r}; last bot text: {user.last_text!r}"
    return user
