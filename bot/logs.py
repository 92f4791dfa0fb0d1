"""Logging set-up: one line per record; the bot token never written out (httpx logs URLs), and
national IDs and mobile numbers masked wherever they appear (messages, arguments, tracebacks)."""

from __future__ import annotations

import logging
import re

# Mobile numbers in any common form, and bare 10-digit runs (national IDs, also other long numbers:
# masking too much in a log line is harmless, too little is not).
_MOBILE = re.compile(r"(?<!\d)(?:\+98|0098|98|0)?(9\d{2})\d{5}(\d{2})(?!\d)")
_TEN_DIGITS = re.compile(r"(?<!\d)(\d{2})\d{6}(\d{2})(?!\d)")


def mask_personal(text: str) -> str:
    """Mask mobile numbers and national IDs, keeping a few digits for support staff to match on."""
    text = _MOBILE.sub(lambda m: f"{m.group(1)}*****{m.group(2)}", text)
    return _TEN_DIGITS.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)


class SafeFormatter(logging.Formatter):
    """A formatter whose output never contains the token, national IDs or mobile numbers."""

    def __init__(self, fmt: str, token: str = "") -> None:
        super().__init__(fmt)
        self._token = token

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self._token:
            text = text.replace(self._token, "<token>")
        return mask_personal(text)


def configure_logging(level: str, token: str = "") -> None:
    """Log to stderr at `level`; keep httpx's per-request lines out unless debugging."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
