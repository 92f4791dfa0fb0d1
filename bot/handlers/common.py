"""Small pieces every feature's handlers share: answering, keyboards, conversations, escaping."""

from __future__ import annotations

import asyncio
import functools
import html
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, BaseHandler, ConversationHandler

from bot.context import BotContext
from db.persistence import write_ahead

END = ConversationHandler.END
# BadRequest texts meaning the pressed message cannot be edited, so a new message is sent instead.
_CANNOT_EDIT = ("message to edit not found", "message can't be edited", "message_id_invalid")
MENU_PREFIX = "menu:"


def esc(text: object) -> str:
    """Escape user-supplied text for ParseMode.HTML."""
    return html.escape(str(text), quote=False)


def button(label: str, data: str) -> InlineKeyboardButton:
    """An inline button carrying short, prefixed callback data (never routed by its label)."""
    return InlineKeyboardButton(label, callback_data=data)


def keyboard(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of buttons, dropping empty rows."""
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def columns(buttons: Sequence[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    """Lay buttons out in rows of `width`."""
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


async def answer(
    update: Update,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = True,
) -> Message | None:
    """Reply to a message, or (for a button press) edit the message that carried the button."""
    query = update.callback_query
    if query is not None:
        message = query.message
        if edit and isinstance(message, Message):
            # Both at once: one round trip per press instead of two (Telegram needs no order here).
            answered, edited = await asyncio.gather(
                query.answer(), _edit(message, text, markup), return_exceptions=True
            )
            for outcome in (answered, edited):
                if isinstance(outcome, BaseException):
                    raise outcome
            if isinstance(edited, Message):
                return edited
            # The message is gone or too old to edit (or the button was forged): send instead.
        else:
            await query.answer()
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup, parse_mode=ParseMode.HTML)


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


def conversation_key(update: Update) -> tuple[int, int]:
    """The key PTB's ConversationHandler uses for a private conversation: (chat id, user id)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    return (chat.id, user.id)


async def advance(session: AsyncSession, update: Update, name: str, state: str) -> str:
    """Record the conversation's next state with the answer that moves it there (see write_ahead)."""
    await write_ahead(session, name, conversation_key(update), state)
    return state


def conversation(
    name: str,
    entry_points: list[BaseHandler[Update, BotContext, Any]],
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]],
    *,
    fallbacks: Sequence[BaseHandler[Update, BotContext, Any]] = (),
) -> ConversationHandler[BotContext]:
    """A persistent ConversationHandler with the shared /cancel and /start exits.

    Entering it leaves any other conversation the user was in (their answers stay saved): otherwise
    the form registered first would keep taking the user's messages meant for the one just opened.
    """
    from bot.handlers import exits  # local: exits imports this module

    for entry in entry_points:
        callback = getattr(entry, "callback", None)
        if callback is not None:
            entry.callback = _leaving_others(name, callback)
    return ConversationHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=[*fallbacks, *exits.handlers()],
        name=name,
        persistent=True,
        allow_reentry=True,
    )


def _leaving_others(name: str, callback: Callable[..., Coroutine[Any, Any, Any]]) -> Any:
    @functools.wraps(callback)
    async def entered(update: Update, context: BotContext) -> Any:
        result = await callback(update, context)
        # None: nothing was entered (a guard refused a forged staff button): leave the user's forms be.
        if result is not None:
            leave_other_conversations(context.application, update, keep=name)
        return result

    return entered


def leave_other_conversations(
    application: Application[Any, Any, Any, Any, Any, Any], update: Update, keep: str
) -> None:
    """End the user's state in every conversation but `keep` (saved as deleted by the persistence)."""
    if update.effective_chat is None or update.effective_user is None:
        return
    key = conversation_key(update)
    for group in application.handlers.values():
        for handler in group:
            if isinstance(handler, ConversationHandler) and handler.name != keep:
                # PTB has no public way to end another handler's conversation; _update_state(END)
                # is what the handler itself does, and it records the deletion for persistence.
                handler._update_state(ConversationHandler.END, key)
