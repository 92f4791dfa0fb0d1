"""Documents: certificates (PDF), tickets and cards (images), QR codes and verification codes.

Shared by courses (tickets, attendance certificates) and membership (member certificates). Nothing
here imports telegram or the database: callers pass plain values and get bytes back.

- `codes`: short, unguessable, HMAC-signed verification codes (no personal data in them).
- `qr`: standard QR codes (segno, error level M) as PNG, and reading them back from a photo (zxing-cpp).
- `pdf`: a generic certificate page (fpdf2 with HarfBuzz text shaping and the Vazirmatn font).
- `image`: a phone-sized ticket or card image (Pillow; Persian shaped by libraqm).
"""

from bot.documents.codes import CodeKind, format_code, new_code, normalise_code, verify_code
from bot.documents.image import CardLayout, card_png
from bot.documents.pdf import CertificateLayout, certificate_pdf
from bot.documents.qr import decode_qr, qr_image, qr_png

__all__ = [
    "CardLayout",
    "CertificateLayout",
    "CodeKind",
    "card_png",
    "certificate_pdf",
    "decode_qr",
    "format_code",
    "new_code",
    "normalise_code",
    "qr_image",
    "qr_png",
    "verify_code",
]
