"""`/start invite_<token>`: an imported member binds their Telegram account by confirming their
national ID (a one-question form); then they are the member, with their number and term."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Presenter, Reply
from bot.forms.spec import Field, short_form
from bot.handlers.member_proof import KEYS, queue_proof
from bot.i18n import N_, Gettext
from bot.kit.feature import Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME
from bot.services import member_import, membership_figures
from bot.services.errors import DomainError
from bot.services.validators import normalize_national_id

FORM = short_form(
    name="invite",
    fields=(
        Field(
            "national_id",
            N_("To join as a member, please type your national ID."),
            N_("National ID"),
            clean=normalize_national_id,
            ltr=True,
            errors={
                "format": N_("A national ID has 10 digits. Please type it again."),
                "length": N_("A national ID has 10 digits. Please type it again."),
                "repeated": N_("This national ID is not valid. Please check it."),
                "checksum": N_("This national ID is not valid. Please check it."),
                "nid_mismatch": N_("This national ID does not match the invitation. Please check it."),
            },
        ),
    ),
    store=member_import.CLAIMS,
    submit=member_import.bind,
    cancel=N_("Cancel"),
    errors={
        "invite": N_("This invitation link is not valid."),
        "invite_used": N_("This invitation was already used."),
        "already_member": N_("You are already a member of this association."),
        "too_many_tries": N_("Too many wrong tries. Please contact the association."),
    },
)


class InvitePresenter(Presenter):
    """Welcome, and the certificate and card follow."""

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        return Reply(
            _("Welcome! Your membership is now linked to this account. Your certificate and card follow."),
            keyboard([[button(_("Main menu"), HOME)]]),
        )

    def refused(self, _: Gettext, exc: DomainError, actions: Any) -> Reply:
        return Reply(_(FORM.errors.get(exc.reason, "This invitation link is not valid.")))

    async def queue(self, _: Gettext, session: Any, result: Any) -> None:
        name = await membership_figures.association_name(session, result.association_id)
        await queue_proof(session, _, result.member, name, KEYS.key)


INVITE = FormConversation(FORM, InvitePresenter())


@public
async def invite_link(update: Update, context: BotContext) -> object:
    """`/start invite_<token>`: the national-ID question."""
    text = update.effective_message.text or "" if update.effective_message else ""
    return await INVITE.enter(update, context, token=text.partition("invite_")[2])


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    return [
        INVITE.handler(
            entry_points=[
                CommandHandler("start", invite_link, filters=filters.Regex(r"^/start invite_[A-Za-z0-9_-]+$"))
            ]
        )
    ]


FEATURE = Feature(name="member_invite", handlers=handlers)
