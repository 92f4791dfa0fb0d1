"""/announce: staff compose a message, choose its audience, see the count and a preview, confirm.

The text keeps the staff member's Telegram formatting (bold, links…): we store the HTML that PTB
renders from the message entities, in which any text they typed is escaped — so `<b>` typed as
text stays text, and nothing unparseable can reach the Bot API.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_number
from bot.handlers.broadcasts import start_progress
from bot.handlers.common import END, answer, button, columns, conversation, keyboard
from bot.handlers.guards import staff_only
from bot.handlers.menu import HOME
from bot.handlers.news import media_of
from bot.i18n import N_, Gettext
from bot.services import audiences
from bot.services import broadcasts as announcements
from bot.services.errors import DomainError
from bot.text import truncate

COMMANDS = [("announce", N_("Send an announcement (staff)"))]

TEXT_STEP, MEDIA, AUDIENCE, CONFIRM = (
    "announce:text",
    "announce:media",
    "announce:audience",
    "announce:confirm",
)
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer
ALL = "all"

ERRORS = {
    "text_empty": N_("Please type the text of the announcement."),
    "text_too_long": N_("That text is too long (at most {limit} letters). Please shorten it."),
    "too_long_for_media": N_(
        "With a photo or file the text may have at most {limit} letters. "
        "Continue without an attachment, or send /announce to start again with a shorter text."
    ),
    "not_your_association": N_("You can only reach the people of your own associations."),
    "unknown_association": N_("That association was not found."),
    "unknown_course": N_("That course was not found."),
    "association_required": N_("Please choose an association."),
    "wrong_status": N_("That choice does not apply to this association."),
    "unknown_audience": N_("Please choose one of the buttons."),
    "incomplete": N_("The announcement is not complete yet."),
    "no_draft": N_("There is no announcement in progress. Send /announce to start one."),
}


def _error(_: Gettext, exc: DomainError) -> str:
    template = _(ERRORS.get(exc.reason, N_("That did not work. Please try again.")))
    limit = exc.details.get("limit")
    return template.format(limit=fa_number(int(limit))) if isinstance(limit, int) else template


@staff_only
async def start(update: Update, context: BotContext) -> str:
    """Start a new announcement."""
    _ = context.gettext
    async with context.session() as session, session.begin():
        await announcements.start_draft(session, context.staff)
    await answer(
        update,
        _(
            "<b>New announcement</b>\nType the message. You can use bold, italic and links with Telegram's "
            "formatting; it is sent exactly as you format it."
        ),
        edit=False,
    )
    return TEXT_STEP


@staff_only
async def text_step(update: Update, context: BotContext) -> str:
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        async with context.session() as session, session.begin():
            await announcements.set_text(session, context.staff.user_id, message.text_html, len(message.text))
    except DomainError as exc:
        await message.reply_text(_error(_, exc))
        return TEXT_STEP
    await message.reply_text(
        _("Send a photo or a file to go with it, or continue without one."),
        reply_markup=keyboard([[button(_("No attachment"), "ann:nomedia")]]),
    )
    return MEDIA


@staff_only
async def media_step(update: Update, context: BotContext) -> str:
    _ = context.gettext
    message = update.effective_message
    media = media_of(message) if message is not None and update.callback_query is None else None
    kind, file_id = media if media is not None else (None, None)
    try:
        async with context.session() as session, session.begin():
            await announcements.set_media(session, context.staff.user_id, kind, file_id)
    except DomainError as exc:
        await answer(update, _error(_, exc), keyboard([[button(_("No attachment"), "ann:nomedia")]]))
        return MEDIA
    return await ask_kind(update, context)


async def ask_kind(update: Update, context: BotContext) -> str:
    """Who should receive it?"""
    _ = context.gettext
    kinds = audiences.kinds_for(context.staff)
    rows = [[button(_(kind.label), f"ann:kind:{kind.key}")] for kind in kinds]
    await answer(update, _("Who should receive it?"), keyboard(rows), edit=update.callback_query is not None)
    return AUDIENCE


@staff_only
async def kind_step(update: Update, context: BotContext) -> str:
    """A kind was chosen: pick the association if it takes one, else go on."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    key = (query.data or "").rsplit(":", 1)[-1]
    kind = audiences.REGISTRY.get(key)
    if kind is None:
        await query.answer(_(ERRORS["unknown_audience"]), show_alert=True)
        return AUDIENCE
    if kind.association == "none":
        return await _choose(update, context, audiences.Audience(key))
    async with context.session() as session:
        options = await audiences.targets_for(session, context.staff, kind)
    buttons: list[InlineKeyboardButton] = [
        button(truncate(label, 40), f"ann:aud:{key}:{target}") for target, label in options
    ]
    rows = columns(buttons)
    if kind.association == "optional" and context.staff.covers(None):
        rows.insert(0, [button(_("All (every association)"), f"ann:aud:{key}:{ALL}")])
    rows.append([button(_("Back"), "ann:kinds")])
    courses = kind.targets is not None
    if not buttons and len(rows) == 1:
        nothing = _("There is no course you can choose for this.") if courses else None
        await answer(update, nothing or _("There is no association you can choose for this."), keyboard(rows))
        return AUDIENCE
    await answer(update, _("Which course?") if courses else _("Which association?"), keyboard(rows))
    return AUDIENCE


@staff_only
async def kinds_again(update: Update, context: BotContext) -> str:
    return await ask_kind(update, context)


@staff_only
async def audience_step(update: Update, context: BotContext) -> str:
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    target = parts[3] if len(parts) > 3 else ""
    audience = audiences.Audience(parts[2], int(target) if target.isdecimal() else None)
    return await _choose(update, context, audience)


async def _choose(update: Update, context: BotContext, audience: audiences.Audience) -> str:
    """Check and store the audience, then show the count and a preview."""
    _ = context.gettext
    try:
        async with context.session() as session, session.begin():
            draft, count = await announcements.set_audience(session, context.staff, audience)
    except DomainError as exc:
        await answer(update, _error(_, exc), keyboard([[button(_("Back"), "ann:kinds")]]))
        return AUDIENCE
    chat = update.effective_chat
    assert chat is not None
    if update.callback_query is not None:
        await update.callback_query.answer()
    await chat.send_message(_("<b>Preview</b> — this is how it will look:"))
    if draft.media_kind == "photo":
        await chat.send_photo(draft.media_file_id or "", caption=draft.text, parse_mode=ParseMode.HTML)
    elif draft.media_kind == "document":
        await chat.send_document(draft.media_file_id or "", caption=draft.text, parse_mode=ParseMode.HTML)
    else:
        await chat.send_message(draft.text, parse_mode=ParseMode.HTML)
    if count == 0:
        await chat.send_message(
            _("Nobody can be reached in this audience yet. Please choose another."),
            reply_markup=keyboard([[button(_("Choose another audience"), "ann:kinds")]]),
        )
        return AUDIENCE
    await chat.send_message(
        _("Send it to {count} people?").format(count=fa_number(count)),
        reply_markup=keyboard(
            [
                [button(_("Send"), "ann:confirm")],
                [button(_("Choose another audience"), "ann:kinds"), button(_("Discard"), "ann:discard")],
            ]
        ),
    )
    return CONFIRM


@staff_only
async def confirm(update: Update, context: BotContext) -> int | str:
    _ = context.gettext
    chat = update.effective_chat
    try:
        async with context.session() as session, session.begin():
            broadcast, count = await announcements.confirm(
                session, context.staff, chat.id if chat is not None else None
            )
    except DomainError as exc:
        await answer(update, _error(_, exc))
        return CONFIRM
    await answer(update, _("Queued for {count} people. Progress:").format(count=fa_number(count)))
    await start_progress(update, context, broadcast.id)
    return END


@staff_only
async def discard(update: Update, context: BotContext) -> int:
    _ = context.gettext
    async with context.session() as session, session.begin():
        await announcements.start_draft(session, context.staff)  # an empty draft replaces this one
    await answer(update, _("Discarded. Nothing was sent."), keyboard([[button(_("Main menu"), HOME)]]))
    return END


@staff_only
async def wrong_kind(update: Update, context: BotContext) -> None:
    _ = context.gettext
    await answer(update, _("Please answer this step as asked, or send /cancel to stop."))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The announcement conversation."""
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, wrong_kind)
    back = CallbackQueryHandler(kinds_again, pattern="^ann:kinds$")
    return [
        conversation(
            "announce",
            entry_points=[CommandHandler("announce", start)],
            states={
                TEXT_STEP: [MessageHandler(TEXT, text_step), other],
                MEDIA: [
                    MessageHandler(filters.PHOTO | filters.Document.ALL, media_step),
                    CallbackQueryHandler(media_step, pattern="^ann:nomedia$"),
                    other,
                ],
                AUDIENCE: [
                    CallbackQueryHandler(kind_step, pattern=r"^ann:kind:\w+$"),
                    CallbackQueryHandler(audience_step, pattern=r"^ann:aud:\w+:(all|\d+)$"),
                    back,
                    other,
                ],
                CONFIRM: [
                    CallbackQueryHandler(confirm, pattern="^ann:confirm$"),
                    CallbackQueryHandler(discard, pattern="^ann:discard$"),
                    back,
                    other,
                ],
            },
        )
    ]
