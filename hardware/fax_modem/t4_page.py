"""The T.4 page types and constants, apart from the codec so that holding, storing and passing pages on
never loads numpy: the fax drivers and services import this at start, the codec (t4) when a page is coded.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from .errors import T4Error

MAX_WIDTH = 8192  # pixels; the widest T.4 page (A3 at 400 dpi) is 4864
RTC_EOLS = 6  # T.4 §4.1.4: return to control = six EOLs (six EOL+1 in 2-D, §4.2.4)
STANDARD_WIDTHS = {1728: "A4 / letter (215 mm)", 2048: "B4 (255 mm)", 2432: "A3 (303 mm)"}
MAX_HEIGHT = 32_768  # rows kept of one page: an A4 at 196 lpi has 2287, so this is over 4 m of paper


class BitOrder(Enum):
    """How the serial T.4 bit stream is packed into octets."""

    # T.31 §8.3.3 (Class 1) and T.32 (Class 2, +FBO=0): the DCE sends each octet LSB first, so the
    # first bit on the line is the least significant bit.  TIFF FillOrder=2 is the same.
    LSB_FIRST = "lsb"
    # TIFF 6.0 FillOrder=1 (the default): the first pixel is the most significant bit.
    MSB_FIRST = "msb"


class Coding(Enum):
    """One-dimensional (T.4 §4.1) or two-dimensional (T.4 §4.2) coding."""

    MH = "mh"
    MR = "mr"
    MMR = "mmr"  # T.6: only for TIFF Compression=4 and ECM transfers; see encode_mmr / decode_mmr


@dataclass(frozen=True, slots=True)
class Page:
    """A bilevel fax page: packed rows, MSB first, 1 = black; y_dpi 98 (normal) or 196 (fine)."""

    width: int
    height: int
    data: bytes
    y_dpi: int = 196
    x_dpi: int = 204

    def __post_init__(self) -> None:
        if not 0 < self.width <= MAX_WIDTH or self.height < 0:
            raise T4Error(f"page size {self.width}x{self.height} is not codable")
        if len(self.data) != self.stride * self.height:
            raise T4Error(f"page data is {len(self.data)} bytes, {self.stride * self.height} expected")

    @property
    def stride(self) -> int:
        """Bytes per packed row."""
        return (self.width + 7) // 8

    def row(self, index: int) -> bytes:
        """One packed row."""
        return self.data[index * self.stride:(index + 1) * self.stride]

    @classmethod
    def from_rows(cls, rows: Iterable[bytes], width: int, y_dpi: int = 196) -> Page:
        """A page from packed rows of `width` pixels."""
        rows = list(rows)
        return cls(width, len(rows), b"".join(rows), y_dpi)

    @classmethod
    def blank(cls, width: int = 1728, height: int = 1, y_dpi: int = 196) -> Page:
        """An all-white page."""
        return cls(width, height, bytes(((width + 7) // 8) * height), y_dpi)


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """A decoded page with the rows that had to be replaced by their predecessor."""

    page: Page
    bad_lines: tuple[int, ...]
    rtc: bool  # the page ended with RTC (T.4 §4.1.4) rather than simply running out of data

    @property
    def bad_line_count(self) -> int:
        """How many rows were corrupt (feeds the T.30 MCF/RTP/RTN decision)."""
        return len(self.bad_lines)


def min_bytes_per_line(scan_time_ms: int, bit_rate: int) -> int:
    """Octets a coded line must fill to last the minimum scan line time (T.30 DIS/DCS bits 21-23)."""
    return -(-scan_time_ms * bit_rate // 8000)
