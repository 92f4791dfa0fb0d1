"""Input normalisation at the edge: digits, Arabic letter variants, invisible marks, search keys."""

from __future__ import annotations

import re
import unicodedata

_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

# Only the unambiguous variants: Arabic yeh / alef maksura → Persian yeh, Arabic kaf → keheh.
# ة→ه and أ→ا change spelling, so they are left to search_key, which only compares.
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})

ZWNJ = "\u200c"

# Direction controls, plus zero-width characters other than ZWNJ (which Persian spelling needs) and
# ZWJ (which emoji sequences need). search_key drops ZWJ too.
_MARKS = (
    "\u200e\u200f\u061c"  # LRM RLM ALM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200b\u2060\ufeff"  # ZWSP, word joiner, BOM / ZWNBSP
)
_STRIP_MARKS = str.maketrans(dict.fromkeys(_MARKS))

# Separators people type inside IDs and phone numbers: whitespace, dashes, dots, parentheses.
_NUMERIC_SEPARATORS = re.compile(r"[\s\u200c\-‐‑‒–—―−_.٫·()\[\]]+")

# Harakat U+064B–U+065F, superscript alef U+0670, tatweel U+0640; ZWJ is invisible for matching.
_SEARCH_DROP = re.compile("[\u064b-\u065f\u0670\u0640\u200d]")
_WHITESPACE = re.compile(r"\s+")

_TRAILING_JUNK = re.compile(r"[\s\u200c,،;؛:]+\Z")


def to_ascii_digits(s: str) -> str:
    """Turn Persian (۰-۹) and Arabic-Indic (٠-٩) digits into ASCII digits."""
    return s.translate(_ASCII_DIGITS)


def normalize_letters(s: str) -> str:
    """Replace Arabic ي, ى and ك with Persian ی and ک."""
    return s.translate(_LETTERS)


def strip_marks(s: str) -> str:
    """Remove bidi controls and zero-width characters, keeping ZWNJ and ZWJ."""
    return s.translate(_STRIP_MARKS)


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def drop_controls(s: str) -> str:
    """Remove control characters other than tab and newlines (PostgreSQL refuses NUL in text)."""
    return _CONTROLS.sub("", s)


def normalize_input(s: str) -> str:
    """Normalise free text from a user: ASCII digits, Persian letters, no bidi marks, trimmed; keeps ZWNJ."""
    return drop_controls(strip_marks(normalize_letters(to_ascii_digits(s)))).strip()


def normalize_numeric(s: str) -> str:
    """Normalise an ID or phone number: ASCII digits, no marks, no spaces/dashes/dots/parentheses."""
    return _NUMERIC_SEPARATORS.sub("", strip_marks(to_ascii_digits(s)))


def search_key(s: str) -> str:
    """Reduce text to a key for fuzzy matching: letter variants, digits, diacritics, ZWNJ, case."""
    # NFKD splits presentation forms and hamza/madda carriers (أ → ا + hamza), whose marks are then dropped.
    s = unicodedata.normalize("NFKD", s)
    s = strip_marks(normalize_letters(to_ascii_digits(s)))
    s = _SEARCH_DROP.sub("", s).replace(ZWNJ, " ")
    return _WHITESPACE.sub(" ", s).strip().casefold()


# Persian alphabetical order: Unicode puts پ چ ژ گ after the Arabic letters; move them to their places.
_PERSIAN_ORDER = "آاأإءبپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیئ"
_COLLATE = str.maketrans({letter: chr(0xE000 + index) for index, letter in enumerate(_PERSIAN_ORDER)})


def collation_key(text: str) -> str:
    """Sort key for Persian alphabetical order (of a name or its search key)."""
    return search_key(text).translate(_COLLATE)


def truncate(s: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten s to at most limit characters, cutting at a word boundary and ending with an ellipsis."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if len(s) <= limit:
        return s
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[:limit]
    head = s[:room]
    if not s[room].isspace():
        # The cut falls inside a word: back off to the last whitespace, unless the word fills the whole room.
        boundary = max((i for i, ch in enumerate(head) if ch.isspace()), default=-1)
        if boundary > 0:
            head = head[:boundary]
    return _TRAILING_JUNK.sub("", head) + ellipsis
