"""QR codes: a standard QR (never a Micro QR), error correction level M, and reading them back.

segno writes them (pure Python, exact ISO 18004); zxing-cpp reads them from a photo (a phone picture
of a ticket on another phone's screen or on paper), so staff at the door need no scanner app.
"""

from __future__ import annotations

import io

import segno
import zxingcpp
from PIL import Image


def qr_png(data: str, *, scale: int = 10, border: int = 4) -> bytes:
    """PNG bytes of a standard QR code (level M) carrying `data`."""
    code = segno.make_qr(data, error="m", boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_image(data: str, *, size: int) -> Image.Image:
    """The QR code as a black-on-white Pillow image about `size` pixels wide (whole modules)."""
    code = segno.make_qr(data, error="m", boost_error=False)
    width, _height = code.symbol_size(scale=1, border=4)
    scale = max(1, size // width)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def decode_qr(picture: bytes | Image.Image) -> list[str]:
    """The texts of the QR codes found in a picture (PNG/JPEG bytes or an image); [] when none."""
    try:
        image = picture if isinstance(picture, Image.Image) else Image.open(io.BytesIO(picture))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return []
    found = zxingcpp.read_barcodes(
        image.convert("RGB"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [result.text for result in found if result.valid and result.text]
