"""Verification codes: short, unguessable, signed, and free of personal data.

A code is 60 bits written as 12 Crockford base-32 characters (`K7QM-2X9D-HF4T`): 40 random bits and
a 20-bit HMAC-SHA256 tag over the kind and those bits, under a secret key from the settings. A code
of one kind (a ticket) is not valid as another (a certificate), and a typed code with a typo fails the
tag check before any database lookup. The code is stored with the document; it means nothing by
itself, so it reveals nothing about its holder.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_RANDOM_BITS, _TAG_BITS = 40, 20
LENGTH = (_RANDOM_BITS + _TAG_BITS) // 5  # 12 characters
# Typed by hand: Persian/Arabic digits, look-alike letters and separators.
_TYPED = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩OILU", "01234567890123456789011V", " -_–—.‌/")


class CodeKind(StrEnum):
    """What a code verifies; part of the signed message."""

    TICKET = "ticket"
    COURSE_CERTIFICATE = "course-cert"
    MEMBER_CERTIFICATE = "member-cert"


def _tag(key: bytes, kind: str, value: int) -> int:
    digest = hmac.new(key, f"{kind}:{value:010x}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - _TAG_BITS)


def _encode(number: int) -> str:
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def new_code(key: bytes, kind: CodeKind) -> str:
    """A fresh code of this kind (12 characters, no separators)."""
    value = secrets.randbits(_RANDOM_BITS)
    return _encode((value << _TAG_BITS) | _tag(key, kind, value))


def normalise_code(text: str) -> str:
    """A typed or scanned code in its canonical form (upper case, no separators, ASCII digits)."""
    return text.strip().upper().translate(_TYPED)


def verify_code(key: bytes, kind: CodeKind, text: str) -> str | None:
    """The canonical code when `text` is a well-formed code of this kind signed with `key`, else None."""
    code = normalise_code(text)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    number = 0
    for char in code:
        number = (number << 5) | ALPHABET.index(char)
    value, tag = number >> _TAG_BITS, number & ((1 << _TAG_BITS) - 1)
    return code if hmac.compare_digest(_tag(key, kind, value).to_bytes(3), tag.to_bytes(3)) else None


def format_code(code: str) -> str:
    """A code for reading aloud or typing: groups of four (`K7QM-2X9D-HF4T`)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
