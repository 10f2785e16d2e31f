"""Interop with mgetty-fax's pbm2g3 / g32pbm, which write and read raw G3 in both bit orders."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hardware.fax_modem import t4
from hardware.fax_modem.t4 import BitOrder, Page
from tests.hardware.fax_modem.test_t4_efax import read_pbm, write_pbm
from tests.hardware.fax_modem.test_tiff import drawn_page
from tests.tools import require_tool


def run(tool: str, *args: str) -> bytes:
    """Run an mgetty-fax tool and return its stdout."""
    path = require_tool(tool, "mgetty-fax")
    return subprocess.run([path, *args], capture_output=True, check=True).stdout


@pytest.fixture
def page() -> Page:
    """A drawn test page."""
    return drawn_page(31, 260)


@pytest.mark.parametrize(("flags", "order"), [((), BitOrder.MSB_FIRST), (("-r",), BitOrder.LSB_FIRST),
                                              (("-a",), BitOrder.MSB_FIRST), (("-a", "-r"), BitOrder.LSB_FIRST)])
def test_we_decode_pbm2g3(tmp_path: Path, page: Page, flags: tuple[str, ...], order: BitOrder) -> None:
    # pbm2g3 -r writes the modem's LSB-first order; -a byte-aligns each EOL
    write_pbm(tmp_path / "in.pbm", page)
    decoded = t4.decode_page(run("pbm2g3", *flags, str(tmp_path / "in.pbm")), page.width, bit_order=order)
    assert decoded.page == page and decoded.bad_lines == () and decoded.rtc


@pytest.mark.parametrize(("order", "flags"), [(BitOrder.LSB_FIRST, ("-r",)), (BitOrder.MSB_FIRST, ())])
def test_g32pbm_decodes_ours(tmp_path: Path, page: Page, order: BitOrder, flags: tuple[str, ...]) -> None:
    (tmp_path / "ours.g3").write_bytes(t4.encode_page(page, bit_order=order, min_bytes_per_line=30))
    assert read_pbm(run("g32pbm", *flags, str(tmp_path / "ours.g3"))) == page
