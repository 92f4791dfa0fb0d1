"""Tests for national ID and mobile number validation in bot.services.validators."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.validators import (
    InvalidMobile,
    InvalidNationalId,
    ValidationError,
    is_valid_national_id,
    national_id_check_digit,
    normalize_mobile,
    normalize_national_id,
)

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def check_digit(first_nine: str) -> int:
    """Reference implementation of the national ID check digit, independent of the module."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    r = total % 11
    return r if r < 2 else 11 - r


# Worked by hand: 0499370899 → 0·10+4·9+9·8+9·7+3·6+7·5+0·4+8·3+9·2 = 266, 266 % 11 = 2, check 11-2 = 9.
VALID_IDS = ["0499370899", "1234567891", "0013542419", "9876543210", "3580000004", "0000000019"]


@pytest.mark.parametrize("code", VALID_IDS)
def test_valid_national_ids(code: str) -> None:
    assert check_digit(code[:9]) == int(code[9])
    assert normalize_national_id(code) == code
    assert is_valid_national_id(code)


@pytest.mark.parametrize(
    "raw",
    ["۰۴۹۹۳۷۰۸۹۹", "٠٤٩٩٣٧٠٨٩٩", "049-937089-9", " 0499 370 899 ", "\u200f۰۴۹۹.۳۷۰.۸۹۹", "(049) 9370899"],
)
def test_national_id_any_digits_and_separators(raw: str) -> None:
    assert normalize_national_id(raw) == "0499370899"


def test_national_id_short_codes_are_left_padded() -> None:
    assert normalize_national_id("499370899") == "0499370899"
    assert normalize_national_id("13542419") == "0013542419"
    assert normalize_national_id("۱۳۵۴۲۴۱۹") == "0013542419"


@pytest.mark.parametrize("digit", "0123456789")
def test_all_same_digit_ids_rejected_though_checksum_passes(digit: str) -> None:
    code = digit * 10
    assert check_digit(code[:9]) == int(code[9])
    with pytest.raises(InvalidNationalId) as info:
        normalize_national_id(code)
    assert info.value.reason == "repeated"
    assert not is_valid_national_id(code)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0499370898", "checksum"),
        ("1234567890", "checksum"),
        ("", "format"),
        ("04993708a9", "format"),
        ("+0499370899", "format"),
        ("１２３４５６７８９１", "format"),
        ("1234567", "length"),
        ("12345678901", "length"),
        ("11111111", "checksum"),  # padded to 0011111111, which is not all one digit
    ],
)
def test_invalid_national_ids(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNationalId) as info:
        normalize_national_id(raw)
    assert info.value.reason == reason
    assert isinstance(info.value, ValidationError)
    assert not is_valid_national_id(raw)


def test_check_digit_matches_reference() -> None:
    assert national_id_check_digit("049937089") == 9


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_generated_ids(first_nine: str) -> None:
    code = first_nine + str(check_digit(first_nine))
    if len(set(code)) == 1:
        assert not is_valid_national_id(code)
        return
    assert normalize_national_id(code) == code
    assert normalize_national_id(code.translate(PERSIAN)) == code
    wrong = first_nine + str((int(code[9]) + 1) % 10)
    assert not is_valid_national_id(wrong)


MOBILE = "+989121234567"


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
        "0912-123-4567",
        "(0912) 123.45.67",
        " 0098 912 123 4567 ",
        "\u200e+98 912 123 4567\u200f",
        "\u2066۰۹۱۲\u200c۱۲۳۴۵۶۷\u2069",
        "+98 (0) 912 123 4567",
    ],
)
def test_mobile_forms(raw: str) -> None:
    assert normalize_mobile(raw) == MOBILE


def test_mobile_with_0998_prefix_is_not_mistaken_for_country_code() -> None:
    assert normalize_mobile("9981234567") == "+989981234567"
    assert normalize_mobile("09981234567") == "+989981234567"
    assert normalize_mobile("989981234567") == "+989981234567"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("02112345678", "landline"),
        ("+982112345678", "landline"),
        ("2112345678", "landline"),
        ("0912123456", "length"),
        ("091212345678", "length"),
        ("+98912123456", "length"),
        ("", "format"),
        ("+447700900123", "country"),
        ("0044 7700 900123", "country"),
        ("0912abc4567", "format"),
        ("0912+1234567", "format"),
        ("++989121234567", "format"),
    ],
)
def test_invalid_mobiles(raw: str, reason: str) -> None:
    with pytest.raises(InvalidMobile) as info:
        normalize_mobile(raw)
    assert info.value.reason == reason
    assert isinstance(info.value, ValidationError)


_SEPARATORS = st.sampled_from(["", "", "", " ", "-", ".", "\u200e", "\u200f", "\u00a0"])


@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["09", "9", "+989", "00989", "989"]),
    st.sampled_from([None, PERSIAN, ARABIC]),
    st.data(),
)
def test_mobile_forms_agree(
    subscriber: str, prefix: str, script: dict[int, str] | None, data: st.DataObject
) -> None:
    raw = prefix + subscriber
    spaced = "".join(ch + data.draw(_SEPARATORS) for ch in raw)
    if script is not None:
        spaced = spaced.translate(script)
    assert normalize_mobile(spaced) == f"+989{subscriber}"
