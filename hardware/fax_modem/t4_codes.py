"""T.4 code word tables (T.4 §4.1.2 Tables 1-3, §4.2.1.3.3 Table 4) as strings, and the same tables as
numpy arrays for coding a whole page at once."""
from __future__ import annotations

from functools import cache

import numpy as np

from .t4_page import MAX_WIDTH

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
MAX_RUN_CODE = 2560

# 2-D mode codes, T.4 §4.2.1.3.3, Table 4
PASS, HORIZONTAL = "0001", "001"
VERTICAL = {0: "1", 1: "011", 2: "000011", 3: "0000011", -1: "010", -2: "000010", -3: "0000010"}


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
    while length > MAX_RUN_CODE + 63:  # T.4 §4.1.1 note: repeat 2560 until the rest is < 2560
        parts.append(table[MAX_RUN_CODE])
        length -= MAX_RUN_CODE
    if length >= 64:
        parts.append(table[length & ~63])
    parts.append(table[length & 63])
    return "".join(parts)


# --- the tables as arrays ---------------------------------------------------------------------------
def _run_arrays(table: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """(code value, code length) of the complete code (make-ups and terminating) of every run length
    0..MAX_WIDTH; the longest (three 2560s, a make-up, a terminating code) is 61 bits, so one uint64."""
    lengths = np.arange(MAX_WIDTH + 1, dtype=np.int64)
    repeats = np.where(lengths > MAX_RUN_CODE + 63, (lengths - MAX_RUN_CODE - 64) // MAX_RUN_CODE + 1, 0)
    rest = lengths - MAX_RUN_CODE * repeats
    words = [table[n] for n in range(64)], [""] + [table[64 * i] for i in range(1, 41)]
    term_value = np.array([int(c, 2) for c in words[0]], np.uint64)
    term_bits = np.array([len(c) for c in words[0]], np.int64)
    makeup_value = np.array([int(c or "0", 2) for c in words[1]], np.uint64)
    makeup_bits = np.array([len(c) for c in words[1]], np.int64)
    long_code = table[MAX_RUN_CODE]
    repeat_value = np.array([int(long_code * n or "0", 2) for n in range(4)], np.uint64)
    bits = repeats * len(long_code) + makeup_bits[rest >> 6] + term_bits[rest & 63]
    value = repeat_value[repeats]
    value = (value << makeup_bits[rest >> 6].astype(np.uint64)) | makeup_value[rest >> 6]
    value = (value << term_bits[rest & 63].astype(np.uint64)) | term_value[rest & 63]
    return value, bits


_WHITE_ARRAYS, _BLACK_ARRAYS = _run_arrays(WHITE_CODES), _run_arrays(BLACK_CODES)
# run code by colour (0 white, 1 black) * (MAX_WIDTH + 1) + length
RUN_VALUE = np.concatenate([_WHITE_ARRAYS[0], _BLACK_ARRAYS[0]])
RUN_BITS = np.concatenate([_WHITE_ARRAYS[1], _BLACK_ARRAYS[1]])
RUN_STRIDE = MAX_WIDTH + 1

# vertical mode codes by offset + 3
V_VALUE = np.array([int(VERTICAL[d], 2) for d in range(-3, 4)], np.uint64)
V_BITS = np.array([len(VERTICAL[d]) for d in range(-3, 4)], np.int64)

# MH decoding: the 13 bits at a position (T.4's longest code) -> the code word starting there, per
# colour: entry = bits used | terminating << 4 | run length << 5; 0 where no code word starts.
CODE_WINDOW = 13


def _decode_table(table: dict[int, str]) -> np.ndarray:
    """Window -> packed (length, terminating, run) for one colour."""
    out = np.zeros(1 << CODE_WINDOW, np.int64)
    for run, code in table.items():
        first = int(code, 2) << (CODE_WINDOW - len(code))
        out[first:first + (1 << (CODE_WINDOW - len(code)))] = len(code) | (run < 64) << 4 | run << 5
    return out


MH_DECODE = np.concatenate([_decode_table(WHITE_CODES), _decode_table(BLACK_CODES)])  # colour << 13 | window


# MH decoding a window at a time: every code word that lies whole in the next 16 bits, per colour
# entering the window.  Entry arrays by colour << 16 | window: `step` = bits used (0: no code starts
# there) | colour after << 16 | pixels covered << 17; how the last code ended (1 terminating, 0
# make-up, -1 no code); the pixels as a number, last pixel lowest, and whether that number holds them
# all (black pixels at most 64 from the end); the colour changes (after each terminating code)
# relative to the window's start.
MH_WINDOW = 16
MH_WINDOW_CODES = MH_WINDOW // 2  # the shortest code words have two bits


@cache
def mh_windows() -> tuple[np.ndarray, ...]:
    """(step, ended, pattern, fits, changes, flips): the tables above, built on first use by
    decoding every possible window at once, one code word per round."""
    count = 2 << MH_WINDOW
    window = np.arange(count, dtype=np.int64) & ((1 << MH_WINDOW) - 1)
    colour = np.arange(count, dtype=np.int64) >> MH_WINDOW
    used = np.zeros(count, np.int64)
    pixels = np.zeros(count, np.int64)
    ended = np.full(count, -1, np.int64)
    flips = np.zeros((count, MH_WINDOW_CODES), np.int64)
    changes = np.zeros(count, np.int64)
    alive = np.ones(count, bool)
    rows = np.arange(count)
    for _ in range(MH_WINDOW_CODES):
        bits = (window << used >> (MH_WINDOW - CODE_WINDOW)) & ((1 << CODE_WINDOW) - 1)
        entry = MH_DECODE[colour << CODE_WINDOW | bits]
        length = entry & 15
        alive &= (length > 0) & (length <= MH_WINDOW - used)  # whole inside the window
        terminating = (entry >> 4) & 1
        used += np.where(alive, length, 0)
        pixels += np.where(alive, entry >> 5, 0)
        flip = alive & (terminating == 1)
        flips[rows[flip], changes[flip]] = pixels[flip]
        changes += flip
        colour ^= flip
        ended = np.where(alive, terminating, ended)
    step = (used | colour << MH_WINDOW | pixels << (MH_WINDOW + 1)).astype(np.int32)  # small: cached
    return (step, ended, *_patterns(np.arange(count) >> MH_WINDOW, pixels, changes, flips), changes, flips)


def _patterns(colour: np.ndarray, pixels: np.ndarray, changes: np.ndarray,
              flips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(last 64 pixels as a number, whether no black pixel lies before them) of windows that start
    in `colour`, cover `pixels` and change colour at `flips`."""
    def ones(count: np.ndarray) -> np.ndarray:
        """A number of `count` one bits (all 64 from 64 on)."""
        return np.where(count >= 64, np.uint64(2**64 - 1),
                        (np.uint64(1) << np.minimum(count, 63).astype(np.uint64)) - np.uint64(1))

    pattern = np.zeros(len(pixels), np.uint64)
    fits = np.ones(len(pixels), bool)
    for k in range(MH_WINDOW_CODES + 1):  # segment k runs from change k - 1 (or 0) to change k (or the end)
        start = flips[:, k - 1] if k else np.zeros_like(pixels)
        end = np.where(k < changes, flips[:, min(k, MH_WINDOW_CODES - 1)], pixels)
        black = (k <= changes) & ((colour ^ k) & 1 == 1) & (end > start)
        fits &= ~(black & (pixels - start > 64))
        pattern |= np.where(black, ones(pixels - start) ^ ones(pixels - end), np.uint64(0))
    return pattern, fits

