"""ITU-T T.4 page coding, Modified Huffman (1-D) and Modified READ (2-D), written by hand: no maintained
Python library codes the fax modem bit stream.

A page is a `Page`: packed rows, most significant bit first, 1 = black (Pillow's "1;I" raw layout).
Coded data is a serial bit stream; how it is packed into octets is `BitOrder`.

Speed comes from working on whole '0'/'1' strings with C-level primitives: `int.from_bytes` + `format`
turn a page into one bit string in linear time, `re.findall` splits rows into runs and coded lines into
code words, dictionaries map runs to code words and code words to pixels, and `int(s, 2)` packs the
result.  Only the 2-D mode decisions need a Python loop per changing element.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from itertools import accumulate, chain, cycle
from operator import mul, sub
from typing import Callable, Iterable

from .errors import T4Error

# --- code tables (T.4 §4.1.2, Tables 1 and 2; Table 3 for the extended make-up codes) ---------------
# Terminating codes in run-length order 0..63, then make-up codes 64, 128, ... 1728.
_WHITE_TERMINATING = """
00110101 000111 0111 1000 1011 1100 1110 1111 10011 10100 00111 01000 001000 000011 110100 110101
101010 101011 0100111 0001100 0001000 0010111 0000011 0000100 0101000 0101011 0010011 0100100
0011000 00000010 00000011 00011010 00011011 00010010 00010011 00010100 00010101 00010110 00010111
00101000 00101001 00101010 00101011 00101100 00101101 00000100 00000101 00001010 00001011 01010010
01010011 01010100 01010101 00100100 00100101 01011000 01011001 01011010 01011011 01001010 01001011
00110010 00110011 00110100""".split()
_WHITE_MAKEUP = """
11011 10010 010111 0110111 00110110 00110111 01100100 01100101 01101000 01100111 011001100 011001101
011010010 011010011 011010100 011010101 011010110 011010111 011011000 011011001 011011010 011011011
010011000 010011001 010011010 011000 010011011""".split()
_BLACK_TERMINATING = """
0000110111 010 11 10 011 0011 0010 00011 000101 000100 0000100 0000101 0000111 00000100 00000111
000011000 0000010111 0000011000 0000001000 00001100111 00001101000 00001101100 00000110111
00000101000 00000010111 00000011000 000011001010 000011001011 000011001100 000011001101 000001101000
000001101001 000001101010 000001101011 000011010010 000011010011 000011010100 000011010101
000011010110 000011010111 000001101100 000001101101 000011011010 000011011011 000001010100
000001010101 000001010110 000001010111 000001100100 000001100101 000001010010 000001010011
000000100100 000000110111 000000111000 000000100111 000000101000 000001011000 000001011001
000000101011 000000101100 000001011010 000001100110 000001100111""".split()
_BLACK_MAKEUP = """
0000001111 000011001000 000011001001 000001011011 000000110011 000000110100 000000110101
0000001101100 0000001101101 0000001001010 0000001001011 0000001001100 0000001001101 0000001110010
0000001110011 0000001110100 0000001110101 0000001110110 0000001110111 0000001010010 0000001010011
0000001010100 0000001010101 0000001011010 0000001011011 0000001100100 0000001100101""".split()
# Table 3: make-up codes 1792..2560 shared by both colours (needed for B4/A3 lines and long runs).
_EXTENDED_MAKEUP = """
00000001000 00000001100 00000001101 000000010010 000000010011 000000010100 000000010101 000000010110
000000010111 000000011100 000000011101 000000011110 000000011111""".split()

EOL = "000000000001"  # T.4 §4.1.2: never occurs inside valid line data
RTC_EOLS = 6  # T.4 §4.1.4: return to control = six EOLs (six EOL+1 in 2-D, §4.2.4)
_MAX_RUN_CODE = 2560

# 2-D mode codes, T.4 §4.2.1.3.3, Table 4
_PASS, _HORIZONTAL = "0001", "001"
_VERTICAL = {0: "1", 1: "011", 2: "000011", 3: "0000011", -1: "010", -2: "000010", -3: "0000010"}

STANDARD_WIDTHS = {1728: "A4 / letter (215 mm)", 2048: "B4 (255 mm)", 2432: "A3 (303 mm)"}
MAX_WIDTH = 8192
MAX_HEIGHT = 32_768  # rows kept of one page: an A4 at 196 lpi has 2287, so this is over 4 m of paper


def _code_table(term: list[str], makeup: list[str]) -> dict[int, str]:
    """Run length -> code word for one colour (terminating, make-up and extended make-up)."""
    table = dict(enumerate(term))
    table.update({64 * (i + 1): code for i, code in enumerate(makeup)})
    table.update({1792 + 64 * i: code for i, code in enumerate(_EXTENDED_MAKEUP)})
    return table


WHITE_CODES: dict[int, str] = _code_table(_WHITE_TERMINATING, _WHITE_MAKEUP)
BLACK_CODES: dict[int, str] = _code_table(_BLACK_TERMINATING, _BLACK_MAKEUP)


def run_code(length: int, black: bool) -> str:
    """The MH code words (as a '0'/'1' string) for one run, T.4 §4.1.1 incl. runs over 2560."""
    table = BLACK_CODES if black else WHITE_CODES
    parts = []
    while length > _MAX_RUN_CODE + 63:  # T.4 §4.1.1 note: repeat 2560 until the rest is < 2560
        parts.append(table[_MAX_RUN_CODE])
        length -= _MAX_RUN_CODE
    if length >= 64:
        parts.append(table[length & ~63])
    parts.append(table[length & 63])
    return "".join(parts)


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


# --- bit strings ------------------------------------------------------------------------------------
_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_bits(data: bytes) -> bytes:
    """Swap the bit order of every octet (LSB-first <-> MSB-first)."""
    return data.translate(_REVERSE)


def _bits_of(data: bytes, bit_order: BitOrder) -> str:
    """The serial bit stream of `data` as a '0'/'1' string."""
    if bit_order is BitOrder.LSB_FIRST:
        data = data.translate(_REVERSE)
    if not data:
        return ""
    return format(int.from_bytes(data, "big"), "b").zfill(len(data) * 8)


def _bytes_of(bits: str, bit_order: BitOrder) -> bytes:
    """Pack a '0'/'1' string (padded with zero fill to whole octets) into bytes."""
    bits += "0" * (-len(bits) % 8)
    out = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return out.translate(_REVERSE) if bit_order is BitOrder.LSB_FIRST else out


def _row_strings(page: Page) -> list[str]:
    """Every row of the page as a '0'/'1' string of exactly `width` characters."""
    full = _bits_of(page.data, BitOrder.MSB_FIRST)
    step, width = page.stride * 8, page.width
    return [full[i:i + width] for i in range(0, step * page.height, step)]


def _page_from_strings(rows: list[str], width: int, y_dpi: int) -> Page:
    """Pack rows given as '0'/'1' strings into a Page."""
    pad = "0" * (-width % 8)
    data = _bytes_of(pad.join(rows) + pad if pad else "".join(rows), BitOrder.MSB_FIRST)
    return Page(width, len(rows), data, y_dpi)


_RUNS = re.compile("0+|1+")


def _changes(row: str) -> list[int]:
    """Changing elements of a row (T.4 §4.2.1.2): positions where the colour differs from the left."""
    ends = list(accumulate(map(len, _RUNS.findall(row))))
    ends.pop()  # the row's end is not a change
    return [0, *ends] if row[0] == "1" else ends


def _row_of_changes(changes: list[int], width: int) -> str:
    """Inverse of _changes."""
    runs = map(sub, chain(changes, (width,)), chain((0,), changes))
    return "".join(map(mul, cycle("01"), runs))


class _Lazy(dict):
    """A memo dict filled on first use by `compute` (kept bounded against hostile input)."""

    def __init__(self, compute: Callable) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: object) -> object:
        if len(self) > 100_000:
            self.clear()
        value = self[key] = self._compute(key)
        return value


# --- 1-D coding (T.4 §4.1) --------------------------------------------------------------------------
# A white run and the black run after it (either may be empty, T.4 §4.1.2: a line starts with a white
# run, possibly of length 0) -> code words; one token per pair halves the objects made.
_MH_PAIR_CODE = _Lazy(lambda pair: run_code(len(pair) - len(pair.lstrip("0")), False)
                      + (run_code(len(pair.lstrip("0")), True) if pair[-1] == "1" else ""))


def _mh_line(row: str) -> str:
    """MH code words of one row."""
    # cutting at every black-to-white edge leaves exactly the (white, black) pairs, faster than re
    return "".join(map(_MH_PAIR_CODE.__getitem__, row.replace("10", "1 0").split(" ")))


def _trie(codes: Iterable[str]) -> str:
    """A regular expression matching exactly one of the prefix-free `codes`, shaped as a bit trie
    so the backtracking engine never retries a branch."""
    codes = list(codes)
    if codes == [""]:
        return ""
    branches = []
    for bit in "01":
        rest = [c[1:] for c in codes if c[:1] == bit]
        if rest:
            branches.append(bit + _trie(rest))
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _run_regex(table: dict[int, str]) -> str:
    """Regex for one complete run: any make-up codes, then one terminating code."""
    makeup = _trie(code for n, code in table.items() if n >= 64)
    return f"(?:{makeup})*{_trie(table[n] for n in range(64))}"


_WHITE_RUN = re.compile(_run_regex(WHITE_CODES))
_BLACK_RUN = re.compile(_run_regex(BLACK_CODES))
_WHITE_LENGTH = {code: n for n, code in WHITE_CODES.items()}
_BLACK_LENGTH = {code: n for n, code in BLACK_CODES.items()}


def _run_length(codes: str, lengths: dict[str, int]) -> int:
    """Sum of the run lengths of consecutive code words (already known to be well formed)."""
    total, start = 0, 0
    for end in range(1, len(codes) + 1):
        if codes[start:end] in lengths:
            total += lengths[codes[start:end]]
            start = end
    return total


_WHITE_RUN_LENGTH = _Lazy(lambda codes: _run_length(codes, _WHITE_LENGTH))  # make-ups + terminating
_BLACK_RUN_LENGTH = _Lazy(lambda codes: _run_length(codes, _BLACK_LENGTH))
_H_RUNS = (((_WHITE_RUN, _BLACK_RUN), (_WHITE_RUN_LENGTH, _BLACK_RUN_LENGTH)),  # by a0's colour
           ((_BLACK_RUN, _WHITE_RUN), (_BLACK_RUN_LENGTH, _WHITE_RUN_LENGTH)))

# MH decoding reads 20-bit windows: a table per state gives every code word complete inside the
# window at once, and the table for the state after them.  State = colour * 2 + (1 after a make-up
# code, which a terminating code must follow).  Text repeats, so a page needs only a few thousand.
_WINDOW = 20


class _WindowTable(dict):
    """Window bits -> (pixels, bits used, table of the next state), filled on first use."""

    def __init__(self, state: int) -> None:
        super().__init__()
        self.state = state

    def __missing__(self, bits: str) -> tuple[str, int, _WindowTable]:
        if len(self) > 100_000:  # bounded against hostile input
            self.clear()
        pixels, used, state = _mh_window(self.state, bits)
        value = self[bits] = (pixels, used, _MH_WINDOWS[state])
        return value


def _mh_window(state: int, bits: str) -> tuple[str, int, int]:
    """(pixels, bits used, next state) for the whole code words at the start of a window."""
    pixels, pos = [], 0
    while True:
        black = state >> 1
        lengths = _BLACK_LENGTH if black else _WHITE_LENGTH
        for end in range(pos + 2, min(pos + 13, len(bits)) + 1):
            run = lengths.get(bits[pos:end])
            if run is not None:
                break
        else:
            return "".join(pixels), pos, state
        pixels.append("01"[black] * run)
        pos = end
        state = (state | 1) if run >= 64 else (state & 2) ^ 2


_MH_WINDOWS = tuple(_WindowTable(state) for state in range(4))
_TAIL = "0" * 11  # zeros of the last code word that the EOL split swallowed come back from here


def _mh_decode(line: str, width: int) -> str | None:
    """Pixels of one MH coded line, or None if it is corrupt."""
    end = len(line)
    line += _TAIL
    table = _MH_WINDOWS[0]
    parts = []
    pos = 0
    while pos < end:
        pixels, used, table = table[line[pos:pos + _WINDOW]]
        if not used:
            if "1" in line[pos:end]:
                return None
            break  # only fill left: the last line of data without a closing EOL
        parts.append(pixels)
        pos += used
    row = "".join(parts)
    return row if len(row) == width and not table.state & 1 else None


# --- 2-D coding (T.4 §4.2) --------------------------------------------------------------------------
def _mr_line(ref: list[int], cur: list[int], width: int) -> str:
    """MR code words of the coding line `cur` against the reference line `ref` (change lists),
    following the coding procedure of T.4 §4.2.1.3.4 / figure 7."""
    if cur == ref:  # every a1 sits on b1: V0 for each change plus the imaginary one at `width`
        return "1" * (len(cur) + 1)
    ref = [*ref, width, width, width]
    cur = [*cur, width, width]
    vertical, codes = _VERTICAL_CODES, _RUN_CODES
    out = []
    a0, ia, k = -1, 0, 0  # a0 starts as an imaginary white element left of the line; ia indexes a1
    while a0 < width:
        while ref[k] <= a0:  # k: first reference change right of a0; a0 only grows, so k does too
            k += 1
        ib = k + ((k ^ ia) & 1)  # b1 has a1's colour: changes alternate colour, white-to-black first
        a1, b1 = cur[ia], ref[ib]
        if ref[ib + 1] < a1:  # pass mode: a0 moves under b2, colour unchanged
            out.append("0001")
            a0 = ref[ib + 1]
        elif -3 <= a1 - b1 <= 3:
            out.append(vertical[a1 - b1])
            a0 = a1
            ia += 1
        else:  # horizontal mode: a0a1 and a1a2 as MH runs, a0a1 in a0's colour
            a2 = cur[ia + 1]
            black = ia & 1
            out.append("001" + codes[black][a1 - (a0 if a0 > 0 else 0)] + codes[black ^ 1][a2 - a1])
            a0 = a2
            ia += 2
    return "".join(out)


_RUN_CODES = (_Lazy(lambda n: run_code(n, False)), _Lazy(lambda n: run_code(n, True)))  # length -> code
_VERTICAL_CODES = [_VERTICAL[d] for d in range(4)] + [_VERTICAL[d] for d in range(-3, 0)]  # index d


def _mode_of(prefix: str) -> tuple[int, int] | None:
    """(mode, code length) for the 2-D code word starting a 7-bit prefix: mode is the vertical offset
    -3..3, or _P / _H; None for extension codes and garbage."""
    for code, mode in ((_PASS, _P), (_HORIZONTAL, _H), *((c, d) for d, c in _VERTICAL.items())):
        if prefix.startswith(code):
            return mode, len(code)
    return None


_P, _H = 10, 20
_MODE_BY_PREFIX = {format(i, "07b"): _mode_of(format(i, "07b")) for i in range(128)}


def _mode_window(bits: str) -> tuple[tuple[tuple[int, int], ...], int]:
    """((mode, end offset), ...) of the 2-D mode codes complete in a window, stopping after a
    horizontal code (its runs follow) or before anything else; and the offset where it stopped."""
    found, pos = [], 0
    while True:
        mode = _MODE_BY_PREFIX.get(bits[pos:pos + 7])
        if mode is None:  # garbage, an extension code, or a code cut by the window's end
            return tuple(found), pos
        pos += mode[1]
        found.append((mode[0], pos))
        if mode[0] == _H:
            return tuple(found), pos


_MODE_WINDOWS = _Lazy(_mode_window)  # 16-bit window -> the mode codes in it, reused across lines
_MODE_WINDOW = 16


def _mr_scan(bits: str, pos: int, ref: list[int], width: int) -> tuple[list[int], int] | None:
    """(changes, end position) of one 2-D coded line starting at `pos` against the reference changes
    `ref`, or None if it is corrupt; `bits` must run at least 13 bits past the line."""
    if bits.startswith("1" * (len(ref) + 1), pos):
        return ref, pos + len(ref) + 1  # V0 on every element: the reference line again
    ref = [*ref, width, width, width]
    windows = _MODE_WINDOWS
    cur: list[int] = []
    append = cur.append
    a0, colour, k, end = -1, 0, 0, len(bits)
    while a0 < width:
        base = pos
        modes, pos = windows[bits[base:base + _MODE_WINDOW]]
        if not modes:
            return None  # extension codes (T.4 §4.2.1.3.3) and garbage alike: the line is lost
        pos += base
        for mode, offset in modes:
            while ref[k] <= a0:
                k += 1
            ib = k + ((k ^ colour) & 1)
            if mode < _P:
                a1 = ref[ib] + mode
                if not a0 < a1 <= width:
                    return None
                if a1 < width:
                    append(a1)
                a0 = a1
                colour ^= 1
            elif mode == _P:
                a0 = ref[ib + 1]
                if a0 >= width:  # a pass can only reach b2 < a1 <= width
                    return None
            else:  # horizontal: two MH runs, the first in a0's colour
                runs, lengths = _H_RUNS[colour]
                first = runs[0].match(bits, pos)
                second = first and runs[1].match(bits, first.end())
                if not second:
                    return None
                pos = second.end()
                a1 = (a0 if a0 > 0 else 0) + lengths[0][first.group()]
                a2 = a1 + lengths[1][second.group()]
                if a2 > width or (a1 == a0 and a0 >= 0) or (a2 == a1 and a1 < width):
                    return None
                if a1 < width:
                    append(a1)
                    if a2 < width:
                        append(a2)
                a0 = a2
            if a0 >= width:  # the line is complete: later codes in the window are the next line's
                if mode != _H:
                    pos = base + offset
                break
        if pos > end:
            return None
    return cur, pos


def _mr_decode(line: str, ref: list[int], width: int) -> list[int] | None:
    """Changes of one MR coded line between EOLs, or None if it is corrupt."""
    scanned = _mr_scan(line + _TAIL, 0, ref, width)
    if scanned is None or "1" in line[scanned[1]:]:
        return None
    return scanned[0]


# --- T.6 (MMR): 2-D lines against an all-white first reference, no EOLs, EOFB at the end ------------
EOFB = EOL + EOL  # T.6 §2.4


def encode_mmr(page: Page, bit_order: BitOrder = BitOrder.MSB_FIRST) -> bytes:
    """T.6 coded page, as stored in TIFF Compression=4 or sent with ECM."""
    out, previous = [], []
    for row in _row_strings(page):
        changes = _changes(row)
        out.append(_mr_line(previous, changes, page.width))
        previous = changes
    out.append(EOFB)
    return _bytes_of("".join(out), bit_order)


def decode_mmr(data: bytes, width: int, height: int | None = None,
               bit_order: BitOrder = BitOrder.MSB_FIRST, y_dpi: int = 196) -> DecodedPage:
    """Decode a T.6 page; after a corrupt line nothing can be resynchronised, so the remaining rows
    (up to `height` when known) repeat the last good row and count as bad."""
    if not 0 < width <= MAX_WIDTH:
        raise T4Error(f"line width {width} is not codable")
    bits = _bits_of(data, bit_order) + _TAIL + "0" * 2
    rows: list[str] = []
    ref: list[int] = []
    pos = 0
    while len(rows) < (MAX_HEIGHT if height is None else min(height, MAX_HEIGHT)):
        if bits.startswith(EOL, pos) or "1" not in bits[pos:pos + 64]:
            break
        scanned = _mr_scan(bits, pos, ref, width)
        if scanned is None:
            break
        ref, pos = scanned
        rows.append(_row_of_changes(ref, width))
    good = len(rows)
    eofb = bits.startswith(EOFB, pos)
    if not rows and (height is None or not eofb and height):
        raise T4Error(f"no decodable T.6 line in {len(data)} bytes")
    rows += rows[-1:] * (min(height, MAX_HEIGHT) - good if height else 0)
    bad = tuple(range(good, len(rows)))
    return DecodedPage(_page_from_strings(rows, width, y_dpi), bad, eofb)


# --- page framing (T.4 §4.1.3 fill, §4.1.4 RTC, §4.2.4 tag bits) ------------------------------------
def min_bytes_per_line(scan_time_ms: int, bit_rate: int) -> int:
    """Octets a coded line must fill to last the minimum scan line time (T.30 DIS/DCS bits 21-23)."""
    return -(-scan_time_ms * bit_rate // 8000)


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
    rows = _row_strings(page)
    two_d = coding is Coding.MR
    k = k or default_k(page.y_dpi)
    if two_d and k < 1:
        raise T4Error(f"K parameter {k} must be at least 1")
    bodies, previous = [], []
    for index, row in enumerate(rows):
        if not two_d:
            bodies.append(_mh_line(row))
            continue
        changes = _changes(row)
        if index % k:
            bodies.append("0" + _mr_line(previous, changes, page.width))  # EOL+0: a 2-D line follows
        else:
            bodies.append("1" + _mh_line(row))  # EOL+1 (T.4 §4.2.4): a 1-D line follows
        previous = changes
    return _bytes_of(_frame(bodies, two_d, min_bytes_per_line * 8, align_eol, rtc), bit_order)


def _frame(bodies: list[str], two_d: bool, min_bits: int, align: bool, rtc: bool) -> str:
    """Join coded lines with EOLs and fill; each body starts with its tag bit in 2-D coding."""
    out: list[str] = []
    length = 0
    ends = [*bodies, None] if rtc else bodies
    for index, body in enumerate(ends):
        # T.4 §4.1.3: fill goes between a line's data and the next EOL, so that data + fill + EOL
        # last at least the minimum scan line time.
        fill = max(0, min_bits - len(bodies[index - 1]) - len(EOL)) if index else 0
        if align:
            fill += -(length + fill + len(EOL)) % 8
        if body is None:
            out.append("0" * fill + (EOL + "1" if two_d else EOL) * RTC_EOLS)
        else:
            out.append("0" * fill + EOL + body)
            length += len(out[-1])
    return "".join(out)


_EOL_ZEROS = "0" * 11  # T.4 §4.1.2: eleven zeros never occur inside valid line data, only in EOL


def _lines(bits: str, two_d: bool) -> tuple[str, list[str], bool]:
    """(data before the first EOL, the line after each EOL with its tag bit, RTC seen)."""
    # str.split cuts each EOL's zero run into separators; zeros left over (fill) lead the next piece,
    # and zeros the last code word of a line lost come back from _TAIL when the line is decoded.
    pieces = bits.split(_EOL_ZEROS)
    lead = pieces[0]
    lines: list[str] = []
    empty = 0
    for piece in pieces[1:]:
        if not piece:
            continue
        line = piece.lstrip("0")[1:]
        if len(line) <= two_d and piece.lstrip("0"):
            empty += 1  # an EOL (+tag) with no line behind it
            if empty == RTC_EOLS - 1:  # T.4 §4.1.4 / §4.2.4: six EOLs in a row end the page
                return lead, lines[:len(lines) - empty + 1], True
        else:
            empty = 0
        lines.append(line)
    return lead, lines, False


def decode_page(data: bytes, width: int = 1728, *, two_d: bool = False,
                bit_order: BitOrder = BitOrder.LSB_FIRST, y_dpi: int = 196) -> DecodedPage:
    """Decode one T.4 page; corrupt rows are replaced by the row above and listed, as fax machines do.

    `two_d` says whether lines carry the EOL tag bit (DCS bit 16, T.4 §4.2.4).  Data before the first
    EOL is ignored unless it is a valid line (TIFF strips may omit the first EOL); data after RTC is
    ignored.  Raises T4Error only for bad parameters or input without a single EOL or line.
    """
    if not 0 < width <= MAX_WIDTH:
        raise T4Error(f"line width {width} is not codable")
    lead, segments, rtc = _lines(_bits_of(data, bit_order), two_d)
    lead_row = _mh_decode(lead, width) if "1" in lead else None
    if lead_row is None and not segments and not rtc:
        raise T4Error(f"no EOL and no decodable line in {len(data)} bytes of T.4 data")
    rows: list[str] = [] if lead_row is None else [lead_row]
    bad: list[int] = []
    previous = _changes(lead_row) if two_d and lead_row is not None else None
    for segment in segments:
        if len(segment) <= two_d:
            continue  # an EOL with no line behind it
        if len(rows) >= MAX_HEIGHT:
            break  # a runaway sender cannot make us hold an endless page
        row, previous = _decode_line(segment, width, two_d, previous)
        if row is None:
            bad.append(len(rows))
            row = rows[-1] if rows else "0" * width
        rows.append(row)
    return DecodedPage(_page_from_strings(rows, width, y_dpi), tuple(bad), rtc)


def _decode_line(segment: str, width: int, two_d: bool,
                 ref: list[int] | None) -> tuple[str | None, list[int] | None]:
    """(pixels, changes) of one line between EOLs; (None, None) if it is corrupt."""
    if not two_d or segment[0] == "1":
        row = _mh_decode(segment[1:] if two_d else segment, width)
        if row is None:
            return None, None
        return row, (_changes(row) if two_d else None)
    if ref is None:  # a 2-D line whose reference was lost cannot be trusted (T.4 §4.2.1.1)
        return None, None
    changes = _mr_decode(segment[1:], ref, width)
    if changes is None:
        return None, None
    return _row_of_changes(changes, width), changes
