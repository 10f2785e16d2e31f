"""TIFF Class F: our writer and reader against each other, against Pillow/libtiff, and damaged files."""
from __future__ import annotations

import io
import random
import subprocess

import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image, ImageDraw, ImageSequence, TiffImagePlugin

from hardware.fax_modem import t4
from hardware.fax_modem.errors import TiffError
from hardware.fax_modem.t4 import BitOrder, Coding, DecodedPage, Page
from hardware.fax_modem.tiff import read_tiff, write_tiff
from tests.tools import require_tool


def drawn_page(seed: int, height: int = 300, y_dpi: int = 196, width: int = 1728) -> Page:
    """A page with text, boxes and lines drawn by Pillow."""
    rnd = random.Random(seed)
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    for y in range(10, height - 30, 40):
        draw.text((rnd.randint(0, 200), y), f"Invoice {rnd.randint(0, 10**9)} page {seed}", fill=0)
    draw.rectangle((50, 5, width - 60, max(5, height - 20)), outline=0, width=3)
    draw.line((0, 0, width - 1, height - 1), fill=0, width=2)
    return page_of(image, y_dpi)


def page_of(image: Image.Image, y_dpi: int = 196) -> Page:
    """Our page of a Pillow mode-1 image (Pillow 0 = black; ours 1 = black)."""
    return Page(image.width, image.height, image.tobytes("raw", "1;I"), y_dpi)


def pillow_pages(data: bytes) -> list[Page]:
    """Every frame of a TIFF as read by Pillow (libtiff)."""
    with Image.open(io.BytesIO(data)) as image:
        return [page_of(frame.convert("1")) for frame in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("coding", list(Coding))
@pytest.mark.parametrize("order", list(BitOrder))
def test_write_read_round_trip_and_pillow_agrees(coding: Coding, order: BitOrder) -> None:
    pages = [drawn_page(1), drawn_page(2, 120, 98), Page.blank(1728, 5)]
    data = write_tiff(pages, coding, fill_order=order)
    back = read_tiff(data)
    assert [p.page for p in back] == pages
    assert all(p.bad_lines == () for p in back)
    assert [p.data for p in pillow_pages(data)] == [p.data for p in pages]
    with Image.open(io.BytesIO(data)) as image:
        tags = image.tag_v2
        assert tags[259] == (4 if coding is Coding.MMR else 3)
        assert tags[266] == (1 if order is BitOrder.MSB_FIRST else 2)
        assert tags[262] == 0 and tags[297] == (0, 3)
        assert tags.get(292, 0) & 1 == (coding is Coding.MR)
        assert float(tags[282]) == 204 and float(tags[283]) == 196


@pytest.mark.parametrize("compression", ["group3", "group4"])
def test_reads_what_pillow_writes(compression: str) -> None:
    images = [Image.new("1", (1728, 200), 1), Image.new("1", (2048, 90), 1)]
    for n, image in enumerate(images):
        ImageDraw.Draw(image).text((30, 30), f"written by libtiff {n}", fill=0)
        ImageDraw.Draw(image).ellipse((400, 10, 900, 180), outline=0, width=5)
    out = io.BytesIO()
    images[0].save(out, "TIFF", compression=compression, save_all=True, append_images=images[1:],
                   dpi=(204, 196))
    pages = read_tiff(out.getvalue())
    assert [p.page.data for p in pages] == [page_of(i).data for i in images]
    assert pages[0].page.y_dpi == 196 and pages[0].page.x_dpi == 204


@pytest.mark.parametrize("fill_order", [1, 2])
def test_reads_libtiff_2d_coding(fill_order: int) -> None:
    image = Image.new("1", (1728, 300), 1)
    draw = ImageDraw.Draw(image)
    draw.text((40, 40), "two-dimensional coding by libtiff", fill=0)
    draw.polygon([(100, 100), (1600, 150), (900, 290)], outline=0, width=4)
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[292] = 1  # T4Options: 2-D
    info[266] = fill_order
    out = io.BytesIO()
    image.save(out, "TIFF", compression="group3", tiffinfo=info, dpi=(204, 98))
    (page,) = read_tiff(out.getvalue())
    assert page.bad_lines == () and page.page.data == page_of(image).data and page.page.y_dpi == 98


def test_bad_lines_are_recorded_in_class_f_tags() -> None:
    decoded = DecodedPage(drawn_page(3, 50), (4, 5, 6, 20), False)
    data = write_tiff([decoded, drawn_page(4, 20)])
    with Image.open(io.BytesIO(data)) as image:
        assert image.tag_v2[326] == 4 and image.tag_v2[327] == 2 and image.tag_v2[328] == 3
        image.seek(1)
        assert image.tag_v2[326] == 0 and image.tag_v2[327] == 0


def test_truncated_file_keeps_good_pages() -> None:
    pages = [drawn_page(5), drawn_page(6), drawn_page(7)]
    data = write_tiff(pages)
    cut = data[: len(data) - 200]  # the last IFD is lost
    with pytest.raises(TiffError) as caught:
        read_tiff(cut)
    assert "page 3" in str(caught.value) and "truncated" in str(caught.value)
    assert [p.page for p in caught.value.pages] == pages[:2]


def test_not_a_tiff_and_wrong_kind() -> None:
    with pytest.raises(TiffError, match="not a TIFF"):
        read_tiff(b"%PDF-1.4 ...")
    out = io.BytesIO()
    Image.new("L", (10, 10)).save(out, "TIFF")
    with pytest.raises(TiffError, match="bilevel"):
        read_tiff(out.getvalue())
    with pytest.raises(TiffError):
        write_tiff([])


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), flips=st.integers(1, 20), cut=st.integers(0, 4000))
def test_damaged_files_raise_only_tiff_error(seed: int, flips: int, cut: int) -> None:
    data = bytearray(_SMALL_TIFF)
    rnd = random.Random(seed)
    for _ in range(flips):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    try:
        pages = read_tiff(bytes(data[: len(data) - cut]))
    except TiffError:
        return
    assert all(p.page.width > 0 for p in pages)


_SMALL_TIFF = write_tiff([drawn_page(8, 40), Page.blank(1728, 3)], Coding.MR)


def test_tiffinfo_and_tiffcp_accept_our_files(tmp_path) -> None:
    tiffinfo = require_tool("tiffinfo", "libtiff-tools")
    tiffcp = require_tool("tiffcp", "libtiff-tools")
    path = tmp_path / "fax.tif"
    path.write_bytes(write_tiff([drawn_page(9), drawn_page(10, 80, 98)], Coding.MR))
    info = subprocess.run([tiffinfo, "-D", str(path)], capture_output=True, text=True, check=True)
    assert "CCITT Group 3" in info.stdout and "2-d encoding" in info.stdout and "Warning" not in info.stderr
    copy = tmp_path / "g4.tif"
    subprocess.run([tiffcp, "-c", "g4", str(path), str(copy)], check=True)
    assert [p.page for p in read_tiff(copy.read_bytes())] == [drawn_page(9), drawn_page(10, 80, 98)]
