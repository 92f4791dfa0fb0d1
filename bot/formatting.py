"""Output formatting for Persian text: Persian digits, money, LTR isolation, Jalali dates and parsing."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import jdatetime

from bot.text import strip_marks, to_ascii_digits

TEHRAN = "Asia/Tehran"
LOCALE = "fa_IR"

_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_THOUSANDS = "٬"  # U+066C ARABIC THOUSANDS SEPARATOR
_LRI, _PDI = "\u2066", "\u2069"

JalaliParseReason = Literal["format", "date", "time"]


class JalaliParseError(ValueError):
    """A Jalali date text could not be parsed; reason is "format", "date" or "time"."""

    def __init__(self, reason: JalaliParseReason, text: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason: JalaliParseReason = reason
        self.text = text


def fa_digits(value: str | int) -> str:
    """Write ASCII digits as Persian digits."""
    return str(value).translate(_FA_DIGITS)


def fa_number(n: int) -> str:
    """Write an integer with Persian digits and the Persian thousands separator, e.g. ۱٬۲۰۰."""
    return fa_digits(f"{n:,}".replace(",", _THOUSANDS))


def fa_decimal(value: Decimal | float | str) -> str:
    """A decimal with Persian digits and the Persian decimal separator, e.g. ۷۱٫۸."""
    return fa_digits(str(value)).replace(".", "٫")


def signed(value: Decimal) -> str:
    """A change with its sign, kept left-to-right inside Persian text."""
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return isolate_ltr(sign + fa_decimal(abs(value)))


def fa_money(rials: int, unit: str = "ریال") -> str:
    """Write an amount as a Persian number plus unit, e.g. ۱٬۲۰۰٬۰۰۰ ریال."""
    return f"{fa_number(rials)} {unit}"


def isolate_ltr(s: str) -> str:
    """Wrap s in LRI…PDI so Latin text, phone numbers and codes keep their direction inside RTL text."""
    return f"{_LRI}{s}{_PDI}"


def _local(dt: datetime, tz: str) -> datetime:
    """Convert dt to tz, treating a naive datetime as UTC."""
    if dt.utcoffset() is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(ZoneInfo(tz))


def _jalali(day: date) -> jdatetime.date:
    """The Jalali date of a Gregorian date, in the Persian locale."""
    return jdatetime.date.fromgregorian(date=day, locale=LOCALE)


def _numeric_date(day: jdatetime.date) -> str:
    """Write a Jalali date as ۱۴۰۵/۰۹/۰۵."""
    return fa_digits(f"{day.year:04d}/{day.month:02d}/{day.day:02d}")


def jalali_date(dt: datetime, tz: str = TEHRAN) -> str:
    """Write the Jalali date of dt in tz, e.g. ۱۴۰۵/۰۹/۰۵."""
    return _numeric_date(_jalali(_local(dt, tz).date()))


def jalali_day(day: date) -> str:
    """Write the Jalali date of a calendar day, e.g. ۱۴۰۵/۱۲/۲۹."""
    return _numeric_date(_jalali(day))


def jalali_day_long(day: date) -> str:
    """Write a calendar day with the Jalali month name, e.g. ۲۹ اسفند ۱۴۰۵."""
    jday = _jalali(day)
    return f"{fa_digits(jday.day)} {jday.strftime('%B')} {fa_digits(jday.year)}"


def jalali_datetime(dt: datetime, tz: str = TEHRAN, *, at_word: str = "ساعت") -> str:
    """Write the Jalali date and time of dt in tz, e.g. ۱۴۰۵/۰۹/۰۵ ساعت ۱۷:۳۰."""
    local = _local(dt, tz)
    clock = fa_digits(f"{local.hour:02d}:{local.minute:02d}")
    parts = (_numeric_date(_jalali(local.date())), at_word, clock)
    return " ".join(part for part in parts if part)


def jalali_long(dt: datetime, tz: str = TEHRAN) -> str:
    """Write the Jalali date of dt in tz with the month name, e.g. ۵ آذر ۱۴۰۵."""
    day = _jalali(_local(dt, tz).date())
    return f"{fa_digits(day.day)} {day.strftime('%B')} {fa_digits(day.year)}"


def jalali_when(dt: datetime, tz: str = TEHRAN) -> str:
    """The weekday, Jalali date with the month's name, and time, e.g. سه‌شنبه ۲۵ آذر ۱۴۰۵، ساعت ۱۶:۰۰."""
    local = _local(dt, tz)
    day = _jalali(local.date())
    clock = fa_digits(f"{local.hour:02d}:{local.minute:02d}")
    return (
        f"{day.strftime('%A')} {fa_digits(day.day)} {day.strftime('%B')} {fa_digits(day.year)}، ساعت {clock}"
    )


def show_mobile(mobile: str) -> str:
    """A stored mobile (+989121234567) as Iranians write it: ۰۹۱۲ ۱۲۳ ۴۵۶۷, kept left-to-right."""
    digits = mobile.removeprefix("+98")
    if len(digits) == 10 and digits.isdecimal() and digits.startswith("9"):
        local = "0" + digits
        return isolate_ltr(fa_digits(f"{local[:4]} {local[4:7]} {local[7:]}"))
    return isolate_ltr(fa_digits(mobile))


# Digits are ASCII by the time this runs; [0-9] rather than \d so other scripts' digits do not slip in.
_JALALI_RE = re.compile(
    r"""
    (?P<year>[0-9]{4}) (?P<sep>[/\-.٫]) (?P<month>[0-9]{1,2}) (?P=sep) (?P<day>[0-9]{1,2})
    (?: (?: \s*[,،T]\s* | \s+ساعت\s+ | \s+ ) (?P<hour>[0-9]{1,2}) : (?P<minute>[0-9]{2}) )?
    """,
    re.VERBOSE,
)


def parse_jalali(text: str, tz: str = TEHRAN) -> datetime:
    """Parse a Jalali date like ۱۴۰۵/۹/۵ or 1405-09-05 17:30 (local to tz) into an aware UTC datetime."""
    cleaned = strip_marks(to_ascii_digits(text)).strip()
    match = _JALALI_RE.fullmatch(cleaned)
    if match is None:
        raise JalaliParseError("format", text)
    try:
        day = jdatetime.date(int(match["year"]), int(match["month"]), int(match["day"])).togregorian()
    except (ValueError, OverflowError):
        raise JalaliParseError("date", text) from None
    try:
        clock = time(int(match["hour"] or 0), int(match["minute"] or 0))
    except ValueError:
        raise JalaliParseError("time", text) from None
    try:
        return datetime.combine(day, clock, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    except OverflowError:
        raise JalaliParseError("date", text) from None


def strip_html(html_text: str) -> str:
    """The text a reader sees of Telegram HTML: tags removed, entities unescaped (for length limits)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))
