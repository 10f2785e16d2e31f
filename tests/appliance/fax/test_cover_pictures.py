"""The fax cover draws the pictures of image variables (E4) where their placeholder lines stand, and leaves out a
placeholder it has no picture for rather than printing it."""
from __future__ import annotations

import io

from PIL import Image

from appliance.fax.cover import MARGIN, cover_png

DIGEST = "d" * 64


def _black(size: tuple[int, int] = (48, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 0, 255)).save(out, "PNG")
    return out.getvalue()


def _sheets(tiff: bytes) -> list[Image.Image]:
    img = Image.open(io.BytesIO(tiff))
    sheets = []
    for i in range(getattr(img, "n_frames", 1)):
        img.seek(i)
        sheets.append(img.convert("L").copy())
    return sheets


def _dark_share(sheet: Image.Image, box: tuple[int, int, int, int]) -> float:
    pixels = sheet.crop(box).tobytes()  # mode L: one byte a pixel
    return sum(1 for p in pixels if p < 128) / len(pixels)


def test_picture_is_drawn_at_its_line_scaled_to_print_size() -> None:
    [sheet] = _sheets(cover_png(f"[[image:{DIGEST}]]\nGuten Tag", "+4940", "Acme", {DIGEST: _black()}))
    top = MARGIN + 180
    # 48×24 screen pixels at 96 dpi are 100×50 pixels at the sheet's 200 dpi.
    assert _dark_share(sheet, (MARGIN + 5, top + 5, MARGIN + 95, top + 45)) > 0.95
    assert _dark_share(sheet, (MARGIN + 110, top + 5, MARGIN + 200, top + 45)) == 0


def test_unknown_placeholder_is_left_out_and_the_text_moves_up() -> None:
    [without] = _sheets(cover_png(f"[[image:{DIGEST}]]\nGuten Tag", "+4940", "Acme", {}))
    [plain] = _sheets(cover_png("Guten Tag", "+4940", "Acme"))
    assert without.tobytes() == plain.tobytes()


def test_tall_pictures_start_a_new_sheet() -> None:
    lines = "\n".join(["Zeile"] * 40) + f"\n[[image:{DIGEST}]]"
    sheets = _sheets(cover_png(lines, "+4940", "Acme", {DIGEST: _black((400, 280))}))
    assert len(sheets) == 2
    assert _dark_share(sheets[1], (MARGIN + 5, MARGIN + 185, MARGIN + 300, MARGIN + 400)) > 0.95
