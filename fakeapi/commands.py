"""The bot's command lists (setMyCommands per scope and language code) and menu buttons (the
default one and one per private chat: commands, a Mini App, or Telegram's default)."""

from __future__ import annotations

import json
import re
from typing import Any

from fakeapi.base import FakeBase
from fakeapi.errors import bad_request
from fakeapi.validate import validate_web_app
from fakeapi.wire import JSON, MethodHandler, UploadedFiles

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
MENU_BUTTON_TYPES = ("commands", "web_app", "default")


class Commands(FakeBase):
    """Command lists keyed by (scope, language code); menu buttons keyed by chat id (None: default)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}

    def _method_table(self) -> dict[str, MethodHandler]:
        return super()._method_table() | {
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get(_commands_key(scope, language_code), []))

    def menu_button_for(self, chat_id: int | None = None) -> JSON:
        """The menu button this chat shows: its own, else the bot's default, else the command list
        (a `default` button means "nothing specific", so it falls through)."""
        candidates = [self.menu_buttons.get(chat_id)] if chat_id is not None else []
        candidates.append(self.menu_buttons.get(None))
        for button in candidates:
            if button and button.get("type") != "default":
                return dict(button)
        return {"type": "commands"}

    def _set_my_commands(self, params: JSON, files: UploadedFiles) -> bool:
        commands = list(params.get("commands") or [])
        for command in commands:
            _validate_command(command)
        self.commands[_commands_key(params.get("scope"), params.get("language_code", ""))] = commands
        return True

    def _get_my_commands(self, params: JSON, files: UploadedFiles) -> list[JSON]:
        return self.commands_for(params.get("scope"), params.get("language_code", ""))

    def _delete_my_commands(self, params: JSON, files: UploadedFiles) -> bool:
        self.commands.pop(_commands_key(params.get("scope"), params.get("language_code", "")), None)
        return True

    def _set_chat_menu_button(self, params: JSON, files: UploadedFiles) -> bool:
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        button = params.get("menu_button") or {"type": "default"}
        _validate_menu_button(button)
        self.menu_buttons[key] = button
        return True

    def _get_chat_menu_button(self, params: JSON, files: UploadedFiles) -> JSON:
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        button = self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}
        return dict(button)


def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
    scope_dict = scope if isinstance(scope, dict) else {"type": "default"}
    return json.dumps(scope_dict, sort_keys=True), str(language_code or "")


def _validate_command(command: Any) -> None:
    if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
        raise bad_request("BOT_COMMAND_INVALID")
    description = str(command.get("description", ""))
    if not 1 <= len(description) <= 256:
        raise bad_request(
            "command description is empty" if not description else "BOT_COMMAND_DESCRIPTION_INVALID"
        )


def _validate_menu_button(button: Any) -> None:
    if not isinstance(button, dict) or button.get("type") not in MENU_BUTTON_TYPES:
        raise bad_request("can't parse menu button: unsupported menu button type")
    if button["type"] == "web_app":
        if not button.get("text"):
            raise bad_request("can't parse menu button: text is empty")
        validate_web_app(button.get("web_app"), "menu button")
