"""In-memory Telegram Bot API: the state behind the fake transport and the fake HTTP server.

`FakeTelegram.handle(method, params, files)` answers like api.telegram.org would (status, JSON body),
records every call, keeps the messages the bot sent, serves `getUpdates` from a queue, and can be
told to fail (blocked chats, 429 with retry_after, migrations, strict rate limits, latency).
"""

from __future__ import annotations

import asyncio
import copy
import html
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
UploadedFiles = dict[str, tuple[str, bytes, str]]

BOT_ID = 7000001
BOT_USERNAME = "tashakkol_test_bot"
BOT_FIRST_NAME = "Tashakkol"
BOT_USER: JSON = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": BOT_FIRST_NAME,
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
# Update types Telegram leaves out unless `allowed_updates` names them explicitly.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MESSAGE_UPDATE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")
FILE_KEYS = ("document", "sticker", "video", "audio", "voice", "animation", "video_note")
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Parameters that are free text on the wire: never JSON-decoded even when they look like numbers.
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "url",
        "title",
        "description",
        "short_description",
        "name",
        "query",
        "secret_token",
        "ip_address",
        "emoji",
        "parse_mode",
        "action",
        "language_code",
        "phone_number",
        "first_name",
        "last_name",
        "address",
        "vcard",
        "business_connection_id",
        "message_effect_id",
        "custom_title",
        "invite_link",
        "question",
        "explanation",
        "payload",
        "currency",
        "start_parameter",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
        "certificate",
        "performer",
        "file_name",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API, raised by method implementations and turned into JSON."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Call:
    """One request the bot made, with its parameters decoded and the answer's status."""

    method: str
    params: JSON
    chat_id: int | str | None
    time: float
    seq: int
    files: dict[str, str] = field(default_factory=dict)
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class StoredFile:
    """A file the fake knows: uploaded by the bot or carried by a simulated user's message."""

    file_id: str
    file_unique_id: str
    file_size: int
    file_path: str
    content: bytes | None = None
    file_name: str | None = None
    mime_type: str | None = None

    def to_api(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def data(self) -> bytes:
        """The file's bytes: what was uploaded, or a placeholder of the right size and type."""
        if self.content is not None:
            return self.content
        return _placeholder_bytes(self.mime_type or "", self.file_size)


@dataclass
class StoredMessage:
    """A message the bot sent, as it stands now (after edits)."""

    chat: JSON
    message_id: int
    date: int
    kind: str
    seq: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    media: JSON = field(default_factory=dict)
    params: JSON = field(default_factory=dict)
    edits: list[JSON] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    changed_seq: int = 0

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def content(self) -> str:
        """What the user reads: the text, else the caption, else an empty string."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def photo(self) -> list[JSON] | None:
        return self.media.get("photo")

    @property
    def document(self) -> JSON | None:
        return self.media.get("document")

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        if not self.reply_markup:
            return []
        rows: list[list[JSON]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline keyboard, row by row."""
        return [button["text"] for row in self.inline_keyboard for button in row]

    def button(self, label: str) -> JSON | None:
        for row in self.inline_keyboard:
            for button in row:
                if button.get("text") == label:
                    return button
        return None

    def to_api(self) -> JSON:
        """The Bot API `Message` object (a deep copy, safe to hand out)."""
        data: JSON = {"message_id": self.message_id, "date": self.date, "chat": self.chat, "from": BOT_USER}
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        data.update(self.media)
        # A Message only ever carries an inline keyboard; reply keyboards are not echoed back.
        if self.inline_keyboard:
            data["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        return copy.deepcopy(data)


@dataclass
class _Poll:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False
    released: bool = False


@dataclass
class _Failure:
    code: int
    description: str
    times: int | None = None
    method: str | None = None


@dataclass
class _Limits:
    global_per_s: int
    per_chat_per_s: int
    window: float
    per_group_per_min: int | None
    sent: deque[float] = field(default_factory=deque)
    per_chat: dict[int | str, deque[float]] = field(default_factory=dict)


class FakeTelegram:
    """The whole fake Bot API for one bot. Single event loop; no locks needed."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.latency = latency
        self.token = token
        self.clock = clock
        self.calls: list[Call] = []
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self.incoming: dict[int, dict[int, JSON]] = {}
        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.webhook: JSON | None = None
        self.allowed_updates: list[str] = []
        self.callback_queries: dict[str, int] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.tokens_seen: set[str] = set()
        self.too_many_requests = 0
        self.conflicts = 0
        self.seq = 0
        self._pending: list[JSON] = []
        self._next_update_id = 1
        self._last_message_id: dict[int, int] = {}
        self._file_counter = 0
        self._active_poll: _Poll | None = None
        self._changed = asyncio.Event()
        self._blocked: set[int | str] = set()
        self._chat_failures: dict[int | str, _Failure] = {}
        self._migrated: dict[int | str, int] = {}
        self._rate_limits: deque[int] = deque()
        self._next_failures: list[_Failure] = []
        self._limits: _Limits | None = None
        self._methods: dict[str, Callable[[JSON, UploadedFiles], Any]] = self._method_table()
        self._lower_names = {name.lower(): name for name in self._methods} | {"getupdates": "getUpdates"}

    # ------------------------------------------------------------------ entry point

    async def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        files: UploadedFiles | None = None,
        *,
        token: str | None = None,
    ) -> tuple[int, JSON]:
        """Answer one Bot API request: (HTTP status, JSON body)."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        name = self._lower_names.get(method.lower(), method)
        decoded = decode_params(params)
        call = self._record(name, decoded, files or {}, token)
        try:
            self._check_request(name, call.chat_id, token)
            if name == "getUpdates":
                result: Any = await self._get_updates(decoded)
            else:
                result = self._methods.get(name, _unknown_method)(decoded, files or {})
        except ApiError as err:
            return self._fail(call, err)
        except (KeyError, TypeError, ValueError) as exc:
            # A missing or malformed parameter: Telegram answers 400 rather than failing the connection.
            return self._fail(call, bad_request(f"invalid parameters: {exc!r}"))
        self._touch()
        return 200, {"ok": True, "result": result}

    def _record(self, name: str, params: JSON, files: UploadedFiles, token: str | None) -> Call:
        if token is not None:
            self.tokens_seen.add(token)
        self.seq += 1
        call = Call(
            method=name,
            params=params,
            chat_id=params.get("chat_id"),
            time=time.monotonic(),
            seq=self.seq,
            files={key: value[0] for key, value in files.items()},
        )
        self.calls.append(call)
        return call

    def _fail(self, call: Call, err: ApiError) -> tuple[int, JSON]:
        call.status = err.code
        call.error = err.description
        if err.code == 429:
            self.too_many_requests += 1
        self._touch()
        return err.code, err.to_json()

    def _touch(self) -> None:
        """Wake everything waiting in `wait_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _method_table(self) -> dict[str, Callable[[JSON, UploadedFiles], Any]]:
        return {
            "getMe": lambda p, f: dict(BOT_USER),
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVideo": self._media_sender("video"),
            "sendAudio": self._media_sender("audio"),
            "sendVoice": self._media_sender("voice"),
            "sendAnimation": self._media_sender("animation"),
            "sendSticker": self._media_sender("sticker"),
            "sendVideoNote": self._media_sender("video_note"),
            "sendLocation": self._send_location,
            "sendContact": self._send_contact,
            "sendChatAction": self._send_chat_action,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }

    # ------------------------------------------------------------------ failure injection

    def block_chat(self, chat_id: int | str) -> None:
        """Every message to this chat answers 403, as when the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int | str) -> None:
        self._blocked.discard(chat_id)

    def fail_chat(
        self, chat_id: int | str, code: int = 400, description: str = "Bad Request: chat not found"
    ) -> None:
        """Every call naming this chat answers with this error until `clear_failures`."""
        self._chat_failures[chat_id] = _Failure(code, description)

    def migrate_chat(self, old: int | str, new: int) -> None:
        """Calls to `old` answer 400 with `migrate_to_chat_id` (group upgraded to supergroup)."""
        self._migrated[old] = new

    def rate_limit_once(self, retry_after: int, times: int = 1) -> None:
        """The next `times` sending calls answer 429 with this retry_after."""
        self._rate_limits.extend([retry_after] * times)

    def fail_next(
        self, times: int = 1, code: int = 502, description: str = "Bad Gateway", method: str | None = None
    ) -> None:
        """The next `times` calls (of `method`, or any) answer this error (502 → NetworkError in PTB)."""
        self._next_failures.append(_Failure(code, description, times, method))

    def enforce_limits(
        self,
        global_per_s: int = 30,
        per_chat_per_s: int = 1,
        window: float = 1.0,
        per_group_per_min: int | None = 20,
    ) -> None:
        """Strict sliding-window limits on sending calls; excess answers 429 retry_after=1."""
        self._limits = _Limits(global_per_s, per_chat_per_s, window, per_group_per_min)

    def disable_limits(self) -> None:
        self._limits = None

    def clear_failures(self) -> None:
        """Forget every injected failure (blocks, chat failures, migrations, 429s, limits)."""
        self._blocked.clear()
        self._chat_failures.clear()
        self._migrated.clear()
        self._rate_limits.clear()
        self._next_failures.clear()
        self._limits = None

    def _check_request(self, name: str, chat_id: int | str | None, token: str | None) -> None:
        if self.token is not None and token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        self._check_next_failures(name)
        if chat_id is not None and chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if is_sending(name):
            self._check_rate(chat_id)
        if chat_id is not None and chat_id in self._blocked and writes_to_chat(name):
            raise ApiError(403, _blocked_description(chat_id))
        failure = self._chat_failures.get(chat_id) if chat_id is not None else None
        if failure is not None:
            raise ApiError(failure.code, failure.description)

    def _check_next_failures(self, name: str) -> None:
        for failure in self._next_failures:
            if failure.method in (None, name) and (failure.times or 0) > 0:
                failure.times = (failure.times or 0) - 1
                if failure.times == 0:
                    self._next_failures.remove(failure)
                raise ApiError(failure.code, failure.description)

    def _check_rate(self, chat_id: int | str | None) -> None:
        if self._rate_limits:
            retry_after = self._rate_limits.popleft()
            raise _too_many(retry_after)
        if self._limits is not None:
            _apply_limits(self._limits, chat_id, time.monotonic())

    # ------------------------------------------------------------------ updates

    def next_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def push_update(self, update: JSON) -> int:
        """Queue an update for getUpdates (assigning update_id if missing) and wake the poller."""
        if "update_id" not in update:
            update = {"update_id": self.next_update_id(), **update}
        else:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self.observe_update(update)
        self._pending.append(update)
        if self._active_poll is not None:
            self._active_poll.wake.set()
        self._touch()
        return int(update["update_id"])

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by an offset."""
        return list(self._pending)

    def release_pollers(self) -> None:
        """Make a waiting long poll return at once with no updates (used when stopping a server)."""
        if self._active_poll is not None:
            self._active_poll.released = True
            self._active_poll.wake.set()

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._confirm(int(params.get("offset", 0)))
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        limit = max(1, min(100, int(params.get("limit", 100))))
        deadline = time.monotonic() + float(params.get("timeout", 0))
        poll = self._take_over_polling()
        try:
            return await self._wait_for_updates(poll, limit, deadline)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    def _take_over_polling(self) -> _Poll:
        """A new getUpdates terminates the one still waiting, as Telegram does (409 for the old)."""
        if self._active_poll is not None:
            self._active_poll.terminated = True
            self._active_poll.wake.set()
            self.conflicts += 1
        poll = _Poll()
        self._active_poll = poll
        return poll

    async def _wait_for_updates(self, poll: _Poll, limit: int, deadline: float) -> list[JSON]:
        while True:
            poll.wake.clear()
            if poll.terminated:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._select_updates(limit)
            remaining = deadline - time.monotonic()
            if batch or poll.released or remaining <= 0:
                return batch
            try:
                await asyncio.wait_for(poll.wake.wait(), remaining)
            except TimeoutError:
                return self._select_updates(limit)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _select_updates(self, limit: int) -> list[JSON]:
        wanted = [u for u in self._pending if self._is_allowed(u)]
        # Updates of types the bot did not ask for are never delivered: Telegram drops them.
        self._pending = wanted
        return [copy.deepcopy(u) for u in wanted[:limit]]

    def _is_allowed(self, update: JSON) -> bool:
        kind = update_type(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in OPT_IN_UPDATES

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` holds, re-checking after every call and pushed update."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    # ------------------------------------------------------------------ what users send

    def new_message_id(self, chat_id: int) -> int:
        """Next message_id in this chat; user and bot messages share one sequence, as in Telegram."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def observe_update(self, update: JSON) -> None:
        """Learn users, chats, files, messages and callback queries from an incoming update."""
        for key in MESSAGE_UPDATE_KEYS:
            message = update.get(key)
            if isinstance(message, dict):
                self._observe_message(message)
        query = update.get("callback_query")
        if isinstance(query, dict):
            self.callback_queries[str(query["id"])] = int(query["from"]["id"])
            self._observe_user(query["from"])

    def _observe_message(self, message: JSON) -> None:
        chat = message["chat"]
        chat_id = int(chat["id"])
        self.chats[chat_id] = dict(chat)
        if "from" in message:
            self._observe_user(message["from"])
        message_id = int(message["message_id"])
        self.incoming.setdefault(chat_id, {})[message_id] = message
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)
        for size in message.get("photo") or []:
            self._observe_file(size, "photo", "image/jpeg", None)
        for key in FILE_KEYS:
            if isinstance(message.get(key), dict):
                item = message[key]
                self._observe_file(item, key, item.get("mime_type"), item.get("file_name"))

    def _observe_user(self, user: JSON) -> None:
        self.users[int(user["id"])] = dict(user)

    def _observe_file(self, item: JSON, kind: str, mime_type: str | None, file_name: str | None) -> None:
        file_id = str(item["file_id"])
        if file_id not in self.files:
            self.files[file_id] = StoredFile(
                file_id=file_id,
                file_unique_id=str(item.get("file_unique_id", file_id)),
                file_size=int(item.get("file_size", 0)),
                file_path=f"{kind}s/{file_id}{_extension(mime_type, file_name)}",
                file_name=file_name,
                mime_type=mime_type,
            )

    def new_file(
        self,
        kind: str,
        *,
        size: int = 0,
        content: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Create and remember a file with fresh, Telegram-looking ids."""
        self._file_counter += 1
        number = self._file_counter
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}.get(kind, "BAAC")
        stored = StoredFile(
            file_id=f"{prefix}AgADfake{number:06d}{kind}",
            file_unique_id=f"AQADfake{number:06d}",
            file_size=len(content) if content is not None else size,
            file_path=f"{kind}s/file_{number}{_extension(mime_type, file_name)}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        for stored in self.files.values():
            if stored.file_path == path:
                return stored
        return None

    # ------------------------------------------------------------------ queries for tests

    def calls_to(
        self, method: str | None = None, chat_id: int | str | None = None, *, ok: bool | None = None
    ) -> list[Call]:
        """Recorded calls, filtered by method, chat and success."""
        return [
            call
            for call in self.calls
            if (method is None or call.method == method)
            and (chat_id is None or call.chat_id == chat_id)
            and (ok is None or call.ok == ok)
        ]

    def sent_to(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        """Messages the bot sent to this chat, oldest first, as they read now."""
        stored = self.messages.get(chat_id, {}).values()
        return [m for m in stored if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> StoredMessage | None:
        sent = self.sent_to(chat_id)
        return sent[-1] if sent else None

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self.messages.get(chat_id, {}).get(message_id)

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of button presses the bot never answered (the user sees a spinner)."""
        return [qid for qid in self.callback_queries if qid not in self.callback_answers]

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get(_commands_key(scope, language_code), []))

    # ------------------------------------------------------------------ webhook and commands

    def _delete_webhook(self, params: JSON, files: UploadedFiles) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _set_webhook(self, params: JSON, files: UploadedFiles) -> bool:
        url = str(params.get("url", ""))
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        return True

    def _get_webhook_info(self, params: JSON, files: UploadedFiles) -> JSON:
        info: JSON = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook and "max_connections" in self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
        return info

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

    # ------------------------------------------------------------------ sending

    def _store(self, chat_id: int | str | None, kind: str, params: JSON, **fields: Any) -> StoredMessage:
        chat = self._chat(chat_id)
        self.seq += 1
        markup = params.get("reply_markup")
        validate_reply_markup(markup)
        message = StoredMessage(
            chat=chat,
            message_id=self.new_message_id(int(chat["id"])),
            date=int(self.clock()),
            kind=kind,
            seq=self.seq,
            changed_seq=self.seq,
            reply_markup=markup,
            params=params,
            parse_mode=params.get("parse_mode"),
            **fields,
        )
        self.messages.setdefault(message.chat_id, {})[message.message_id] = message
        return message

    def _chat(self, chat_id: int | str | None) -> JSON:
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            return self._chat_by_username(chat_id)
        return dict(self.chats.get(chat_id) or _synthetic_chat(chat_id))

    def _chat_by_username(self, name: str) -> JSON:
        for chat in self.chats.values():
            if chat.get("username") and f"@{chat['username']}" == name:
                return dict(chat)
        raise bad_request("chat not found")

    def _send_message(self, params: JSON, files: UploadedFiles) -> JSON:
        text = params.get("text")
        if not text:
            raise bad_request("message text is empty")
        plain, entities = render_text(str(text), params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise bad_request("message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        stored = self._store(
            params.get("chat_id"), "text", params, text=plain, entities=entities, raw_text=str(text)
        )
        return stored.to_api()

    def _caption_fields(self, params: JSON) -> JSON:
        caption = params.get("caption")
        if caption is None or caption == "":
            return {}
        plain, entities = render_text(str(caption), params.get("parse_mode"), params.get("caption_entities"))
        if utf16_len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return {"caption": plain, "caption_entities": entities, "raw_text": str(caption)}

    def _send_photo(self, params: JSON, files: UploadedFiles) -> JSON:
        source = self._resolve_file(params, files, "photo", "image/jpeg")
        sizes = [_photo_size(source, 90, 67, max(1, source.file_size // 20)), _photo_size(source, 1280, 960)]
        caption = self._caption_fields(params)
        return self._store(params.get("chat_id"), "photo", params, media={"photo": sizes}, **caption).to_api()

    def _send_document(self, params: JSON, files: UploadedFiles) -> JSON:
        source = self._resolve_file(params, files, "document", "application/octet-stream")
        document = _file_object(source) | {
            "file_name": source.file_name or "file",
            "mime_type": source.mime_type or "application/octet-stream",
        }
        caption = self._caption_fields(params)
        return self._store(
            params.get("chat_id"), "document", params, media={"document": document}, **caption
        ).to_api()

    def _media_sender(self, kind: str) -> Callable[[JSON, UploadedFiles], JSON]:
        """sendVideo, sendAudio, sendSticker…: store a message carrying one file of this kind."""

        def send(params: JSON, files: UploadedFiles) -> JSON:
            source = self._resolve_file(params, files, kind, None)
            item = _file_object(source) | _file_defaults(kind)
            caption = self._caption_fields(params) if kind != "sticker" else {}
            return self._store(params.get("chat_id"), kind, params, media={kind: item}, **caption).to_api()

        return send

    def _resolve_file(self, params: JSON, files: UploadedFiles, key: str, mime: str | None) -> StoredFile:
        """The file a send* call refers to: an upload, an attach:// upload, a known file_id or a URL."""
        value = params.get(key)
        upload_name = (
            value[len("attach://") :] if isinstance(value, str) and value.startswith("attach://") else key
        )
        if upload_name in files:
            file_name, content, mime_type = files[upload_name]
            return self.new_file(key, content=content, file_name=file_name, mime_type=mime_type or mime)
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {key} in the request")
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            return self.new_file(key, size=10_000, file_name=value.rsplit("/", 1)[-1], mime_type=mime)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _send_location(self, params: JSON, files: UploadedFiles) -> JSON:
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        return self._store(params.get("chat_id"), "location", params, media={"location": location}).to_api()

    def _send_contact(self, params: JSON, files: UploadedFiles) -> JSON:
        keys = ("phone_number", "first_name", "last_name", "vcard")
        contact = {key: params[key] for key in keys if key in params}
        return self._store(params.get("chat_id"), "contact", params, media={"contact": contact}).to_api()

    def _send_chat_action(self, params: JSON, files: UploadedFiles) -> bool:
        self._chat(params.get("chat_id"))
        return True

    def _source_message(self, params: JSON, action: str) -> JSON:
        from_chat = params.get("from_chat_id")
        message_id = int(params.get("message_id", 0))
        if isinstance(from_chat, int):
            stored = self.message(from_chat, message_id)
            if stored is not None and not stored.deleted:
                return stored.to_api()
            if message_id in self.incoming.get(from_chat, {}):
                return copy.deepcopy(self.incoming[from_chat][message_id])
        raise bad_request(f"message to {action} not found")

    def _copy_message(self, params: JSON, files: UploadedFiles) -> JSON:
        source = self._source_message(params, "copy")
        fields = _content_fields(source)
        if "caption" in params:
            fields.update(self._caption_fields(params))
        stored = self._store(params.get("chat_id"), "copy", params, **fields)
        return {"message_id": stored.message_id}

    def _forward_message(self, params: JSON, files: UploadedFiles) -> JSON:
        source = self._source_message(params, "forward")
        stored = self._store(params.get("chat_id"), "forward", params, **_content_fields(source))
        origin = {"type": "user", "sender_user": source.get("from", BOT_USER), "date": source["date"]}
        stored.media["forward_origin"] = origin
        return stored.to_api()

    # ------------------------------------------------------------------ editing and deleting

    def _edit_target(self, params: JSON) -> StoredMessage | None:
        """The stored message an edit refers to; None for inline messages (not stored)."""
        if params.get("inline_message_id"):
            return None
        chat_id = params.get("chat_id")
        message_id = int(params.get("message_id", 0))
        stored = self.message(chat_id, message_id) if isinstance(chat_id, int) else None
        if stored is None or stored.deleted:
            if isinstance(chat_id, int) and message_id in self.incoming.get(chat_id, {}):
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return stored

    def _apply_edit(self, stored: StoredMessage, method: str, changes: JSON) -> JSON:
        before = {key: getattr(stored, key) for key in changes}
        if before == changes:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            setattr(stored, key, value)
        self.seq += 1
        stored.changed_seq = self.seq
        stored.edit_date = int(self.clock())
        stored.edits.append({"method": method, "before": before, "after": changes, "seq": self.seq})
        return stored.to_api()

    def _edit_message_text(self, params: JSON, files: UploadedFiles) -> JSON | bool:
        text = params.get("text")
        if not text:
            raise bad_request("message text is empty")
        plain, entities = render_text(str(text), params.get("parse_mode"), params.get("entities"))
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        validate_reply_markup(markup)
        stored = self._edit_target(params)
        if stored is None:
            return True
        if stored.text is None:
            raise bad_request("there is no text in the message to edit")
        # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
        changes = {"text": plain, "entities": entities, "reply_markup": markup}
        edited = self._apply_edit(stored, "editMessageText", changes)
        stored.raw_text = str(text)
        return edited

    def _edit_message_caption(self, params: JSON, files: UploadedFiles) -> JSON | bool:
        fields = self._caption_fields(params)
        markup = params.get("reply_markup")
        validate_reply_markup(markup)
        stored = self._edit_target(params)
        if stored is None:
            return True
        if stored.text is not None:
            raise bad_request("there is no caption in the message to edit")
        changes = {
            "caption": fields.get("caption"),
            "caption_entities": fields.get("caption_entities", []),
            "reply_markup": markup,
        }
        return self._apply_edit(stored, "editMessageCaption", changes)

    def _edit_message_reply_markup(self, params: JSON, files: UploadedFiles) -> JSON | bool:
        markup = params.get("reply_markup")
        validate_reply_markup(markup)
        stored = self._edit_target(params)
        if stored is None:
            return True
        return self._apply_edit(stored, "editMessageReplyMarkup", {"reply_markup": markup})

    def _delete_message(self, params: JSON, files: UploadedFiles) -> bool:
        chat_id = params.get("chat_id")
        message_id = int(params.get("message_id", 0))
        if not self._delete_one(chat_id, message_id):
            raise bad_request("message to delete not found")
        return True

    def _delete_messages(self, params: JSON, files: UploadedFiles) -> bool:
        for message_id in params.get("message_ids") or []:
            self._delete_one(params.get("chat_id"), int(message_id))
        return True

    def _delete_one(self, chat_id: Any, message_id: int) -> bool:
        if not isinstance(chat_id, int):
            return False
        stored = self.message(chat_id, message_id)
        if stored is not None and not stored.deleted:
            stored.deleted = True
            self.seq += 1
            stored.changed_seq = self.seq
            return True
        return self.incoming.get(chat_id, {}).pop(message_id, None) is not None

    # ------------------------------------------------------------------ the rest

    def _answer_callback_query(self, params: JSON, files: UploadedFiles) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text", ""))) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    def _get_file(self, params: JSON, files: UploadedFiles) -> JSON:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return stored.to_api()

    def _get_chat(self, params: JSON, files: UploadedFiles) -> JSON:
        chat = self._chat(params.get("chat_id"))
        return chat | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _set_chat_menu_button(self, params: JSON, files: UploadedFiles) -> bool:
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        self.menu_buttons[key] = params.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, params: JSON, files: UploadedFiles) -> JSON:
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        button = self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}
        return dict(button)


# ---------------------------------------------------------------------- helpers


def _unknown_method(params: JSON, files: UploadedFiles) -> bool:
    return True


def is_sending(method: str) -> bool:
    """Methods that post a message and count against Telegram's flood limits."""
    if method.startswith("send") and method != "sendChatAction":
        return True
    return method in {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}


def writes_to_chat(method: str) -> bool:
    """Methods a user who blocked the bot refuses (403)."""
    return is_sending(method) or method == "sendChatAction" or method.startswith("editMessage")


def update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def decode_params(params: Mapping[str, Any]) -> JSON:
    """Turn wire values (JSON strings in form fields) back into Python values."""
    return {key: _decode_value(key, value) for key, value in params.items()}


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in TEXT_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return value if decoded is None or isinstance(decoded, str) else decoded


def _too_many(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def _apply_limits(limits: _Limits, chat_id: int | str | None, now: float) -> None:
    """Sliding windows: global and per chat per `window`, and per group per minute."""
    _expire(limits.sent, now - limits.window)
    if len(limits.sent) >= limits.global_per_s:
        raise _too_many(1)
    key = chat_id if chat_id is not None else ""
    history = limits.per_chat.setdefault(key, deque())
    _expire(history, now - 60.0)
    recent = sum(1 for moment in history if moment > now - limits.window)
    if recent >= limits.per_chat_per_s:
        raise _too_many(1)
    is_group = isinstance(chat_id, int) and chat_id < 0
    if is_group and limits.per_group_per_min is not None and len(history) >= limits.per_group_per_min:
        raise _too_many(int(60 - (now - history[0])) + 1)
    limits.sent.append(now)
    history.append(now)


def _expire(history: deque[float], cutoff: float) -> None:
    while history and history[0] <= cutoff:
        history.popleft()


def _blocked_description(chat_id: int | str) -> str:
    if isinstance(chat_id, int) and chat_id < 0:
        return "Forbidden: bot was kicked from the group chat"
    return "Forbidden: bot was blocked by the user"


def _synthetic_chat(chat_id: int) -> JSON:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    if chat_id <= -1_000_000_000_000:
        return {"id": chat_id, "type": "supergroup", "title": f"Supergroup {chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}


def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
    scope_dict = scope if isinstance(scope, dict) else {"type": "default"}
    return json.dumps(scope_dict, sort_keys=True), str(language_code or "")


_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def _validate_command(command: Any) -> None:
    if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
        raise bad_request("BOT_COMMAND_INVALID")
    description = str(command.get("description", ""))
    if not 1 <= len(description) <= 256:
        raise bad_request(
            "command description is empty" if not description else "BOT_COMMAND_DESCRIPTION_INVALID"
        )


def validate_reply_markup(markup: Any) -> None:
    """Reject the keyboards Telegram rejects (bad inline buttons, oversized callback_data)."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            _validate_inline_button(button)
    for row in markup.get("keyboard", []):
        for button in row:
            label = button if isinstance(button, str) else button.get("text")
            if not label:
                raise bad_request("can't parse keyboard button: Text is empty")


def _validate_inline_button(button: JSON) -> None:
    if not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text is empty")
    actions = [key for key in INLINE_BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _content_fields(source: JSON) -> JSON:
    """StoredMessage fields reproducing another message's content (for copy/forward)."""
    fields: JSON = {"media": {}}
    if "text" in source:
        fields["text"] = source["text"]
        fields["entities"] = list(source.get("entities", []))
    if "caption" in source:
        fields["caption"] = source["caption"]
        fields["caption_entities"] = list(source.get("caption_entities", []))
    for key in ("photo", "location", "contact", "venue", *FILE_KEYS):
        if key in source:
            fields["media"][key] = copy.deepcopy(source[key])
    return fields


def _file_object(source: StoredFile) -> JSON:
    return {"file_id": source.file_id, "file_unique_id": source.file_unique_id, "file_size": source.file_size}


def _photo_size(source: StoredFile, width: int, height: int, size: int | None = None) -> JSON:
    return _file_object(source) | {"width": width, "height": height, "file_size": size or source.file_size}


def _file_defaults(kind: str) -> JSON:
    """Required fields PTB's de_json expects on each media type."""
    defaults: dict[str, JSON] = {
        "video": {"width": 640, "height": 360, "duration": 5},
        "animation": {"width": 320, "height": 240, "duration": 3},
        "audio": {"duration": 30},
        "voice": {"duration": 5},
        "video_note": {"length": 240, "duration": 5},
        "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    }
    return defaults.get(kind, {})


def _extension(mime_type: str | None, file_name: str | None) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[-1]
    return {"image/jpeg": ".jpg", "application/pdf": ".pdf", "image/png": ".png"}.get(mime_type or "", "")


def _placeholder_bytes(mime_type: str, size: int) -> bytes:
    magic = {
        "application/pdf": b"%PDF-1.4\n",
        "image/jpeg": b"\xff\xd8\xff\xe0",
        "image/png": b"\x89PNG\r\n\x1a\n",
    }
    head = magic.get(mime_type, b"")
    return head + bytes(max(0, size - len(head)))


# ---------------------------------------------------------------------- formatting (parse_mode)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def render_text(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
    """What the user sees: (plain text, entities). HTML is parsed and validated like Telegram does;
    Markdown modes are passed through unparsed."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        return HtmlParser(text).parse()
    return text, list(entities) if isinstance(entities, list) else []


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_CHAR_REF_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def _parse_attributes(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(text):
        values = [group for group in match.groups()[1:] if group is not None]
        attrs[match.group(1).lower()] = html.unescape(values[0]) if values else ""
    return attrs


@dataclass
class _OpenTag:
    name: str
    offset: int
    attrs: dict[str, str]


class HtmlParser:
    """A small re-implementation of Telegram's HTML parse mode: supported tags, proper nesting,
    `&lt;`-style references; errors carry Telegram's wording and byte offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.units = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def parse(self) -> tuple[str, list[JSON]]:
        pos = 0
        while pos < len(self.source):
            char = self.source[pos]
            if char == "<":
                pos = self._tag(pos)
            elif char == "&":
                pos = self._reference(pos)
            else:
                self._emit(char)
                pos += 1
        if self.stack:
            self._error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.units += utf16_len(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode())

    def _error(self, message: str) -> None:
        raise bad_request(f"can't parse entities: {message}")

    def _reference(self, pos: int) -> int:
        match = _CHAR_REF_RE.match(self.source, pos)
        if match is None:
            self._emit("&")
            return pos + 1
        self._emit(html.unescape(match.group()))
        return match.end()

    def _tag(self, pos: int) -> int:
        closing = self.source.startswith("</", pos)
        name_start = pos + (2 if closing else 1)
        name_match = _TAG_NAME_RE.match(self.source, name_start)
        name = name_match.group().lower() if name_match else ""
        end = self.source.find(">", name_start)
        if closing:
            return self._close(pos, name, end)
        if name not in _HTML_ENTITY_TYPES:
            self._error(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(pos)}')
        if end < 0:
            self._error(f"Unclosed start tag at byte offset {self._byte_offset(pos)}")
        attrs = _parse_attributes(self.source[name_start + len(name) : end])
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self._error('Tag "span" must have class "tg-spoiler"')
        self.stack.append(_OpenTag(name, self.units, attrs))
        return end + 1

    def _close(self, pos: int, name: str, end: int) -> int:
        offset = self._byte_offset(pos)
        if end < 0:
            self._error(f"Unclosed end tag at byte offset {offset}")
        if not self.stack:
            self._error(f"Unexpected end tag at byte offset {offset}")
        opened = self.stack.pop()
        if opened.name != name:
            self._error(
                f'Unmatched end tag at byte offset {offset}, expected "</{opened.name}>", found "</{name}>"'
            )
        self._add_entity(opened)
        return end + 1

    def _add_entity(self, tag: _OpenTag) -> None:
        length = self.units - tag.offset
        kind = _HTML_ENTITY_TYPES[tag.name]
        entity: JSON = {"type": kind, "offset": tag.offset, "length": length}
        if kind == "text_link":
            if "href" not in tag.attrs:
                return
            entity["url"] = tag.attrs["href"]
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
        elif kind == "pre" and tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
        elif kind == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif kind == "code" and self._merge_into_pre(tag):
            return
        if length > 0:
            self.entities.append(entity)

    def _merge_into_pre(self, tag: _OpenTag) -> bool:
        """`<pre><code class="language-x">` is one `pre` entity with a language."""
        language = tag.attrs.get("class", "")
        if not (self.stack and self.stack[-1].name == "pre" and language.startswith("language-")):
            return False
        self.stack[-1].attrs["language"] = language[len("language-") :]
        return True
