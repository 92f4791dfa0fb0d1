"""The main menu: built from what each feature contributes, routed by callback data, not labels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import Gettext
from bot.kit.markup import button, columns, keyboard

MENU_PREFIX = "menu:"
HOME = MENU_PREFIX + "home"
MenuCallback = Callable[[Update, Any], Awaitable[object]]
Audience = Literal["everyone", "staff", "admin"]


@dataclass(frozen=True)
class MenuItem:
    """A main-menu button: `key` routes (callback data `menu:<key>`), `label` is a msgid.

    `audience="staff"` puts it in the staff section that only staff see under their menu;
    `audience="admin"` in that section for admins only.
    """

    key: str
    label: str
    order: int
    callback: MenuCallback
    # A conversation's own entry point handles the press; the registry adds no handler for it.
    starts_conversation: bool = False
    audience: Audience = "everyone"

    @property
    def data(self) -> str:
        """The callback data of this item's button."""
        return MENU_PREFIX + self.key


class Menu:
    """The ordered menu items of the registered features."""

    def __init__(self, items: Sequence[MenuItem] = (), welcome: MenuCallback | None = None) -> None:
        self._items = sorted(items, key=lambda item: item.order)
        self._by_key = {item.key: item for item in self._items}
        # Built keyboards by (translation, staff, admin): a keyboard is immutable and every tap that
        # shows the menu would otherwise build the same ten buttons again.
        self._built: dict[tuple[object, bool, bool], InlineKeyboardMarkup] = {}
        self.welcome = welcome  # the greeting of /start, also shown by /start inside a form

    def __iter__(self) -> Iterator[MenuItem]:
        return iter(self._items)

    def get(self, data: str) -> MenuItem | None:
        """The item a `menu:<key>` callback names, if any."""
        return self._by_key.get(data.removeprefix(MENU_PREFIX))

    def markup(self, _: Gettext, *, staff: bool = False, admin: bool = False) -> InlineKeyboardMarkup:
        """The menu as an inline keyboard, two buttons a row; staff also get their section (with
        the admins' items for admins)."""
        key = (getattr(_, "__self__", _), staff, admin)  # the catalog a bound gettext belongs to
        built = self._built.get(key)
        if built is None:
            if len(self._built) >= 16:  # a few catalogs × three roles; anything else is a test's lambda
                self._built.clear()
            built = self._built[key] = self._build(_, staff=staff, admin=admin)
        return built

    def _build(self, _: Gettext, *, staff: bool, admin: bool) -> InlineKeyboardMarkup:
        rows = columns([self._button(_, i) for i in self._items if i.audience == "everyone"])
        if staff or admin:
            shown = ("staff", "admin") if admin else ("staff",)
            rows += columns([self._button(_, i) for i in self._items if i.audience in shown])
        return keyboard(rows)

    @staticmethod
    def _button(_: Gettext, item: MenuItem) -> InlineKeyboardButton:
        return button(_(item.label), item.data)


def home_button(_: Gettext) -> InlineKeyboardMarkup:
    """A single 'main menu' button, for the end of a flow."""
    return keyboard([[button(_("Main menu"), HOME)]])
