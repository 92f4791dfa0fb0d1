"""Render the membership certificate and card the bot sends, for docs/images (and for looking at).

    .venv/bin/python tools/render_documents.py    # writes docs/images/membership-{certificate,card}.png

Needs `pdftoppm` (poppler-utils) for the PDF page.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.documents.codes import CodeKind, new_code
from bot.documents.image import card_png
from bot.documents.pdf import certificate_pdf
from bot.i18n import load_translations
from bot.views.membership_terms import card_layout, certificate_layout, verify_link

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def main() -> None:
    _ = load_translations("fa").gettext
    code = new_code(b"documentation-only-key", CodeKind.MEMBER_CERTIFICATE)
    member: Any = SimpleNamespace(
        member_number="1-00001",
        verify_code=code,
        term_start=datetime(2026, 12, 2, tzinfo=UTC),
        term_end=datetime(2027, 3, 20, tzinfo=UTC),
    )
    link = verify_link("tashakkol_bot", code, bale=False)
    association = "انجمن صنفی فرش کرمان"
    layout = certificate_layout(
        _, name="رضا احمدی", business="فرش دستباف ماهان", association=association, member=member, link=link
    )
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "certificate.pdf"
        pdf.write_bytes(certificate_pdf(layout))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(Path(folder) / "page")], check=True
        )
        (IMAGES / "membership-certificate.png").write_bytes((Path(folder) / "page.png").read_bytes())
    card = card_layout(_, name="رضا احمدی", association=association, member=member, link=link)
    (IMAGES / "membership-card.png").write_bytes(card_png(card))
    print("wrote", IMAGES / "membership-certificate.png", "and", IMAGES / "membership-card.png")


if __name__ == "__main__":
    main()
