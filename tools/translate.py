"""Fill Persian translations into the catalog from a simple `msgid<TAB>msgstr` file (or JSON).

Developer tool: `python tools/translate.py FILE [--replace]`. Entries are matched by msgid and only
empty translations are filled, so a feature's file never undoes a later fix to the catalog (the
glossary's wording); `--replace` overwrites translations that are already there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parents[1] / "bot/locale/fa/LC_MESSAGES/messages.po"


def main(source: str, replace: bool = False) -> int:
    """Merge translations from `source` into the catalog; prints what is still untranslated."""
    text = Path(source).read_text(encoding="utf-8")
    pairs: dict[str, str] = (
        json.loads(text)
        if source.endswith(".json")
        else dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    )
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="fa")
    for message in catalog:
        if message.id and message.id in pairs and (replace or not message.string):
            message.string = pairs[message.id]
            message.flags.discard("fuzzy")
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, sort_output=True, include_previous=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    for msgid in missing:
        print(f"untranslated: {msgid}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], replace="--replace" in sys.argv[2:]))
