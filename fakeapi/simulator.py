"""Simulated users: build real Bot API updates and feed them to a PTB Application (or to the fake's
getUpdates queue when the bot runs in another process), then read what the bot answered.

`Simulator(app, state).user(42)` gives a `SimUser` whose `send`, `command`, `press`… return once the
update is fully processed through `app.update_processor`; `HttpSimUser` pushes the same updates to a
`FakeTelegram` served over HTTP and waits for replies.
"""

from __future__ import annotations

import asyncio
import itertools
import warnings
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext

from fakeapi.records import Call, StoredMessage
from fakeapi.state import FakeTelegram
from fakeapi.wire import BOT_USER, JSON

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

_query_ids = itertools.count(4_000_000_000_000_000_001)


def user_dict(
    user_id: int,
    first_name: str = "علی",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "fa",
) -> JSON:
    """A Bot API `User` for a human."""
    user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
    optional = {"last_name": last_name, "username": username, "language_code": language_code}
    user.update({key: value for key, value in optional.items() if value is not None})
    return user


def private_chat_dict(user: JSON) -> JSON:
    """The private `Chat` between the bot and this user (chat id == user id)."""
    chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    chat.update({key: user[key] for key in ("last_name", "username") if key in user})
    return chat


def group_chat_dict(chat_id: int, title: str = "کارکنان اتاق", kind: str = "supergroup") -> JSON:
    """A group `Chat` (use with `Simulator.user(..., chat=...)` for staff groups)."""
    return {"id": chat_id, "type": kind, "title": title}


def make_update_dict(state: FakeTelegram, kind: str, payload: JSON, update_id: int | None = None) -> JSON:
    """`{"update_id": …, kind: payload}` with a fresh update_id from the fake."""
    return {"update_id": update_id if update_id is not None else state.next_update_id(), kind: payload}


def command_entity(text: str) -> JSON:
    command = text.split(maxsplit=1)[0]
    return {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}


class UserUpdates:
    """One simulated user in their private chat: builds their updates, reads the bot's messages."""

    def __init__(
        self,
        state: FakeTelegram,
        user_id: int,
        first_name: str = "علی",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fa",
        chat: JSON | None = None,
    ) -> None:
        self.state = state
        self.id = user_id
        self.user = user_dict(user_id, first_name, last_name, username, language_code)
        self.chat = chat if chat is not None else private_chat_dict(self.user)
        self.last_sent: JSON | None = None
        state.users[user_id] = dict(self.user)
        state.chats[self.chat_id] = dict(self.chat)

    @property
    def chat_id(self) -> int:
        """The chat this user writes in: their private chat unless built with a group `chat`."""
        return int(self.chat["id"])

    # ------------------------------------------------------------------ update builders

    def message_dict(self, **content: Any) -> JSON:
        """A `Message` from this user with a fresh message_id in their chat."""
        message: JSON = {
            "message_id": self.state.new_message_id(self.chat_id),
            "date": int(self.state.clock()),
            "chat": self.chat,
            "from": self.user,
        }
        message.update(content)
        self.last_sent = message
        return message

    def message_update(self, **content: Any) -> JSON:
        return make_update_dict(self.state, "message", self.message_dict(**content))

    def text_update(self, text: str) -> JSON:
        return self.message_update(text=text)

    def command_update(self, cmd: str, args: str = "") -> JSON:
        """`/cmd args` with its bot_command entity (`cmd` may carry the slash and @botname)."""
        text = cmd if cmd.startswith("/") else f"/{cmd}"
        if args:
            text = f"{text} {args}"
        return self.message_update(text=text, entities=[command_entity(text)])

    def contact_update(self, phone: str, own: bool = True, user_id: int | None = None) -> JSON:
        """A shared contact; `own=False` shares someone else's (contact.user_id differs)."""
        contact: JSON = {"phone_number": phone, "first_name": self.user["first_name"]}
        if own:
            contact["user_id"] = self.id
        else:
            contact["user_id"] = user_id if user_id is not None else self.id + 1
            contact["first_name"] = "مریم"
        return self.message_update(contact=contact)

    def photo_update(self, file_size: int = 50_000, caption: str | None = None) -> JSON:
        small = self.state.new_file("photo", size=max(1, file_size // 20), mime_type="image/jpeg")
        large = self.state.new_file("photo", size=file_size, mime_type="image/jpeg")
        sizes = [
            {
                "file_id": small.file_id,
                "file_unique_id": small.file_unique_id,
                "file_size": small.file_size,
                "width": 90,
                "height": 67,
            },
            {
                "file_id": large.file_id,
                "file_unique_id": large.file_unique_id,
                "file_size": large.file_size,
                "width": 1280,
                "height": 960,
            },
        ]
        content: JSON = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self.message_update(**content)

    def document_update(
        self,
        file_name: str = "licence.pdf",
        mime_type: str = "application/pdf",
        file_size: int = 100_000,
        caption: str | None = None,
    ) -> JSON:
        stored = self.state.new_file("document", size=file_size, file_name=file_name, mime_type=mime_type)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self.message_update(**content)

    def sticker_update(self, emoji: str = "👍") -> JSON:
        stored = self.state.new_file("sticker", size=20_000, mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return self.message_update(sticker=sticker)

    def location_update(self, latitude: float = 29.5918, longitude: float = 52.5837) -> JSON:
        return self.message_update(location={"latitude": latitude, "longitude": longitude})

    def edit_update(self, text: str) -> JSON:
        """The user edits their last message into `text` (an `edited_message` update)."""
        if self.last_sent is None:
            raise AssertionError(f"user {self.id} has sent nothing to edit")
        edited = dict(self.last_sent, text=text, edit_date=int(self.state.clock()))
        self.last_sent = edited
        return make_update_dict(self.state, "edited_message", edited)

    def press_update(self, label: str) -> JSON:
        """Pressing the inline button labelled `label` on the latest bot message that has it."""
        message, data = self._find_button(label)
        return self._callback(message.to_api(), data)

    def callback_update(self, data: str, message_id: int | None = None) -> JSON:
        """A (possibly forged) press with arbitrary callback data on a given or the latest message."""
        stored = self.state.message(self.chat_id, message_id) if message_id else self.last_message
        if stored is not None:
            return self._callback(stored.to_api(), data)
        # No such message in the fake: forge one, as a tampered client could.
        placeholder = {
            "message_id": message_id or 1,
            "date": int(self.state.clock()),
            "chat": self.chat,
            "from": BOT_USER,
            "text": "…",
        }
        return self._callback(placeholder, data)

    def _callback(self, message: JSON, data: str) -> JSON:
        query = {
            "id": str(next(_query_ids)),
            "from": self.user,
            "chat_instance": f"{abs(self.chat_id) * 7919 % 10**12}",
            "message": message,
            "data": data,
        }
        return make_update_dict(self.state, "callback_query", query)

    def _find_button(self, label: str) -> tuple[StoredMessage, str]:
        for message in reversed(self.messages):
            button = message.button(label)
            if button is None:
                continue
            if "callback_data" not in button:
                raise AssertionError(f"button {label!r} in message {message.message_id} has no callback_data")
            return message, str(button["callback_data"])
        raise AssertionError(f"no inline button {label!r} for user {self.id}; available: {self._keyboards()}")

    def _keyboards(self) -> str:
        keyboards = [f"#{m.message_id} {m.buttons}" for m in self.messages if m.buttons]
        return "; ".join(keyboards[-5:]) or "no inline keyboards at all"

    # ------------------------------------------------------------------ readers

    @property
    def messages(self) -> list[StoredMessage]:
        """The bot's messages to this user, oldest first, as they read now (after edits)."""
        return self.state.sent_to(self.chat_id)

    @property
    def last_message(self) -> StoredMessage | None:
        return self.state.last_message(self.chat_id)

    @property
    def last_text(self) -> str:
        """Text (or caption) of the bot's latest message here; empty if none."""
        last = self.last_message
        return last.content if last is not None else ""

    def mark(self) -> int:
        """A point in time for `texts_since` / `messages_since`."""
        return self.state.seq

    def messages_since(self, mark: int) -> list[StoredMessage]:
        """Bot messages sent or edited after `mark`, in order of their last change."""
        changed = [m for m in self.messages if m.changed_seq > mark]
        return sorted(changed, key=lambda m: m.changed_seq)

    def texts_since(self, mark: int) -> list[str]:
        return [m.content for m in self.messages_since(mark)]

    def buttons(self, message: StoredMessage | None = None) -> list[str]:
        """Inline button labels of `message`, or of the latest bot message that has a keyboard."""
        if message is not None:
            return message.buttons
        for candidate in reversed(self.messages):
            if candidate.buttons:
                return candidate.buttons
        return []

    @property
    def reply_keyboard(self) -> list[str] | None:
        """Labels of the reply keyboard currently shown to this user (None if removed or never sent)."""
        for message in reversed(self.messages):
            markup = message.reply_markup or {}
            if markup.get("remove_keyboard"):
                return None
            if "keyboard" in markup:
                return [
                    b if isinstance(b, str) else str(b.get("text")) for row in markup["keyboard"] for b in row
                ]
        return None

    @property
    def answers(self) -> list[Call]:
        """Successful answerCallbackQuery calls for this user's button presses."""
        owners = self.state.callback_queries
        return [
            call
            for call in self.state.calls_to("answerCallbackQuery", ok=True)
            if owners.get(str(call.params.get("callback_query_id"))) == self.id
        ]


class SimUser(UserUpdates):
    """A user talking to an in-process Application; each action returns when it is fully handled,
    with the bot messages to this user that were sent or edited meanwhile."""

    def __init__(self, sim: Simulator, user_id: int, **profile: Any) -> None:
        super().__init__(sim.state, user_id, **profile)
        self.sim = sim

    async def _deliver(self, update: JSON) -> list[StoredMessage]:
        mark = self.mark()
        await self.sim.feed(update)
        return self.messages_since(mark)

    async def send(self, text: str) -> list[StoredMessage]:
        return await self._deliver(self.text_update(text))

    async def command(self, cmd: str, args: str = "") -> list[StoredMessage]:
        return await self._deliver(self.command_update(cmd, args))

    async def share_contact(self, phone: str, own: bool = True) -> list[StoredMessage]:
        return await self._deliver(self.contact_update(phone, own))

    async def send_photo(self, file_size: int = 50_000, caption: str | None = None) -> list[StoredMessage]:
        return await self._deliver(self.photo_update(file_size, caption))

    async def send_document(
        self, file_name: str = "licence.pdf", mime_type: str = "application/pdf", file_size: int = 100_000
    ) -> list[StoredMessage]:
        return await self._deliver(self.document_update(file_name, mime_type, file_size))

    async def send_sticker(self) -> list[StoredMessage]:
        return await self._deliver(self.sticker_update())

    async def send_location(
        self, latitude: float = 29.5918, longitude: float = 52.5837
    ) -> list[StoredMessage]:
        return await self._deliver(self.location_update(latitude, longitude))

    async def edit_last(self, text: str) -> list[StoredMessage]:
        return await self._deliver(self.edit_update(text))

    async def press(self, label: str) -> list[StoredMessage]:
        return await self._deliver(self.press_update(label))

    async def press_data(self, data: str, message_id: int | None = None) -> list[StoredMessage]:
        return await self._deliver(self.callback_update(data, message_id))


class Simulator:
    """Feeds simulated updates to an initialized Application through its update processor.

    With `capture_errors`, an error handler is added that collects handler exceptions in `errors`.
    With `wait_app_tasks`, an action also waits (up to `task_timeout`) for tasks the handlers started.
    """

    def __init__(
        self,
        app: AnyApplication,
        state: FakeTelegram,
        *,
        capture_errors: bool = True,
        wait_app_tasks: bool = True,
        task_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self.state = state
        self.wait_app_tasks = wait_app_tasks
        self.task_timeout = task_timeout
        self.errors: list[tuple[object, BaseException]] = []
        self.users: dict[tuple[int, int], SimUser] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._snapshot: set[asyncio.Task[Any]] | None = None
        if capture_errors:
            app.add_error_handler(self._record_error)

    def user(
        self,
        user_id: int,
        first_name: str = "علی",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fa",
        chat: JSON | None = None,
    ) -> SimUser:
        """The simulated user with this id, in their private chat or in `chat` (one object per pair)."""
        key = (user_id, int(chat["id"]) if chat is not None else user_id)
        if key not in self.users:
            self.users[key] = SimUser(
                self,
                user_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
                chat=chat,
            )
        return self.users[key]

    async def feed(self, data: JSON) -> None:
        """Process one update dict the way the running bot would, and wait until it is done."""
        update = self._parse(data)
        before = asyncio.all_tasks() if self.wait_app_tasks else set()
        await self._process(update)
        if self.wait_app_tasks:
            await self._settle(before)

    def _parse(self, data: JSON) -> Update:
        self.state.observe_update(data)
        update = Update.de_json(data, self.app.bot)
        if getattr(self.app.bot, "callback_data_cache", None) is not None:
            self.app.bot.insert_callback_data(update)  # what the Updater does for polled updates
        return update

    async def _process(self, update: Update) -> None:
        await self.app.update_processor.process_update(update, self.app.process_update(update))

    async def _settle(self, before: set[asyncio.Task[Any]]) -> None:
        """Wait for tasks started while the update was processed (non-blocking handlers, create_task)."""
        current = asyncio.current_task()
        started = {
            t for t in asyncio.all_tasks() - before - self._pending if t is not current and not t.done()
        }
        if not started:
            return
        _, still_running = await asyncio.wait(started, timeout=self.task_timeout)
        if still_running:
            names = sorted(task.get_name() for task in still_running)
            warnings.warn(f"tasks still running after {self.task_timeout} s: {names}", stacklevel=3)

    def enqueue_update(self, data: JSON) -> None:
        """Hand an update over without waiting: to `app.update_queue` when the app is running,
        else to a task of its own. `drain()` waits for all of them."""
        update = self._parse(data)
        if self._snapshot is None:
            self._snapshot = asyncio.all_tasks()
        if self.app.running:
            self.app.update_queue.put_nowait(update)
            return
        task = asyncio.create_task(self._process(update), name=f"sim-update-{update.update_id}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def enqueue(self, user: UserUpdates, text: str) -> None:
        self.enqueue_update(user.text_update(text))

    def enqueue_command(self, user: UserUpdates, cmd: str, args: str = "") -> None:
        self.enqueue_update(user.command_update(cmd, args))

    def enqueue_press(self, user: UserUpdates, label: str) -> None:
        self.enqueue_update(user.press_update(label))

    def enqueue_contact(self, user: UserUpdates, phone: str, own: bool = True) -> None:
        self.enqueue_update(user.contact_update(phone, own))

    async def drain(self) -> None:
        """Wait until every enqueued update has been processed."""
        while self._pending:
            await asyncio.gather(*list(self._pending))
        if self.app.running:
            await self.app.update_queue.join()
        if self.wait_app_tasks and self._snapshot is not None:
            await self._settle(self._snapshot)
        self._snapshot = None

    async def _record_error(self, update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        if context.error is not None:
            self.errors.append((update, context.error))

    def assert_no_errors(self) -> None:
        if self.errors:
            update, error = self.errors[0]
            raise AssertionError(
                f"{len(self.errors)} handler error(s); first: {error!r} on {update}"
            ) from error


class HttpSimUser(UserUpdates):
    """A user of a bot running elsewhere (e.g. `python -m bot run` against FakeBotAPIServer):
    actions push updates to the fake's getUpdates queue; `wait_for_reply` waits for the answer."""

    def __init__(self, state: FakeTelegram, user_id: int, **profile: Any) -> None:
        super().__init__(state, user_id, **profile)
        self.sent_mark = state.seq

    def _push(self, update: JSON) -> int:
        self.sent_mark = self.state.seq
        return self.state.push_update(update)

    def send(self, text: str) -> int:
        return self._push(self.text_update(text))

    def command(self, cmd: str, args: str = "") -> int:
        return self._push(self.command_update(cmd, args))

    def press(self, label: str) -> int:
        return self._push(self.press_update(label))

    def press_data(self, data: str, message_id: int | None = None) -> int:
        return self._push(self.callback_update(data, message_id))

    def share_contact(self, phone: str, own: bool = True) -> int:
        return self._push(self.contact_update(phone, own))

    def send_photo(self, file_size: int = 50_000) -> int:
        return self._push(self.photo_update(file_size))

    def send_document(
        self, file_name: str = "licence.pdf", mime_type: str = "application/pdf", file_size: int = 100_000
    ) -> int:
        return self._push(self.document_update(file_name, mime_type, file_size))

    def _new_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages if m.seq > self.sent_mark]

    async def wait_for_reply(self, timeout: float = 10.0) -> StoredMessage:  # noqa: ASYNC109
        """The first bot message to this user sent after the last push (waits for it)."""
        try:
            await self.state.wait_until(lambda: bool(self._new_messages()), timeout)
        except TimeoutError:
            raise AssertionError(self._no_reply(timeout)) from None
        return self._new_messages()[0]

    async def wait_for_change(self, timeout: float = 10.0) -> list[StoredMessage]:  # noqa: ASYNC109
        """Bot messages here sent or edited after the last push (waits for at least one)."""
        try:
            await self.state.wait_until(lambda: bool(self.messages_since(self.sent_mark)), timeout)
        except TimeoutError:
            raise AssertionError(self._no_reply(timeout)) from None
        return self.messages_since(self.sent_mark)

    async def ask(self, text: str, timeout: float = 10.0) -> StoredMessage:  # noqa: ASYNC109
        self.send(text)
        return await self.wait_for_reply(timeout)

    def _no_reply(self, timeout: float) -> str:
        recent = [f"{c.method}({c.status})" for c in self.state.calls[-8:]]
        return (
            f"no reply to user {self.id} within {timeout} s; last bot text: {self.last_text!r}; "
            f"pending updates: {len(self.state.pending_updates)}; recent calls: {recent}"
        )
