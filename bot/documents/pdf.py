"""A certificate page as PDF: landscape A4, a frame, centred Persian lines, fields, a QR code and its
verification code.

fpdf2 shapes the text with HarfBuzz (`set_text_shaping`, uharfbuzz) and orders it with its own
Unicode bidi algorithm, so Persian comes out joined and right to left and embedded Latin or digits
keep their direction; the Vazirmatn font is embedded (subset). One layout serves every certificate:
the course attendance certificate and the membership certificate differ only in their lines.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from fpdf import FPDF

from bot.documents.fonts import BOLD, REGULAR
from bot.documents.qr import qr_png

FONT = "Vazirmatn"
INK = (34, 34, 34)
ACCENT = (47, 111, 143)
MUTED = (110, 110, 110)


@dataclass(frozen=True)
class CertificateLayout:
    """What a certificate says, top to bottom (every string already in Persian, digits included).

    `fields` are (label, value) lines under the statement, e.g. («شمارهٔ عضویت», «۱۲۳»).
    """

    title: str
    issuer: str
    name: str
    intro: str = ""
    statement: Sequence[str] = ()
    fields: Sequence[tuple[str, str]] = ()
    date_line: str = ""
    code: str = ""
    code_label: str = ""
    qr_data: str = ""
    verify_lines: Sequence[str] = field(default_factory=tuple)
    revoked_stamp: str = ""  # printed across the page when set (a sample or a revoked copy)


def _pdf() -> FPDF:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 15, 20)
    pdf.add_font(FONT, "", str(REGULAR))
    pdf.add_font(FONT, "B", str(BOLD))
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="fas")
    return pdf


def _line(
    pdf: FPDF, text: str, size: float, *, bold: bool = False, colour: tuple[int, int, int] = INK
) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.55, text, align="C", new_x="LMARGIN", new_y="NEXT")


def certificate_pdf(layout: CertificateLayout) -> bytes:
    """The certificate as PDF bytes (one landscape A4 page)."""
    pdf = _pdf()
    pdf.set_title(layout.title)
    pdf.set_creator("Tashakkol")
    pdf.add_page()
    width, height = pdf.w, pdf.h
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, width - 16, height - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, width - 22, height - 22)

    pdf.set_y(20)
    _line(pdf, layout.issuer, 14, colour=MUTED)
    pdf.ln(3)
    _line(pdf, layout.title, 30, bold=True, colour=ACCENT)
    pdf.ln(6)
    if layout.intro:
        _line(pdf, layout.intro, 15)
        pdf.ln(2)
    _line(pdf, layout.name, 26, bold=True)
    pdf.ln(3)
    for text in layout.statement:
        _line(pdf, text, 15)
        pdf.ln(1)
    if layout.fields:
        pdf.ln(3)
        for label, value in layout.fields:
            _line(pdf, f"{label}: {value}", 13)
    if layout.date_line:
        pdf.ln(3)
        _line(pdf, layout.date_line, 13, colour=MUTED)

    # The QR code and the verification code, bottom left; how to verify, bottom right.
    if layout.qr_data:
        side = 38
        pdf.image(io.BytesIO(qr_png(layout.qr_data, scale=8, border=2)), x=18, y=height - 18 - side, w=side)
    if layout.code or layout.verify_lines:
        pdf.set_xy(62, height - 52)
        pdf.set_font(FONT, "", 11)
        pdf.set_text_color(*MUTED)
        lines = [*layout.verify_lines]
        if layout.code:
            lines.append(f"{layout.code_label} {layout.code}".strip())
        for text in lines:
            # A line with no Persian in it (a link, a command) is laid out left to right.
            latin = not any("\u0600" <= char <= "\u06ff" for char in text)
            pdf.set_text_shaping(use_shaping_engine=True, direction="ltr" if latin else "rtl")
            pdf.set_x(62)
            pdf.multi_cell(width - 62 - 20, 6, text, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl")
    if layout.revoked_stamp:
        pdf.set_font(FONT, "B", 60)
        pdf.set_text_color(200, 40, 40)
        with pdf.rotation(20, width / 2, height / 2):
            pdf.set_xy(0, height / 2 - 15)
            pdf.cell(width, 30, layout.revoked_stamp, align="C")
    return bytes(pdf.output())
