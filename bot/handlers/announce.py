"""Staff write an announcement: the text with its Telegram formatting, a photo or file if any, the
audience (a kind from the registry, then the association or course it is for); the preview and how
many people it reaches; sending queues it, with a live progress message (bot/handlers/broadcasts.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton

from bot.formatting import fa_number
from bot.forms.flow import Screen
from bot.forms.render import Actions, Reply
from bot.forms.spec import Choice, Field, Form
from bot.handlers.composing import ATTACHMENT, BroadcastConversation, ComposePresenter, body
from bot.i18n import N_, Gettext
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME
from bot.kit.reply import esc
from bot.services import announcements
from bot.services.actor import Actor
from bot.text import collation_key, truncate


async def _kinds(session: AsyncSession, draft: Any, actor: Actor) -> list[Choice]:
    return [Choice(kind.key, kind.label) for kind in announcements.kinds(actor.scope)]


async def _targets(session: AsyncSession, draft: Any, actor: Actor) -> list[Choice]:
    return [
        Choice(key, truncate(name, 40), plain=True) if key != announcements.ALL else Choice(key, EVERY)
        for key, name in await announcements.targets(session, draft, actor.scope)
    ]


EVERY = N_("All (every association)")
TARGET_ERRORS = {
    "not_your_association": N_("You can only reach the people of your own associations."),
    "unknown_association": N_("That association was not found."),
    "unknown_course": N_("That course was not found."),
    "association_required": N_("Please choose an association."),
    "wrong_status": N_("That choice does not apply to this association."),
}
FORM = Form(
    name="announce",
    fields=(
        body(
            N_(
                "<b>New announcement</b>\nType the message. You can use bold, italic and links with "
                "Telegram's formatting; it is sent exactly as you format it."
            ),
            N_("Please type the text of the announcement."),
            announcements.clean_text,
        ),
        ATTACHMENT,
        Field("kind", N_("Who should receive it?"), N_("Audience"), kind="choice", choices=_kinds),
        Field(
            "target",
            N_("Which association?"),
            N_("Association"),
            kind="choice",
            choices=_targets,
            columns=2,
            when=announcements.asks_association,
            errors=TARGET_ERRORS,
        ),
        Field(
            "course",
            N_("Which course?"),
            N_("Course"),
            kind="choice",
            choices=_targets,
            when=announcements.asks_course,
            errors=TARGET_ERRORS,
        ),
    ),
    store=announcements.STORE,
    audience="staff",
    submit=announcements.send,
    submit_label=N_("Send"),
)


class AnnouncePresenter(ComposePresenter):
    """The audiences in Persian order, never a dead end, and the count of those it will reach."""

    errors: Mapping[str, str] = {
        **ComposePresenter.errors,
        "nobody": N_("Nobody can be reached in this audience yet. Please choose another."),
    }

    def question(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        if screen.field is not None and screen.field.name == "kind":
            # The audiences in the alphabetical order of their Persian names.
            screen = replace(screen, choices=sorted(screen.choices, key=lambda c: collation_key(_(c.label))))
        return super().question(_, screen, actions)

    def notes(self, _: Gettext, screen: Screen) -> list[str]:
        if screen.field is None or screen.field.name not in ("target", "course") or screen.choices:
            return []
        if screen.field.name == "course":
            return [_("There is no course you can choose for this.")]
        return [_("There is no association you can choose for this.")]

    def extra_rows(self, _: Gettext, screen: Screen, actions: Actions) -> list[list[InlineKeyboardButton]]:
        if screen.field is not None and screen.field.name in ("target", "course"):
            return [[button(_("Choose another audience"), actions.data("edit", "kind"))]]
        return []

    def summary(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        count = int(str(screen.extras.get("count", 0)))
        kind = announcements.kind_of(screen.draft)
        audience = _(kind.label) if kind is not None else "—"
        target = screen.extras.get("target")
        if target:
            audience += f": {esc(target)}"
        elif kind is not None and kind.takes_target:
            audience += f": {_(EVERY)}"
        lines = [
            _("<b>Preview</b>: above is how it will look."),
            _("Audience: {audience}").format(audience=audience),
        ]
        rows = self.summary_rows(_, screen, actions)
        if count:
            lines.append(_("Send it to {count} people?").format(count=fa_number(count)))
        else:
            lines.append(_("Nobody can be reached in this audience yet. Please choose another."))
            rows[0] = [button(_("Choose another audience"), actions.data("edit", "kind"))]
        return Reply("\n".join(lines), keyboard(rows))

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        queued: announcements.Queued = result
        return Reply(_("Queued for {count} people. Progress:").format(count=fa_number(queued.recipients)))

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(
            _(
                "There is no announcement in progress. Choose «General announcement» in the menu to start one."
            ),
            keyboard([[button(_("Main menu"), HOME)]]),
        )


ANNOUNCING = BroadcastConversation(FORM, AnnouncePresenter())
FEATURE = ANNOUNCING.feature("announce", "announce", N_("General announcement"), 121)
