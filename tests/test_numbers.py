"""Numbers people type into the forms, in Persian, Arabic-Indic and ASCII digits: a whole number is
read as typed, a decimal or a range is refused with its own reason, never glued into another number."""

from __future__ import annotations

import pytest

from bot.services.application_form import clean_years
from bot.services.errors import InvalidAnswer
from bot.services.numbers import whole_number

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DIGITS = {"ascii": str.maketrans({}), "persian": PERSIAN, "arabic-indic": ARABIC}

# typed (ASCII digits; each case also runs in Persian and Arabic-Indic digits) -> years, or the reason
YEARS = [
    ("5", 5),
    ("0", 0),
    ("12", 12),
    ("5 سال", 5),
    ("5سال", 5),
    ("5 ساله", 5),
    ("5 years", 5),
    ("70", 70),
    ("1.5", "years_decimal"),
    ("2٫5", "years_decimal"),
    ("2/5", "years_decimal"),
    ("3-4 سال", "years_range"),
    ("3 تا 4", "years_range"),
    ("3–4", "years_range"),
    ("71", "years_too_big"),
    ("پنج", "years_not_number"),
    ("", "years_not_number"),
    ("-2", "years_not_number"),
]


@pytest.mark.parametrize("digits", DIGITS)
@pytest.mark.parametrize(("typed", "expected"), YEARS)
def test_years_of_experience(typed: str, expected: int | str, digits: str) -> None:
    text = typed.translate(DIGITS[digits])
    if isinstance(expected, int):
        assert clean_years(text) == expected
    else:
        with pytest.raises(InvalidAnswer) as refused:
            clean_years(text)
        assert refused.value.reason == expected


def test_a_decimal_says_which_whole_number_to_type() -> None:
    with pytest.raises(InvalidAnswer) as refused:
        clean_years("۱٫۵")
    assert refused.value.details == {"whole": 1}


@pytest.mark.parametrize("digits", DIGITS)
@pytest.mark.parametrize(
    ("typed", "expected"),
    [("2000000", 2_000_000), ("2,000,000", 2_000_000), ("2٬000٬000", 2_000_000), ("2 000 000", 2_000_000)],
)
def test_thousands_separators(typed: str, expected: int, digits: str) -> None:
    assert whole_number(typed.translate(DIGITS[digits])) == expected


def test_a_separator_in_the_wrong_place_is_not_a_number() -> None:
    with pytest.raises(InvalidAnswer):
        whole_number("20,00")
