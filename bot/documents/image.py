"""A ticket or card as a phone-sized PNG: a coloured band with the title, lines of (label, value),
the QR code in the middle, and a footer.

Pillow lays Persian out with libraqm (HarfBuzz shaping + FriBiDi ordering) when it was built with it
(`PIL.features.check("raqm")`, true for the PyPI wheels); without it, the text is shaped by
arabic-reshaper and ordered by python-bidi first and drawn with the basic layout.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import arabic_reshaper
from bidi import get_display
from PIL import Image, ImageDraw, ImageFont, features

from bot.documents.fonts import BOLD, REGULAR
from bot.documents.qr import qr_image

WIDTH, HEIGHT, MIN_HEIGHT = 900, 1600, 1200
MARGIN = 60
BAND = (47, 111, 143)
INK = (34, 34, 34)
MUTED = (110, 110, 110)
RAQM = features.check("raqm")
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": True})


@dataclass(frozen=True)
class CardLayout:
    """What a ticket or card shows (strings already in Persian)."""

    title: str
    subtitle: str = ""
    lines: Sequence[tuple[str, str]] = ()
    qr_data: str = ""
    code: str = ""
    footer: Sequence[str] = ()


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    layout = ImageFont.Layout.RAQM if RAQM else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size, layout_engine=layout)


def _visual(text: str) -> str:
    """Without libraqm: the text shaped and in display order, for the basic layout."""
    return str(get_display(_RESHAPER.reshape(text), base_dir="R"))


class _Writer:
    """Right-aligned Persian lines, wrapped to the width, from the top down."""

    def __init__(self, image: Image.Image) -> None:
        self.draw = ImageDraw.Draw(image)
        self.y = 0

    def _kwargs(self) -> dict[str, str]:
        return {"direction": "rtl", "language": "fa"} if RAQM else {}

    def width(self, text: str, font: ImageFont.FreeTypeFont) -> float:
        if not RAQM:
            text = _visual(text)
        return float(self.draw.textlength(text, font=font, **self._kwargs()))  # type: ignore[arg-type]

    def wrap(self, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}".strip()
            if current and self.width(candidate, font) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        return [*lines, current] if current else lines

    def text(
        self,
        text: str,
        font: ImageFont.FreeTypeFont,
        *,
        colour: tuple[int, int, int] = INK,
        centre: bool = False,
        gap: int = 10,
    ) -> None:
        for line in self.wrap(text, font, WIDTH - 2 * MARGIN):
            x, anchor = (WIDTH // 2, "ma") if centre else (WIDTH - MARGIN, "ra")
            shown = line if RAQM else _visual(line)
            self.draw.text((x, self.y), shown, font=font, fill=colour, anchor=anchor, **self._kwargs())  # type: ignore[arg-type]
            self.y += int(font.size * 1.45)
        self.y += gap


def card_png(layout: CardLayout) -> bytes:
    """PNG bytes of the card, 900 pixels wide and 1200–1600 tall (a phone screen; Telegram keeps it
    sharp)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    writer = _Writer(image)
    band = 200 if layout.subtitle else 150
    writer.draw.rectangle((0, 0, WIDTH, band), fill=BAND)
    writer.y = 40
    writer.text(layout.title, _font(46, bold=True), colour=(255, 255, 255), centre=True, gap=0)
    if layout.subtitle:
        writer.text(layout.subtitle, _font(28), colour=(230, 240, 245), centre=True, gap=0)
    writer.y = band + 40
    for label, value in layout.lines:
        writer.text(label, _font(24), colour=MUTED, gap=0)
        writer.text(value, _font(32, bold=True), gap=14)
    if layout.qr_data:
        qr = qr_image(layout.qr_data, size=460)
        top = writer.y + 20
        image.paste(qr, ((WIDTH - qr.width) // 2, top))
        writer.y = top + qr.height + 5
    if layout.code:
        writer.draw.text(
            (WIDTH // 2, writer.y), layout.code, font=_font(40, bold=True), fill=INK, anchor="ma"
        )
        writer.y += 60
    for text in layout.footer:
        writer.text(text, _font(22), colour=MUTED, centre=True, gap=0)
    # As tall as what it shows (long titles wrap), at least a phone screen's proportion.
    image = image.crop((0, 0, WIDTH, min(HEIGHT, max(MIN_HEIGHT, writer.y + 50))))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
