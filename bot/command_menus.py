"""Command menus by role (issue #13 item 3).

The default scope lists only what a newcomer can use. Each staff member's and admin's own chat gets
the longer list of their role with a per-chat scope (`BotCommandScopeChat`), which Telegram shows in
that chat instead of the default. The menus are published at start (post_init) and refreshed for a
person whenever they are made staff or stop being staff; always after the transaction that changed
the role. A chat whose menu cannot be set (Bale may refuse scopes, a person may never have opened the
bot) is logged, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, BotCommand, BotCommandScopeChat, MenuButtonDefault, MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError

from bot.services import staff
from bot.services.staff import Role

log = logging.getLogger(__name__)
CommandsFor = Callable[[Role], list[BotCommand]]


class CommandMenus:
    """Publishes the command menus; `commands_for(role)` gives a role's commands, in Persian."""

    def __init__(
        self,
        commands_for: CommandsFor,
        reader: async_sessionmaker[AsyncSession],
        admin_ids: Collection[int],
        mini_app: tuple[str, str] | None = None,
    ) -> None:
        self.commands_for = commands_for
        self.reader = reader
        self.admin_ids = admin_ids
        self.mini_app = mini_app  # (the button's label, the Mini App's https address)

    async def publish(self, bot: Bot) -> None:
        """The newcomer's menu as the default (and for Persian clients), then every staff chat's."""
        everyone = self.commands_for("everyone")
        for language in (None, "fa"):
            await _call(bot.set_my_commands(everyone, language_code=language), "default")
        await self._apply(bot, await self._roles(None))

    async def refresh(self, bot: Bot, user_ids: Iterable[int]) -> None:
        """The menus of these people, after their role changed (call it after the commit)."""
        await self._apply(bot, await self._roles(list(user_ids)))

    async def _roles(self, user_ids: list[int] | None) -> dict[int, Role]:
        async with self.reader() as session:
            return await staff.roles(session, self.admin_ids, user_ids)

    async def _apply(self, bot: Bot, roles: Mapping[int, Role]) -> None:
        for user_id, role in roles.items():
            scope = BotCommandScopeChat(user_id)
            if role == "everyone":
                await _call(bot.delete_my_commands(scope=scope), f"chat {user_id}")
            else:
                await _call(bot.set_my_commands(self.commands_for(role), scope=scope), f"chat {user_id}")
            if self.mini_app is not None:
                label, url = self.mini_app
                button = (
                    MenuButtonDefault() if role == "everyone" else MenuButtonWebApp(label, WebAppInfo(url))
                )
                await _call(
                    bot.set_chat_menu_button(chat_id=user_id, menu_button=button), f"button {user_id}"
                )


async def _call(request: Any, where: str) -> None:
    try:
        await request
    except TelegramError as exc:  # a Bot API without command menus, or a chat it refuses
        log.warning("command menu for %s not set: %s", where, exc)
