"""Interop with efax's efix (Debian efax), the converter behind a classic Linux fax stack."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hardware.fax_modem import t4
from hardware.fax_modem.t4 import BitOrder, Page
from hardware.fax_modem.tiff import read_tiff, write_tiff
from tests.hardware.fax_modem.test_tiff import drawn_page
from tests.tools import require_tool


def write_pbm(path: Path, page: Page) -> None:
    """A raw PBM (P4): packed rows, 1 = black, the same layout as our pages."""
    path.write_bytes(b"P4\n%d %d\n" % (page.width, page.height) + page.data)


def read_pbm(data: bytes) -> Page:
    """Parse a raw PBM as efix writes it."""
    fields, pos = [], 0
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P4"
    width, height = int(fields[1]), int(fields[2])
    return Page(width, height, data[pos + 1:pos + 1 + (width + 7) // 8 * height])


def efix(tmp_path: Path, *args: str) -> bytes:
    """Run efix and return its first output page (TIFF output needs a seekable file, not a pipe)."""
    tool = require_tool("efix", "efax")
    subprocess.run([tool, "-v", "e", "-n", str(tmp_path / "efix.%d"), *args], capture_output=True, check=True)
    return (tmp_path / "efix.1").read_bytes()  # one file per page: the first


@pytest.fixture
def page() -> Page:
    """A drawn test page."""
    return drawn_page(21, 300)


def test_we_decode_efix_raw_fax(tmp_path: Path, page: Page) -> None:
    write_pbm(tmp_path / "in.pbm", page)
    raw = efix(tmp_path, "-i", "pbm", "-o", "fax", str(tmp_path / "in.pbm"))
    decoded = t4.decode_page(raw, page.width, bit_order=BitOrder.MSB_FIRST)  # efix files are MSB first
    assert decoded.page == page and decoded.bad_lines == () and decoded.rtc


def test_efix_decodes_our_raw_fax(tmp_path: Path, page: Page) -> None:
    (tmp_path / "ours.fax").write_bytes(t4.encode_page(page, bit_order=BitOrder.MSB_FIRST))
    back = read_pbm(efix(tmp_path, "-i", "fax", "-o", "pbm", str(tmp_path / "ours.fax")))
    assert back.width == page.width and back.height >= page.height  # efix pads raw pages to A4
    assert back.data[:len(page.data)] == page.data
    assert back.data[len(page.data):] == bytes(len(back.data) - len(page.data))


def test_we_read_efix_tiff(tmp_path: Path, page: Page) -> None:
    write_pbm(tmp_path / "in.pbm", page)
    (tiff,) = read_tiff(efix(tmp_path, "-i", "pbm", "-o", "tiffg3", str(tmp_path / "in.pbm")))
    assert tiff.page.data == page.data and tiff.bad_lines == ()


@pytest.mark.parametrize("order", list(BitOrder))
def test_efix_reads_our_tiff(tmp_path: Path, page: Page, order: BitOrder) -> None:
    # efix reads only 1-D TIFF-F; 2-D files are checked against libtiff in test_tiff
    (tmp_path / "ours.tif").write_bytes(write_tiff([page, drawn_page(22, 120)], fill_order=order))
    back = read_pbm(efix(tmp_path, "-i", "tiffg3", "-o", "pbm", str(tmp_path / "ours.tif")))
    assert back == page
