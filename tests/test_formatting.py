"""Tests for Persian output formatting and Jalali dates in bot.formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.formatting import (
    JalaliParseError,
    fa_digits,
    fa_money,
    fa_number,
    isolate_ltr,
    jalali_date,
    jalali_datetime,
    jalali_long,
    parse_jalali,
)

TEHRAN = ZoneInfo("Asia/Tehran")


def test_fa_digits() -> None:
    assert fa_digits(1234567890) == "۱۲۳۴۵۶۷۸۹۰"
    assert fa_digits("0912-ABC") == "۰۹۱۲-ABC"
    assert fa_digits(0) == "۰"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "۰"),
        (999, "۹۹۹"),
        (1000, "۱٬۰۰۰"),
        (1_200_000, "۱٬۲۰۰٬۰۰۰"),
        (-12_500, "-۱۲٬۵۰۰"),
    ],
)
def test_fa_number(n: int, expected: str) -> None:
    assert fa_number(n) == expected


def test_fa_number_uses_arabic_thousands_separator() -> None:
    assert "\u066c" in fa_number(10_000)
    assert "," not in fa_number(10_000)


def test_fa_money() -> None:
    assert fa_money(1_200_000) == "۱٬۲۰۰٬۰۰۰ ریال"
    assert fa_money(50_000, unit="تومان") == "۵۰٬۰۰۰ تومان"


def test_isolate_ltr() -> None:
    assert isolate_ltr("+989121234567") == "\u2066+989121234567\u2069"


def test_jalali_date_known_day() -> None:
    assert jalali_date(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)) == "۱۴۰۵/۰۹/۰۵"


def test_jalali_date_crosses_midnight_in_tehran() -> None:
    # Tehran is UTC+3:30: 20:29 UTC is 23:59 local, 20:30 UTC is the next day.
    assert jalali_date(datetime(2026, 11, 26, 20, 29, tzinfo=UTC)) == "۱۴۰۵/۰۹/۰۵"
    assert jalali_date(datetime(2026, 11, 26, 20, 30, tzinfo=UTC)) == "۱۴۰۵/۰۹/۰۶"
    assert jalali_date(datetime(2026, 11, 26, 21, 0, tzinfo=UTC)) == "۱۴۰۵/۰۹/۰۶"


def test_jalali_date_naive_is_utc() -> None:
    assert jalali_date(datetime(2026, 11, 26, 21, 0)) == "۱۴۰۵/۰۹/۰۶"


def test_jalali_date_other_zones() -> None:
    new_york = datetime(2026, 11, 26, 16, 0, tzinfo=ZoneInfo("America/New_York"))  # 21:00 UTC
    assert jalali_date(new_york) == "۱۴۰۵/۰۹/۰۶"
    assert jalali_date(new_york, tz="UTC") == "۱۴۰۵/۰۹/۰۵"


def test_jalali_date_nowruz() -> None:
    assert jalali_date(datetime(2026, 3, 21, 12, tzinfo=UTC)) == "۱۴۰۵/۰۱/۰۱"
    assert jalali_date(datetime(2026, 3, 20, 12, tzinfo=UTC)) == "۱۴۰۴/۱۲/۲۹"


def test_jalali_datetime() -> None:
    dt = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert jalali_datetime(dt) == "۱۴۰۵/۰۹/۰۵ ساعت ۱۷:۳۰"
    assert jalali_datetime(dt, at_word="") == "۱۴۰۵/۰۹/۰۵ ۱۷:۳۰"
    assert jalali_datetime(dt, "UTC", at_word="،") == "۱۴۰۵/۰۹/۰۵ ، ۱۴:۰۰"


def test_jalali_long() -> None:
    assert jalali_long(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)) == "۵ آذر ۱۴۰۵"
    assert jalali_long(datetime(2026, 11, 26, 21, 0, tzinfo=UTC)) == "۶ آذر ۱۴۰۵"
    assert jalali_long(datetime(2026, 3, 21, 12, tzinfo=UTC)) == "۱ فروردین ۱۴۰۵"


def test_formatted_dates_have_only_persian_digits() -> None:
    out = jalali_datetime(datetime(2026, 11, 26, 14, 0, tzinfo=UTC)) + jalali_long(datetime(2026, 1, 1))
    assert not any(ch.isascii() and ch.isdigit() for ch in out)


@pytest.mark.parametrize(
    "text",
    [
        "۱۴۰۵/۰۹/۰۵",
        "١٤٠٥/٠٩/٠٥",
        "1405/09/05",
        "1405/9/5",
        "1405-09-05",
        "1405.9.5",
        "  \u200f۱۴۰۵/۰۹/۰۵\u200e ",
    ],
)
def test_parse_jalali_date_only_is_local_midnight(text: str) -> None:
    expected = datetime(2026, 11, 26, 0, 0, tzinfo=TEHRAN).astimezone(UTC)
    result = parse_jalali(text)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "1405/09/05 17:30",
        "۱۴۰۵/۰۹/۰۵ ۱۷:۳۰",
        "۱۴۰۵/۰۹/۰۵ ساعت ۱۷:۳۰",
        "١٤٠٥-٠٩-٠٥ ١٧:٣٠",
        "1405/09/05, 17:30",
        "1405/09/05T17:30",
    ],
)
def test_parse_jalali_with_time(text: str) -> None:
    assert parse_jalali(text) == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_parse_jalali_other_tz() -> None:
    assert parse_jalali("1405/09/05 17:30", tz="UTC") == datetime(2026, 11, 26, 17, 30, tzinfo=UTC)


def test_parse_jalali_leap_day() -> None:
    assert jalali_date(parse_jalali("1403/12/30 12:00")) == "۱۴۰۳/۱۲/۳۰"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "format"),
        ("فردا", "format"),
        ("05/09/1405", "format"),
        ("1405/09-05", "format"),
        ("405/09/05", "format"),
        ("1405/09/05 7:5", "format"),
        ("1405/09/05 17:30:00", "format"),
        ("1405/13/01", "date"),
        ("1405/00/10", "date"),
        ("1405/07/31", "date"),
        ("1404/12/30", "date"),
        ("1405/09/05 24:00", "time"),
        ("1405/09/05 17:60", "time"),
    ],
)
def test_parse_jalali_errors(text: str, reason: str) -> None:
    with pytest.raises(JalaliParseError) as info:
        parse_jalali(text)
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)


@given(
    st.datetimes(
        min_value=datetime(2023, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.just(UTC),
    ).map(lambda dt: dt.replace(second=0, microsecond=0))
)
def test_parse_jalali_round_trip(dt: datetime) -> None:
    # From 2023 Iran has no daylight saving, so every local minute maps to exactly one instant.
    assert parse_jalali(jalali_datetime(dt)) == dt
    assert parse_jalali(jalali_datetime(dt, at_word="")) == dt


_DIGIT_SCRIPTS = ["0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"]


@given(
    st.dates(min_value=date(1925, 1, 1), max_value=date(2200, 12, 31)),
    st.sampled_from(_DIGIT_SCRIPTS),
    st.sampled_from("/-."),
    st.booleans(),
)
def test_parse_jalali_any_digits_and_separators(day: date, digits: str, sep: str, pad: bool) -> None:
    jday = jdatetime.date.fromgregorian(date=day)
    fmt = "{:02d}" if pad else "{}"
    text = sep.join([f"{jday.year:04d}", fmt.format(jday.month), fmt.format(jday.day)]) + " 12:00"
    text = text.translate(str.maketrans("0123456789", digits))
    parsed = parse_jalali(text)
    assert parsed.astimezone(TEHRAN).date() == day
    assert jalali_date(parsed) == fa_digits(f"{jday.year:04d}/{jday.month:02d}/{jday.day:02d}")


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1)))
def test_jalali_date_matches_tehran_local_date(dt: datetime) -> None:
    local = dt.replace(tzinfo=UTC).astimezone(TEHRAN)
    jday = jdatetime.date.fromgregorian(date=local.date())
    assert jalali_date(dt) == fa_digits(f"{jday.year:04d}/{jday.month:02d}/{jday.day:02d}")
    assert jalali_date(dt + timedelta(days=1)) != jalali_date(dt)
