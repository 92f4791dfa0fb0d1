"""The main menu: built from what each feature contributes, routed by callback data, not labels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.handlers.common import MENU_PREFIX, button, columns, keyboard
from bot.i18n import Gettext

MenuCallback = Callable[[Update, BotContext], Awaitable[object]]
HOME = MENU_PREFIX + "home"


@dataclass(frozen=True)
class MenuItem:
    """A main-menu button: `key` routes (callback data `menu:<key>`), `label` is a msgid."""

    key: str
    label: str
    order: int
    callback: MenuCallback
    # A conversation's own entry point handles the press; the registry adds no handler for it.
    starts_conversation: bool = False

    @property
    def data(self) -> str:
        """The callback data of this item's button."""
        return MENU_PREFIX + self.key


class Menu:
    """The ordered menu items of the registered features."""

    def __init__(self, items: Sequence[MenuItem] = ()) -> None:
        self._items = sorted(items, key=lambda item: item.order)
        self._by_key = {item.key: item for item in self._items}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def get(self, data: str) -> MenuItem | None:
        """The item a `menu:<key>` callback names, if any."""
        return self._by_key.get(data.removeprefix(MENU_PREFIX))

    def markup(self, _: Gettext) -> InlineKeyboardMarkup:
        """The menu as an inline keyboard, two buttons a row."""
        return keyboard(columns([button(_(item.label), item.data) for item in self._items]))


def home_button(_: Gettext) -> InlineKeyboardMarkup:
    """A single 'main menu' button, for the end of a flow."""
    return keyboard([[button(_("Main menu"), HOME)]])
