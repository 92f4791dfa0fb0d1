"""Small pieces every feature's handlers share: answering, keyboards, conversations, escaping."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, ConversationHandler

from bot.context import BotContext
from db.persistence import write_ahead

END = ConversationHandler.END
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
        await query.answer()
        if edit and query.message is not None and isinstance(query.message, Message):
            try:
                edited = await query.message.edit_text(text, reply_markup=markup, parse_mode=ParseMode.HTML)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
                return query.message
            return edited if isinstance(edited, Message) else query.message
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup, parse_mode=ParseMode.HTML)


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
    """A persistent ConversationHandler with the shared /cancel and /start exits."""
    from bot.handlers import exits  # local: exits imports this module

    return ConversationHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=[*fallbacks, *exits.handlers()],
        name=name,
        persistent=True,
        allow_reentry=True,
    )
