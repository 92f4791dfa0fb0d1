"""Every numeric answer of every form reads the same in Persian, Arabic-Indic and ASCII digits (the
years of experience have their own table in tests/test_numbers.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.context import BotApplication
from bot.forms.spec import Field
from bot.services import course_form
from tests.fuzzkit import forms

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# <form>:<field> -> what someone types there, in ASCII digits (each also typed in the other two).
NUMERIC = {
    "apply:experience_years": ["5", "12 سال"],
    "apply:national_id": ["0499370899", "049-937089-9"],
    "apply:mobile": ["09123456789", "+98 912 345 6789"],
    "apply:permit_number": ["1234567"],
    "profile:national_id": ["0499370899"],
    "profile:mobile": ["0912 345 6789"],
    "invite:national_id": ["0499370899"],
    "cform:capacity": ["30", "1,200"],
    "cform:fee": ["0", "2000000", "2,000,000"],
    "rate:period": ["1403", "1403-H1"],
    "rate:governance": ["8"],
    "rate:policy": ["7"],
    "rate:membership": ["6"],
    "rate:regulation": ["5"],
    "rate:services": ["9"],
    "diredit:min_experience_years": ["3"],
    "diredit:yearly_fee_rials": ["3000000", "3,000,000"],
    "diredit:phone": ["034-3222 3344"],
    "dirstaff:telegram_id": ["123456789"],
}


def _field(app: BotApplication, place: str) -> Field:
    form_name, _colon, field_name = place.partition(":")
    form = forms(app)[form_name].form
    field = form.field(field_name)
    assert field is not None and field.clean is not None, f"{place} is not a typed answer any more"
    return field


@pytest.mark.parametrize("place", sorted(NUMERIC))
def test_every_digit_system_gives_the_same_answer(app: BotApplication, place: str) -> None:
    field = _field(app, place)
    assert field.clean is not None
    for typed in NUMERIC[place]:
        ascii_answer = field.clean(typed)
        assert field.clean(typed.translate(PERSIAN)) == ascii_answer, (place, typed)
        assert field.clean(typed.translate(ARABIC)) == ascii_answer, (place, typed)


@pytest.mark.parametrize("typed", ["1410/09/25 16:00", "1410/9/25 ساعت 16:30", "1410-09-25 8:05"])
def test_course_dates_in_every_digit_system(typed: str) -> None:
    """The course form's dates are read by the store (they need the time zone), not by a cleaner."""
    now = datetime(2026, 12, 2, tzinfo=UTC)
    start = course_form.parse_start(typed, "Asia/Tehran", now)
    for digits in (PERSIAN, ARABIC):
        assert course_form.parse_start(typed.translate(digits), "Asia/Tehran", now) == start
        assert course_form.parse_end(
            "19:30".translate(digits), start, "Asia/Tehran"
        ) == course_form.parse_end("19:30", start, "Asia/Tehran")


def test_the_table_covers_every_numeric_answer(app: BotApplication) -> None:
    """A typed field that accepts a plain number (and is not free text) must be in the table."""
    missing = []
    for name, conversation in forms(app).items():
        for field in conversation.form.fields:
            place = f"{name}:{field.name}"
            if field.clean is None or place in NUMERIC:
                continue
            try:
                field.clean("5")
                number_ok = True
            except Exception:
                number_ok = False
            letters_ok = True
            try:
                field.clean("یک متن فارسی معمولی")
            except Exception:
                letters_ok = False
            if number_ok and not letters_ok:
                missing.append(place)
    assert missing == []
