"""Two-dimensional coding (T.4 §4.2, T.6): the coding procedure of T.4 figure 7 worked out for every
changing element of a page at once with numpy, and the line-by-line decoder of 2-D coded lines."""
from __future__ import annotations

import re
from typing import Callable, Iterable

import numpy as np

from .t4_codes import BLACK_CODES, HORIZONTAL, PASS, RUN_BITS, RUN_STRIDE, RUN_VALUE, V_BITS, V_VALUE, VERTICAL, WHITE_CODES
from .t4_runs import Changes

_PASS_VALUE, _PASS_BITS = 0b0001, 4  # T.4 Table 4
_HORIZONTAL_VALUE, _HORIZONTAL_BITS = 0b001, 3


def mode_tokens(changes: Changes, width: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, code value, code length) of the 2-D code words of the chosen `rows` (a bool mask), each
    coded against the row above it (the first row against an all-white line, T.6 §2.2.1).

    T.4 §4.2.1.3.4 walks a0 along the line; here every changing element a1 (and the imaginary one at
    the line end) is tried as if a0 stood on the change before it, which is where the walk leaves a0
    unless a horizontal mode swallowed that change as its a2; which elements the walk visits follows
    from where horizontal modes occur.  Passes before an a1 are counted, not walked: b1 moves two
    reference changes per pass, to the first b1 whose b2 is not left of a1.
    """
    counts = changes.counts
    height = len(counts)
    per_row = counts + 1  # the a1 candidates: every change and the line end
    a1 = np.insert(changes.positions, np.cumsum(counts), width)
    first = np.cumsum(per_row) - per_row
    row = np.repeat(np.arange(height), per_row)
    number = np.arange(len(a1))
    colour = (number - first[row]) & 1  # a0's colour: changes alternate, white to black first
    above = np.where(row > 0, row - 1, height)  # the reference line; white above the first row

    # b1: the first reference change right of a0 with a1's colour; a0 is the change before a1 (or
    # left of the line, -1), so what is right of a0 follows from what is at or left of each a1
    up_to, on_a1 = changes.up_to(above, a1)
    after_a0 = np.empty_like(up_to)
    after_a0[1:] = up_to[:-1]
    after_a0[first] = 0
    b1 = after_a0 + ((after_a0 ^ colour) & 1)
    last_left = up_to - on_a1 - 1  # b2 must not be left of a1: b1 goes at least this far
    last_left += (last_left ^ colour) & 1
    passed = np.maximum(b1, last_left)
    passes = (passed - b1) >> 1
    reference, ref_first = changes.references
    at = ref_first[above] + passed
    offset = a1 - reference[at]
    vertical = np.abs(offset) <= 3
    a0 = np.empty_like(a1)  # where a horizontal code's first run starts: after passes, under b2
    a0[1:] = a1[:-1]
    a0[first] = 0
    a0 = np.where(passes > 0, reference[at - 1], a0)

    # the walk visits the first element of a row and each element after a vertical; after a
    # horizontal at i it skips i + 1 (a2), so along a stretch of horizontals every other one
    horizontal_before = np.empty(len(a1), bool)
    horizontal_before[1:] = ~vertical[:-1]
    horizontal_before[first] = False
    start = np.maximum.accumulate(np.where(horizontal_before, 0, number))
    visited = np.flatnonzero((((number - start) & 1) == 0) & rows[row])
    a2 = np.append(a1[1:], width)
    a2[first + counts] = width  # past the line end (a horizontal mode may code a1 there), a2 too
    a2 = a2[visited]
    row, passes, vertical, offset = row[visited], passes[visited], vertical[visited], offset[visited]
    a0, a1, colour = a0[visited], a1[visited], colour[visited]
    return _mode_words(row, passes, vertical, offset, a0, a1, a2, colour)


_PASSES = np.array([int(PASS * n or "0", 2) for n in range(15)], np.uint64)  # up to 14 passes in a word
_MODE_VALUE = np.append(V_VALUE, np.uint64(_HORIZONTAL_VALUE))  # vertical offset + 3, or 7: horizontal
_MODE_BITS = np.append(V_BITS, _HORIZONTAL_BITS)


def _mode_words(row: np.ndarray, passes: np.ndarray, vertical: np.ndarray, offset: np.ndarray,
                a0: np.ndarray, a1: np.ndarray, a2: np.ndarray,
                colour: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The code words of the visited elements: passes and the mode in one word, then for horizontal
    modes the two runs; passes beyond 14 as words of their own before."""
    mode = np.where(vertical, offset + 3, 7)
    head = np.minimum(passes, 14)
    extra = passes - head
    horizontal = np.flatnonzero(~vertical)
    more = np.where(vertical, 0, 2)
    at = np.arange(len(row)) + np.cumsum(more + extra) - more  # where each head word goes
    count = len(row) + 2 * len(horizontal) + int(extra.sum())
    rows, values, lengths = np.empty(count, np.int64), np.empty(count, np.uint64), np.empty(count, np.int64)
    rows[at] = row
    values[at] = _PASSES[head] << _MODE_BITS[mode].astype(np.uint64) | _MODE_VALUE[mode]
    lengths[at] = 4 * head + _MODE_BITS[mode]
    first_run = colour[horizontal] * RUN_STRIDE + a1[horizontal] - a0[horizontal]
    second_run = (colour[horizontal] ^ 1) * RUN_STRIDE + a2[horizontal] - a1[horizontal]
    for step, run in ((1, first_run), (2, second_run)):
        rows[at[horizontal] + step] = row[horizontal]
        values[at[horizontal] + step] = RUN_VALUE[run]
        lengths[at[horizontal] + step] = RUN_BITS[run]
    if count > len(row) + 2 * len(horizontal):  # rare: more than 14 passes before an a1
        owner = np.repeat(np.arange(len(row)), extra)
        single = at[owner] - np.repeat(np.cumsum(extra), extra) + np.arange(len(owner))
        rows[single], values[single], lengths[single] = row[owner], int(PASS, 2), len(PASS)
    return rows, values, lengths


# --- decoding, one line after another: each line's reference is the line decoded before it ------------
TAIL = "0" * 11  # zeros of the last code word that the EOL split swallowed come back from here


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




def _run_length(codes: str, lengths: dict[str, int]) -> int:
    """Sum of the run lengths of consecutive code words (already known to be well formed)."""
    total, start = 0, 0
    for end in range(1, len(codes) + 1):
        if codes[start:end] in lengths:
            total += lengths[codes[start:end]]
            start = end
    return total


# A horizontal mode's two runs, the first in a0's colour, matched at once; (run, run) by the text.
_H_RUNS = tuple(re.compile(f"({_run_regex(first)})({_run_regex(second)})")
                for first, second in ((WHITE_CODES, BLACK_CODES), (BLACK_CODES, WHITE_CODES)))
_H_LENGTHS: tuple[dict[str, tuple[int, int]], ...] = ({}, {})
_LENGTHS = ({code: n for n, code in WHITE_CODES.items()}, {code: n for n, code in BLACK_CODES.items()})


def _h_lengths(colour: int, match: re.Match) -> tuple[int, int]:
    """The two run lengths of a matched horizontal mode, remembered (boundedly) by its text."""
    known = _H_LENGTHS[colour]
    if len(known) > 100_000:  # bounded against hostile input
        known.clear()
    pair = known[match.group()] = (_run_length(match.group(1), _LENGTHS[colour]),
                                   _run_length(match.group(2), _LENGTHS[colour ^ 1]))
    return pair


def _mode_of(prefix: str) -> tuple[int, int] | None:
    """(mode, code length) for the 2-D code word starting a 7-bit prefix: mode is the vertical offset
    -3..3, or _P / _H; None for extension codes and garbage."""
    for code, mode in ((PASS, _P), (HORIZONTAL, _H), *((c, d) for d, c in VERTICAL.items())):
        if prefix.startswith(code):
            return mode, len(code)
    return None


_P, _H, _V0S = 10, 20, 30
_MODE_BY_PREFIX = {format(i, "07b"): _mode_of(format(i, "07b")) for i in range(128)}


def _mode_window(bits: str) -> tuple[tuple[tuple[int, int, int], ...], int]:
    """((mode, count, end offset), ...) of the 2-D mode codes complete in a window, stopping after a
    horizontal code (its runs follow) or before anything else; and the offset where it stopped.
    Consecutive V0 codes come as one (_V0S, how many, end offset)."""
    found: list[tuple[int, int, int]] = []
    pos = 0
    while True:
        mode = _MODE_BY_PREFIX.get(bits[pos:pos + 7])
        if mode is None:  # garbage, an extension code, or a code cut by the window's end
            return tuple(found), pos
        pos += mode[1]
        if mode[0] == 0 and found and found[-1][0] == _V0S:
            found[-1] = (_V0S, found[-1][1] + 1, pos)
        else:
            found.append((_V0S, 1, pos) if mode[0] == 0 else (mode[0], 0, pos))
        if mode[0] == _H:
            return tuple(found), pos


_MODE_WINDOWS = _Lazy(_mode_window)  # 16-bit window -> the mode codes in it, reused across lines


def scan_line(bits: str, pos: int, ref: list[int], width: int) -> tuple[list[int], int] | None:
    """(changes, end position) of one 2-D coded line starting at `pos` against the reference changes
    `ref`, or None if it is corrupt; `bits` must run at least 13 bits past the line."""
    if bits.startswith("1" * (len(ref) + 1), pos):
        return ref, pos + len(ref) + 1  # V0 on every element: the reference line again
    ref = [*ref, width, width, width]
    windows, v0s, passing, horizontal = _MODE_WINDOWS, _V0S, _P, _H  # locals: read once per mode
    cur: list[int] = []
    append = cur.append
    a0, colour, k, end = -1, 0, 0, len(bits)
    while a0 < width:
        base = pos
        modes, pos = windows[bits[base:base + 16]]  # 16-bit windows: up to 16 V0 codes at once
        if not modes:
            return None  # extension codes (T.4 §4.2.1.3.3) and garbage alike: the line is lost
        pos += base
        for mode, count, offset in modes:
            while ref[k] <= a0:
                k += 1
            ib = k + ((k ^ colour) & 1)
            if mode == v0s:  # a1 on b1 each time, and b1 moves on by one: a slice of the reference
                same = ref[ib:ib + count]
                if same[-1] >= width:  # the line ends among them
                    done = same.index(width)
                    cur += same[:done]
                    a0 = width
                    pos = base + offset - count + done + 1
                    break
                cur += same
                a0 = same[-1]
                colour ^= count & 1
                k = ib + count
                continue
            if mode < passing:
                a1 = ref[ib] + mode
                if not a0 < a1 <= width:
                    return None
                if a1 < width:
                    append(a1)
                a0 = a1
                colour ^= 1
            elif mode == passing:
                a0 = ref[ib + 1]
                if a0 >= width:  # a pass can only reach b2 < a1 <= width
                    return None
            else:  # horizontal: two MH runs, the first in a0's colour
                match = _H_RUNS[colour].match(bits, pos)
                if not match:
                    return None
                pos = match.end()
                first, second = _H_LENGTHS[colour].get(match.group()) or _h_lengths(colour, match)
                a1 = (a0 if a0 > 0 else 0) + first
                a2 = a1 + second
                if a2 > width or (a1 == a0 and a0 >= 0) or (a2 == a1 and a1 < width):
                    return None
                if a1 < width:
                    append(a1)
                    if a2 < width:
                        append(a2)
                a0 = a2
            if a0 >= width:  # the line is complete: later codes in the window are the next line's
                if mode != horizontal:
                    pos = base + offset
                break
        if pos > end:
            return None
    return cur, pos
