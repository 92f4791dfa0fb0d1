"""The member's issue form for the dialogue council: topic, description, an optional photo or PDF,
and whether other members may see the name, then the summary to send or delete. Every answer is
saved on the draft issue at once, so /cancel, the menu or a restart resumes at the same question."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Presenter, Reply
from bot.forms.spec import Choice, Field, Form
from bot.i18n import N_, Gettext
from bot.kit.feature import Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME
from bot.kit.reply import esc
from bot.services import council_form as rules
from bot.services.council import TOPICS
from bot.text import truncate
from bot.views import council as view

ONLY_PHOTO_OR_PDF = N_("Only a photo or a PDF file can be attached. Send one, or press «No attachment».")

FORM = Form(
    name="council_issue",
    fields=(
        Field(
            "topic",
            N_("What is the problem about? Choose a topic:"),
            N_("Topic"),
            kind="choice",
            choices=tuple(Choice(topic, view.TOPIC_LABELS[topic]) for topic in TOPICS),
            columns=2,
        ),
        Field(
            "description",
            N_("Describe the problem: what happened, with which office, and what you would like done."),
            N_("Description of the problem"),
            clean=rules.clean_description,
            errors={
                "description_too_short": N_(
                    "Please describe the problem in a sentence or two (at least 15 letters)."
                ),
                "description_too_long": N_("That is too long (at most 2,000 letters). Please shorten it."),
            },
        ),
        Field(
            "attachment",
            N_(
                "If you have a document (a letter, a notice, a receipt), send a photo or PDF of it. "
                "Otherwise press «No attachment»."
            ),
            N_("Attachment"),
            kind="file",
            skip=N_("No attachment"),
            mimes=("image/jpeg", "application/pdf"),
            errors={
                "file_type": ONLY_PHOTO_OR_PDF,
                "file_expected": ONLY_PHOTO_OR_PDF,
                "attachment_too_big": N_("That file is too big (at most 10 MB)."),
            },
        ),
        Field(
            "consent",
            N_(
                "May other members see your name with this issue? Staff of the chamber always see who raised "
                "it; other members see your name only if you agree."
            ),
            N_("Your name shown to other members"),
            kind="choice",
            choices=(
                Choice(rules.YES, N_("Yes, show my name")),
                Choice(rules.NO, N_("No, keep me anonymous")),
            ),
        ),
    ),
    store=rules.STORE,
    title=N_("Your issue: please check it"),
    submit=rules.submit,
    submit_label=N_("Send to the council"),
)


class IssuePresenter(Presenter):
    """The issue form's own words: the attachment and the consent as answers, and what comes next."""

    def value(self, _: Gettext, field: Field, value: object, screen: Screen) -> str:
        if field.name == "attachment":
            return {"photo": _("a photo"), "document": _("a PDF file")}.get(str(value), _("none"))
        if field.name == "consent":
            return _("yes") if value == rules.YES else _("no")
        if field.name == "description":
            return esc(truncate(str(value or ""), 1500))
        return super().value(_, field, value, screen)

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        text = "\n".join(
            [
                _("Your issue was received. Its number is {number}.").format(number=view.number(result.id)),
                _("You will be told here at each step: under review, on the council's agenda, answered."),
            ]
        )
        return Reply(text, keyboard([[button(_("🗂 My issues"), view.MINE()), button(_("Main menu"), HOME)]]))

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(
            _("This form is no longer open. Press «Raise an issue» to start again."),
            keyboard([[button(_("✍️ Raise an issue"), view.NEW()), button(_("Main menu"), HOME)]]),
        )


ISSUE = FormConversation(FORM, IssuePresenter())


@view.COUNCIL.on(view.NEW)
@public
async def new_pressed(update: Update, context: BotContext) -> object:
    """`council:new`: start a draft, or take up the one left at its first unanswered question."""
    return await ISSUE.enter(update, context)


FEATURE = Feature(name="council_issue", conversations=[ISSUE])
