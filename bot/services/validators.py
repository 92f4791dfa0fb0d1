"""Validation of Iranian national IDs and mobile numbers; raises domain errors the handlers turn into text."""

from __future__ import annotations

import re

from bot.services.errors import InvalidAnswer
from bot.text import normalize_numeric

_DIGITS = re.compile(r"[0-9]+")


class ValidationError(InvalidAnswer):
    """A value a user typed is not acceptable; reason is a short machine-readable code."""


class InvalidNationalId(ValidationError):
    """Reasons: "format" (not digits), "length", "repeated" (all one digit), "checksum"."""


class InvalidMobile(ValidationError):
    """Reasons: "format" (not digits), "country" (not +98), "length", "landline" (not 09…)."""


def national_id_check_digit(first_nine: str) -> int:
    """The check digit for the first nine digits of a national ID."""
    r = sum(int(d) * (10 - i) for i, d in enumerate(first_nine)) % 11
    return r if r < 2 else 11 - r


def normalize_national_id(text: str) -> str:
    """Return the 10-digit national ID in text, left-padding 8- or 9-digit codes with zeros."""
    code = normalize_numeric(text)
    if not _DIGITS.fullmatch(code):
        raise InvalidNationalId("format")
    if not 8 <= len(code) <= 10:
        raise InvalidNationalId("length")
    code = code.zfill(10)
    # All-same-digit codes satisfy the checksum but are never issued.
    if len(set(code)) == 1:
        raise InvalidNationalId("repeated")
    if national_id_check_digit(code[:9]) != int(code[9]):
        raise InvalidNationalId("checksum")
    return code


def is_valid_national_id(text: str) -> bool:
    """Whether text holds a valid national ID."""
    try:
        normalize_national_id(text)
    except InvalidNationalId:
        return False
    return True


def normalize_mobile(text: str) -> str:
    """Return the Iranian mobile number in text as +989XXXXXXXXX; accepts 09…, 9…, +989…, 00989…, 989…."""
    number = normalize_numeric(text)
    international = number.startswith("+")
    if international:
        number = number[1:]
    elif number.startswith("00"):
        international = True
        number = number[2:]
    if not _DIGITS.fullmatch(number):
        raise InvalidMobile("format")
    if international:
        if not number.startswith("98"):
            raise InvalidMobile("country")
        number = number[2:]
    elif number.startswith("98") and len(number) == 12:
        # 989XXXXXXXXX, as in a shared contact's phone_number. A 10-digit 98… is 9XXXXXXXXX (0998 exists).
        number = number[2:]
    if number.startswith("0"):
        # Trunk zero: 09…, and also +98 (0)9… which some people write.
        number = number[1:]
    if len(number) != 10:
        raise InvalidMobile("length")
    if not number.startswith("9"):
        raise InvalidMobile("landline")
    return f"+98{number}"
