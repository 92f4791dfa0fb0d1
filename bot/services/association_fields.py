"""Validating one field of an association, shared by the staff edit form and the CSV import."""

from __future__ import annotations

import re
from typing import Any

from bot.services.errors import DomainError, InvalidAnswer
from bot.services.numbers import whole_number
from bot.text import normalize_input, normalize_numeric
from db.models.associations import ACTIVE, EVIDENCE_KINDS, FORMING, INACTIVE, STATUSES

# Fields staff may set, in the order of the CSV columns and of the edit menu.
TEXT_FIELDS = ("name", "description", "category", "phone", "address", "channel")
RULE_FIELDS = (
    "degree_required",
    "accepted_evidence",
    "min_experience_years",
    "evidence_required",
    "yearly_fee_rials",
)
FIELDS = (*TEXT_FIELDS, "status", *RULE_FIELDS)
NULLABLE = ("phone", "address", "channel")
LIMITS = {"name": (3, 200), "description": (0, 1000), "category": (0, 100), "address": (0, 300)}

_TRUE = {"1", "true", "yes", "y", "بله", "آری", "اری", "دارد", "لازم", "لازم است", "✓"}
_FALSE = {"0", "false", "no", "n", "خیر", "نه", "ندارد", "لازم نیست", ""}
# Persian words staff may type or keep in a spreadsheet instead of the English codes.
STATUS_WORDS = {
    ACTIVE: ACTIVE,
    FORMING: FORMING,
    INACTIVE: INACTIVE,
    "فعال": ACTIVE,
    "در حال تأسیس": FORMING,
    "در حال تاسیس": FORMING,
    "در حال تشکیل": FORMING,
    "درحال تشکیل": FORMING,
    "غیرفعال": INACTIVE,
    "غیر فعال": INACTIVE,
}
EVIDENCE_WORDS = {
    **{kind: kind for kind in EVIDENCE_KINDS},
    "سابقه": "experience",
    "سابقه کار": "experience",
    "سابقهٔ کار": "experience",
    "پروانه کسب": "business_licence",
    "پروانهٔ کسب": "business_licence",
    "مجوز کسب و کار خانگی": "home_permit",
    "مجوز کسب‌وکار خانگی": "home_permit",
    "مجوز خانگی": "home_permit",
}
_CHANNEL = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|https?://\S{4,190})$")
_PHONE = re.compile(r"^\+?[0-9]{5,15}$")
# A phone and a channel: the pattern, the reason it is refused, how the typed text is normalised first.
_PATTERNS = {
    "phone": (_PHONE, "bad_phone", normalize_numeric),
    "channel": (_CHANNEL, "bad_channel", normalize_input),
}
MAX_FEE = 10**13
MAX_YEARS = 60


class InvalidField(DomainError):
    """A value that cannot be stored in this field; `reason` says why, `details["field"]` which."""


def _words(raw: str) -> str:
    return " ".join(normalize_input(raw).replace("\u200c", " ").split()).casefold()


def parse_bool(field: str, raw: str) -> bool:
    """Yes/no in English or Persian."""
    word = _words(raw)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidField("not_yes_no", field=field)


def parse_status(raw: str) -> str:
    """active | forming | inactive, or their Persian names."""
    status = STATUS_WORDS.get(_words(raw)) or STATUS_WORDS.get(" ".join(normalize_input(raw).split()))
    if status not in STATUSES:
        raise InvalidField("bad_status", field="status")
    return status


def parse_evidence(raw: str) -> str:
    """A comma list of evidence kinds (English codes or Persian names); stored comma-separated."""
    kinds: list[str] = []
    for part in re.split(r"[,،;؛|]", normalize_input(raw)):
        word = " ".join(part.split())
        if not word:
            continue
        kind = EVIDENCE_WORDS.get(word) or EVIDENCE_WORDS.get(word.casefold())
        if kind is None:
            raise InvalidField("bad_evidence", field="accepted_evidence", value=word)
        if kind not in kinds:
            kinds.append(kind)
    return ",".join(kind for kind in EVIDENCE_KINDS if kind in kinds)


# Reasons of bot.services.numbers.whole_number, as this module names them.
_NUMBER_REASONS = {
    "not_number": "not_a_number",
    "too_big": "too_large",
    "decimal": "decimal",
    "range": "range",
}


def _number(field: str, raw: str, limit: int, units: tuple[str, ...] = ()) -> int:
    """A whole number («۱٬۵۰۰٬۰۰۰», «۵ سال»); a decimal or a range is refused, never read as one number."""
    if not normalize_numeric(raw):
        return 0
    try:
        return whole_number(raw, units=units, limit=limit)
    except InvalidAnswer as exc:
        reason = _NUMBER_REASONS.get(exc.reason, "not_a_number")
        raise InvalidField(reason, **{**exc.details, "field": field}) from None


def clean(field: str, raw: str) -> Any:
    """The stored value of `field` from what staff typed (raises InvalidField)."""
    if field in LIMITS:
        text = " ".join(normalize_input(raw).split()) if field != "description" else normalize_input(raw)
        low, high = LIMITS[field]
        if len(text) < low:
            raise InvalidField("too_short", field=field)
        if len(text) > high:
            raise InvalidField("too_long", field=field)
        return text or (None if field in NULLABLE else "")
    if field in _PATTERNS:
        pattern, reason, normalise = _PATTERNS[field]
        value = normalise(raw).strip()
        if value and not pattern.fullmatch(value):
            raise InvalidField(reason, field=field)
        return value or None
    if field == "status":
        return parse_status(raw)
    if field in ("degree_required", "evidence_required"):
        return parse_bool(field, raw)
    if field == "accepted_evidence":
        return parse_evidence(raw)
    if field == "min_experience_years":
        return _number(field, raw, MAX_YEARS, ("سال", "ساله"))
    if field == "yearly_fee_rials":
        return _number(field, raw, MAX_FEE, ("ریال",)) or None
    raise InvalidField("unknown_field", field=field)


def clean_typed(field: str, raw: str) -> Any:
    """What staff type in the edit form: as `clean`, and «۰» removes a phone or channel."""
    if field in ("phone", "channel") and normalize_numeric(raw) == "0":
        return None
    return clean(field, raw)


# The export's Persian words (read back by `clean`: STATUS_WORDS, _TRUE/_FALSE, EVIDENCE_WORDS).
PERSIAN_STATUS = {ACTIVE: "فعال", FORMING: "در حال تأسیس", INACTIVE: "غیرفعال"}
PERSIAN_EVIDENCE = {
    "experience": "سابقهٔ کار",
    "business_licence": "پروانهٔ کسب",
    "home_permit": "مجوز کسب‌وکار خانگی",
}


def as_text(field: str, value: Any, *, persian: bool = False) -> str:
    """A stored value written back the way `clean` reads it (for CSV export), in English codes or
    in Persian words (numbers keep ASCII digits, so a spreadsheet still counts with them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("بله" if value else "خیر") if persian else ("yes" if value else "no")
    if persian and field == "status":
        return PERSIAN_STATUS.get(str(value), str(value))
    if persian and field == "accepted_evidence":
        return "، ".join(PERSIAN_EVIDENCE.get(kind, kind) for kind in str(value).split(",") if kind)
    return str(value)
