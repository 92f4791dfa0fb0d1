"""A form as data: its fields, each with its question, cleaner, errors, choices, skip and condition."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services.actor import Actor
from bot.services.drafts import DraftStore

# text: typed (a shared contact too with `contact`); choice: one inline button; multi: several
# buttons then "done"; file: one photo or file; files: several, then "done".
Kind = Literal["text", "choice", "multi", "file", "files"]
Audience = Literal["everyone", "staff", "admin"]
ANY_FILE = "*"  # in `mimes`: a file of any type (a photo, a PDF, a spreadsheet…)


@dataclass(frozen=True)
class Choice:
    """One button of a choice: `key` is stored, `label` is a msgid (or, when `plain`, a name as is)."""

    key: str
    label: str
    plain: bool = False


ChoicesOf = Callable[[AsyncSession, Any, Actor], Awaitable[Sequence[Choice]]]


@dataclass(frozen=True)
class Field:
    """One question of a form."""

    name: str
    question: str  # msgid
    label: str = ""  # msgid: the field's name in the summary and the edit menu
    kind: Kind = "text"
    clean: Callable[[str], object] | None = None  # from the services; raises InvalidAnswer(reason)
    choices: Sequence[Choice] | ChoicesOf = ()  # choice/multi: the buttons; text: quick answers
    columns: int = 1
    contact: bool = False  # text: a "share my number" button; a shared contact must be the sender's
    suggest: bool = False  # text: offer the store's `suggest:<field>` extra as a one-tap answer
    skip: str | None = None  # msgid of a button that answers with `skip_value`
    skip_value: object = ""
    when: Callable[[Any], bool] | None = None  # asked only when true for the draft
    errors: Mapping[str, str] = field(default_factory=dict)  # reason -> msgid
    ltr: bool = False  # shown left-to-right (IDs, phone numbers, codes)
    show: Callable[[Any], str] | None = None  # how a stored answer is written (already safe HTML)
    done: str = ""  # multi/files: msgid of the button that ends the step
    mimes: tuple[str, ...] = ("image/jpeg", "image/png", "application/pdf")  # file/files; ANY_FILE: any
    # text: keep the sender's Telegram formatting (bold, links…) as HTML in which everything typed is
    # escaped; `clean` gets that HTML (bot.formatting.strip_html gives the text a reader sees).
    formatted: bool = False

    def applies(self, draft: Any) -> bool:
        """Whether this field is asked of this draft."""
        return self.when is None or bool(self.when(draft))


Submit = Callable[[AsyncSession, Any, Actor], Awaitable[Any]]


@dataclass(frozen=True)
class Form:
    """A whole form: fields in order, the store of its drafts, and what submitting does."""

    name: str  # the conversation's name and the prefix of its buttons (short: callback data <= 64 bytes)
    fields: tuple[Field, ...]
    store: DraftStore[Any]
    title: str = ""  # msgid of the summary's heading
    audience: Audience = "everyone"
    submit: Submit | None = None  # None: the summary is the end (a profile); else its button sends
    submit_label: str = ""  # msgid
    errors: Mapping[str, str] = field(default_factory=dict)  # form-wide reason -> msgid
    counter: bool = True  # "step 3 of 11" above each question while the form is being filled in
    discard: bool = True  # the summary offers to throw the draft away
    # No summary: the last answer submits (a staff member's short form). Or a test of the draft:
    # the form submits itself only for the drafts it holds for (e.g. one answer of a published course).
    auto_submit: bool | Callable[[Any], bool] = False
    cancel: str = ""  # msgid: a button under each question that drops the draft at once

    @property
    def state(self) -> str:
        """The conversation state of a user filling in this form (one state: the field is in the draft)."""
        return f"{self.name}:form"

    def field(self, name: str | None) -> Field | None:
        """The field called `name`, if the form has one."""
        return next((f for f in self.fields if f.name == name), None)

    def submits_itself(self, draft: Any) -> bool:
        """Whether the last answer of this draft submits it (see `auto_submit`)."""
        return self.auto_submit(draft) if callable(self.auto_submit) else self.auto_submit

    def applicable(self, draft: Any) -> list[Field]:
        """The fields asked of this draft, in order."""
        return [f for f in self.fields if f.applies(draft)]


# A question or two, ended by the last answer: no summary, no step counter, nothing to discard.
short_form = functools.partial(Form, auto_submit=True, counter=False, discard=False)
# A staff member's short form (a reason, an answer, one field of a record), with a cancel button.
staff_form = functools.partial(short_form, audience="staff", cancel=N_("Cancel"))
