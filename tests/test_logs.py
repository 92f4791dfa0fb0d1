"""Logs never hold the token, national IDs or mobile numbers, whatever logs them and however."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import SafeFormatter, configure_logging, mask_personal

TOKEN = "123456:SECRET-token-value"


def test_masking() -> None:
    assert mask_personal("کد ملی 0499370899 ثبت شد") == "کد ملی 04******99 ثبت شد"
    for phone in ("+989121234567", "09121234567", "989121234567", "00989121234567"):
        assert "1234567" not in mask_personal(f"mobile {phone}.")
    assert mask_personal("update=123456 duration_ms=12.5") == "update=123456 duration_ms=12.5"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root, httpx = logging.getLogger(), logging.getLogger("httpx")
    saved = (list(root.handlers), root.level, httpx.level)
    out = io.StringIO()
    configure_logging("INFO", TOKEN)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    httpx.setLevel(saved[2])


def test_token_and_personal_data_never_reach_the_output(stream: io.StringIO) -> None:
    logging.getLogger("httpx").warning(
        "HTTP Request: POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN
    )
    logging.getLogger("bot.x").info(
        "saved national id %s for +98 912 123 4567? no: +989121234567", "0499370899"
    )
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getUpdates refused for 09121234567")
    except RuntimeError:
        logging.getLogger("bot.errors").exception("Unhandled error")
    text = stream.getvalue()
    assert TOKEN not in text and "SECRET" not in text
    assert "0499370899" not in text and "9121234567" not in text
    assert "<token>" in text and "Traceback" in text


def test_httpx_request_lines_are_off_by_default(stream: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
    assert stream.getvalue() == ""
    assert isinstance(logging.getLogger().handlers[0].formatter, SafeFormatter)
