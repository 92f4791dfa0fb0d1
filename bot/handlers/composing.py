"""What the news form and the announcement form share: the text that keeps its Telegram formatting,
the photo-or-file step, the preview (exactly as recipients will see it) above the summary, and the
live progress message once the broadcast is queued."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Presenter
from bot.forms.spec import ANY_FILE, Field, Form
from bot.handlers import broadcasts
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import mark_guarded
from bot.kit.menu import MENU_PREFIX, MenuItem
from bot.services.composing import NO_ATTACHMENT

TEXT_ERRORS = {
    "text_too_long": N_("That text is too long (at most {limit} letters). Please shorten it."),
    "too_long_for_media": N_(
        "With the photo or file, the text may have at most {limit} letters. Please shorten it, or first "
        "change «Attachment» to «No attachment» with «Edit an answer»."
    ),
}
ERRORS = {
    "too_long_for_media": N_(
        "With a photo or file, everything must fit in one caption of at most {limit} letters. Press "
        "«No attachment», then shorten the text with «Edit an answer» if you want the attachment."
    ),
    "not_your_association": N_("You can only reach the people of your own associations."),
    "incomplete": N_("This is not complete yet."),
}


def body(question: str, empty: str, clean: Any) -> Field:
    """The text, typed with Telegram's own formatting (kept as HTML)."""
    return Field(
        "text",
        question,
        N_("Text"),
        clean=clean,
        formatted=True,
        errors={"text_empty": empty, **TEXT_ERRORS},
    )


ATTACHMENT = Field(
    "media",
    N_("Send a photo or a file to go with it, or press «No attachment»."),
    N_("Attachment"),
    kind="file",
    skip=N_("No attachment"),
    skip_value=NO_ATTACHMENT,
    mimes=(ANY_FILE,),
    errors={"file_expected": N_("Please send a photo or a file, or press «No attachment».")},
)


class ComposePresenter(Presenter):
    """Writes a message for many people; `preview` is the message exactly as they will get it."""

    errors: Mapping[str, str] = ERRORS

    def preview(self, _: Gettext, screen: Screen) -> str:
        """The text (a caption, with a photo or file) as recipients will read it."""
        return str(screen.draft.text)


class BroadcastConversation(FormConversation):
    """A staff form whose summary comes under a preview, and whose submission starts a broadcast
    (the submit result has `broadcast`) with its live progress message."""

    presenter: ComposePresenter

    def __init__(self, form: Form, presenter: ComposePresenter) -> None:
        super().__init__(form, presenter)

        async def open_form(update: Update, context: BotContext) -> object:
            return await self.enter(update, context)

        open_form.__name__ = open_form.__qualname__ = f"{form.name}_open"
        # The form checks the staff role itself, inside each step's transaction.
        self.open = mark_guarded(open_form, form.audience)

    def feature(self, name: str, command: str, label: str, order: int) -> Feature:
        """The form as a staff feature: /<command>, and `label` in the staff's own menu."""

        def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
            pattern = f"^{MENU_PREFIX}{command}$"
            entries = [CommandHandler(command, self.open), CallbackQueryHandler(self.open, pattern=pattern)]
            return [self.handler(entry_points=entries)]

        return Feature(
            name=name,
            handlers=handlers,
            commands=[Command(command, label, audience="staff")],
            menu=[MenuItem(command, label, order, self.open, starts_conversation=True, audience="staff")],
        )

    async def show(self, update: Update, context: BotContext, screen: Screen, *, edit: bool = False) -> None:
        if screen.field is not None or edit:
            await super().show(update, context, screen, edit=edit)
            return
        _ = context.gettext
        draft = screen.draft
        kind = draft.media_kind if draft.media_kind and draft.media_file_id else None
        await send(update, self.presenter.preview(_, screen), kind, draft.media_file_id)
        await self.say(update, self.presenter.summary(_, screen, self.actions))

    async def after_submit(self, update: Update, context: BotContext, result: Any) -> None:
        await broadcasts.start_progress(update, context, result.broadcast)


async def send(
    update: Update,
    text: str,
    media_kind: str | None = None,
    file_id: str | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """A new message in this chat: a photo or file with `text` as its caption, or the text alone."""
    chat = update.effective_chat
    if chat is None:
        return
    if media_kind == "photo" and file_id:
        await chat.send_photo(file_id, caption=text, reply_markup=markup, parse_mode=ParseMode.HTML)
    elif media_kind == "document" and file_id:
        await chat.send_document(file_id, caption=text, reply_markup=markup, parse_mode=ParseMode.HTML)
    else:
        await chat.send_message(text, reply_markup=markup, parse_mode=ParseMode.HTML)
