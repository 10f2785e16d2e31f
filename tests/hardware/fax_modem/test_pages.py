"""Page conversion: PDF and images onto the fax grid, fax pages out to PDF and PNG, physical sizes kept."""
from __future__ import annotations

import io

import pypdfium2
import pytest
from PIL import Image, ImageDraw, ImageFont

from hardware.fax_modem import pages
from hardware.fax_modem.errors import PageConversionError
from hardware.fax_modem.t4 import Page

MM = 1 / 25.4


def letter_image(dpi: int = 200) -> Image.Image:
    """An A4 letter at `dpi`: a solid box 50 x 10 mm at (20 mm, 30 mm), a line of text, a rule."""
    image = Image.new("L", (round(210 * MM * dpi), round(297 * MM * dpi)), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((round(20 * MM * dpi), round(30 * MM * dpi),
                    round(70 * MM * dpi) - 1, round(40 * MM * dpi) - 1), fill=0)
    font = ImageFont.load_default(size=round(5 * MM * dpi))
    draw.text((round(20 * MM * dpi), round(60 * MM * dpi)), "Fax test page: invoice 4711", font=font, fill=0)
    draw.line((round(20 * MM * dpi), round(100 * MM * dpi), round(190 * MM * dpi), round(100 * MM * dpi)),
              fill=0, width=round(0.5 * MM * dpi))
    return image


def as_pdf(image: Image.Image, dpi: int = 200) -> bytes:
    """A one-page PDF of the image at its physical size."""
    out = io.BytesIO()
    image.save(out, "PDF", resolution=dpi)
    return out.getvalue()


def box_of(page: Page, below: int = 0, above: int | None = None) -> tuple[int, int, int, int]:
    """Bounding box of the black pixels in rows [below, above)."""
    image = pages.image_of(page).crop((0, below, page.width, above or page.height))
    left, top, right, bottom = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox()
    return left, top + below, right, bottom + below


@pytest.mark.parametrize("fine", [True, False])
def test_pdf_page_lands_on_the_fax_grid_at_its_physical_size(fine: bool) -> None:
    (page,) = pages.pages_from_pdf(as_pdf(letter_image()), fine=fine)
    lpi = 196 if fine else 98
    assert page.width == 1728 and page.y_dpi == lpi
    assert abs(page.height - 297 * MM * lpi) <= 2
    margin = (1728 - 210 * MM * 204) / 2  # A4 is 1687 pels wide, centred on the 1728 line
    left, top, right, bottom = box_of(page, 0, round(45 * MM * lpi))
    assert abs(left - (margin + 20 * MM * 204)) <= 2 and abs(right - (margin + 70 * MM * 204)) <= 2
    assert abs(top - 30 * MM * lpi) <= 2 and abs(bottom - 40 * MM * lpi) <= 2


def test_image_with_resolution_keeps_size_and_without_fills_the_width() -> None:
    out = io.BytesIO()
    letter_image(300).save(out, "PNG", dpi=(300, 300))
    (page,) = pages.pages_from_image(out.getvalue())
    left, top, _, _ = box_of(page, 0, round(45 * MM * 196))
    assert abs(top - 30 * MM * 196) <= 2 and abs(left - (20.5 + 20 * MM * 204)) <= 3
    plain = io.BytesIO()
    Image.new("L", (400, 100), 0).save(plain, "PNG")
    (stretched,) = pages.pages_from_image(plain.getvalue(), fine=False)
    assert box_of(stretched) == (0, 0, 1728, stretched.height)
    assert abs(stretched.height - 100 * 1728 / 400 * 98 / 204) <= 1


def test_multi_frame_tiff_gives_one_page_per_frame() -> None:
    frames = [letter_image(100), Image.new("L", (827, 1169), 255)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], dpi=(100, 100))
    result = pages.document_to_pages(out.getvalue())
    assert len(result) == 2 and result[1].data == bytes(len(result[1].data))


def test_text_survives_a_round_trip_through_pdf() -> None:
    (page,) = pages.pages_from_pdf(as_pdf(letter_image()))
    again = pages.pages_from_pdf(pages.pages_to_pdf([page]))[0]
    inked = sum(bin(a).count("1") for a in page.data)
    assert inked > 20_000
    assert again == page  # pixel for pixel: no row lost or shifted on the way out and back


def test_exported_pdf_pages_have_the_fax_s_physical_size() -> None:
    fine = Page.blank(1728, 2287, 196)
    normal = Page.blank(1728, 1143, 98)
    document = pypdfium2.PdfDocument(pages.pages_to_pdf([fine, normal]))
    for index, page in enumerate((fine, normal)):
        width, height = document[index].get_size()
        assert abs(width - 1728 / 204 * 72) < 0.1  # 215 mm
        assert abs(height - page.height / page.y_dpi * 72) < 0.1  # rows / lpi, not rows / 204
        assert abs(height - 297 / 25.4 * 72) < 3  # an A4's worth of rows is an A4 page


def test_png_preview_uses_square_pixels() -> None:
    page = pages.pages_from_pdf(as_pdf(letter_image()), fine=False)[0]
    with Image.open(io.BytesIO(pages.page_to_png(page))) as image:
        assert image.width == 1728 and abs(image.height - page.height * 204 / 98) <= 1
    with Image.open(io.BytesIO(pages.page_to_png(page, square=False, max_width=864))) as image:
        assert image.size == (864, round(page.height / 2))


def test_dither_renders_grey_as_dots_and_threshold_as_paper() -> None:
    grey = Image.new("L", (600, 300), 200)
    dithered = pages.to_fax_page(grey, dither=True)
    share = sum(bin(b).count("1") for b in dithered.data) / (dithered.width * dithered.height)
    assert 0.15 < share < 0.35
    assert pages.to_fax_page(grey).data == bytes(len(dithered.data))


def test_transparent_image_is_composited_on_white() -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 100, 199, 199), fill=(0, 0, 0, 255))
    page = pages.to_fax_page(image)
    left, _, right, _ = box_of(page)
    assert abs(left - 576) <= 2 and abs(right - 1152) <= 2


def test_bad_input_raises_page_conversion_error() -> None:
    with pytest.raises(PageConversionError):
        pages.pages_from_pdf(b"%PDF-1.4 garbage")
    with pytest.raises(PageConversionError):
        pages.document_to_pages(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(PageConversionError):
        pages.pages_to_pdf([])


def test_fit_page_for_the_receiver() -> None:
    fine = pages.pages_from_pdf(as_pdf(letter_image()))[0]
    normal = pages.fit_page(fine, y_dpi=98)
    assert normal.height == (fine.height + 1) // 2 and normal.y_dpi == 98
    for i in (100, 700, 1001):  # each normal row is the OR of its two fine rows
        a, b = (int.from_bytes(fine.row(r), "big") for r in (2 * i, 2 * i + 1))
        assert int.from_bytes(normal.row(i), "big") == a | b
    back = pages.fit_page(normal, y_dpi=196)
    assert back.height == 2 * normal.height and back.row(201) == back.row(200) == normal.row(100)
    b4 = pages.fit_page(fine, width=2048)
    assert b4.width == 2048 and b4.height == fine.height
    assert box_of(b4) == box_of(fine)  # padded at the right, nothing moved
    a4 = pages.fit_page(b4, width=1728)
    assert a4.width == 1728 and abs(a4.height - fine.height * 1728 / 2048) <= 1
    with pytest.raises(PageConversionError):
        pages.fit_page(fine, y_dpi=300)
