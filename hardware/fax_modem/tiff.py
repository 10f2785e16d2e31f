"""TIFF Class F (multi-page fax TIFF) reading and writing around our own T.4/T.6 coder.

Pillow can read and write CCITT TIFFs through libtiff, but it recodes pixels; a fax store wants the
coded data it received, with the Class F tags (TIFF 6.0 §11 and the Class F extension: T4Options,
PageNumber, BadFaxLines, CleanFaxData), so the container is written here by hand.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Sequence

from .errors import T4Error, TiffError
from .t4_page import MAX_HEIGHT, MAX_WIDTH, BitOrder, Coding, DecodedPage, Page

# The codec (t4, with numpy) is imported where a strip is coded, not with this module: the fax service
# imports this at start and should not pay for numpy until a fax arrives or leaves.

# TIFF 6.0 tags used by Class F
NEW_SUBFILE_TYPE, IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION = 254, 256, 257, 258, 259
PHOTOMETRIC, FILL_ORDER, STRIP_OFFSETS, SAMPLES_PER_PIXEL, ROWS_PER_STRIP = 262, 266, 273, 277, 278
STRIP_BYTE_COUNTS, X_RESOLUTION, Y_RESOLUTION, T4_OPTIONS, T6_OPTIONS = 279, 282, 283, 292, 293
RESOLUTION_UNIT, PAGE_NUMBER, SOFTWARE = 296, 297, 305
BAD_FAX_LINES, CLEAN_FAX_DATA, CONSECUTIVE_BAD_FAX_LINES = 326, 327, 328

_SHORT, _LONG, _RATIONAL, _ASCII = 3, 4, 5, 2
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8}
_TYPE_FORMATS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 16: "Q"}
_COMPRESSION = {Coding.MH: 3, Coding.MR: 3, Coding.MMR: 4}
_MAX_PAGES = 10_000
SOFTWARE_NAME = b"appliance fax\0"


@dataclass(frozen=True, slots=True)
class _Entry:
    """One IFD entry to write."""

    tag: int
    kind: int
    values: tuple

    def payload(self) -> bytes:
        """The entry's value bytes, little-endian."""
        if self.kind == _ASCII:
            return self.values[0]
        if self.kind == _RATIONAL:
            return b"".join(struct.pack("<II", *pair) for pair in self.values)
        return struct.pack("<%d%s" % (len(self.values), _TYPE_FORMATS[self.kind]), *self.values)


def write_tiff(pages: Sequence[Page | DecodedPage], coding: Coding = Coding.MH, *,
               fill_order: BitOrder = BitOrder.MSB_FIRST) -> bytes:
    """A little-endian TIFF Class F file, one strip per page; a DecodedPage also records its bad
    lines in BadFaxLines / CleanFaxData / ConsecutiveBadFaxLines."""
    if not pages:
        raise TiffError("a fax TIFF needs at least one page")
    out = bytearray(b"II*\0\0\0\0\0")
    link = 4  # where the offset of the next IFD goes
    for number, item in enumerate(pages):
        page, bad = (item.page, item.bad_lines) if isinstance(item, DecodedPage) else (item, ())
        if page.height == 0:
            raise TiffError(f"page {number + 1} has no rows")
        # TIFF Class F: EOLs byte aligned (T4Options bit 2) so readers can resynchronise cheaply; RTC
        # is left out because the strip's end already ends the page.
        from .t4 import encode_page

        strip = encode_page(page, coding, bit_order=fill_order, align_eol=True, rtc=False)
        strip_at = len(out)
        out += strip
        out += b"\0" * (len(out) & 1)  # IFDs start on a word boundary (TIFF 6.0 §2)
        entries = _page_entries(page, coding, fill_order, strip_at, len(strip), number, len(pages), bad)
        struct.pack_into("<I", out, link, len(out))
        link = _append_ifd(out, entries)
    return bytes(out)


def _page_entries(page: Page, coding: Coding, fill_order: BitOrder, strip_at: int, strip_size: int,
                  number: int, total: int, bad: Sequence[int]) -> list[_Entry]:
    """The IFD entries of one page, in ascending tag order as TIFF 6.0 §2 requires."""
    t4_options = (1 if coding is Coding.MR else 0) | 4
    entries = [
        _Entry(NEW_SUBFILE_TYPE, _LONG, (2,)),  # a page of a multi-page document
        _Entry(IMAGE_WIDTH, _LONG, (page.width,)),
        _Entry(IMAGE_LENGTH, _LONG, (page.height,)),
        _Entry(BITS_PER_SAMPLE, _SHORT, (1,)),
        _Entry(COMPRESSION, _SHORT, (_COMPRESSION[coding],)),
        _Entry(PHOTOMETRIC, _SHORT, (0,)),  # WhiteIsZero: coded white runs are 0 bits
        _Entry(FILL_ORDER, _SHORT, (1 if fill_order is BitOrder.MSB_FIRST else 2,)),
        _Entry(STRIP_OFFSETS, _LONG, (strip_at,)),
        _Entry(SAMPLES_PER_PIXEL, _SHORT, (1,)),
        _Entry(ROWS_PER_STRIP, _LONG, (page.height,)),
        _Entry(STRIP_BYTE_COUNTS, _LONG, (strip_size,)),
        _Entry(X_RESOLUTION, _RATIONAL, ((page.x_dpi, 1),)),
        _Entry(Y_RESOLUTION, _RATIONAL, ((page.y_dpi, 1),)),
    ]
    if coding is Coding.MMR:
        entries.append(_Entry(T6_OPTIONS, _LONG, (0,)))
    else:
        entries.append(_Entry(T4_OPTIONS, _LONG, (t4_options,)))
    entries += [
        _Entry(RESOLUTION_UNIT, _SHORT, (2,)),  # inch
        _Entry(PAGE_NUMBER, _SHORT, (number, total)),
        _Entry(SOFTWARE, _ASCII, (SOFTWARE_NAME,)),
        _Entry(BAD_FAX_LINES, _LONG, (len(bad),)),
        _Entry(CLEAN_FAX_DATA, _SHORT, (2 if bad else 0,)),  # 2: bad lines present, not regenerated
        _Entry(CONSECUTIVE_BAD_FAX_LINES, _LONG, (_longest_run(bad),)),
    ]
    return entries


def _longest_run(lines: Sequence[int]) -> int:
    """Length of the longest run of consecutive line numbers."""
    best = run = 0
    for index, line in enumerate(lines):
        run = run + 1 if index and line == lines[index - 1] + 1 else 1
        best = max(best, run)
    return best


def _append_ifd(out: bytearray, entries: list[_Entry]) -> int:
    """Append an IFD and the values too big for it; return the offset of its next-IFD link."""
    start = len(out)
    link = start + 2 + 12 * len(entries)
    extra_at = link + 4
    table, extra = bytearray(struct.pack("<H", len(entries))), bytearray()
    for entry in entries:
        payload = entry.payload()
        count = len(entry.values) if entry.kind != _ASCII else len(payload)
        if len(payload) <= 4:
            table += struct.pack("<HHI", entry.tag, entry.kind, count) + payload.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", entry.tag, entry.kind, count, extra_at + len(extra))
            extra += payload + b"\0" * (len(payload) & 1)
    out += table + b"\0\0\0\0" + extra
    return link


# --- reading -----------------------------------------------------------------------------------------
class _Reader:
    """Bounds-checked access to the bytes of one TIFF file."""

    def __init__(self, data: bytes) -> None:
        if data[:4] == b"II*\0":
            self.order = "<"
        elif data[:4] == b"MM\0*":
            self.order = ">"
        else:
            raise TiffError("not a TIFF file (no II*/MM* header)")
        self.data = data

    def unpack(self, fmt: str, offset: int) -> tuple:
        """struct.unpack at an offset, as a TiffError if the file ends too soon."""
        size = struct.calcsize(self.order + fmt)
        if offset < 0 or offset + size > len(self.data):
            raise TiffError(f"file truncated: needs bytes {offset}..{offset + size}, has {len(self.data)}")
        return struct.unpack_from(self.order + fmt, self.data, offset)

    def ifd(self, offset: int) -> tuple[dict[int, tuple], int]:
        """(tag -> values, offset of the next IFD) of the IFD at `offset`."""
        (count,) = self.unpack("H", offset)
        tags: dict[int, tuple] = {}
        for i in range(count):
            tag, kind, n, value = self.unpack("HHI4s", offset + 2 + 12 * i)
            size = _TYPE_SIZES.get(kind, 1) * n
            raw = value[:size] if size <= 4 else self.slice(self.unpack("I", offset + 10 + 12 * i)[0], size)
            tags[tag] = self._values(kind, n, raw)
        (following,) = self.unpack("I", offset + 2 + 12 * count)
        return tags, following

    def slice(self, offset: int, size: int) -> bytes:
        """`size` bytes at `offset`, as a TiffError if the file ends too soon."""
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise TiffError(f"file truncated: data at {offset} of {size} bytes is past its end ({len(self.data)})")
        return self.data[offset:offset + size]

    def _values(self, kind: int, n: int, raw: bytes) -> tuple:
        """Decode the values of one entry; unknown types stay raw bytes."""
        if kind in (5, 10):
            ints = struct.unpack(self.order + ("%d%s" % (2 * n, "I" if kind == 5 else "i")), raw)
            return tuple(ints[i] / ints[i + 1] if ints[i + 1] else 0.0 for i in range(0, len(ints), 2))
        if kind in _TYPE_FORMATS:
            return struct.unpack(self.order + "%d%s" % (n, _TYPE_FORMATS[kind]), raw)
        return (raw,)


def read_tiff(data: bytes) -> list[DecodedPage]:
    """Every page of a bilevel fax TIFF (Compression 1, 3 or 4), in file order.

    Raises TiffError naming the page and the problem; its `pages` holds the pages read before it.
    """
    reader = _Reader(data)
    pages: list[DecodedPage] = []
    (offset,) = reader.unpack("I", 4)
    seen: set[int] = set()
    while offset:
        if offset in seen or len(pages) >= _MAX_PAGES:
            raise TiffError(f"IFD chain loops back at offset {offset}", tuple(pages))
        seen.add(offset)
        try:
            tags, offset = reader.ifd(offset)
            pages.append(_read_page(reader, tags))
        except T4Error as error:
            raise TiffError(f"page {len(pages) + 1}: {error}", tuple(pages)) from error
        except TiffError as error:
            raise TiffError(f"page {len(pages) + 1}: {error}", tuple(pages)) from error
    if not pages:
        raise TiffError("TIFF file has no pages")
    return pages


def _read_page(reader: _Reader, tags: dict[int, tuple]) -> DecodedPage:
    """Decode the strips of one IFD into a page."""
    def first(tag: int, default: float | None = None) -> float:
        if tag in tags and tags[tag]:
            return _number(tag, tags[tag][0])
        if default is None:
            raise TiffError(f"required tag {tag} missing")
        return default

    width, height = int(first(IMAGE_WIDTH)), int(first(IMAGE_LENGTH))
    if not 0 < width <= MAX_WIDTH or not 0 < height <= MAX_HEIGHT:
        raise TiffError(f"page size {width}x{height} is not a fax page")
    compression = int(first(COMPRESSION, 1))
    if int(first(BITS_PER_SAMPLE, 1)) != 1 or int(first(SAMPLES_PER_PIXEL, 1)) != 1:
        raise TiffError("not a bilevel image")
    if compression not in (1, 3, 4):
        raise TiffError(f"compression {compression} is not fax coding (1, 3 or 4 expected)")
    per_inch = 2.54 if int(first(RESOLUTION_UNIT, 2)) == 3 else 1.0
    y_dpi = round(first(Y_RESOLUTION, 196) * per_inch)
    order = BitOrder.LSB_FIRST if int(first(FILL_ORDER, 1)) == 2 else BitOrder.MSB_FIRST
    two_d = bool(int(first(T4_OPTIONS, 0)) & 1)
    offsets = [_number(STRIP_OFFSETS, v) for v in tags.get(STRIP_OFFSETS, ())]
    counts = [_number(STRIP_BYTE_COUNTS, v) for v in tags.get(STRIP_BYTE_COUNTS, ())]
    if not offsets or len(offsets) != len(counts):
        raise TiffError("strip offsets and byte counts missing or mismatched")
    per_strip = int(first(ROWS_PER_STRIP, height)) or height
    stride = (width + 7) // 8
    rows, bad = bytearray(), []
    for index, (at, size) in enumerate(zip(offsets, counts)):
        strip_rows = min(per_strip, height - index * per_strip)
        if strip_rows <= 0:
            break
        decoded = _decode_strip(reader.slice(int(at), int(size)), compression, width, strip_rows, two_d, order)
        done = len(rows) // stride
        bad += [done + i for i in decoded.bad_lines if i < strip_rows]
        bad += range(done + decoded.page.height, done + strip_rows)  # rows that never came
        rows += _fit(decoded.page, strip_rows)
    if len(rows) < height * stride:
        raise TiffError(f"strips hold {len(rows) // stride} of {height} rows")
    if int(first(PHOTOMETRIC, 0)) == 1:  # BlackIsZero: coded "white" runs were black pixels
        rows = bytearray(rows.translate(bytes(255 - b for b in range(256))))
    x_dpi = round(first(X_RESOLUTION, 204) * per_inch)
    return DecodedPage(Page(width, height, _clear_padding(bytes(rows), width), _sane_dpi(y_dpi, 196),
                            _sane_dpi(x_dpi, 204)), tuple(bad), False)


def _sane_dpi(value: int, default: int) -> int:
    """A resolution from the file, or the fax default when it is missing or absurd."""
    return value if 20 <= value <= 2400 else default


def _number(tag: int, value: object) -> float:
    """A tag value that must be a number."""
    if not isinstance(value, (int, float)):
        raise TiffError(f"tag {tag} holds {value!r}, not a number")
    return value


def _decode_strip(strip: bytes, compression: int, width: int, rows: int, two_d: bool,
                  order: BitOrder) -> DecodedPage:
    """One strip of `rows` rows in TIFF compression 1 (none), 3 (T.4) or 4 (T.6)."""
    if compression == 1:
        stride = (width + 7) // 8
        if len(strip) < rows * stride:
            raise TiffError(f"uncompressed strip of {len(strip)} bytes is short of {rows} rows")
        return DecodedPage(Page(width, rows, strip[:rows * stride]), (), False)
    from .t4 import decode_mmr, decode_page

    if compression == 3:
        return decode_page(strip, width, two_d=two_d, bit_order=order)
    return decode_mmr(strip, width, rows, bit_order=order)


def _fit(page: Page, rows: int) -> bytes:
    """Exactly `rows` rows of the page: cut, or padded by repeating the last row (white if none)."""
    data = page.data[:rows * page.stride]
    last = page.row(page.height - 1) if page.height else bytes(page.stride)
    return data + last * (rows - min(rows, page.height))


def _clear_padding(data: bytes, width: int) -> bytes:
    """Zero the pad bits after the last pixel of each row (inverting set them)."""
    if not width % 8:
        return data
    stride, mask = (width + 7) // 8, (0xFF << (8 - width % 8)) & 0xFF
    out = bytearray(data)
    for end in range(stride - 1, len(out), stride):
        out[end] &= mask
    return bytes(out)
