"""Whole numbers as people type them: Persian, Arabic-Indic or ASCII digits, thousands separators,
a unit word («۵ سال», «۵ ساله»); a decimal or a range is refused with its own reason, never read
as one long number (``۱.۵`` is not 15, ``۳-۴`` is not 34)."""

from __future__ import annotations

import re

from bot.services.errors import InvalidAnswer
from bot.text import strip_marks, to_ascii_digits

# Thousands separators people type: Arabic ٬ (U+066C), comma, Persian comma, apostrophe, thin spaces.
_THOUSANDS = re.compile(r"(?<=\d)[٬,،'’\u2009\u202f ](?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"^\d+\s*[.٫/]\s*\d+$")
_RANGE = re.compile(r"^\d+\s*(?:-|–|—|~|تا|الی|to)\s*\d+$", re.IGNORECASE)
_WHOLE = re.compile(r"^\d+$")


def whole_number(raw: str, *, units: tuple[str, ...] = (), limit: int | None = None) -> int:
    """The whole number in `raw`. Reasons: "not_number", "decimal" (details: whole), "range",
    "too_big" (details: limit)."""
    text = to_ascii_digits(strip_marks(raw)).replace("\u200c", " ").strip().lower()
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            text = text[: -len(unit)].strip()
    text = _THOUSANDS.sub("", text)
    if _DECIMAL.match(text):
        raise InvalidAnswer("decimal", whole=int(re.split(r"\s*[.٫/]\s*", text)[0]))
    if _RANGE.match(text):
        raise InvalidAnswer("range")
    if not _WHOLE.match(text) or not text.isascii():
        raise InvalidAnswer("not_number")
    value = int(text)
    if limit is not None and value > limit:
        raise InvalidAnswer("too_big", limit=limit)
    return value
