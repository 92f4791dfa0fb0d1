"""What Telegram refuses before anything is stored: keyboards and buttons, text and caption
lengths in UTF-16 code units, and HTML parse mode (tags, nesting, references) turned into entities."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from fakeapi.errors import bad_request
from fakeapi.wire import JSON

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
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
    web_app = button.get("web_app")
    if web_app is not None:
        validate_web_app(web_app, "inline keyboard button")


def validate_web_app(web_app: Any, where: str) -> None:
    """A `WebAppInfo`: Telegram opens Mini Apps over HTTPS only."""
    url = str(web_app.get("url", "")) if isinstance(web_app, dict) else ""
    if not url.startswith("https://"):
        raise bad_request(f"{where} Web App URL '{url}' is invalid: Only HTTPS links are allowed")


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
