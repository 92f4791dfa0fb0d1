"""Messages the bot sends, edits, copies, forwards and deletes, the messages users sent (for copies
and forwards), answers to button presses, and getChat / sendChatAction."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fakeapi.errors import bad_request
from fakeapi.files import Files, file_defaults, file_object, photo_size
from fakeapi.records import StoredMessage
from fakeapi.validate import (
    MAX_CALLBACK_ANSWER,
    MAX_CAPTION,
    MAX_TEXT,
    render_text,
    utf16_len,
    validate_reply_markup,
)
from fakeapi.wire import BOT_USER, FILE_KEYS, JSON, MethodHandler, UploadedFiles


class Messages(Files):
    """The bot's messages per chat (as they read now) and the users' messages per chat."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self.incoming: dict[int, dict[int, JSON]] = {}
        self.callback_queries: dict[str, int] = {}
        self.callback_answers: dict[str, JSON] = {}

    def _method_table(self) -> dict[str, MethodHandler]:
        return super()._method_table() | {
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
            "getChat": self._get_chat,
        }

    def observe_update(self, update: JSON) -> None:
        super().observe_update(update)
        query = update.get("callback_query")
        if isinstance(query, dict):
            self.callback_queries[str(query["id"])] = int(query["from"]["id"])
            self._observe_user(query["from"])

    def keep_only_latest(self, messages_per_chat: int = 2) -> None:
        super().keep_only_latest(messages_per_chat)
        for sent in self.messages.values():
            _trim(sent, messages_per_chat)
        for received in self.incoming.values():
            _trim(received, messages_per_chat)
        self.callback_queries = {
            q: u for q, u in self.callback_queries.items() if q not in self.callback_answers
        }
        self.callback_answers.clear()

    def _observe_message(self, message: JSON) -> None:
        super()._observe_message(message)
        chat = self.incoming.setdefault(int(message["chat"]["id"]), {})
        _keep(chat, int(message["message_id"]), message, self.messages_kept)

    # ------------------------------------------------------------------ queries for tests

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

    # ------------------------------------------------------------------ sending

    def _store(self, chat_id: int | str | None, kind: str, params: JSON, **fields: Any) -> StoredMessage:
        chat = self._chat(chat_id)
        seq = self._next_seq()
        markup = params.get("reply_markup")
        validate_reply_markup(markup)
        message = StoredMessage(
            chat=chat,
            message_id=self.new_message_id(int(chat["id"])),
            date=int(self.clock()),
            kind=kind,
            seq=seq,
            changed_seq=seq,
            reply_markup=markup,
            params=params,
            parse_mode=params.get("parse_mode"),
            **fields,
        )
        _keep(self.messages.setdefault(message.chat_id, {}), message.message_id, message, self.messages_kept)
        return message

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
        sizes = [photo_size(source, 90, 67, max(1, source.file_size // 20)), photo_size(source, 1280, 960)]
        caption = self._caption_fields(params)
        return self._store(params.get("chat_id"), "photo", params, media={"photo": sizes}, **caption).to_api()

    def _send_document(self, params: JSON, files: UploadedFiles) -> JSON:
        source = self._resolve_file(params, files, "document", "application/octet-stream")
        document = file_object(source) | {
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
            item = file_object(source) | file_defaults(kind)
            caption = self._caption_fields(params) if kind != "sticker" else {}
            return self._store(params.get("chat_id"), kind, params, media={kind: item}, **caption).to_api()

        return send

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
        stored.changed_seq = self._next_seq()
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
            stored.changed_seq = self._next_seq()
            return True
        return self.incoming.get(chat_id, {}).pop(message_id, None) is not None

    # ------------------------------------------------------------------ the rest

    def _answer_callback_query(self, params: JSON, files: UploadedFiles) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        if self.keep_calls:
            self.callback_answers[query_id] = params
        else:  # answered once: forgotten, so a second answer is refused all the same
            del self.callback_queries[query_id]
        return True

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


def _keep(chat: dict[int, Any], message_id: int, message: Any, kept: int | None) -> None:
    """Store a message in its chat; with `kept`, drop the oldest beyond that many."""
    chat[message_id] = message
    if kept is not None:
        _trim(chat, kept)


def _trim(chat: dict[int, Any], kept: int) -> None:
    """Drop a chat's oldest messages beyond the latest `kept`."""
    while len(chat) > kept:
        del chat[next(iter(chat))]
