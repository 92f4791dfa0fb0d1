"""What the fake records: the calls the bot made, the files it knows, the messages the bot sent
(as they stand after edits), and the answers to pre-checkout queries."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from fakeapi.wire import BOT_USER, JSON


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
        return placeholder_bytes(self.mime_type or "", self.file_size)


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
    def invoice(self) -> JSON | None:
        """The Bot API `Invoice` of an invoice message (its payload and prices are in `params`)."""
        return self.media.get("invoice")

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


@dataclass(frozen=True)
class PreCheckoutAnswer:
    """The bot's answerPreCheckoutQuery for one query: go ahead (`ok`) or refuse with a message."""

    query_id: str
    ok: bool
    error_message: str | None = None
    answered_at: float = 0.0


def placeholder_bytes(mime_type: str, size: int) -> bytes:
    magic = {
        "application/pdf": b"%PDF-1.4\n",
        "image/jpeg": b"\xff\xd8\xff\xe0",
        "image/png": b"\x89PNG\r\n\x1a\n",
    }
    head = magic.get(mime_type, b"")
    return head + bytes(max(0, size - len(head)))
