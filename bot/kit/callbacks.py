"""Callback data built and parsed in one place, and one router per feature.

Every button carries `prefix:action[:arg…]` (at most 64 bytes). A feature declares its actions once
(`OPEN = ROUTES.action("open", int)`), builds data with `OPEN(12)` → `"review:open:12"`, and handles
them with `@ROUTES.on(OPEN)`; the callback gets the parsed, typed arguments after `update, context`.
The application then matches a press by its prefix alone (one check per feature, not one regular
expression per button) and the router picks the callback by the action's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import observe
from bot.context import BotContext
from bot.kit.reply import ack

MAX_DATA = 64  # bytes: the Bot API's limit for callback_data
# Every integer argument is a row id (an INTEGER column: 32 bits on PostgreSQL) or a page number, so
# a larger one is forged: refused here, before a query fails on it (asyncpg and SQLite raise on
# integers their column cannot hold).
MAX_INT = 2**31 - 1
Arg = type[int] | type[str]
RoutedCallback = Callable[..., Awaitable[Any]]
C = TypeVar("C", bound=RoutedCallback)


class BadCallback(ValueError):
    """Callback data that no action of the router accepts (old, or forged)."""


class Action:
    """One kind of button of a feature, with the types of its arguments."""

    def __init__(self, prefix: str, name: str, types: tuple[Arg, ...]) -> None:
        self.prefix, self.name, self.types = prefix, name, types

    def __call__(self, *args: int | str) -> str:
        """The callback data for these arguments."""
        if len(args) != len(self.types):
            raise TypeError(f"{self.prefix}:{self.name} takes {len(self.types)} argument(s)")
        parts = [self.prefix, self.name, *(str(arg) for arg in args)]
        if any(":" in part for part in parts[2:]):
            raise ValueError("callback arguments cannot contain ':'")
        data = ":".join(parts)
        if len(data.encode()) > MAX_DATA:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    def parse(self, parts: list[str]) -> tuple[int | str, ...]:
        """The typed arguments of `prefix:name:arg…` already split on ':' (without prefix and name)."""
        if len(parts) != len(self.types):
            raise BadCallback(self.name)
        values: list[int | str] = []
        for kind, raw in zip(self.types, parts, strict=True):
            if kind is int:
                if not raw.isascii() or not raw.isdecimal() or len(raw) > 10 or int(raw) > MAX_INT:
                    raise BadCallback(self.name)
                values.append(int(raw))
            else:
                if not raw:
                    raise BadCallback(self.name)
                values.append(raw)
        return tuple(values)


class Router:
    """The buttons of one feature (one prefix), each action with its callback."""

    def __init__(self, prefix: str) -> None:
        if ":" in prefix:
            raise ValueError("a prefix cannot contain ':'")
        self.prefix = prefix
        self._actions: dict[str, Action] = {}
        self._callbacks: dict[str, RoutedCallback] = {}

    def action(self, name: str, *types: Arg) -> Action:
        """Declare an action of this feature."""
        if name in self._actions:
            raise ValueError(f"{self.prefix}:{name} declared twice")
        action = self._actions[name] = Action(self.prefix, name, types)
        return action

    def on(self, action: Action) -> Callable[[C], C]:
        """Register the callback of an action: `callback(update, context, *args)`."""
        if self._actions.get(action.name) is not action:
            raise ValueError(f"{action.prefix}:{action.name} is not an action of {self.prefix}")

        def register(callback: C) -> C:
            if action.name in self._callbacks:
                raise ValueError(f"{self.prefix}:{action.name} has a callback already")
            self._callbacks[action.name] = callback
            return callback

        return register

    def matches(self, data: object) -> bool:
        """Whether callback data belongs to this router (its prefix)."""
        return isinstance(data, str) and data.startswith(self.prefix + ":")

    def resolve(self, data: str) -> tuple[RoutedCallback, tuple[int | str, ...]]:
        """The callback and arguments for `data` (BadCallback when none fits)."""
        parts = data.split(":")
        if len(parts) < 2 or parts[0] != self.prefix:
            raise BadCallback(data)
        action, callback = self._actions.get(parts[1]), self._callbacks.get(parts[1])
        if action is None or callback is None:
            raise BadCallback(data)
        return callback, action.parse(parts[2:])

    async def dispatch(self, update: Update, context: BotContext) -> Any:
        """The single PTB callback of this router."""
        query = update.callback_query
        if query is None or query.data is None:
            return None
        try:
            callback, args = self.resolve(query.data)
        except BadCallback:
            _ = context.gettext
            await ack(query, _("This button is no longer valid. Send /start for the menu."), alert=True)
            return None
        observe.name_handler(callback)
        return await callback(update, context, *args)

    def handler(self) -> RoutedHandler:
        """A PTB handler matching this router's prefix."""
        return RoutedHandler(self.dispatch, self.matches, [self])

    def callbacks(self) -> Iterator[tuple[str, RoutedCallback]]:
        """Every (data prefix, callback) pair, for tests that walk the handlers."""
        for name, callback in self._callbacks.items():
            yield f"{self.prefix}:{name}", callback

    def actions(self) -> Iterator[Action]:
        """Every declared action (with its argument types), for tests that forge buttons."""
        yield from self._actions.values()

    def missing(self) -> list[str]:
        """Actions declared without a callback (a test fails on any)."""
        return [f"{self.prefix}:{n}" for n in self._actions if n not in self._callbacks]


class RoutedHandler(CallbackQueryHandler[BotContext, Any]):
    """A CallbackQueryHandler that dispatches to routers (kept visible for tests that walk handlers)."""

    __slots__ = ("routers",)

    def __init__(
        self,
        callback: Callable[[Update, BotContext], Coroutine[Any, Any, Any]],
        pattern: Callable[[object], bool],
        routers: list[Router],
    ) -> None:
        super().__init__(callback, pattern=pattern)
        self.routers = routers


def routers_of(handler: object) -> list[Router]:
    """The routers behind a PTB handler made by Router.handler() or the registry's dispatcher."""
    return list(handler.routers) if isinstance(handler, RoutedHandler) else []
