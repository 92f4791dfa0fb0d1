"""Update dicts for simulated users: `UserUpdates` builds one user's messages, commands, contacts,
files, button presses, pre-checkout queries and payments (as real Bot API updates with fresh ids)
and reads the bot's messages to them; the helpers build the `User`, `Chat` and `Update` dicts.

`fakeapi.simulator` sends these updates to a bot (in-process, or over the fake's HTTP server).
"""

from __future__ import annotations

import itertools
from typing import Any

from fakeapi.files import file_defaults, file_object, photo_size
from fakeapi.records import Call, StoredMessage
from fakeapi.state import FakeTelegram
from fakeapi.wire import BOT_USER, JSON

_query_ids = itertools.count(4_000_000_000_000_000_001)
_charge_ids = itertools.count(1)


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
        self.last_update: JSON | None = None
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

    def photo_update(
        self, file_size: int = 50_000, caption: str | None = None, *, content: bytes | None = None
    ) -> JSON:
        """A photo of `file_size` placeholder bytes, or with this `content` (its largest size, served
        by getFile)."""
        small = self.state.new_file("photo", size=max(1, file_size // 20), mime_type="image/jpeg")
        large = self.state.new_file("photo", size=file_size, content=content, mime_type="image/jpeg")
        fields: JSON = {"photo": [photo_size(small, 90, 67), photo_size(large, 1280, 960)]}
        if caption is not None:
            fields["caption"] = caption
        return self.message_update(**fields)

    def document_update(
        self,
        file_name: str = "licence.pdf",
        mime_type: str = "application/pdf",
        file_size: int = 100_000,
        caption: str | None = None,
        *,
        content: bytes | None = None,
    ) -> JSON:
        """A document of `file_size` placeholder bytes, or with this `content` (served by getFile)."""
        stored = self.state.new_file(
            "document", size=file_size, content=content, file_name=file_name, mime_type=mime_type
        )
        document = file_object(stored) | {"file_name": file_name, "mime_type": mime_type}
        fields: JSON = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        return self.message_update(**fields)

    def sticker_update(self, emoji: str = "👍") -> JSON:
        stored = self.state.new_file("sticker", size=20_000, mime_type="image/webp")
        sticker = file_object(stored) | file_defaults("sticker") | {"emoji": emoji}
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

    def pre_checkout_update(self, invoice_payload: str, total_amount: int, currency: str) -> JSON:
        """The user pressed Pay on an invoice: Telegram asks the bot to confirm (`pre_checkout_query`)."""
        query = {
            "id": str(next(_query_ids)),
            "from": self.user,
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
        }
        return make_update_dict(self.state, "pre_checkout_query", query)

    def successful_payment_update(
        self,
        invoice_payload: str,
        total_amount: int,
        currency: str,
        charge_id: str | None = None,
    ) -> JSON:
        """The service message Telegram sends once the payment went through: this
        telegram_payment_charge_id or a fresh one, and a fresh provider_payment_charge_id."""
        number = next(_charge_ids)
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
            "telegram_payment_charge_id": charge_id or f"fake_tg_charge_{number:08d}",
            "provider_payment_charge_id": f"fake_provider_charge_{number:08d}",
        }
        return self.message_update(successful_payment=payment)

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

    def latest_invoice(self) -> StoredMessage:
        """The bot's latest invoice to this user."""
        invoices = self.state.invoices_to(self.chat_id)
        if not invoices:
            raise AssertionError(f"no invoice was sent to user {self.id}")
        return invoices[-1]

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
