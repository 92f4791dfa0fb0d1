"""Answering an update: edit the pressed message or send a new one, alerts, escaping."""

from __future__ import annotations

import asyncio
import html

from telegram import CallbackQuery, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.kit.markup import Markup

# BadRequest texts meaning the pressed message cannot be edited, so a new message is sent instead.
_CANNOT_EDIT = ("message to edit not found", "message can't be edited", "message_id_invalid")
# BadRequest texts of a press too old to answer (a replay after a restart): the reply still goes out.
_TOO_OLD = ("query is too old", "query id is invalid")


async def ack(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (stop its spinner); a press too old to answer is not an error."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        if not any(old in str(exc).lower() for old in _TOO_OLD):
            raise


def sender(update: Update) -> int:
    """The id of the person who sent the update (every handler's update has one)."""
    assert update.effective_user is not None
    return update.effective_user.id


def esc(text: object) -> str:
    """Escape user-supplied text for ParseMode.HTML."""
    return html.escape(str(text), quote=False)


async def answer(
    update: Update,
    text: str,
    markup: Markup | None = None,
    *,
    edit: bool = True,
) -> Message | None:
    """Reply to a message, or (for a button press) edit the message that carried the button."""
    query = update.callback_query
    if query is not None:
        message = query.message
        if edit and isinstance(message, Message) and not _is_reply_keyboard(markup):
            # Both at once: one round trip per press instead of two (Telegram needs no order here).
            answered, edited = await asyncio.gather(
                ack(query),
                _edit(message, text, markup if isinstance(markup, InlineKeyboardMarkup) else None),
                return_exceptions=True,
            )
            for outcome in (answered, edited):
                if isinstance(outcome, BaseException):
                    raise outcome
            if isinstance(edited, Message):
                return edited
            # The message is gone or too old to edit (or the button was forged): send instead.
        else:
            await ack(query)
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup, parse_mode=ParseMode.HTML)


def _is_reply_keyboard(markup: Markup | None) -> bool:
    return markup is not None and not isinstance(markup, InlineKeyboardMarkup)


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> Message | None:
    """Edit the pressed message; None when it cannot be edited any more."""
    try:
        edited = await message.edit_text(text, reply_markup=markup, parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        reason = str(exc).lower()
        if "not modified" in reason:
            return message
        if not any(gone in reason for gone in _CANNOT_EDIT):
            raise
        return None
    return edited if isinstance(edited, Message) else message


async def alert(update: Update, text: str) -> None:
    """A short notice: an alert on the pressed button, else a message."""
    if update.callback_query is not None:
        await ack(update.callback_query, text, alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def alert_and_say(update: Update, text: str) -> None:
    """An alert on the pressed button plus a message that stays in the chat."""
    if update.callback_query is not None:
        await ack(update.callback_query, text, alert=True)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def send_file(update: Update, data: bytes | str, filename: str, caption: str | None = None) -> None:
    """A file (a spreadsheet, a calendar entry) into the update's chat; see send_files."""
    await send_files(update, (data, filename, caption))


async def send_files(update: Update, *files: tuple[bytes | str, str, str | None]) -> None:
    """Files (data, file name, caption) into the update's chat; a pressed button is answered first,
    once, so its spinner stops."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    for data, filename, caption in files if update.effective_chat is not None else ():
        await update.effective_chat.send_document(InputFile(data, filename=filename), caption=caption)  # type: ignore[union-attr]
