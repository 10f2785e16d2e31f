"""The fax cover prints Chinese, Japanese and Korean text with real glyphs, not the missing-glyph box: with one font
and no fallback in Pillow, two different ideographs drawn in DejaVu would come out as the same empty box."""
from __future__ import annotations

import io

from PIL import Image, ImageChops

from appliance.fax import cover
from appliance.fax.cover import MARGIN, cover_png, needs_cjk
from tests.tools import require_file


def _text_area(tiff: bytes) -> Image.Image:
    sheet = Image.open(io.BytesIO(tiff)).convert("L")
    return sheet.crop((MARGIN, MARGIN + 170, MARGIN + 400, MARGIN + 240))


def test_two_ideographs_print_as_two_different_glyphs() -> None:
    require_file(str(cover.CJK_FONT_FILE), "fonts-noto-cjk")
    first, second = _text_area(cover_png("客", "+8610", "Acme")), _text_area(cover_png("服", "+8610", "Acme"))
    assert ImageChops.difference(first, second).getbbox() is not None


def test_box_glyphs_are_what_dejavu_would_have_drawn(monkeypatch) -> None:
    # The check above can fail: without the CJK font both ideographs are the same missing-glyph box.
    monkeypatch.setattr(cover, "CJK_FONT_FILE", cover.CJK_FONT_FILE.with_name("absent.ttc"))
    require_file(str(cover.FONT_FILE), "fonts-dejavu-core")
    first, second = _text_area(cover_png("客", "+8610", "Acme")), _text_area(cover_png("服", "+8610", "Acme"))
    assert ImageChops.difference(first, second).getbbox() is None


def test_which_text_needs_the_cjk_font() -> None:
    assert needs_cjk("王小明 客服") and needs_cjk("カスタマー") and needs_cjk("고객") and needs_cjk("ＡＢＣ")
    assert not needs_cjk("Zażółć gęślą jaźń – Åsa Öberg, Müller")
