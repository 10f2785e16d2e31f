"""Whole-page bulk work for the T.4 coder: packed rows <-> changing elements, code words -> packed bit
stream, and one-dimensional (MH) coding and decoding of many lines at once, all with numpy."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .t4_codes import MH_WINDOW, RUN_BITS, RUN_STRIDE, RUN_VALUE, mh_windows

_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1)
# prefix parity inside a byte, MSB first: bit i of _PREFIX_XOR[b] = xor of bits 0..i of b
_PREFIX_XOR = np.packbits(np.bitwise_xor.accumulate(_BYTE_BITS, axis=1), axis=1)[:, 0]
_PARITY = (_BYTE_BITS.sum(axis=1) & 1).astype(np.uint8)
_POPCOUNT = _BYTE_BITS.sum(axis=1).astype(np.int64)
# changes in an octet at or before bit i: index octet << 3 | i
_UP_TO = np.cumsum(_BYTE_BITS, axis=1).ravel().astype(np.int64)


@dataclass(frozen=True)
class Changes:
    """The changing elements of a page (T.4 §4.2.1.2: pixels that differ from the one on their left,
    the first compared with white): per row a count, then all positions row after row; `edges` has
    them as set bits of packed rows with one spare octet each, plus an all-white row at the end."""

    width: int
    counts: np.ndarray
    positions: np.ndarray
    edges: np.ndarray

    @cached_property
    def before(self) -> np.ndarray:
        """Changes of a row in the octets before each octet, flat."""
        counts = _POPCOUNT[self.edges]
        return (np.cumsum(counts, axis=1, dtype=np.int64) - counts).ravel()

    def up_to(self, rows: np.ndarray, places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(how many changes of each row lie at or left of each place <= width, whether one is at it);
        row len(counts) is the white row."""
        octet = rows * self.edges.shape[1] + (places >> 3)
        edges = self.edges.ravel()[octet].astype(np.int64)
        bit = places & 7
        return self.before[octet] + _UP_TO[edges << 3 | bit], (edges >> (7 - bit)) & 1

    @cached_property
    def references(self) -> tuple[np.ndarray, np.ndarray]:
        """(each row's changes then the width three times, where each row starts in it), with the
        white row last: b1 and b2 always exist in a reference line."""
        counts = np.append(self.counts, 0)
        padded = np.insert(self.positions, np.repeat(np.cumsum(self.counts), 3), self.width)
        return np.append(padded, [self.width] * 3), np.cumsum(counts + 3) - (counts + 3)


def page_changes(data: bytes, width: int, height: int) -> Changes:
    """The changing elements of every row of a page of packed rows."""
    stride = (width + 7) // 8
    rows = np.zeros((height + 1, stride + 1), np.uint8)  # + a spare octet, + a white row
    rows[:height, :stride] = np.frombuffer(data, np.uint8).reshape(height, stride)
    if width % 8:  # pixels past the width are not part of the page, whatever the buffer holds
        rows[:, stride - 1] &= (0xFF << (8 - width % 8)) & 0xFF
    left = np.zeros_like(rows)
    left[:, 1:] = rows[:, :-1] << 7  # the previous octet's last pixel, in front of each octet
    edges = rows ^ ((rows >> 1) | left)
    # a black last pixel "changes" at the width: that is no change, nor anything past it
    edges[:, width >> 3] &= ~(0xFF >> (width & 7)) & 0xFF
    edges[:, (width >> 3) + 1:] = 0
    flat = edges.ravel()
    hot = np.flatnonzero(flat)  # octets holding a change: few, so expand only those to bits
    bit = np.flatnonzero(np.unpackbits(flat[hot]).view(bool))
    row, column = np.divmod(hot[bit >> 3], stride + 1)
    return Changes(width, np.bincount(row, minlength=height), column * 8 + (bit & 7), edges)


def rows_from_flips(rows: np.ndarray, positions: np.ndarray, width: int, height: int,
                    distinct: bool = True) -> np.ndarray:
    """Packed rows (height x stride) whose colour flips at each (row, position < width); flips at the
    same place cancel, as runs of length 0 do, unless `distinct` promises that none coincide."""
    stride = (width + 7) // 8
    impulses = np.zeros(height * stride, np.uint8)
    octet = rows * stride + (positions >> 3)
    bit = (0x80 >> (positions & 7)).astype(np.uint8)
    if distinct:  # adding bits that differ is OR-ing them
        np.add.at(impulses, octet, bit)
    else:
        np.bitwise_xor.at(impulses, octet, bit)
    impulses = impulses.reshape(height, stride)
    parity = _PARITY[impulses]
    carry = np.bitwise_xor.accumulate(parity, axis=1) ^ parity  # colour entering each byte
    out = _PREFIX_XOR[impulses] ^ (carry * np.uint8(0xFF))
    if width % 8:
        out[:, -1] &= (0xFF << (8 - width % 8)) & 0xFF
    return out


class BitStream:
    """A serial bit stream (MSB first) built from code words given as arrays of (value, length in
    bits), appended a batch at a time; a word may be longer than 64 bits if its value fits in its
    last 64 (fill in front of an EOL)."""

    def __init__(self) -> None:
        self.bits = 0
        self._pieces: list[tuple[int, np.ndarray]] = []

    def append(self, values: np.ndarray, lengths: np.ndarray) -> None:
        """Add code words (values nonzero, lengths > 0) after those already there."""
        if len(values):
            ends = np.cumsum(lengths)
            self.append_at([(values, ends, lengths)], int(ends[-1]))

    def append_at(self, groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]], bits: int) -> None:
        """Add `bits` bits holding groups of code words (value, end relative to the current end of the
        stream, length), each group in order; words of different groups do not overlap."""
        base = self.bits >> 6
        out = np.zeros(((self.bits + bits + 63) >> 6) - base + 1, np.uint64)
        for values, ends, lengths in groups:
            if len(values):
                _pack(out, values, ends + (self.bits & 63), np.minimum(lengths, 64))
        self._pieces.append((base, out))
        self.bits += bits

    def tobytes(self) -> bytes:
        """The stream, zero-filled to whole octets."""
        words = np.zeros((self.bits >> 6) + 2, np.uint64)
        for base, out in self._pieces:
            words[base:base + len(out)] |= out
        return words.astype(">u8").tobytes()[:(self.bits + 7) >> 3]


def run_tokens(changes: Changes, width: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, code value, code length) of the MH code words (T.4 §4.1.2) of the chosen `rows` (a bool
    mask), one per run: white first, possibly of length 0, then alternating colours."""
    counts = changes.counts
    ends = np.insert(changes.positions, np.cumsum(counts), width)  # each row's changes, then its end
    per_row = counts + 1  # n changes cut a row into n + 1 runs
    first = np.cumsum(per_row) - per_row
    starts = np.empty_like(ends)
    starts[1:] = ends[:-1]
    starts[first] = 0
    colour = (np.arange(len(ends)) - np.repeat(first, per_row)) & 1
    code = colour * RUN_STRIDE + ends - starts
    run_row = np.repeat(np.arange(len(counts)), per_row)
    if not rows.all():
        chosen = np.repeat(rows, per_row)
        run_row, code = run_row[chosen], code[chosen]
    return run_row, RUN_VALUE[code], RUN_BITS[code]


def stream_windows(data: bytes) -> np.ndarray:
    """24 bits of the stream from every octet (zeros after the end), to read a code at any bit."""
    octets = np.frombuffer(data + b"\0\0\0\0", np.uint8).astype(np.int32)  # int32: kinder to the cache
    return octets[:-2] << 16 | octets[1:-1] << 8 | octets[2:]


def decode_runs(windows: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MH-decode many lines at once: each step takes every code word lying whole in the next 16 bits
    of every unfinished line.

    Each line is the bits [start, end) of the stream read through `windows`; after a line come at
    least eleven zeros (its EOL, T.4 §4.1.2) or the end of the data, which no code word spans, so a
    line's decoding stops there by itself.  Returns (complete, unread, stopped, packed rows):
    `complete` marks lines of exactly `width` pixels ending on a terminating code; `unread` marks
    those among them where no code word started at `stopped`, before the end (the caller checks that
    only fill is left there); rows of lines not complete are left white.
    """
    step_of, ended_of = mh_windows()[:2]
    count = len(starts)
    complete = np.zeros(count, bool)
    stopped = starts.astype(np.int64)
    line = np.arange(count)
    pos = stopped.copy()
    x = np.zeros(count, np.int64)
    colour = np.zeros(count, np.int64)  # a line starts white (T.4 §4.1.2), kept as colour << 16
    last = np.zeros(count, np.int64)  # the last window that held a code
    seen_lines, seen_x, seen_entries = [], [], []
    shift = 24 - MH_WINDOW
    # a line of `width` pixels has at most width + 1 runs, each one code word and a few make-ups:
    # lines still going after this many windows are garbage (or a flood of empty runs) and are lost
    for _ in range(2 * width + 64):
        if not len(line):
            break
        entry = colour | (windows[pos >> 3] >> (shift - (pos & 7))) & 0xFFFF
        step = step_of[entry]
        used = step & 31
        seen_lines.append(line)
        seen_x.append(x)
        seen_entries.append(entry)
        last = np.where(used > 0, entry, last)
        x = x + (step >> (MH_WINDOW + 1))
        pos = pos + used
        colour = step & (1 << MH_WINDOW)
        stop = (used == 0) | (x > width)
        if stop.any():
            done = np.flatnonzero(stop)
            complete[line[done]] = (x[done] == width) & (ended_of[last[done]] == 1)
            stopped[line[done]] = pos[done]
            going = np.flatnonzero(~stop)
            line, pos, x, colour, last = line[going], pos[going], x[going], colour[going], last[going]
    unread = complete & (stopped < ends)
    if not seen_lines:
        return complete, unread, stopped, np.zeros((count, (width + 7) // 8), np.uint8)
    records = (np.concatenate(a) for a in (seen_lines, seen_x, seen_entries))
    return complete, unread, stopped, _render(*records, complete, width)


def _render(lines: np.ndarray, x: np.ndarray, entries: np.ndarray, complete: np.ndarray,
            width: int) -> np.ndarray:
    """Packed rows of the complete lines from their decoded windows (in any order: line, where the
    window starts, which it is), white for the others."""
    step_of, _, pattern_of, fits_of = mh_windows()[:4]
    count, stride = len(complete), (width + 7) // 8
    pixels = step_of[entries] >> (MH_WINDOW + 1)
    keep = np.flatnonzero((pixels > 0) & complete[lines])
    row, x, entries, pixels = lines[keep], x[keep], entries[keep], pixels[keep]
    # each window's pixels are one code word of the rows' bit stream, except black more than 64
    # pixels before a window's end (long black runs), drawn from their changes instead
    ends = row * (stride * 8) + x + pixels
    out = np.zeros(count * stride // 8 + 2, np.uint64)
    _pack(out, pattern_of[entries], ends, np.minimum(pixels, 64))
    out = out.astype(">u8").view(np.uint8)[:count * stride].reshape(count, stride)
    odd = np.flatnonzero(~fits_of[entries])
    if len(odd):
        rows, drawn = _render_changes(row[odd], x[odd], entries[odd], pixels[odd], width)
        out[rows] |= drawn
    return out


def _render_changes(rows: np.ndarray, x: np.ndarray, entries: np.ndarray, pixels: np.ndarray,
                    width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, their packed pixels) holding only the given windows, drawn from their colour changes."""
    _, _, _, _, changes_of, flips_of = mh_windows()
    changes = changes_of[entries]
    begin = entries >> MH_WINDOW  # black entering the window: a change at its start, from white
    finish = (begin + changes) & 1  # black leaving it: a change at its end, back to white
    flips = [np.repeat(x, changes) + flips_of[np.repeat(entries, changes),
                                              np.arange(changes.sum()) - np.repeat(np.cumsum(changes) - changes, changes)],
             x[begin == 1], (x + pixels)[finish == 1]]
    lines = [np.repeat(rows, changes), rows[begin == 1], rows[finish == 1]]
    flat_x, flat_rows = np.concatenate(flips), np.concatenate(lines)
    inside = flat_x < width
    rows, number = np.unique(flat_rows, return_inverse=True)
    return rows, rows_from_flips(number[inside], flat_x[inside], width, len(rows), distinct=False)


def _pack(out: np.ndarray, values: np.ndarray, ends: np.ndarray, lengths: np.ndarray) -> None:
    """OR code words (value, length <= 64) ending at the given bits into 64-bit words."""
    start = ends - lengths
    word = start >> 6
    spill = (start & 63) + lengths - 64  # > 0: the code's tail goes into the next 64-bit word
    high = (values >> np.maximum(spill, 0).astype(np.uint64)) << np.maximum(-spill, 0).astype(np.uint64)
    np.add.at(out, word, high)  # codes do not overlap, so adding them is OR-ing them
    split = np.flatnonzero(spill > 0)
    np.add.at(out, word[split] + 1, values[split] << (64 - spill[split]).astype(np.uint64))
