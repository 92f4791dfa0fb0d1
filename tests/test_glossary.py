"""The Persian catalog follows docs/glossary.md: one term per concept, no Latin command at the start of a
line, commands marked left-to-right inside Persian text, « » only as quotation marks, Persian letters and
digits, ZWNJ after «می».

The catalog checked is bot/locale/fa/LC_MESSAGES/messages.po, or the file named by GLOSSARY_CATALOG.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs/glossary.md"
CATALOG = Path(os.environ.get("GLOSSARY_CATALOG") or ROOT / "bot/locale/fa/LC_MESSAGES/messages.po")

HEADER = ("concept", "use", "avoid", "note")
QUOTED = re.compile(r"«([^«»]+)»(?:\s*\[en:\s*([A-Za-z][A-Za-z ]*)\])?")
PLACEHOLDER = re.compile(r"\{\w*\}")

ZWNJ, LRM, LRI = "\u200c", "\u200e", "\u2066"
# Characters that continue a word: letters, digits, underscore (\w), ZWNJ/ZWJ, and before a term also the
# Arabic-script marks (they sit on the letter before). After a term a mark is allowed: «دورهٔ» is «دوره».
WORD = r"\w\u200c\u200d"
MARKS = r"\u064b-\u065f\u0670"
# Inflections written after a ZWNJ: «بات‌ها» is still «بات»; «برگشت‌پذیر» is another word.
SUFFIXES = (
    *("ها", "های", "هایی", "هایم", "هایت", "هایش", "هایمان", "هایتان", "هایشان"),
    *("ی", "ای", "ام", "ات", "اش", "مان", "تان", "شان", "تر", "ترین", "اید", "ایم", "اند"),
)
TAG = re.compile(r"<[^>]*>")
# A command as Telegram finds it (tdlib's match_bot_commands): a "/" not after a word character, / < or >.
COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z][A-Za-z0-9_]*")
PERSIAN_LETTER = re.compile(r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]")
ARABIC_FORMS = {"\u064a": "ي (use ی)", "\u0643": "ك (use ک)"} | {
    chr(0x0660 + d): f"Arabic-Indic digit {d} (use {chr(0x06F0 + d)})" for d in range(10)
}
LONE_PREFIX = re.compile(rf"(?<![{WORD}])(ن?می) (?=[\u0600-\u06ff])")
LONE_SUFFIX = re.compile(rf"(?<=[\u0600-\u06ff]) (ها|های|هایی|تر|ترین)(?![{WORD}])")


@dataclass(frozen=True)
class Avoid:
    """One term to avoid, the glossary row it comes from and, if any, the English word that scopes it."""

    term: str
    concept: str
    use: tuple[str, ...]
    scope: str | None


@dataclass(frozen=True)
class Glossary:
    avoid: tuple[Avoid, ...]
    use: frozenset[str]
    rows: int
    unnamed: tuple[str, ...] = ()  # concepts whose «use» cell names no term (and is not "—")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_glossary(text: str) -> Glossary:
    """Read every `| concept | use | avoid | note |` table: «…» terms, with an optional `[en: word]` scope."""
    avoid: list[Avoid] = []
    use: set[str] = set()
    unnamed: list[str] = []
    rows = 0
    in_table = False
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if tuple(c.lower() for c in cells) == HEADER:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        if len(cells) != len(HEADER):
            raise ValueError(f"glossary row has {len(cells)} cells, not {len(HEADER)}: {line}")
        concept, use_cell, avoid_cell, _note = cells
        terms = tuple(m.group(1).strip() for m in QUOTED.finditer(use_cell))
        use.update(terms)
        if not terms and use_cell != "—":
            unnamed.append(concept)
        rows += 1
        for match in QUOTED.finditer(avoid_cell):
            scope = match.group(2).strip().lower() if match.group(2) else None
            avoid.append(Avoid(match.group(1).strip(), concept, terms, scope))
    return Glossary(tuple(avoid), frozenset(use), rows, tuple(unnamed))


def term_pattern(term: str) -> re.Pattern[str]:
    """Whole-word match for a Persian (or Latin) term: see "How the test reads the tables" in the glossary."""
    body = r"\s+".join(re.escape(word) for word in term.split())
    suffix = "|".join(sorted(SUFFIXES, key=len, reverse=True))
    return re.compile(rf"(?<![{WORD}{MARKS}]){body}(?:{ZWNJ}(?:{suffix}))?(?![{WORD}])")


def _in_scope(msgid: str, scope: str | None) -> bool:
    if scope is None:
        return True
    english = PLACEHOLDER.sub(" ", msgid)
    return re.search(rf"\b{re.escape(scope)}\b", english, re.IGNORECASE) is not None


def avoided_terms(msgid: str, msgstr: str, glossary: Glossary) -> list[Avoid]:
    """The glossary's avoid terms found in msgstr (a term inside a longer «use» term does not count)."""
    found = []
    for item in glossary.avoid:
        if not _in_scope(msgid, item.scope):
            continue
        text = msgstr
        for longer in sorted(glossary.use, key=len, reverse=True):
            if len(longer) > len(item.term) and item.term in longer:
                text = term_pattern(longer).sub(" ", text)
        if term_pattern(item.term).search(text):
            found.append(item)
    return found


def _lines(msgstr: str) -> Iterator[str]:
    yield from TAG.sub("", msgstr).split("\n")


def starts_with_command(line: str) -> bool:
    """The line's first word (after punctuation, emoji, bullets, direction marks) is a Latin /command."""
    rest = TAG.sub("", line).lstrip()
    while rest and rest[0] != "/" and rest[0] != "{" and not rest[0].isalnum():
        rest = rest[1:]
    return COMMAND.match(rest) is not None


def commands_without_mark(msgstr: str) -> list[str]:
    """Commands inside a Persian line with no left-to-right mark right before the slash."""
    missing = []
    for line in _lines(msgstr):
        if not PERSIAN_LETTER.search(line):
            continue
        for match in COMMAND.finditer(line):
            if line[: match.start()].strip() and line[match.start() - 1] not in (LRM, LRI):
                missing.append(match.group())
    return missing


def quote_problems(msgstr: str) -> list[str]:
    """« and » used as anything but a pair of quotation marks around some text, on one line.

    Per line, « opens and » closes, like brackets: a » with no « open before it, or a « never closed, is
    an arrow. A « followed by a space (or the line's end) or a » after a space (or the line's start) is
    also an arrow: quotation marks touch the words they quote.
    """
    problems = []
    for line in msgstr.split("\n"):
        depth = 0
        for i, char in enumerate(line):
            if char == "«":
                if i + 1 == len(line) or line[i + 1].isspace():
                    problems.append(f"« not followed by the quoted text in {line!r}")
                depth += 1
            elif char == "»":
                if i == 0 or line[i - 1].isspace():
                    problems.append(f"» not after the quoted text in {line!r}")
                if depth == 0:
                    problems.append(f"» without an opening « in {line!r}")
                else:
                    depth -= 1
        if depth:
            problems.append(f"« never closed in {line!r}")
    return problems


def script_problems(msgstr: str) -> list[str]:
    """Arabic letters or digits where Persian ones belong, and «می»/«ها» written apart with a space."""
    problems = [ARABIC_FORMS[c] for c in dict.fromkeys(msgstr) if c in ARABIC_FORMS]
    problems += [f"«{m.group(1)} » needs a ZWNJ, not a space" for m in LONE_PREFIX.finditer(msgstr)]
    problems += [f"« {m.group(1)}» needs a ZWNJ, not a space" for m in LONE_SUFFIX.finditer(msgstr)]
    return problems


# ------------------------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"))


def _join(value: str | tuple[str, ...] | list[str]) -> str:
    return value if isinstance(value, str) else "\n".join(value)


@pytest.fixture(scope="module")
def catalog() -> list[tuple[str, str]]:
    with CATALOG.open("rb") as handle:
        messages = read_po(handle, locale="fa")
    return [(_join(m.id), _join(m.string)) for m in messages if m.id and m.string]


def _check(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{CATALOG}: {len(problems)} problems\n" + "\n".join(problems), pytrace=False)


# ------------------------------------------------------------------------------------------- the glossary itself


def test_glossary_has_its_tables(glossary: Glossary) -> None:
    assert glossary.rows >= 60
    assert len(glossary.avoid) >= 80
    assert {"ربات", "خبرها", "پروانهٔ کسب", "کارشناس اتاق", "بازهٔ ارزیابی"} <= glossary.use


def test_glossary_never_avoids_a_term_it_uses(glossary: Glossary) -> None:
    clashes = [
        f"{a.term} ({a.concept})" for a in glossary.avoid if a.scope is None and a.term in glossary.use
    ]
    assert not clashes, clashes


def test_every_row_names_the_term_to_use(glossary: Glossary) -> None:
    assert not glossary.unnamed, glossary.unnamed


# ------------------------------------------------------------------------------------------- the matchers


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("بات", "به بات خوش آمدید", True),
        ("بات", "بات‌ها", True),
        ("بات", "(بات)", True),
        ("بات", "ربات", False),
        ("بات", "ثبات قیمت", False),
        ("بات", "اثبات کنید", False),
        ("بات", "باتری", False),
        ("برگشت", "برگشت‌پذیر نیست", False),
        ("دوره", "دورهٔ ارزیابی", True),
        ("نگهش دار", "نه، نگهش  دار", True),
        ("نه،", "نه، لغو شود", True),
        ("نه،", "یک عدد بنویسید، نه یک بازه", False),
        ("جواز", "جواز کسب", True),
        ("پروانه کسب", "پروانهٔ کسب", False),
    ],
)
def test_terms_match_whole_persian_words(term: str, text: str, found: bool) -> None:
    assert (term_pattern(term).search(text) is not None) is found


def test_avoided_term_inside_a_used_term_is_allowed() -> None:
    glossary = Glossary(
        (Avoid("کارت", "page", ("صفحهٔ تشکل",), None), Avoid("دوره", "period", (), "period")),
        frozenset({"کارت عضویت", "دوره"}),
        2,
    )
    assert avoided_terms("x", "کارت عضویت شما", glossary) == []
    assert [a.term for a in avoided_terms("x", "کارت تشکل", glossary)] == ["کارت"]
    assert avoided_terms("Course {period}", "دوره", glossary) == []
    assert [a.term for a in avoided_terms("Period: {period}", "دوره: {period}", glossary)] == ["دوره"]


@pytest.mark.parametrize(
    ("line", "starts"),
    [
        ("/start منوی اصلی", True),
        ("<b>/help</b> راهنما", True),
        ("• \u200e/staff list", True),
        ("برای دیدن منو \u200e/start را بفرستید.", False),
        ("#{id} گزارش", False),
        ("https://example.com", False),
    ],
)
def test_line_start_command(line: str, starts: bool) -> None:
    assert starts_with_command(line) is starts


def test_commands_need_a_mark_inside_persian_text() -> None:
    assert commands_without_mark("برای دیدن منو /start را بفرستید.") == ["/start"]
    assert commands_without_mark("برای دیدن منو \u200e/start را بفرستید.") == []
    assert commands_without_mark("پیوندی که با https://example.com/class شروع می‌شود") == []
    assert commands_without_mark("سال/ماه/روز") == []


@pytest.mark.parametrize(
    ("text", "arrow"),
    [
        ("« بازگشت", True),
        ("» بازگشت به کارت", True),
        ("بعدی «", True),
        ("بعدی »", True),
        ("دورهٔ «{title}» لغو شد.", False),
        ("«نظری ندارم» را بزنید", False),
        ("«الف» و «ب»", False),
        ("«الف", True),
    ],
)
def test_quote_marks_versus_arrows(text: str, arrow: bool) -> None:
    assert bool(quote_problems(text)) is arrow


# ------------------------------------------------------------------------------------------- the catalog


def test_catalog_uses_the_glossary_terms(glossary: Glossary, catalog: list[tuple[str, str]]) -> None:
    problems = []
    for msgid, msgstr in catalog:
        for item in avoided_terms(msgid, msgstr, glossary):
            use = "use " + "، ".join(f"«{u}»" for u in item.use) if item.use else "see the glossary"
            problems.append(f"{msgid!r} -> {msgstr!r}: «{item.term}» ({item.concept}; {use})")
    _check(problems)


def test_no_line_starts_with_a_latin_command(catalog: list[tuple[str, str]]) -> None:
    problems = [
        f"{msgid!r} -> {msgstr!r}"
        for msgid, msgstr in catalog
        if any(starts_with_command(line) for line in _lines(msgstr))
    ]
    _check(problems)


def test_commands_in_persian_text_are_marked_left_to_right(catalog: list[tuple[str, str]]) -> None:
    problems = [
        f"{msgid!r} -> {msgstr!r}: {', '.join(missing)} without U+200E before the slash"
        for msgid, msgstr in catalog
        if (missing := commands_without_mark(msgstr))
    ]
    _check(problems)


def test_guillemets_are_quotation_marks_not_arrows(catalog: list[tuple[str, str]]) -> None:
    problems = [
        f"{msgid!r} -> {msgstr!r}: {'; '.join(found)}"
        for msgid, msgstr in catalog
        if (found := quote_problems(msgstr))
    ]
    _check(problems)


def test_persian_letters_digits_and_zwnj(catalog: list[tuple[str, str]]) -> None:
    problems = [
        f"{msgid!r} -> {msgstr!r}: {'; '.join(found)}"
        for msgid, msgstr in catalog
        if (found := script_problems(msgstr))
    ]
    _check(problems)


def test_catalog_was_read(catalog: list[tuple[str, str]]) -> None:
    assert len(catalog) > 40
