"""A fax cover sheet drawn from the agent's text (Pillow), and the document a desk fax sends: cover, then upload."""
from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from appliance.domain.images import FAX_TOKEN
from hardware.fax_modem.errors import PageConversionError
from hardware.fax_modem.t4_page import Page

DPI = 200  # close to the fine fax grid (204 x 196), so the text is not resampled much
A4_PX = (1654, 2339)  # 210 x 297 mm at 200 dpi
MARGIN = 140
FONT_PX = 34  # about 12 pt at 200 dpi: readable after the fax's halving of fine detail
MAX_PAGES = 50  # pages of one desk fax, cover included
MAX_COVER_CHARS = 8000
WRAP = 70
PICTURE_MAX = (A4_PX[0] - 2 * MARGIN, 600)  # a logo or signature, not a full-page scan
# Debian's fonts-dejavu-core (a Depends of the package): Latin, Greek, Cyrillic; Pillow's own font has no umlauts.
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Pillow draws with one font and no fallback, and DejaVu has no Han, kana or Hangul: a cover holding any of those is
# drawn with Debian's fonts-noto-cjk (a Recommends), whose Latin is complete too. Face 2 of the collection is SC.
CJK_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FACE = 2


class FaxDocumentError(ValueError):
    """The cover text or the uploaded document cannot be faxed; the message says why, for the agent."""


def cover_png(text: str, to: str, sender: str, pictures: dict[str, bytes] | None = None) -> bytes:
    """An A4 PNG with a header (to, from) and the text wrapped into lines; the text may run to several sheets.

    A line that is only an image placeholder (`[[image:<sha256>]]`, from a text variable, E4) is drawn as that
    picture when `pictures` holds it, and left out otherwise.
    """
    from PIL import Image, ImageDraw  # heavy: only when a fax is made
    cjk = needs_cjk(f"{text}{to}{sender}")
    font, head = _font(FONT_PX, cjk), _font(FONT_PX + 14, cjk)
    step = FONT_PX + 12
    items: list[Any] = []   # a line of text, or a picture already scaled for the sheet
    for para in text.splitlines():
        token = FAX_TOKEN.fullmatch(para.strip())
        if token:
            if token.group(1) in (pictures or {}):
                items.append(_picture((pictures or {})[token.group(1)]))
            continue
        items.extend(textwrap.wrap(para, WRAP) or [""])
    room = A4_PX[1] - 2 * MARGIN - 180
    sheets, y = [], room  # y: the height used on the current sheet; start by making one
    for item in items or [""]:
        height = step if isinstance(item, str) else item.height + 12
        if y + height > room:
            image = Image.new("L", A4_PX, 255)
            draw = ImageDraw.Draw(image)
            draw.text((MARGIN, MARGIN), "FAX", font=head, fill=0)
            draw.text((MARGIN, MARGIN + 70), f"To: {to}    From: {sender}", font=font, fill=0)
            draw.line((MARGIN, MARGIN + 130, A4_PX[0] - MARGIN, MARGIN + 130), fill=0, width=3)
            sheets.append(image)
            y = 0
        if isinstance(item, str):
            draw.text((MARGIN, MARGIN + 180 + y), item, font=font, fill=0)
        else:
            sheets[-1].paste(item, (MARGIN, MARGIN + 180 + y))
        y += height
    out = io.BytesIO()
    sheets[0].save(out, "TIFF", dpi=(DPI, DPI), save_all=True, append_images=sheets[1:], compression="tiff_lzw")
    return out.getvalue()


def _picture(data: bytes) -> Any:
    """A picture in grey on white, scaled from screen size (96 dpi) to the sheet's and kept inside the margins."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        rgba = img.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)  # transparent logos on white paper, not on black
    grey = flat.convert("L")
    scale = min(DPI / 96, PICTURE_MAX[0] / grey.width, PICTURE_MAX[1] / grey.height)
    return grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))))


def needs_cjk(text: str) -> bool:
    """Whether the text has a character from the CJK blocks (ideographs, kana, Hangul, full-width forms)."""
    return any(0x2E80 <= ord(ch) <= 0x9FFF or 0xAC00 <= ord(ch) <= 0xD7AF or 0xF900 <= ord(ch) <= 0xFAFF
               or 0xFF00 <= ord(ch) <= 0xFFEF or 0x20000 <= ord(ch) <= 0x3FFFF for ch in text)


def _font(size: int, cjk: bool = False) -> Any:
    from PIL import ImageFont
    if cjk and CJK_FONT_FILE.exists():
        return ImageFont.truetype(str(CJK_FONT_FILE), size, index=CJK_FACE)
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


def desk_fax_pdf(cover_text: str, upload: bytes | None, to: str, sender: str,
                 pictures: dict[str, bytes] | None = None) -> tuple[bytes, int]:
    """The PDF to queue (cover sheet first, then the upload's pages) and its page count; `pictures` by digest
    for the cover's image placeholders."""
    from hardware.fax_modem.pages import document_to_pages, pages_to_pdf
    if len(cover_text) > MAX_COVER_CHARS:
        raise FaxDocumentError(f"the cover text is longer than {MAX_COVER_CHARS} characters")
    kind = sniff(upload) if upload else ""
    pages: list[Page] = []
    if cover_text.strip():
        pages += document_to_pages(cover_png(cover_text, to, sender, pictures))
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
