"""Union of Persian catalogs (for resolving a merge of two branches' messages.po).

`python tools/merge_po.py OUT A.po B.po [C.po …]`: every msgid of any input, with the first non-empty
translation found (inputs earlier on the command line win); the header of the first input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def merge(paths: list[Path]) -> Catalog:
    """Merge the catalogs at `paths` into a new one."""
    catalogs = []
    for path in paths:
        with path.open("rb") as handle:
            catalogs.append(read_po(handle, locale="fa"))
    merged = catalogs[0]
    for other in catalogs[1:]:
        for message in other:
            if not message.id:
                continue
            existing = merged.get(message.id)
            if existing is None:
                merged[message.id] = message
            elif not existing.string and message.string:
                existing.string = message.string
                existing.flags.discard("fuzzy")
    return merged


def main(argv: list[str]) -> int:
    """Command-line entry."""
    out, *inputs = (Path(a) for a in argv)
    catalog = merge(inputs)
    with out.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True, include_previous=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
