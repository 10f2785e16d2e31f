"""Documents to fax pages and back: PDF (pypdfium2) and images (Pillow) in, PDF (img2pdf) and PNG out.

Fax pixels are not square: 204 dpi across, 98 (normal) or 196 (fine) lpi down (T.4 §2.2 gives
8 pels/mm by 3.85 or 7.7 lines/mm).  Every conversion here scales the two axes separately so that a
page keeps its physical size, which is what a person comparing the fax with the letter expects.
"""
from __future__ import annotations

import ctypes
import io
from typing import Iterable

import img2pdf
import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageSequence, UnidentifiedImageError

from .errors import PageConversionError
from .t4_page import Coding, Page
from .tiff import write_tiff

FAX_X_DPI = 204
FINE_Y_DPI, NORMAL_Y_DPI = 196, 98
A4_WIDTH = 1728
_POINTS_PER_INCH = 72.0
_MAX_PAGES = 500


def image_of(page: Page) -> Image.Image:
    """A Pillow mode-1 image of the page (Pillow 0 = black; ours 1 = black), fax pixel grid."""
    return Image.frombytes("1", (page.width, page.height), page.data, "raw", "1;I")


def page_of(image: Image.Image, y_dpi: int = FINE_Y_DPI) -> Page:
    """A page from a mode-1 image already on the fax pixel grid."""
    image = image if image.mode == "1" else image.convert("1")
    return Page(image.width, image.height, image.tobytes("raw", "1;I"), y_dpi)


def to_fax_page(image: Image.Image, source_dpi: tuple[float, float] | None = None, *,
                fine: bool = True, width: int = A4_WIDTH, dither: bool = False) -> Page:
    """Scale any image onto the fax grid (204 x 196/98 dpi, `width` pels) and make it bilevel.

    With `source_dpi` the physical size is kept (a too-wide page is shrunk to fit, a narrow one is
    centred); without it the image is stretched to the full line width.  Thresholding keeps text
    crisp; `dither` (Floyd-Steinberg) suits photos.
    """
    y_dpi = FINE_Y_DPI if fine else NORMAL_Y_DPI
    gray = _flatten(image)
    if source_dpi and source_dpi[0] > 0 and source_dpi[1] > 0:
        new_w = gray.width * FAX_X_DPI / source_dpi[0]
        new_h = gray.height * y_dpi / source_dpi[1]
    else:
        new_w, new_h = width, gray.height * width / gray.width * y_dpi / FAX_X_DPI
    if new_w > width:  # shrink both axes alike so the page still fits the line
        new_h, new_w = new_h * width / new_w, width
    size = (max(1, round(new_w)), max(1, round(new_h)))
    scaled = gray if size == gray.size else gray.resize(
        size, Image.Resampling.LANCZOS if size[0] < gray.width else Image.Resampling.BICUBIC)
    canvas = Image.new("L", (width, size[1]), 255)
    canvas.paste(scaled, ((width - size[0]) // 2, 0))
    if dither:
        bilevel = canvas.convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    else:
        bilevel = canvas.point(lambda v: 255 if v >= 160 else 0).convert("1", dither=Image.Dither.NONE)
    return page_of(bilevel, y_dpi)


def fit_page(page: Page, width: int | None = None, y_dpi: int | None = None) -> Page:
    """The page as a receiver can take it (T.30 DCS width and resolution).

    A narrower page is padded with white at the right, a wider one is scaled down to the line;
    fine to normal ORs each pair of rows so one-row strokes survive, normal to fine doubles rows.
    """
    width = width or page.width
    y_dpi = y_dpi or page.y_dpi
    if y_dpi == page.y_dpi // 2:
        stride = page.stride
        rows = [page.row(i) for i in range(page.height)] + [bytes(stride)] * (page.height & 1)
        merged = b"".join((int.from_bytes(a, "big") | int.from_bytes(b, "big")).to_bytes(stride, "big")
                          for a, b in zip(rows[::2], rows[1::2]))
        page = Page(page.width, len(rows) // 2, merged, y_dpi)
    elif y_dpi == page.y_dpi * 2:
        page = Page(page.width, page.height * 2,
                    b"".join(page.row(i) * 2 for i in range(page.height)), y_dpi)
    elif y_dpi != page.y_dpi:
        raise PageConversionError(f"cannot convert {page.y_dpi} lpi to {y_dpi} lpi")
    if width == page.width:
        return page
    image = image_of(page)
    if width < page.width:
        height = max(1, round(page.height * width / page.width))
        image = image.convert("L").resize((width, height), Image.Resampling.LANCZOS)
        image = image.point(lambda v: 255 if v >= 160 else 0)
    canvas = Image.new("1", (width, image.height), 1)
    canvas.paste(image.convert("1"), (0, 0))
    return page_of(canvas, page.y_dpi)


def _flatten(image: Image.Image) -> Image.Image:
    """Grayscale, with transparency composited onto white paper."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return image.convert("L")


def pages_from_pdf(pdf: bytes, *, fine: bool = True, width: int = A4_WIDTH,
                   dither: bool = False) -> list[Page]:
    """Render every page of a PDF onto the fax grid."""
    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as error:
        raise PageConversionError(f"PDF cannot be opened: {error}") from error
    try:
        if len(document) == 0 or len(document) > _MAX_PAGES:
            raise PageConversionError(f"PDF has {len(document)} pages (1..{_MAX_PAGES} can be faxed)")
        pages = []
        for index in range(len(document)):
            pdf_page = document[index]
            image, dpi = _render(pdf_page, FINE_Y_DPI if fine else NORMAL_Y_DPI)
            pages.append(to_fax_page(image, dpi, fine=fine, width=width, dither=dither))
            pdf_page.close()
        return pages
    finally:
        document.close()


def _render(pdf_page: pypdfium2.PdfPage, y_dpi: int) -> tuple[Image.Image, tuple[float, float]]:
    """The page in gray at 204 x `y_dpi`, drawn by pdfium straight onto the non-square grid so no
    resampling blurs the glyphs; rotated pages are drawn square and resampled instead."""
    if pdf_page.get_rotation() % 360:
        bitmap = pdf_page.render(scale=FAX_X_DPI / _POINTS_PER_INCH, grayscale=True)
        return bitmap.to_pil(), (FAX_X_DPI, FAX_X_DPI)
    width_pt, height_pt = pdf_page.get_size()
    size = (max(1, round(width_pt * FAX_X_DPI / _POINTS_PER_INCH)), max(1, round(height_pt * y_dpi / _POINTS_PER_INCH)))
    # scale to the rounded pixel size exactly: a fractional last row would shift the page by one
    sx, sy = size[0] / width_pt, size[1] / height_pt
    if size[0] * size[1] > 60_000_000:
        raise PageConversionError(f"PDF page of {width_pt:.0f}x{height_pt:.0f} pt is too large to fax")
    bitmap = pypdfium2.PdfBitmap.new_native(size[0], size[1], pdfium_c.FPDFBitmap_Gray)
    pdfium_c.FPDFBitmap_FillRect(bitmap.raw, 0, 0, size[0], size[1], 0xFFFFFFFF)
    matrix = pdfium_c.FS_MATRIX(sx, 0, 0, sy, 0, 0)
    clip = pdfium_c.FS_RECTF(0, 0, size[0], size[1])
    pdfium_c.FPDF_RenderPageBitmapWithMatrix(bitmap.raw, pdf_page.raw, ctypes.byref(matrix),
                                            ctypes.byref(clip), pdfium_c.FPDF_GRAYSCALE)
    return bitmap.to_pil(), (FAX_X_DPI, y_dpi)


def pages_from_image(data: bytes, *, fine: bool = True, width: int = A4_WIDTH,
                     dither: bool = False) -> list[Page]:
    """Every frame of an image file (PNG, JPEG, multi-page TIFF …) on the fax grid."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            pages = []
            for frame in ImageSequence.Iterator(image):
                dpi = frame.info.get("dpi") or image.info.get("dpi")
                pages.append(to_fax_page(frame, _usable_dpi(dpi), fine=fine, width=width, dither=dither))
                if len(pages) > _MAX_PAGES:
                    raise PageConversionError(f"image has more than {_MAX_PAGES} frames")
            return pages
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise PageConversionError(f"image cannot be read: {error}") from error


def _usable_dpi(dpi: object) -> tuple[float, float] | None:
    """The image's resolution if it is believable (many files say 72 or 1 dpi by default)."""
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return None
    x, y = float(dpi[0]), float(dpi[1])
    return (x, y) if 100 <= x <= 2400 and 100 <= y <= 2400 else None


def document_to_pages(data: bytes, *, fine: bool = True, dither: bool = False) -> list[Page]:
    """Fax pages of a PDF or an image, told apart by content."""
    if data.lstrip()[:5] == b"%PDF-":
        return pages_from_pdf(data, fine=fine, dither=dither)
    return pages_from_image(data, fine=fine, dither=dither)


def pages_to_pdf(pages: Iterable[Page]) -> bytes:
    """A PDF with one page per fax page at its true physical size (non-square pixels kept)."""
    pages = list(pages)
    if not pages:
        raise PageConversionError("no pages to export")
    # Each page goes in as a one-page T.6 TIFF: img2pdf embeds CCITT G4 data as it is (small PDFs),
    # and the page size comes from the TIFF's separate X and Y resolutions.
    images = [write_tiff([page], Coding.MMR) for page in pages]
    try:
        return img2pdf.convert(images, rotation=img2pdf.Rotation.ifvalid, layout_fun=_exact_layout)
    except (img2pdf.ImageOpenError, ValueError) as error:
        raise PageConversionError(f"PDF export failed: {error}") from error


def _exact_layout(width_px: int, height_px: int, dpi: tuple[float, float]) -> tuple[float, ...]:
    """img2pdf layout: page = image, both rounded as img2pdf writes the image matrix (4 decimals);
    a media box a hair smaller than the image makes pdfium start the image one row early."""
    width = round(width_px * _POINTS_PER_INCH / dpi[0], 4)
    height = round(height_px * _POINTS_PER_INCH / dpi[1], 4)
    return width, height, width, height


def page_to_png(page: Page, *, square: bool = True, max_width: int | None = None) -> bytes:
    """A PNG preview; `square` stretches rows so the page looks right on a screen."""
    image = image_of(page)
    height = page.height * page.x_dpi / page.y_dpi if square else page.height
    scale = min(1.0, max_width / page.width) if max_width else 1.0
    size = (max(1, round(page.width * scale)), max(1, round(height * scale)))
    if size != image.size:
        image = image.convert("L").resize(size, Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST)
    out = io.BytesIO()
    y_dpi = page.x_dpi if square else page.y_dpi
    image.save(out, "PNG", optimize=False, dpi=(page.x_dpi * scale, y_dpi * scale))
    return out.getvalue()
