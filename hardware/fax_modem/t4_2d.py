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
    counts, positions = changes.counts, changes.positions
    chosen = np.flatnonzero(rows)
    per_row = counts[chosen] + 1  # the a1 candidates: every change and the line end
    if not len(chosen):
        empty = np.zeros(0, np.int64)
        return empty, empty.astype(np.uint64), empty
    row = np.repeat(chosen, per_row)
    index = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)  # a1's number in its row
    row_start = np.cumsum(counts) - counts
    at = row_start[row] + index
    padded = np.append(positions, width)
    count = counts[row]
    a1 = np.where(index < count, padded[np.minimum(at, len(positions))], width)
    a0 = np.where(index > 0, padded[at - 1], -1)  # -1: the imaginary white element left of the line
    a2 = np.where(index + 1 < count, padded[np.minimum(at + 1, len(positions))], width)
    colour = index & 1  # a0's colour: changes alternate, white to black first

    # the reference line is the row above (an all-white line above the first row)
    above = np.maximum(row - 1, 0)
    has_ref = row > 0
    ref_count = np.where(has_ref, counts[above], 0)
    ref_start = row_start[above]

    def reference(local: np.ndarray) -> np.ndarray:
        """The reference change of each number, or the line end past the last one."""
        inside = local < ref_count
        return np.where(inside, padded[np.where(inside, ref_start + local, len(positions))], width)

    after_a0 = np.where(has_ref & (index > 0), changes.left_of(above, np.maximum(a0, 0), True), 0)
    b1 = after_a0 + ((after_a0 ^ colour) & 1)  # the first reference change right of a0 of a1's colour
    last_left = np.where(has_ref, changes.left_of(above, a1, False), 0) - 1  # b2 must not be left of a1
    last_left += (last_left ^ colour) & 1
    passed = np.maximum(b1, last_left)
    passes = (passed - b1) >> 1
    offset = a1 - reference(passed)
    vertical = np.abs(offset) <= 3
    # after passes a0 stands under the last b2 (T.4 §4.2.1.3.2 pass mode): a horizontal code's first
    # run starts there
    a0 = np.where(passes > 0, reference(passed - 1), np.maximum(a0, 0))

    # the walk visits the first element of a row and each element after a vertical; after a
    # horizontal at i it skips i + 1 (a2), so along a stretch of horizontals every other one
    horizontal_before = np.concatenate(([False], ~vertical[:-1]))
    number = np.arange(len(row))
    start = np.maximum.accumulate(np.where((index == 0) | ~horizontal_before, number, 0))
    visited = np.flatnonzero(((number - start) & 1) == 0)
    row, passes, vertical = row[visited], passes[visited], vertical[visited]
    a0, a1, a2, colour, offset = a0[visited], a1[visited], a2[visited], colour[visited], offset[visited]

    slots = np.zeros((len(visited), 3), np.uint64), np.zeros((len(visited), 3), np.int64)
    first_run = colour * RUN_STRIDE + a1 - a0
    second_run = (colour ^ 1) * RUN_STRIDE + a2 - a1
    vertical_code = np.clip(offset + 3, 0, 6)
    slots[0][:, 0] = np.where(vertical, V_VALUE[vertical_code], _HORIZONTAL_VALUE)
    slots[1][:, 0] = np.where(vertical, V_BITS[vertical_code], _HORIZONTAL_BITS)
    horizontal = ~vertical
    slots[0][horizontal, 1] = RUN_VALUE[first_run[horizontal]]
    slots[1][horizontal, 1] = RUN_BITS[first_run[horizontal]]
    slots[0][horizontal, 2] = RUN_VALUE[second_run[horizontal]]
    slots[1][horizontal, 2] = RUN_BITS[second_run[horizontal]]

    per_mode = passes + np.where(vertical, 1, 3)
    owner = np.repeat(np.arange(len(visited)), per_mode)
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(per_mode) - per_mode, per_mode) - passes[owner]
    is_pass = slot < 0
    pick = owner * 3 + np.maximum(slot, 0)
    value = np.where(is_pass, np.uint64(_PASS_VALUE), slots[0].ravel()[pick])
    bits = np.where(is_pass, _PASS_BITS, slots[1].ravel()[pick])
    return row[owner], value, bits


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
_MODE_WINDOW = 16


def scan_line(bits: str, pos: int, ref: list[int], width: int) -> tuple[list[int], int] | None:
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
        for mode, count, offset in modes:
            while ref[k] <= a0:
                k += 1
            ib = k + ((k ^ colour) & 1)
            if mode == _V0S:  # a1 on b1 each time, and b1 moves on by one: a slice of the reference
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
                if mode != _H:
                    pos = base + offset
                break
        if pos > end:
            return None
    return cur, pos
