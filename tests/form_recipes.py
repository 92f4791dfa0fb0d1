"""Recipes that drive a real user (or staff member) to each question of each form.

A form's conversation has one state (`<form>:form`); the question being answered is on the draft
row. So a place in a form is named `<form>:<field>` (or `<form>:summary`), and `reach` checks both:
the conversation state and the field the draft is at (read through the form's own store).

A recipe opens the form the way a user does (commands and buttons the bot offers), then `fill`
answers each question as it comes: the recipe's typed answer, the preferred (or first) choice button
the bot offers, "done" for several things, or the skip button. So a new field of an existing form
needs at most a typed answer here, and a new form an entry recipe (`test_every_field_has_a_recipe`
in tests/test_fuzz.py fails until it has one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.forms.conversation import FormConversation
from bot.services.actor import Actor
from bot.services.staff import scope_of
from fakeapi.simulator import SimUser
from tests.fuzzkit import Allowed, World, forms, fresh_id, future_jalali, state_of

Step = Callable[[World, SimUser], Awaitable[Any]]
SUMMARY = "summary"
CONTACT = object()  # a typed answer that is the user's own shared contact


# ---------------------------------------------------------------------------------------- steps


def cmd(command: str, args: str = "") -> Step:
    async def run(world: World, user: SimUser) -> Any:
        return await user.command(command, args.format(**world.ids()))

    return run


def offered(user: SimUser) -> list[str]:
    """The callback data of every button on the bot's messages to this user, newest message first."""
    return [
        str(b.get("callback_data"))
        for m in reversed(user.messages)
        for row in (m.reply_markup or {}).get("inline_keyboard", [])
        for b in row
        if b.get("callback_data")
    ]


def press(data: str) -> Step:
    """Press the button carrying `data`: it must be on one of the bot's messages to this user."""

    async def run(world: World, user: SimUser) -> Any:
        wanted = data.format(**world.ids())
        carried = offered(user)
        assert wanted in carried, f"no button with {wanted!r}; the bot offered {sorted(set(carried))}"
        return await user.press_data(wanted)

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


def attended() -> Step:
    async def run(world: World, user: SimUser) -> Any:
        await world.attended(user.id)
        # The bot's own prompt after a course: the rating buttons (sent by the reminder job).
        return await user.press_data(f"courses:rate:{world.finished}:5")

    return run


def dues_member() -> Step:
    """The user is a member of `carpet`, whose yearly fee is paid by a bank-receipt photo (no payment
    provider is set in tests): «renew» opens the receipt form."""

    async def run(world: World, user: SimUser) -> Any:
        from db.models import Association
        from tests.factories import add_member

        await add_member(world.app, user.id, world.carpet)
        async with world.app.bot_data.sessionmaker() as session, session.begin():
            association = await session.get(Association, world.carpet)
            assert association is not None
            association.yearly_fee_rials = 3_000_000
        return await user.press_data(f"mem:renew:{world.carpet}")

    return run


def invited() -> Step:
    """Staff imported a member of `carpet` and sent this user their invitation link."""

    async def run(world: World, user: SimUser) -> Any:
        from db.models import MemberInvite

        token = f"t{fresh_id()}"
        async with world.app.bot_data.sessionmaker() as session, session.begin():
            session.add(
                MemberInvite(
                    association_id=world.carpet,
                    full_name="مریم کرمانی",
                    national_id="0499370899",
                    member_number=str(fresh_id()),
                    token=token,
                )
            )
        return await user.command("/start", f"invite_{token}")

    return run


OPEN_CARD = (cmd("/associations"), press("dir:page:all:0"), press("dir:open:{carpet}:all:0"))


# ---------------------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class Recipe:
    """How to open one form (for one of its fields), who does, and how to answer on the way."""

    steps: tuple[Step, ...]
    role: str | None = None  # "staff" (chamber-wide) or "admin"; None for an ordinary user
    answers: Mapping[str, object] = field(default_factory=dict)  # typed answers (or CONTACT)
    prefer: Mapping[str, str] = field(default_factory=dict)  # choice field -> key
    # What an answer in this form may change besides its draft's own row (checked field by field
    # through the store: earlier answers stay).
    allowed: Allowed = field(default_factory=Allowed)


APPLY_ANSWERS: dict[str, object] = {
    "full_name": "رضا احمدی",
    "national_id": "0499370899",
    "mobile": CONTACT,
    "business_name": "فرش دستباف ماهان",
    "activity": "بافت و فروش فرش دستباف",
    "city": "کرمان",
    "experience_years": "۵",
    "permit_number": "۱۲۳۴۵۶۷",
}
COURSE_ANSWERS: dict[str, object] = {
    "title": "کارگاه فروش برخط",
    "description": "آشنایی با فروش در شبکه‌های اجتماعی",
    "teacher": "مریم رضایی",
    "starts_at": future_jalali(),
    "ends_at": "۱۹:۳۰",
    "place": "کرمان، اتاق بازرگانی",
    "capacity": "۳۰",
    "fee": "۰",
}
COUNCIL_TEXT = "مالیات بر ارزش افزوده برای کسب‌وکارهای خانگی سنگین است و راهنمایی لازم داریم"
SENT = {"broadcasts", "deliveries"}


def _drafts(table: str, *, new: bool = True, gone: bool = False) -> Allowed:
    """The draft's own row may change (and be made, or go once the form submits)."""
    return Allowed(
        columns={table: {"*"}}, new_rows={table} if new else set(), gone_rows={table} if gone else set()
    )


def _merge(*parts: Allowed) -> Allowed:
    columns: dict[str, set[str]] = {}
    new_rows: set[str] = set()
    gone_rows: set[str] = set()
    json_keys: dict[tuple[str, str], set[str]] = {}
    for part in parts:
        for table, cols in part.columns.items():
            columns.setdefault(table, set()).update(cols)
        new_rows |= part.new_rows
        gone_rows |= part.gone_rows
        json_keys.update(part.json_keys)
    return Allowed(columns, new_rows, json_keys, gone_rows)


DIRECTORY_DRAFT = _drafts("directory_drafts", gone=True)
APPLY = Recipe(
    (cmd("/start", "apply_{carpet}"),),
    answers=APPLY_ANSWERS,
    prefer={"applicant_type": "business_owner", "education": "no_degree"},
    allowed=_merge(
        _drafts("applications", new=False),
        Allowed(
            columns={"profiles": {"*"}}, new_rows={"profiles", "application_documents", "application_events"}
        ),
    ),
)
COURSE = Recipe(
    (cmd("/managecourses"), press("cadm:new"), press("cadm:newfor:{carpet}")),
    role="staff",
    answers=COURSE_ANSWERS,
    prefer={"members_only": "0"},
    allowed=_merge(_drafts("courses"), _drafts("course_edits")),
)
ANNOUNCE = Recipe(
    (cmd("/announce"),),
    role="staff",
    answers={"text": "جلسهٔ هم‌اندیشی اعضا"},
    prefer={"kind": "everyone"},
    allowed=_drafts("broadcasts"),
)
NEWS = Recipe(
    (cmd("/postnews"),),
    role="staff",
    answers={"title": "نمایشگاه فرش", "text": "نمایشگاه فرش دستباف در کرمان"},
    prefer={"scope": "all"},
    allowed=_drafts("news_items"),
)
DIRECTORY_EDIT = _merge(DIRECTORY_DRAFT, Allowed(columns={"associations": {"*"}}))


def _edit(name: str) -> Recipe:
    return Recipe(
        (*OPEN_CARD, press("dir:edit:{carpet}"), press(f"dir:ef:{{carpet}}:{name}")),
        role="staff",
        allowed=DIRECTORY_EDIT,
    )


def _recipes() -> dict[str, Recipe]:
    """`<form>:<field>` -> the recipe that opens the form on the way to that field."""
    council = Recipe(
        (cmd("/council"), press("council:new")),
        answers={"description": COUNCIL_TEXT},
        prefer={"topic": "taxes", "consent": "no"},
        allowed=_drafts("council_issues"),
    )
    profile = Recipe(
        (cmd("/profile"),),
        answers={"full_name": "رضا احمدی", "national_id": "0499370899", "mobile": CONTACT, "city": "کرمان"},
        allowed=_drafts("profiles"),
    )
    add = Recipe(
        (cmd("/associations"), press("dir:add")),
        role="staff",
        answers={"name": "انجمن زعفران‌کاران", "description": "تشکل کشاورزان زعفران استان"},
        allowed=_merge(DIRECTORY_DRAFT, Allowed(new_rows={"associations"})),
    )
    rate = Recipe(
        (cmd("/rate"),),
        role="admin",
        answers={"governance": "۸", "policy": "۷", "membership": "۶", "regulation": "۵"},
        allowed=_merge(DIRECTORY_DRAFT, Allowed(columns={"scores": {"*"}}, new_rows={"scores"})),
    )
    decision = Allowed(
        columns={
            "applications": {"status", "last_reason", "decided_at", "decided_by", "requested_fields"},
            "pending_decisions": {"*"},
        },
        new_rows={"application_events", "members", "pending_decisions", *SENT},
        gone_rows={"pending_decisions"},
    )
    recipes: dict[str, Recipe] = {
        "rv:fields": Recipe(
            (
                new_application(),
                cmd("/review"),
                press("review:open:{pending}"),
                press("review:info:{pending}"),
            ),
            role="staff",
            allowed=decision,
        ),
        "rv:reason": Recipe(
            (
                new_application(),
                cmd("/review"),
                press("review:open:{pending}"),
                press("review:reject:{pending}"),
            ),
            role="staff",
            allowed=decision,
        ),
        "council_answer:answer": Recipe(
            (new_issue(), tap("council:reply:{issue}")),
            role="staff",
            allowed=Allowed(
                columns={"council_issues": {"status", "answer", "answered_by", "answered_at", "updated_at"}},
                new_rows={"council_answer_drafts", *SENT},
                gone_rows={"council_answer_drafts"},
            ),
        ),
        "dirstaff:telegram_id": Recipe(
            (*OPEN_CARD, press("dir:edit:{carpet}"), press("dir:as:{carpet}")),
            role="admin",
            allowed=_merge(DIRECTORY_DRAFT, Allowed(new_rows={"staff"})),
        ),
        "diradd:confirm": Recipe(add.steps, add.role, {"name": "تشکل فرش کرمان"}, allowed=add.allowed),
        "fb:comment": Recipe(
            (cmd("/start"), attended()),
            allowed=_drafts("course_registrations", new=False),
        ),
        "dirsearch:words": Recipe((cmd("/search"),), allowed=DIRECTORY_DRAFT),
        "dues_receipt:photo": Recipe(
            (dues_member(),),
            allowed=_merge(_drafts("dues_payments"), Allowed(new_rows={*SENT})),
        ),
        "invite:national_id": Recipe(
            (invited(),),
            answers={"national_id": "0499370899"},
            allowed=_merge(
                _drafts("member_invites", new=False),
                Allowed(
                    columns={"members": {"*"}, "profiles": {"*"}}, new_rows={"members", "profiles", *SENT}
                ),
            ),
        ),
        "apply:permit_number": Recipe(
            APPLY.steps,
            answers=APPLY_ANSWERS,
            prefer={**APPLY.prefer, "applicant_type": "home_business"},
            allowed=APPLY.allowed,
        ),
        "announce:target": Recipe(
            ANNOUNCE.steps, "staff", ANNOUNCE.answers, {"kind": "members"}, ANNOUNCE.allowed
        ),
        "announce:course": Recipe(
            ANNOUNCE.steps, "staff", ANNOUNCE.answers, {"kind": "course"}, ANNOUNCE.allowed
        ),
    }
    for name in ("name", "description", "category", "phone", "address", "channel"):
        recipes[f"diredit:{name}"] = _edit(name)
    for name in ("min_experience_years", "yearly_fee_rials"):
        recipes[f"diredit:{name}"] = _edit(name)
    plain = {
        "apply": (APPLY, list(APPLY_ANSWERS)[:-1], ["applicant_type", "education", "documents", SUMMARY]),
        "cform": (COURSE, list(COURSE_ANSWERS), ["members_only", SUMMARY]),
        "announce": (ANNOUNCE, ["text"], ["media", "kind", SUMMARY]),
        "newspost": (NEWS, ["title", "text"], ["scope", "media", SUMMARY]),
        "council_issue": (council, ["description"], ["topic", "attachment", "consent", SUMMARY]),
        "profile": (profile, list(profile.answers), [SUMMARY]),
        "diradd": (add, ["name", "description"], ["status"]),
        "rate": (rate, [*rate.answers, "services"], ["association", "period", SUMMARY]),
    }
    for form, (recipe, typed, others) in plain.items():
        for name in [*typed, *others]:
            recipes.setdefault(f"{form}:{name}", recipe)
    return recipes


RECIPES = _recipes()


# ---------------------------------------------------------------------------------------- driving


async def position(world: World, form: FormConversation, user_id: int) -> str | None:
    """Where the user's draft of `form` is: a field's name, SUMMARY, or None (no draft)."""
    app = world.app
    async with app.bot_data.sessionmaker() as session:
        scope = await scope_of(session, user_id, app.bot_data.settings.admin_ids)
        actor = Actor(user_id, "", scope, app.bot_data.settings.timezone, app.bot_data.settings.admin_ids)
        draft = await form.form.store.current(session, actor)
        if draft is None:
            return None
        current = form.form.field(form.form.store.field_of(draft))
        return current.name if current is not None else SUMMARY


async def answers_of(world: World, form: FormConversation, user_id: int) -> dict[str, object]:
    """Every stored answer of the user's draft (to check that a step loses none)."""
    app = world.app
    async with app.bot_data.sessionmaker() as session:
        scope = await scope_of(session, user_id, app.bot_data.settings.admin_ids)
        actor = Actor(user_id, "", scope, app.bot_data.settings.timezone, app.bot_data.settings.admin_ids)
        draft = await form.form.store.current(session, actor)
        if draft is None:
            return {}
        return {f.name: repr(form.form.store.value(draft, f.name)) for f in form.form.fields}


async def fill(world: World, user: SimUser, form: FormConversation, recipe: Recipe, name: str) -> None:
    """Answer the question `name` the way a user would."""
    spec = form.form.field(name)
    assert spec is not None, name
    prefix = form.form.name
    buttons = offered(user)
    typed = recipe.answers.get(name)
    if typed is CONTACT:
        await user.share_contact("989121234567", own=True)
    elif spec.kind == "text" and isinstance(typed, str):
        await user.send(typed)
    elif spec.kind in ("choice", "text") and any(b.startswith(f"{prefix}:set:{name}:") for b in buttons):
        wanted = recipe.prefer.get(name)
        choices = [b for b in buttons if b.startswith(f"{prefix}:set:{name}:")]
        data = f"{prefix}:set:{name}:{wanted}" if wanted is not None else choices[0]
        assert data in choices, f"{prefix}:{name}: no {data!r} among {choices}"
        await user.press_data(data)
    elif f"{prefix}:skip:{name}" in buttons:
        await user.press_data(f"{prefix}:skip:{name}")
    elif spec.kind == "multi":
        picks = [b for b in buttons if b.startswith(f"{prefix}:pick:{name}:")]
        await user.press_data(picks[0])
        await user.press_data(f"{prefix}:done:{name}")
    elif spec.kind == "files":
        await user.press_data(f"{prefix}:done:{name}")
    elif spec.kind == "file":
        await user.send_photo()
    else:
        raise AssertionError(f"{prefix}:{name}: no answer in the recipe; the bot offered {buttons}")


async def reach(world: World, where: str, user: SimUser | None = None) -> SimUser:
    """A new user (staff if the recipe says so) driven to `where` (`<form>:<field>`); fails if they
    did not get there."""
    recipe = RECIPES[where]
    form_name, target = where.split(":", 1)
    form = forms(world.app)[form_name]
    user = user or world.sim.user(fresh_id(), first_name="کاربر")
    if recipe.role is not None:
        await world.staff(user.id, role=recipe.role)
    for step in recipe.steps:
        await step(world, user)
    for _ in range(len(form.form.fields) + 2):
        at = await position(world, form, user.id)
        if at == target:
            break
        assert at is not None and at != SUMMARY, (
            f"{where}: the draft is at {at!r}; bot said {user.last_text!r}"
        )
        await fill(world, user, form, recipe, at)
    reached = await state_of(world.app, form_name, user.id)
    at = await position(world, form, user.id)
    assert (reached, at) == (form.form.state, target), (
        f"recipe for {where} ended in {reached!r} at {at!r}; last bot text: {user.last_text!r}"
    )
    return user
