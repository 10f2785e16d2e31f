"""A fax cover sheet drawn from the agent's text (Pillow), and the document a desk fax sends: cover, then upload."""
from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from hardware.fax_modem.errors import PageConversionError
from hardware.fax_modem.t4_page import Page

DPI = 200  # close to the fine fax grid (204 x 196), so the text is not resampled much
A4_PX = (1654, 2339)  # 210 x 297 mm at 200 dpi
MARGIN = 140
FONT_PX = 34  # about 12 pt at 200 dpi: readable after the fax's halving of fine detail
MAX_PAGES = 50  # pages of one desk fax, cover included
MAX_COVER_CHARS = 8000
WRAP = 70
# Debian's fonts-dejavu-core (a Depends of the package): Latin, Greek, Cyrillic; Pillow's own font has no umlauts.
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class FaxDocumentError(ValueError):
    """The cover text or the uploaded document cannot be faxed; the message says why, for the agent."""


def cover_png(text: str, to: str, sender: str) -> bytes:
    """An A4 PNG with a header (to, from) and the text wrapped into lines; the text may run to several sheets."""
    from PIL import Image, ImageDraw, ImageFont  # heavy: only when a fax is made
    font, head = _font(FONT_PX), _font(FONT_PX + 14)
    lines = [w for para in text.splitlines() for w in (textwrap.wrap(para, WRAP) or [""])]
    step = FONT_PX + 12
    per_sheet = (A4_PX[1] - 2 * MARGIN - 220) // step
    sheets = []
    for start in range(0, max(len(lines), 1), per_sheet):
        image = Image.new("L", A4_PX, 255)
        draw = ImageDraw.Draw(image)
        draw.text((MARGIN, MARGIN), "FAX", font=head, fill=0)
        draw.text((MARGIN, MARGIN + 70), f"To: {to}    From: {sender}", font=font, fill=0)
        draw.line((MARGIN, MARGIN + 130, A4_PX[0] - MARGIN, MARGIN + 130), fill=0, width=3)
        for i, line in enumerate(lines[start:start + per_sheet]):
            draw.text((MARGIN, MARGIN + 180 + i * step), line, font=font, fill=0)
        sheets.append(image)
    out = io.BytesIO()
    sheets[0].save(out, "TIFF", dpi=(DPI, DPI), save_all=True, append_images=sheets[1:], compression="tiff_lzw")
    return out.getvalue()


def _font(size: int) -> Any:
    from PIL import ImageFont
    if FONT_FILE.exists():
        return ImageFont.truetype(str(FONT_FILE), size)
    return ImageFont.load_default(size=size)  # no umlauts, but still a readable sheet


def sniff(data: bytes) -> str:
    """"pdf", "png", "jpeg" or "tiff" by the file's first bytes; FaxDocumentError for anything else."""
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    raise FaxDocumentError("the file is not a PDF, PNG, JPEG or TIFF")


def desk_fax_pdf(cover_text: str, upload: bytes | None, to: str, sender: str) -> tuple[bytes, int]:
    """The PDF to queue (cover sheet first, then the upload's pages) and its page count."""
    from hardware.fax_modem.pages import document_to_pages, pages_to_pdf
    if len(cover_text) > MAX_COVER_CHARS:
        raise FaxDocumentError(f"the cover text is longer than {MAX_COVER_CHARS} characters")
    kind = sniff(upload) if upload else ""
    pages: list[Page] = []
    if cover_text.strip():
        pages += document_to_pages(cover_png(cover_text, to, sender))
    if upload:
        try:
            pages += document_to_pages(upload)
        except PageConversionError as exc:
            raise FaxDocumentError(f"the {kind.upper()} file cannot be turned into fax pages: {exc}") from None
    if not pages:
        raise FaxDocumentError("write a cover text or choose a document to fax")
    if len(pages) > MAX_PAGES:
        raise FaxDocumentError(f"{len(pages)} pages: a desk fax has at most {MAX_PAGES}")
    return pages_to_pdf(pages), len(pages)
