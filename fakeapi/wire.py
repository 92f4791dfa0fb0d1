"""The wire format the fake speaks: JSON aliases, the bot's own identity, and how request
parameters (JSON strings in form fields) are turned back into Python values."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

JSON = dict[str, Any]
UploadedFiles = dict[str, tuple[str, bytes, str]]
# One Bot API method: (decoded parameters, uploaded files) -> result, or an awaitable of it.
MethodHandler = Callable[[JSON, UploadedFiles], Any]

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

# Keys of an Update that carry a Message, and of a Message that carry one file.
MESSAGE_UPDATE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")
FILE_KEYS = ("document", "sticker", "video", "audio", "voice", "animation", "video_note")

# Parameters that are free text on the wire: never JSON-decoded even when they look like numbers.
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "pre_checkout_query_id",
        "shipping_query_id",
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
        "provider_token",
        "provider_data",
        "photo_url",
        "error_message",
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


def update_type(update: JSON) -> str:
    """The kind of an Update: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), "")
