"""ITU-T T.4 page coding, Modified Huffman (1-D) and Modified READ (2-D), and T.6 (MMR), written by
hand: no maintained Python library codes the fax modem bit stream.

A page is a `Page`: packed rows, most significant bit first, 1 = black (Pillow's "1;I" raw layout).
Coded data is a serial bit stream; how it is packed into octets is `BitOrder`.

Speed comes from numpy working on the whole page at once (t4_runs, t4_2d): rows become arrays of
changing elements, runs and 2-D modes become arrays of code words, and those are packed into the
stream in one go; MH lines are decoded side by side, one code word of every line per step.  Only 2-D
decoding goes line after line, since each line is coded against the one decoded before it.
"""
from __future__ import annotations

from array import array

import numpy as np

from .errors import T4Error
from .t4_2d import TAIL, mode_tokens, scan_line
from .t4_codes import BLACK_CODES, EOL, WHITE_CODES, run_code
from .t4_page import (MAX_HEIGHT, MAX_WIDTH, RTC_EOLS, STANDARD_WIDTHS, BitOrder, Coding, DecodedPage, Page,
                      min_bytes_per_line)
from .t4_runs import BitStream, decode_runs, page_changes, rows_from_flips, run_tokens, stream_windows

EOFB = EOL + EOL  # T.6 §2.4

__all__ = ["BLACK_CODES", "EOFB", "EOL", "MAX_HEIGHT", "MAX_WIDTH", "RTC_EOLS", "STANDARD_WIDTHS",
           "WHITE_CODES", "BitOrder", "Coding", "DecodedPage", "Page", "T4Error", "decode_mmr",
           "decode_page", "default_k", "encode_mmr", "encode_page", "min_bytes_per_line", "reverse_bits",
           "run_code"]

# --- bit strings ------------------------------------------------------------------------------------
_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_bits(data: bytes) -> bytes:
    """Swap the bit order of every octet (LSB-first <-> MSB-first)."""
    return data.translate(_REVERSE)


def _msb_first(data: bytes, bit_order: BitOrder) -> bytes:
    """The octets with the first bit of the stream as each one's most significant bit."""
    return data.translate(_REVERSE) if bit_order is BitOrder.LSB_FIRST else data


def _bits_of(data: bytes, bit_order: BitOrder) -> str:
    """The serial bit stream of `data` as a '0'/'1' string."""
    data = _msb_first(data, bit_order)
    if not data:
        return ""
    return format(int.from_bytes(data, "big"), "b").zfill(len(data) * 8)


def _bytes_of(bits: str, bit_order: BitOrder) -> bytes:
    """Pack a '0'/'1' string (padded with zero fill to whole octets) into bytes."""
    bits += "0" * (-len(bits) % 8)
    out = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return _msb_first(out, bit_order)


# --- encoding ---------------------------------------------------------------------------------------
def default_k(y_dpi: int) -> int:
    """T.4 §4.2.1: at most K-1 2-D lines after a 1-D line, K=2 at 3.85 l/mm, K=4 at 7.7 l/mm."""
    return 4 if y_dpi > 150 else 2


def encode_page(page: Page, coding: Coding = Coding.MH, *, k: int | None = None,
                min_bytes_per_line: int = 0, bit_order: BitOrder = BitOrder.LSB_FIRST,
                align_eol: bool = False, rtc: bool = True) -> bytes:
    """T.4 coded page: EOL, line, fill, EOL, ... line, fill, RTC (RTC left out for TIFF storage).

    `align_eol` puts fill before each EOL so that it ends on an octet boundary (TIFF T4Options bit 2).
    """
    if coding is Coding.MMR:
        return encode_mmr(page, bit_order)
    two_d = coding is Coding.MR
    k = k or default_k(page.y_dpi)
    if two_d and k < 1:
        raise T4Error(f"K parameter {k} must be at least 1")
    stream = BitStream()
    line = _Framing(two_d, min_bytes_per_line * 8, align_eol)
    for start in range(0, page.height, _CHUNK_ROWS):
        stop = min(page.height, start + _CHUNK_ROWS)
        tags = np.arange(start, stop) % k == 0 if two_d else None  # T.4 §4.2.1: 1-D, then K-1 2-D
        stream.append_at(*line.frame(_chunk_tokens(page, start, stop, tags), stop - start, tags))
    if rtc:
        stream.append(*line.rtc())
    return _msb_first(stream.tobytes(), bit_order)


def encode_mmr(page: Page, bit_order: BitOrder = BitOrder.MSB_FIRST) -> bytes:
    """T.6 coded page, as stored in TIFF Compression=4 or sent with ECM."""
    stream = BitStream()
    for start in range(0, page.height, _CHUNK_ROWS):
        stop = min(page.height, start + _CHUNK_ROWS)
        (_, values, lengths), = _chunk_tokens(page, start, stop, np.zeros(stop - start, bool))
        stream.append(values, lengths)
    stream.append(np.array([int(EOFB, 2)], np.uint64), np.array([len(EOFB)]))
    return _msb_first(stream.tobytes(), bit_order)


# rows coded per round: the arrays of a round stay in the processor's cache, and small arrays are
# reused by the allocator instead of being mapped afresh for every page
_CHUNK_ROWS = 128
_Tokens = tuple[np.ndarray, np.ndarray, np.ndarray]  # (row, code value, code length)


def _chunk_tokens(page: Page, start: int, stop: int, one_d: np.ndarray | None) -> list[_Tokens]:
    """The code words of rows start..stop: MH for all (`one_d` None) or for the rows marked in
    `one_d`, 2-D for the others, each against the row above (white above the first)."""
    above = int(start > 0 and one_d is not None and not one_d.all())
    first = start - above
    changes = page_changes(page.data[first * page.stride:stop * page.stride], page.width, stop - first)
    coded = np.ones(stop - first, bool)
    coded[:above] = False  # the row above is only a reference
    if one_d is None:
        parts = [run_tokens(changes, page.width, coded)]
    else:
        marks = np.concatenate([np.zeros(above, bool), one_d])
        parts = [run_tokens(changes, page.width, coded & marks), mode_tokens(changes, page.width, coded & ~marks)]
    return [(rows - above, values, lengths) for rows, values, lengths in parts if len(rows)]


class _Framing:
    """EOLs, fill and tag bits around coded lines, chunk after chunk (T.4 §4.1.3, §4.1.4, §4.2.4)."""

    def __init__(self, two_d: bool, min_bits: int, align: bool) -> None:
        self.tag_bits = int(two_d)
        self.min_bits = min_bits
        self.align = align
        self.before: int | None = None  # the line before the next EOL (body and tag bit); None: first

    def _fill(self, before: np.ndarray) -> np.ndarray:
        """Fill before each EOL given the line before it."""
        # T.4 §4.1.3: fill goes between a line's data and the next EOL, so that data + fill + EOL last
        # at least the minimum scan line time
        fill = np.maximum(0, self.min_bits - before - len(EOL))
        if self.align:  # each EOL ends on an octet boundary, so only the line before it counts
            fill += -(before + fill + len(EOL)) % 8
        return fill

    def frame(self, parts: list[_Tokens], height: int,
              tags: np.ndarray | None) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], int]:
        """(groups of (value, end, length) of code words, bits) of `height` lines: each an EOL (after
        fill, with the tag bit) and then its code words."""
        per_row = [np.bincount(rows, weights=lengths, minlength=height).astype(np.int64)
                   for rows, _, lengths in parts]
        body = sum(per_row, np.zeros(height, np.int64))
        before = np.concatenate(([self.before or 0], body[:-1] + self.tag_bits))
        fill = self._fill(before)
        if self.before is None:
            fill[0] = (-len(EOL)) % 8 if self.align else 0  # nothing before the first EOL
        self.before = int(body[-1]) + self.tag_bits
        eol = fill + len(EOL) + self.tag_bits
        ends = np.cumsum(eol + body)
        eol_ends = ends - body
        groups = [(np.ones(height, np.uint64) if tags is None else 2 | tags.astype(np.uint64), eol_ends, eol)]
        for (rows, values, lengths), row_bits in zip(parts, per_row):
            offset = eol_ends - (np.cumsum(row_bits) - row_bits)  # where each row's code words start
            groups.append((values, np.cumsum(lengths) + offset[rows], lengths))
        return groups, int(ends[-1])

    def rtc(self) -> tuple[np.ndarray, np.ndarray]:
        """Return to control: six EOLs (EOL+1 in 2-D coding), T.4 §4.1.4 / §4.2.4."""
        fill = self._fill(np.array([self.before or 0]))[0]
        if self.before is None:
            fill = (-len(EOL)) % 8 if self.align else 0
        lengths = np.full(RTC_EOLS, len(EOL) + self.tag_bits)
        lengths[0] += fill
        return np.full(RTC_EOLS, 1 if not self.tag_bits else 3, np.uint64), lengths


# --- decoding ---------------------------------------------------------------------------------------
_EOL_ZEROS = "0" * 11  # T.4 §4.1.2: eleven zeros never occur inside valid line data, only in EOL


def _lines(bits: str, two_d: bool) -> tuple[int, list[tuple[int, int]], bool]:
    """(length of the data before the first EOL, (start, end) of the line after each EOL with its
    tag bit, RTC seen)."""
    # str.split cuts each EOL's zero run into separators; zeros left over (fill) lead the next piece,
    # and zeros the last code word of a line lost are the separator that follows it
    pieces = bits.split(_EOL_ZEROS)
    at = len(pieces[0]) + len(_EOL_ZEROS)
    lines: list[tuple[int, int]] = []
    empty = 0
    for piece in pieces[1:]:
        if piece:
            data = piece.lstrip("0")
            start = at + len(piece) - len(data) + 1  # after the EOL's 1
            if len(data) <= 1 + two_d and data:
                empty += 1  # an EOL (+tag) with no line behind it
                if empty == RTC_EOLS - 1:  # T.4 §4.1.4 / §4.2.4: six EOLs in a row end the page
                    return len(pieces[0]), lines[:len(lines) - empty + 1], True
            else:
                empty = 0
            lines.append((start, max(start, at + len(piece))))
        at += len(piece) + len(_EOL_ZEROS)
    return len(pieces[0]), lines, False


def decode_page(data: bytes, width: int = 1728, *, two_d: bool = False,
                bit_order: BitOrder = BitOrder.LSB_FIRST, y_dpi: int = 196) -> DecodedPage:
    """Decode one T.4 page; corrupt rows are replaced by the row above and listed, as fax machines do.

    `two_d` says whether lines carry the EOL tag bit (DCS bit 16, T.4 §4.2.4).  Data before the first
    EOL is ignored unless it is a valid line (TIFF strips may omit the first EOL); data after RTC is
    ignored.  Raises T4Error only for bad parameters or input without a single EOL or line.
    """
    if not 0 < width <= MAX_WIDTH:
        raise T4Error(f"line width {width} is not codable")
    octets = _msb_first(data, bit_order)
    bits = _bits_of(octets, BitOrder.MSB_FIRST)
    lead, lines, rtc = _lines(bits, two_d)
    spans = [(start, end) for start, end in lines if end - start > two_d][:MAX_HEIGHT]  # else no line
    # every 1-D coded line (all in MH; tag bit 1 in MR) decodes on its own: all of them at once, with
    # the data before the first EOL in front, which counts if it is a whole MH line
    one_d = [not two_d or bits[start] == "1" for start, _ in spans]
    has_lead = "1" in bits[:lead]
    starts = [0] * has_lead + [start + two_d for (start, _), flat in zip(spans, one_d) if flat]
    ends = [lead] * has_lead + [end for (_, end), flat in zip(spans, one_d) if flat]
    good, decoded = _decode_mh(bits, octets, starts, ends, width)
    lead_row = has_lead and bool(good[0])
    if not lead_row and not lines and not rtc:
        raise T4Error(f"no EOL and no decodable line in {len(data)} bytes of T.4 data")
    if has_lead and not lead_row:
        good, decoded = good[1:], decoded[1:]
    if lead_row:
        spans, one_d = [(0, lead), *spans][:MAX_HEIGHT], [True, *one_d][:MAX_HEIGHT]
    height = len(spans)
    row_of = np.flatnonzero(one_d)  # decoded line -> its row
    good, decoded = good[:len(row_of)], decoded[:len(row_of)]
    ok = np.zeros(height, bool)
    ok[row_of] = good
    pixels = np.zeros((height + 1, decoded.shape[1]), np.uint8)  # + a white row (-1) for bad rows on top
    pixels[row_of] = decoded
    if two_d and not all(one_d):
        _decode_2d(bits, spans, one_d, ok, pixels, width)
    return _page(ok, pixels, width, y_dpi, rtc)


_BATCH_LINES = 4096  # lines MH-decoded side by side: a page's worth, and a bound on the arrays of a batch


def _decode_mh(bits: str, octets: bytes, starts: list[int], ends: list[int],
               width: int) -> tuple[np.ndarray, np.ndarray]:
    """(whole line?, packed pixels) of the MH lines [start, end) of `bits`."""
    windows = stream_windows(octets)
    good, pixels = [np.zeros(0, bool)], [np.zeros((0, (width + 7) // 8), np.uint8)]
    for first in range(0, len(starts), _BATCH_LINES):
        last = first + len(starts[first:first + _BATCH_LINES])
        complete, unread, stopped, rows = decode_runs(
            windows, np.array(starts[first:last], np.int64), np.array(ends[first:last], np.int64), width)
        for line in np.flatnonzero(unread).tolist():  # no code word where data went on: only fill may
            complete[line] = "1" not in bits[stopped[line]:ends[first + line]]
        good.append(complete)
        pixels.append(rows)
    return np.concatenate(good), np.concatenate(pixels)


def _decode_2d(bits: str, spans: list[tuple[int, int]], one_d: list[bool], ok: np.ndarray,
               pixels: np.ndarray, width: int) -> None:
    """Decode the 2-D lines of an MR page in order into `pixels` and `ok`, each against the row above
    when that row is good (T.4 §4.2.1.1: after a bad line, 2-D lines cannot be trusted until the
    next 1-D line)."""
    height = len(spans)
    references = [row for row in range(height - 1) if one_d[row] and ok[row] and not one_d[row + 1]]
    found: dict[int, list[int]] = {}
    if references:  # the changes of the good 1-D rows that 2-D rows refer to, from their pixels
        changes = page_changes(pixels[references].tobytes(), width, len(references))
        positions = changes.positions.tolist()
        bounds = [0, *np.cumsum(changes.counts).tolist()]
        found = {row: positions[bounds[n]:bounds[n + 1]] for n, row in enumerate(references)}
    rows, decoded = [], []
    previous: list[int] | None = None
    for row, (start, end) in enumerate(spans):
        if one_d[row]:
            previous = found.get(row)
            continue
        current = None
        if previous is not None:
            scanned = scan_line(bits[start + 1:end] + TAIL, 0, previous, width)
            if scanned is not None and "1" not in bits[start + 1 + scanned[1]:end]:
                current = scanned[0]
        previous = current
        if current is not None:
            rows.append(row)
            decoded.append(current)
    ok[rows] = True
    pixels[rows] = _pixels_of(decoded, width)


def _pixels_of(changes: list[list[int]], width: int) -> np.ndarray:
    """Packed rows from their lists of changing elements."""
    counts = np.array([len(row) for row in changes], np.int64)
    flat = array("q")
    for row in changes:
        flat.extend(row)  # C speed, and numpy then reads the buffer as it is
    rows = np.repeat(np.arange(len(changes)), counts)
    return rows_from_flips(rows, np.frombuffer(flat, np.int64), width, len(changes))


def _page(ok: np.ndarray, pixels: np.ndarray, width: int, y_dpi: int, rtc: bool,
          height: int | None = None) -> DecodedPage:
    """The decoded page: good rows as decoded, each bad row a copy of the row above it (white at the
    top); `pixels` has a white row after the decoded ones."""
    count = len(ok)
    source = np.maximum.accumulate(np.where(ok, np.arange(count), -1)) if count else np.zeros(0, np.int64)
    if height is not None and height > count and count:  # rows past the end repeat the last good one
        source = np.concatenate([source, np.full(height - count, source[-1])])
    bad = tuple(np.flatnonzero(~ok).tolist()) + tuple(range(count, len(source)))
    return DecodedPage(Page(width, len(source), pixels[source].tobytes(), y_dpi), bad, rtc)


def decode_mmr(data: bytes, width: int, height: int | None = None,
               bit_order: BitOrder = BitOrder.MSB_FIRST, y_dpi: int = 196) -> DecodedPage:
    """Decode a T.6 page; after a corrupt line nothing can be resynchronised, so the remaining rows
    (up to `height` when known) repeat the last good row and count as bad."""
    if not 0 < width <= MAX_WIDTH:
        raise T4Error(f"line width {width} is not codable")
    bits = _bits_of(data, bit_order) + TAIL + "0" * 2
    rows: list[list[int]] = []
    ref: list[int] = []
    pos = 0
    while len(rows) < (MAX_HEIGHT if height is None else min(height, MAX_HEIGHT)):
        if bits.startswith(EOL, pos) or "1" not in bits[pos:pos + 64]:
            break
        scanned = scan_line(bits, pos, ref, width)
        if scanned is None:
            break
        ref, pos = scanned
        rows.append(ref)
    eofb = bits.startswith(EOFB, pos)
    if not rows and (height is None or not eofb and height):
        raise T4Error(f"no decodable T.6 line in {len(data)} bytes")
    pixels = np.concatenate([_pixels_of(rows, width), np.zeros((1, (width + 7) // 8), np.uint8)])
    return _page(np.ones(len(rows), bool), pixels, width, y_dpi, eofb, min(height, MAX_HEIGHT) if height else None)
