"""The steps of a form as use cases: each runs inside the caller's one transaction, writes the
answer and the field it moves to on the draft row, and returns everything the next screen needs.

Nothing here knows Telegram: an answer arrives as an `Answer` (text, the sender's own phone number,
or a file) or as the key of a pressed choice, and leaves as a `Screen`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.forms.spec import ANY_FILE, Choice, Field, Form
from bot.i18n import Gettext
from bot.services.actor import Actor
from bot.services.drafts import FileRef
from bot.services.errors import DomainError, InvalidAnswer


class NoDraft(DomainError):
    """The user has no draft of this form (finished, discarded, or never started)."""


@dataclass(frozen=True)
class Answer:
    """What the user sent to the question being asked: exactly one of the three, or none (a sticker…)."""

    text: str | None = None
    html: str | None = None  # the text with its formatting as HTML (everything typed escaped)
    contact: str | None = None  # the phone number of the sender's own shared contact
    file: FileRef | None = None
    refused: str | None = None  # why what was sent cannot be an answer (e.g. someone else's contact)


@dataclass
class Screen:
    """The next thing to show: a question (`field`), or the summary (`field` None)."""

    form: Form
    draft: Any
    field: Field | None
    error: DomainError | None = None  # why the last answer was refused (the same question again)
    extras: Mapping[str, object] = dataclasses.field(default_factory=dict)
    choices: Sequence[Choice] = ()  # the field's buttons, resolved
    chosen: frozenset[str] = frozenset()  # multi: the options picked so far
    step: int = 0  # "step 3 of 11" (0: not shown)
    steps: int = 0
    received: bool = False  # files: one more arrived; the same step stays open
    complete: bool = False  # every field is answered (so a question is an edit of one answer)

    def value(self, name: str) -> object | None:
        """The stored answer of a field."""
        return self.form.store.value(self.draft, name)


# ---------------------------------------------------------------------------------------- steps


async def open_draft(session: AsyncSession, form: Form, actor: Actor, target: Mapping[str, Any]) -> Screen:
    """Start (or take up) a draft and show where it stands."""
    draft = await form.store.open(session, actor, target)
    return await _resume(session, form, draft, actor)


async def resume(session: AsyncSession, form: Form, actor: Actor) -> Screen:
    """The screen the user's draft is at (after a restart, /cancel or an old button)."""
    return await _resume(session, form, await _draft(session, form, actor), actor)


async def answer(session: AsyncSession, form: Form, actor: Actor, given: Answer) -> Screen:
    """A message sent to the question being asked."""
    draft = await _draft(session, form, actor)
    current = _asked(form, draft)
    if current is None:
        return await _screen(
            session, form, draft, actor, _next_field(form, draft), InvalidAnswer("use_buttons")
        )
    try:
        value = _value_of(current, given)
        await form.store.save(session, draft, current.name, value, actor)
    except DomainError as exc:
        return await _screen(session, form, draft, actor, current, exc)
    if current.kind == "files":
        return await _screen(session, form, draft, actor, current, received=True)
    return await _advance(session, form, draft, actor)


async def choose(
    session: AsyncSession, form: Form, actor: Actor, name: str, key: str, gettext: Gettext
) -> Screen:
    """A pressed choice of field `name`, stored as that field's answer. On a text field the choice
    is a quick answer: its (translated) label is taken as if typed."""
    draft = await _draft(session, form, actor)
    target = form.field(name)
    if target is None or not target.applies(draft):
        return await _resume(session, form, draft, actor)
    chosen = next((c for c in await _choices(session, target, draft, actor) if c.key == key), None)
    if chosen is None:
        return await _screen(session, form, draft, actor, target, InvalidAnswer("choice"))
    try:
        value: object = key
        if target.kind == "text":
            typed = chosen.label if chosen.plain else gettext(chosen.label)
            value = target.clean(typed) if target.clean is not None else typed
        await form.store.save(session, draft, target.name, value, actor)
    except DomainError as exc:
        return await _screen(session, form, draft, actor, target, exc)
    return await _advance(session, form, draft, actor)


async def skip(session: AsyncSession, form: Form, actor: Actor, name: str) -> Screen:
    """The field's skip button: an ordinary answer (`skip_value`), not a dead end."""
    draft = await _draft(session, form, actor)
    target = form.field(name)
    if target is None or target.skip is None or not target.applies(draft):
        return await _resume(session, form, draft, actor)
    await form.store.save(session, draft, target.name, target.skip_value, actor)
    return await _advance(session, form, draft, actor)


async def done(session: AsyncSession, form: Form, actor: Actor, name: str) -> Screen:
    """ "Done" on a step that takes several things; the store may still refuse (InvalidAnswer)."""
    draft = await _draft(session, form, actor)
    target = form.field(name)
    if target is None or not target.applies(draft):
        return await _resume(session, form, draft, actor)
    try:
        await form.store.finish(session, draft, target.name, actor)
    except DomainError as exc:
        return await _screen(session, form, draft, actor, target, exc)
    return await _advance(session, form, draft, actor)


async def toggle(session: AsyncSession, form: Form, actor: Actor, name: str, key: str) -> Screen:
    """Pick or unpick one option of a multiple choice; the same step stays open."""
    draft = await _draft(session, form, actor)
    target = form.field(name)
    if target is None or target.kind != "multi" or not target.applies(draft):
        return await _resume(session, form, draft, actor)
    if key in {c.key for c in await _choices(session, target, draft, actor)}:
        await form.store.toggle(session, draft, target.name, key, actor)
    form.store.set_field(draft, target.name)
    return await _screen(session, form, draft, actor, target)


async def edit(session: AsyncSession, form: Form, actor: Actor, name: str) -> Screen:
    """Ask one answered field again (from the summary); afterwards the summary comes back."""
    draft = await _draft(session, form, actor)
    target = form.field(name)
    if target is None or not target.applies(draft):
        return await _resume(session, form, draft, actor)
    await form.store.reopen(session, draft, target.name, actor)
    form.store.set_field(draft, target.name)
    return await _screen(session, form, draft, actor, target)


async def summary(session: AsyncSession, form: Form, actor: Actor) -> Screen:
    """Every answer, or the first question still open."""
    return await _advance(session, form, await _draft(session, form, actor), actor)


async def submit(session: AsyncSession, form: Form, actor: Actor) -> tuple[Screen, Any]:
    """Run the form's submit use case on a complete draft (domain refusals propagate)."""
    draft = await _draft(session, form, actor)
    missing = _next_field(form, draft)
    if missing is not None or form.submit is None:
        return await _advance(session, form, draft, actor), None
    result = await form.submit(session, draft, actor)
    if draft in session and draft not in session.deleted:
        form.store.set_field(draft, None)
    return Screen(form, draft, None, complete=True), result


async def discard(session: AsyncSession, form: Form, actor: Actor) -> None:
    """Throw the user's draft away."""
    await form.store.discard(session, await _draft(session, form, actor), actor)


# ---------------------------------------------------------------------------------------- inside


async def _draft(session: AsyncSession, form: Form, actor: Actor) -> Any:
    draft = await form.store.current(session, actor)
    if draft is None:
        raise NoDraft(form.name)
    return draft


def _asked(form: Form, draft: Any) -> Field | None:
    """The field the draft says is being answered, if it still applies."""
    current = form.field(form.store.field_of(draft))
    return current if current is not None and current.applies(draft) else None


def _next_field(form: Form, draft: Any) -> Field | None:
    for candidate in form.applicable(draft):
        if not form.store.is_answered(draft, candidate.name):
            return candidate
    return None


async def _resume(session: AsyncSession, form: Form, draft: Any, actor: Actor) -> Screen:
    current = _asked(form, draft)
    if current is not None:
        return await _screen(session, form, draft, actor, current)
    return await _advance(session, form, draft, actor)


async def _advance(session: AsyncSession, form: Form, draft: Any, actor: Actor) -> Screen:
    return await _screen(session, form, draft, actor, _next_field(form, draft))


async def _screen(
    session: AsyncSession,
    form: Form,
    draft: Any,
    actor: Actor,
    current: Field | None,
    error: DomainError | None = None,
    *,
    received: bool = False,
) -> Screen:
    form.store.set_field(draft, current.name if current is not None else None)
    await session.flush()
    applicable = form.applicable(draft)
    complete = all(form.store.is_answered(draft, f.name) for f in applicable)
    screen = Screen(form, draft, current, error, received=received, complete=complete)
    if current is not None:
        screen.choices = await _choices(session, current, draft, actor)
        if current.kind == "multi":
            picked = form.store.value(draft, current.name)
            screen.chosen = frozenset(picked if isinstance(picked, (list, tuple, set, frozenset)) else ())
        if form.counter and not complete and current in applicable:
            screen.step, screen.steps = applicable.index(current) + 1, len(applicable)
    screen.extras = await form.store.extras(session, draft, current.name if current else None, actor)
    return screen


async def _choices(session: AsyncSession, target: Field, draft: Any, actor: Actor) -> Sequence[Choice]:
    if callable(target.choices):
        return await target.choices(session, draft, actor)
    return target.choices


def _value_of(target: Field, given: Answer) -> object:
    """The answer for `target` out of what was sent, cleaned (InvalidAnswer when it does not fit)."""
    if given.refused is not None:
        raise InvalidAnswer(given.refused)
    if target.kind in ("file", "files"):
        if given.file is None:
            raise InvalidAnswer("file_expected")
        if ANY_FILE not in target.mimes and given.file.mime.lower() not in target.mimes:
            raise InvalidAnswer("file_type")
        return given.file
    if target.kind in ("choice", "multi"):
        raise InvalidAnswer("use_buttons")
    raw = given.contact if target.contact and given.contact is not None else given.text
    if target.formatted and given.html is not None:
        raw = given.html
    if raw is None:
        raise InvalidAnswer("text_expected")
    return target.clean(raw) if target.clean is not None else raw
