"""Keyboards: inline buttons with short prefixed callback data, and one-tap reply keyboards."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def button(label: str, data: str) -> InlineKeyboardButton:
    """An inline button carrying short, prefixed callback data (never routed by its label)."""
    return InlineKeyboardButton(label, callback_data=data)


def keyboard(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of buttons, dropping empty rows."""
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def columns(buttons: Sequence[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    """Lay buttons out in rows of `width`."""
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def pager(
    _: Callable[[str], str], *, following: str | None, previous: str | None
) -> list[InlineKeyboardButton]:
    """The paging row under a list: «صفحهٔ بعد ◀️» first, «▶️ صفحهٔ قبل» second (Telegram lays a row out
    left to right, so in a right-to-left chat the two arrows point away from each other). A side that
    does not exist (first or last page) is None and gets no button."""
    row = [button(_("Next page"), following)] if following is not None else []
    return row + ([button(_("Previous page"), previous)] if previous is not None else [])


def one_tap(
    labels: Sequence[str], *, share_contact: str | None = None
) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """A reply keyboard with one-tap answers (and the share-contact button); none: remove the old one."""
    row = [KeyboardButton(share_contact, request_contact=True)] if share_contact else []
    row += [KeyboardButton(label) for label in labels if label]
    if not row:
        return ReplyKeyboardRemove()
    return ReplyKeyboardMarkup([row], resize_keyboard=True, one_time_keyboard=True)


def to_json(markup: InlineKeyboardMarkup | None) -> list[list[dict[str, str]]] | None:
    """An inline keyboard as plain data, for the outbox (services store it without knowing Telegram)."""
    if markup is None:
        return None
    return [
        [{"text": b.text, "callback_data": str(b.callback_data)} for b in row]
        for row in markup.inline_keyboard
    ]


def from_json(rows: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    """The inverse of to_json."""
    if not rows:
        return None
    return keyboard([[button(b["text"], b["callback_data"]) for b in row] for row in rows])
