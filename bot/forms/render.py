"""How a form looks in the chat: the question with its buttons, errors, the summary, the outcome.

`Presenter` renders any form from its declaration; a form with more to say (the membership form's
verdict, a course's card) subclasses it and overrides a method or two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.formatting import fa_digits, fa_number, isolate_ltr, strip_html
from bot.forms.flow import Screen
from bot.forms.spec import Choice, Field
from bot.i18n import N_, Gettext
from bot.kit.markup import Markup, button, columns, keyboard, one_tap
from bot.kit.menu import HOME
from bot.kit.reply import esc
from bot.services.drafts import FileRef
from bot.services.errors import DomainError
from bot.text import truncate

# Texts for refusals every form shares; a field's or form's own `errors` come first.
GENERIC_ERRORS = {
    "use_buttons": N_("Please answer with the buttons below."),
    "choice": N_("Please choose one of the buttons below."),
    "text_expected": N_(
        "Please answer with a text message, or send /cancel to stop (your answers are kept)."
    ),
    "file_expected": N_("Please send a photo or a PDF file, or use the buttons below."),
    "file_type": N_("Only a photo, or a PDF / JPEG / PNG file, can be accepted. Please send it again."),
    "not_own_contact": N_("Please share your own number with the button, or type it."),
}
FALLBACK_ERROR = N_("That did not work. Please try again.")


@dataclass(frozen=True)
class Reply:
    """A message to send: HTML text and its keyboard."""

    text: str
    markup: Markup | None = None


@dataclass(frozen=True)
class Notice:
    """A message for someone else (staff, an applicant), queued in the outbox with the step."""

    recipients: Sequence[int]
    text: str
    buttons: InlineKeyboardMarkup | None = None
    media_kind: str | None = None  # "photo" or "document": `text` is then its caption
    media_file_id: str | None = None


class Actions:
    """The callback data of a form's own buttons (built by the conversation for its router)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def data(self, verb: str, *args: str) -> str:
        return ":".join([self.prefix, verb, *args])


class Presenter:
    """Renders a form from its declaration. Override what a form shows differently."""

    # ------------------------------------------------------------------ a question

    def question(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        """The question of `screen.field`, with an error on top when the last answer was refused."""
        assert screen.field is not None
        lines: list[str] = []
        if screen.error is not None:
            lines += [self.error(_, screen.field, screen.error), ""]
        if screen.step:
            lines.append(
                _("Step {step} of {steps}").format(step=fa_digits(screen.step), steps=fa_digits(screen.steps))
            )
        lines += self.intro(_, screen)
        if screen.received:
            lines.append(self.received(_, screen))
        else:
            lines.append(_(screen.field.question))
            current = screen.value(screen.field.name)
            if screen.field.kind in ("text", "choice") and current not in (None, ""):
                lines.append(
                    _("Current answer: {value}").format(value=self.value(_, screen.field, current, screen))
                )
        lines += self.notes(_, screen)
        return Reply("\n".join(lines), self.question_markup(_, screen, actions))

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        """Lines above the question (e.g. what staff asked for)."""
        return []

    def notes(self, _: Gettext, screen: Screen) -> list[str]:
        """Lines below the question (e.g. why a document is needed)."""
        return []

    def received(self, _: Gettext, screen: Screen) -> str:
        """A file arrived on a step that takes several."""
        count = screen.extras.get("files", 0)
        return _("Received ({count} so far). Send another, or press the button to continue.").format(
            count=fa_digits(int(count) if isinstance(count, int) else 0)
        )

    def error(self, _: Gettext, field: Field, exc: DomainError) -> str:
        """Why an answer was refused, in the field's own words where it has them."""
        template = (
            field.errors.get(exc.reason)
            or self.errors.get(exc.reason)
            or GENERIC_ERRORS.get(exc.reason)
            or field.errors.get("*")
            or FALLBACK_ERROR
        )
        details = {
            key: fa_number(value) if isinstance(value, int) else esc(value)
            for key, value in exc.details.items()
        }
        return _(template).format_map(_Missing(details))

    errors: Mapping[str, str] = {}

    def question_markup(self, _: Gettext, screen: Screen, actions: Actions) -> Markup | None:
        """Buttons for the question: choices, skip, done, quick answers; else a one-tap reply keyboard."""
        field = screen.field
        assert field is not None
        rows: list[list[InlineKeyboardButton]] = []
        if field.kind == "choice" or (field.kind == "text" and screen.choices):
            verb = "set"
            rows += columns(
                [
                    button(self.choice_label(_, c), actions.data(verb, field.name, c.key))
                    for c in screen.choices
                ],
                field.columns,
            )
        elif field.kind == "multi":
            rows += columns(
                [
                    button(
                        ("✅ " if c.key in screen.chosen else "") + self.choice_label(_, c),
                        actions.data("pick", field.name, c.key),
                    )
                    for c in screen.choices
                ],
                field.columns,
            )
        if field.kind in ("multi", "files") and field.done:
            rows.append([button(_(field.done), actions.data("done", field.name))])
        if field.skip is not None:
            rows.append([button(_(field.skip), actions.data("skip", field.name))])
        rows += self.extra_rows(_, screen, actions)
        if screen.form.cancel:
            rows.append([button(_(screen.form.cancel), actions.data("cancel"))])
        if rows:
            return keyboard(rows)
        if field.kind == "text":
            suggestion = screen.extras.get(f"suggest:{field.name}") if field.suggest else None
            return one_tap(
                [str(suggestion)] if suggestion else [],
                share_contact=_("Share my number") if field.contact else None,
            )
        return None

    def extra_rows(self, _: Gettext, screen: Screen, actions: Actions) -> list[list[InlineKeyboardButton]]:
        """More buttons under a question (e.g. ways out of a missing document)."""
        return []

    def choice_label(self, _: Gettext, choice: Choice) -> str:
        return choice.label if choice.plain else _(choice.label)

    # ------------------------------------------------------------------ values and the summary

    def value(self, _: Gettext, field: Field, value: object, screen: Screen) -> str:
        """An answer as shown in the summary and as "current answer"."""
        if value is None or value == "":
            return "—"
        if field.show is not None:
            return field.show(value)
        if field.kind in ("choice", "multi") or (field.kind == "text" and field.choices):
            labels = {
                c.key: self.choice_label(_, c)
                for c in (field.choices if not callable(field.choices) else screen.choices)
            }
            keys = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
            shown = "، ".join(labels.get(str(k), esc(k)) for k in keys)
            if shown or field.kind != "text":
                return shown or "—"
        if isinstance(value, FileRef):
            return _("a file")
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, int):
            return fa_number(value)
        text = esc(truncate(strip_html(str(value)) if field.formatted else str(value), 300))
        return isolate_ltr(fa_digits(text)) if field.ltr else text

    def summary(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        """Every answer, with buttons to send, change one answer, or discard."""
        form = screen.form
        lines = [f"<b>{_(form.title)}</b>"] if form.title else []
        lines += [
            f"{_(f.label)}: {self.value(_, f, screen.value(f.name), screen)}"
            for f in form.applicable(screen.draft)
            if f.label
        ]
        lines += self.summary_notes(_, screen)
        return Reply("\n".join(lines), keyboard(self.summary_rows(_, screen, actions)))

    def summary_notes(self, _: Gettext, screen: Screen) -> list[str]:
        """Lines under the answers (e.g. what would still qualify)."""
        return []

    def summary_rows(self, _: Gettext, screen: Screen, actions: Actions) -> list[list[InlineKeyboardButton]]:
        form = screen.form
        rows: list[list[InlineKeyboardButton]] = []
        if form.submit is not None:
            rows.append([button(_(form.submit_label or N_("Submit")), actions.data("submit"))])
        rows.append([button(_("Edit an answer"), actions.data("fields"))])
        if form.discard:
            rows.append([button(_("Delete this draft"), actions.data("discard"))])
        else:
            rows.append([button(_("Main menu"), HOME)])
        return rows

    def fields_menu(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        """ "Edit an answer": one button per answer."""
        buttons = [
            button(_(f.label), actions.data("edit", f.name))
            for f in screen.form.applicable(screen.draft)
            if f.label
        ]
        rows = [*columns(buttons), [button(_("Back to the summary"), actions.data("back"))]]
        return Reply(_("Which answer would you like to change?"), keyboard(rows))

    # ------------------------------------------------------------------ endings

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        """What the user sees once the form is sent."""
        return Reply(_("Sent."), keyboard([[button(_("Main menu"), HOME)]]))

    def notices(self, _: Gettext, result: Any) -> Sequence[Notice]:
        """Messages for other people, queued in the same transaction as the submission."""
        return ()

    async def queue(self, _: Gettext, session: AsyncSession, result: Any) -> None:
        """More outbox work than `notices`, in the submission's own transaction: e.g. a paced
        broadcast to many people under a dedupe key, queued by a service with the text rendered
        here. Nothing by default."""

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        """A rule said no when opening or sending the form."""
        return Reply(_(self.errors.get(exc.reason, FALLBACK_ERROR)))

    # What "delete the draft" asks and says; a form names its own draft here (e.g. "this application").
    discard_question = N_("Delete this draft? Your answers in it will be deleted.")
    discarded_note = N_("The draft was deleted.")

    def confirm_discard(self, _: Gettext, actions: Actions) -> Reply:
        return Reply(
            _(self.discard_question),
            keyboard(
                [
                    [button(_("Yes, delete it"), actions.data("drop"))],
                    [button(_("No, back to the summary"), actions.data("back"))],
                ]
            ),
        )

    def discarded(self, _: Gettext) -> Reply:
        return Reply(_(self.discarded_note), keyboard([[button(_("Main menu"), HOME)]]))

    def no_draft(self, _: Gettext) -> Reply:
        """The user has nothing of this form in progress (an old button, or it was sent)."""
        return Reply(
            _("There is nothing in progress here any more."), keyboard([[button(_("Main menu"), HOME)]])
        )


class _Missing(dict[str, Any]):
    """format_map that leaves unknown placeholders as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
