"""The document module: signed codes, QR codes written and read back, the certificate PDF, the card image."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader

from bot.documents import (
    CardLayout,
    CertificateLayout,
    CodeKind,
    card_png,
    certificate_pdf,
    decode_qr,
    format_code,
    new_code,
    qr_png,
    verify_code,
)
from bot.documents.codes import LENGTH

KEY = b"k" * 32


def test_codes_are_short_signed_and_of_one_kind() -> None:
    codes = {new_code(KEY, CodeKind.TICKET) for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == LENGTH
    assert verify_code(KEY, CodeKind.TICKET, code) == code
    # Typed by hand: grouped, lower case, Persian digits.
    typed = format_code(code).lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert verify_code(KEY, CodeKind.TICKET, typed) == code
    assert verify_code(KEY, CodeKind.COURSE_CERTIFICATE, code) is None
    assert verify_code(b"x" * 32, CodeKind.TICKET, code) is None
    assert verify_code(KEY, CodeKind.TICKET, "not a code") is None
    # A one-character typo fails the signature (almost always: 20 bits).
    flipped = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert verify_code(KEY, CodeKind.TICKET, flipped) is None


def test_qr_is_standard_and_reads_back() -> None:
    png = qr_png("hello-123")
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert decode_qr(png) == ["hello-123"]
    assert decode_qr(b"not an image") == []


def test_card_image_carries_its_qr() -> None:
    png = card_png(
        CardLayout(
            title="بلیت دورهٔ آموزشی",
            subtitle="اتحادیهٔ صنف نانوایان",
            lines=[("دوره", "بازاریابی دیجیتال"), ("نام", "مریم احمدی")],
            qr_data="T:ABCD",
            code="ABCD",
            footer=["این بلیت را هنگام ورود نشان دهید."],
        )
    )
    image = Image.open(io.BytesIO(png))
    assert image.width == 900 and 1200 <= image.height <= 1600
    # A phone photo is smaller and JPEG-compressed: still readable.
    small = io.BytesIO()
    image.convert("RGB").resize((450, 700)).save(small, format="JPEG", quality=70)
    assert decode_qr(small.getvalue()) == ["T:ABCD"]


def test_certificate_pdf_has_persian_text_and_the_font() -> None:
    pdf = certificate_pdf(
        CertificateLayout(
            title="گواهی حضور",
            issuer="اتحادیهٔ صنف نانوایان",
            name="مریم احمدی",
            statement=["در دورهٔ «بازاریابی» شرکت کرده است."],
            fields=[("مدرس", "دکتر رضایی")],
            code="ABCD-EFGH-JKMN",
            code_label="کد:",
            qr_data="https://t.me/bot?start=cert_ABCD",
            verify_lines=["/start cert_ABCD"],
        )
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert any("Vazirmatn" in str(font.get_object()["/BaseFont"]) for font in fonts.values())
    text = reader.pages[0].extract_text()
    assert "مریم احمدی" in text
    assert "start cert_ABCD" in text


def test_the_certificate_layout_serves_a_membership_certificate_too() -> None:
    """The membership certificate (issue 15) is the same page with other lines; a revoked copy is stamped."""
    code = new_code(KEY, CodeKind.MEMBER_CERTIFICATE)
    layout = CertificateLayout(
        title="گواهی عضویت",
        issuer="اتاق بازرگانی، صنایع، معادن و کشاورزی کرمان",
        intro="بدین‌وسیله گواهی می‌شود که",
        name="رضا سیرجانی",
        statement=["صاحب کسب‌وکار «نان سنتی سیرجان» عضو تشکل کسب‌وکارهای خانگی است."],
        fields=[("شمارهٔ عضویت", "۱۲۳۴"), ("اعتبار عضویت", "معتبر تا ۱۴۰۶/۰۹/۰۵")],
        code=format_code(code),
        code_label="کد استعلام:",
        qr_data=f"https://t.me/bot?start=verify_{code}",
        verify_lines=["برای استعلام، کد QR را بخوانید."],
        revoked_stamp="باطل شده",
    )
    pdf = certificate_pdf(layout)
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert "رضا سیرجانی" in text and "باطل شده" in text
    assert verify_code(KEY, CodeKind.MEMBER_CERTIFICATE, code) == code
