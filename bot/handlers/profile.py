"""My profile: name, national ID, mobile and city, saved at each step and offered to later forms."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardButton, Update

from bot.context import BotContext
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Presenter
from bot.forms.spec import Form
from bot.handlers.person import PERSON_FIELDS
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature, opened_by
from bot.kit.guards import public
from bot.kit.markup import button
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import esc
from bot.services import profile as service
from bot.services import terms
from bot.views import membership_terms as terms_view

FORM = Form(
    name="profile",
    fields=PERSON_FIELDS,
    store=service.STORE,
    title=N_("Your profile"),
    discard=False,
)


class ProfilePresenter(Presenter):
    """The profile's summary: a button to change each answer, and "done"."""

    def summary_notes(self, _: Gettext, screen: Screen) -> list[str]:
        notes = [_("These details fill in your applications for you. Change any of them below.")]
        day = terms.today(datetime.now(UTC))
        for member, name in screen.extras.get("memberships", []):  # type: ignore[attr-defined]
            line = terms_view.term_line(_, member, day)
            if line:
                notes.append(f"{esc(name)}: {line}")
        return notes

    def summary_rows(self, _: Gettext, screen: Screen, actions: Actions) -> list[list[InlineKeyboardButton]]:
        edits = [
            button(_("Edit {field}").format(field=_(f.label)), actions.data("edit", f.name))
            for f in FORM.fields
        ]
        return [edits[:2], edits[2:], [button(_("Done"), HOME)]]


PROFILE = FormConversation(FORM, ProfilePresenter())


@public
async def open_profile(update: Update, context: BotContext) -> object:
    """/profile and the menu: the summary when complete, else the first missing answer."""
    return await PROFILE.enter(update, context)


FEATURE = Feature(
    name="profile",
    handlers=lambda: [PROFILE.handler(entry_points=opened_by(open_profile, "profile"))],
    commands=[Command("profile", N_("My profile"))],
    menu=[MenuItem("profile", N_("My profile"), 80, open_profile, starts_conversation=True)],
)
