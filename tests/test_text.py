"""Tests for input normalisation in bot.text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import (
    normalize_input,
    normalize_letters,
    normalize_numeric,
    search_key,
    strip_marks,
    to_ascii_digits,
    truncate,
)

ZWNJ = "\u200c"
RLM = "\u200f"
LRM = "\u200e"
MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u2060\ufeff"


def test_to_ascii_digits_persian_and_arabic() -> None:
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("کد ۱۲a٣") == "کد 12a3"


def test_to_ascii_digits_keeps_leading_zero() -> None:
    assert to_ascii_digits("۰۹۱۲") == "0912"


def test_normalize_letters() -> None:
    assert normalize_letters("علي") == "علی"
    assert normalize_letters("موسى") == "موسی"
    assert normalize_letters("كتاب") == "کتاب"
    # ة and hamza forms change spelling: left alone here.
    assert normalize_letters("فاطمة أحمد") == "فاطمة أحمد"


def test_strip_marks_removes_every_direction_and_zero_width_mark() -> None:
    assert strip_marks(f"a{MARKS}b") == "ab"


def test_strip_marks_keeps_zwnj() -> None:
    assert strip_marks(f"{RLM}می{ZWNJ}خواهم{LRM}") == f"می{ZWNJ}خواهم"


def test_normalize_input_keeps_zwnj_in_names() -> None:
    assert normalize_input(f"  {RLM}علي{ZWNJ}رضا ۱۲ \n") == f"علی{ZWNJ}رضا 12"


def test_normalize_input_is_idempotent_on_example() -> None:
    once = normalize_input(f"\ufeff كريم ٣ {LRM}")
    assert normalize_input(once) == once == "کریم 3"


@given(st.text())
def test_normalize_input_idempotent(s: str) -> None:
    assert normalize_input(normalize_input(s)) == normalize_input(s)


@pytest.mark.parametrize(
    "raw",
    [
        "۰۹۱۲ ۱۲۳ ۴۵۶۷",
        "٠٩١٢-١٢٣-٤٥٦٧",
        "(0912) 123.4567",
        f"{LRM}0912{ZWNJ}123 4567{RLM}",
        "0912\u00a0123\u20134567",
    ],
)
def test_normalize_numeric_drops_separators(raw: str) -> None:
    assert normalize_numeric(raw) == "09121234567"


def test_normalize_numeric_keeps_plus_and_letters() -> None:
    assert normalize_numeric("+98 912") == "+98912"
    assert normalize_numeric("12a4") == "12a4"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("علي", "علی"),
        ("موسى", "موسی"),
        ("كاشان", "کاشان"),
        (f"می{ZWNJ}خواهم", "می خواهم"),
        ("مُحَمَّد", "محمد"),
        ("قرآن", "قران"),
        ("أحمد", "احمد"),
        ("کـــتاب", "کتاب"),
        ("رحمٰن", "رحمن"),
        ("پلاک ۱۲", "پلاک 12"),
        ("ﻛﺘﺎﺏ", "کتاب"),
        ("  Tehran   Bazaar ", "tehran bazaar"),
        (f"{RLM}شرکت\u200bنو", "شرکتنو"),
    ],
)
def test_search_key_equalities(a: str, b: str) -> None:
    assert search_key(a) == search_key(b)


def test_search_key_shape() -> None:
    assert search_key(f"  علي{ZWNJ}رضا   ۱۲ ") == "علی رضا 12"


def test_search_key_distinguishes_different_words() -> None:
    assert search_key("کتاب") != search_key("کباب")


@given(st.text())
def test_search_key_idempotent(s: str) -> None:
    assert search_key(search_key(s)) == search_key(s)


def test_truncate_short_text_unchanged() -> None:
    assert truncate("سلام", 4) == "سلام"
    assert truncate("", 0) == ""


def test_truncate_cuts_at_word_boundary() -> None:
    assert truncate("سلام دنیای زیبا و بزرگ", 12) == "سلام دنیای…"
    assert truncate("one two three", 9) == "one two…"
    assert truncate("one two three", 8) == "one two…"
    assert truncate("one two three", 7) == "one…"


def test_truncate_drops_trailing_punctuation_and_zwnj() -> None:
    assert truncate("سلام، دنیا", 8) == "سلام…"
    assert truncate(f"می{ZWNJ}خواهم بروم", 4) == "می…"


def test_truncate_hard_cuts_one_long_word() -> None:
    assert truncate("abcdefghij", 5) == "abcd…"


def test_truncate_tiny_limits() -> None:
    assert truncate("abc", 1) == "…"
    assert truncate("abc", 0) == ""
    with pytest.raises(ValueError):
        truncate("abc", -1)


@given(st.text(), st.integers(min_value=0, max_value=60))
def test_truncate_never_exceeds_limit(s: str, limit: int) -> None:
    out = truncate(s, limit)
    assert len(out) <= limit
    if len(s) <= limit:
        assert out == s
    elif limit >= 1:
        assert out.endswith("…")
        assert s.startswith(out[:-1])


@given(
    st.lists(st.sampled_from(["سلام", "دنیا", "a", "bc", f"می{ZWNJ}روم", "۱۲۳"]), min_size=1),
    st.integers(2, 40),
)
def test_truncate_never_splits_a_word(words: list[str], limit: int) -> None:
    s = " ".join(words)
    out = truncate(s, limit)
    if out != s and " " in s[: limit - 1]:
        kept = out[:-1].split(" ")
        assert kept == words[: len(kept)]
