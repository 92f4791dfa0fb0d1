"""Every user-facing string has a real Persian translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import CatalogMissing, load_translations

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "bot/locale/fa/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"\{(\w*)\}")
KEYWORDS = {"_": None, "N_": None}
# The code, and the dashboard's templates (babel.cfg says the same to `make catalog-update`).
METHODS = [("**.py", "python"), ("web/templates/**.html", "jinja2")]


def _code_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), method_map=METHODS, keywords=KEYWORDS, comment_tags=()
    ):
        if isinstance(message, str):
            found.setdefault(message, f"bot/{filename}:{lineno}")
    return found


def _catalog() -> dict[str, tuple[str, bool]]:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fa")
    return {m.id: (m.string, m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)}


def test_code_has_strings() -> None:
    assert len(_code_msgids()) > 40


def test_every_msgid_is_translated_without_fuzzy() -> None:
    catalog = _catalog()
    problems = []
    for msgid, where in sorted(_code_msgids().items()):
        string, fuzzy = catalog.get(msgid, ("", False))
        if not string:
            problems.append(f"{where}: no Persian translation for {msgid!r}")
        elif fuzzy:
            problems.append(f"{where}: fuzzy translation for {msgid!r}")
    assert not problems, "\n".join(problems)


def test_placeholders_match() -> None:
    catalog = _catalog()
    problems = [
        f"{msgid!r}: {sorted(PLACEHOLDER.findall(msgid))} vs {sorted(PLACEHOLDER.findall(string))}"
        for msgid, (string, _fuzzy) in catalog.items()
        if string and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(string))
    ]
    assert not problems, "\n".join(problems)


def test_translations_are_persian() -> None:
    persian = re.compile("[\u0600-\u06ff]")
    untranslated = [m for m, (s, _f) in _catalog().items() if s and not persian.search(s)]
    assert not untranslated, untranslated


def test_compiled_catalog_loads() -> None:
    translations = load_translations()
    assert translations.gettext("Main menu") == "منوی اصلی"


def test_missing_catalog_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.i18n

    monkeypatch.setattr(bot.i18n, "LOCALE_DIR", tmp_path)
    with pytest.raises(CatalogMissing):
        bot.i18n.load_translations()


def _msgids_in_code() -> dict[str, str]:
    """Every string literal given to `_()` or `N_()` anywhere in bot/, however deeply nested (Babel's
    extractor skips an `N_("…")` inside `_(…)`, so a test must look at the syntax tree itself)."""
    import ast

    found: dict[str, str] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in KEYWORDS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_msgid_used_in_code_is_in_the_catalog() -> None:
    catalog = _catalog()
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in sorted(_msgids_in_code().items())
        if not catalog.get(msgid, ("", False))[0]
    ]
    assert not missing, "used in code but not translated in the catalog:\n" + "\n".join(missing)
