"""Logging set-up: one line per record, and the bot token never written out (httpx logs URLs)."""

from __future__ import annotations

import logging


class RedactToken(logging.Filter):
    """Replace the bot token wherever it appears in a log record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self._token:
            message = record.getMessage()
            if self._token in message:
                record.msg = message.replace(self._token, "<token>")
                record.args = None
        return True


def configure_logging(level: str, token: str = "") -> None:
    """Log to stderr at `level`; keep httpx's per-request lines out unless debugging."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
