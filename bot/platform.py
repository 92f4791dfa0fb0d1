"""Telegram or Bale: the bot object for each, and what Bale's Bot API does differently.

Bale mirrors Telegram's Bot API (same methods, same JSON) but has no `parse_mode`: it renders
Markdown-like marks (*bold*, _italic_) in plain text by itself. Our messages are written once, in
Telegram HTML, and converted on the way out when the bot talks to Bale.
"""

from __future__ import annotations

import html
import re
from typing import Any

from telegram.ext import Defaults, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings
from bot.outgoing import OutgoingLimiter

_TAG = re.compile(r"<(/?)(\w+)([^>]*)>")
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""")
_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "code": "`", "pre": "```"}


def html_to_bale(text: str) -> str:
    """Telegram HTML to Bale's plain-text marks: <b> → *…*, <i> → _…_, <a href=u>t</a> → [t](u)."""
    links: list[str] = []

    def tag(match: re.Match[str]) -> str:
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        if name in _MARKS:
            return _MARKS[name]
        if name == "a":
            if closing:
                return f"]({links.pop()})" if links else ""
            href = _HREF.search(attributes)
            links.append(html.unescape(href.group(1)) if href else "")
            return "["
        return ""

    return html.unescape(_TAG.sub(tag, text))


class BaleBot(ExtBot[None]):
    """An ExtBot that sends Bale-compatible text: no parse_mode, HTML converted to Bale's marks."""

    async def _do_post(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        if str(data.get("parse_mode") or "").upper() == "HTML":
            data.pop("parse_mode")
            for field in ("text", "caption"):
                if isinstance(data.get(field), str):
                    data[field] = html_to_bale(data[field])
        return await super()._do_post(endpoint, data, **kwargs)


def make_bot(
    settings: Settings,
    defaults: Defaults,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> ExtBot[None]:
    """The bot for the configured platform, with a connection pool sized for concurrent updates."""
    bot_class = BaleBot if settings.is_bale else ExtBot
    return bot_class(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_api_file_url,
        request=request or HTTPXRequest(connection_pool_size=256),
        get_updates_request=get_updates_request or HTTPXRequest(connection_pool_size=1, read_timeout=30),
        defaults=defaults,
        # One account of every message posted, shared by replies and broadcasts (bot/outgoing.py).
        rate_limiter=OutgoingLimiter(),
    )
