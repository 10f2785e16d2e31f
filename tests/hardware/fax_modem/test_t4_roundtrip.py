"""T.4 round trips (hypothesis), decoder fuzzing and bit-error injection."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from hardware.fax_modem import t4
from hardware.fax_modem.t4 import BitOrder, Coding, Page


@st.composite
def rows_of_runs(draw: st.DrawFn, width: int) -> str:
    """One row built from random run lengths (white first), as a '0'/'1' string."""
    runs = draw(st.lists(st.integers(0, 6) | st.integers(0, 200) | st.integers(0, width), max_size=40))
    row = "".join(("0", "1")[i & 1] * n for i, n in enumerate(runs))
    return row[:width].ljust(width, "0")


@st.composite
def pages(draw: st.DrawFn) -> Page:
    """Small pages of standard widths whose rows often repeat or shift, as scanned text does."""
    width = draw(st.sampled_from(sorted(t4.STANDARD_WIDTHS)))
    rows = [draw(rows_of_runs(width))]
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["new", "same", "shift"]))
        if kind == "new":
            rows.append(draw(rows_of_runs(width)))
        elif kind == "same":
            rows.append(rows[-1])
        else:
            by = draw(st.integers(-5, 5))
            rows.append((rows[-1][-by:] + rows[-1][:-by])[:width] if by else rows[-1])
    packed = [int(r, 2).to_bytes(width // 8, "big") for r in rows]
    return Page.from_rows(packed, width, draw(st.sampled_from([98, 196])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages(), coding=st.sampled_from(Coding), order=st.sampled_from(BitOrder),
       k=st.sampled_from([None, 1, 2, 3, 8]), fill=st.sampled_from([0, 3, 40]), align=st.booleans(),
       rtc=st.booleans())
def test_round_trip(page: Page, coding: Coding, order: BitOrder, k: int | None, fill: int,
                    align: bool, rtc: bool) -> None:
    data = t4.encode_page(page, coding, k=k, min_bytes_per_line=fill, bit_order=order,
                          align_eol=align, rtc=rtc)
    if coding is Coding.MMR:
        decoded = t4.decode_mmr(data, page.width, page.height if rtc else None, order, page.y_dpi)
        assert decoded.bad_lines == () and decoded.rtc and decoded.page == page
        return
    decoded = t4.decode_page(data, page.width, two_d=coding is Coding.MR, bit_order=order,
                             y_dpi=page.y_dpi)
    assert decoded.bad_lines == ()
    assert decoded.rtc is rtc
    assert decoded.page == page


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), two_d=st.booleans(), order=st.sampled_from(BitOrder),
       width=st.sampled_from([1728, 2048, 64]))
def test_decoder_survives_garbage(data: bytes, two_d: bool, order: BitOrder, width: int) -> None:
    try:
        decoded = t4.decode_page(data, width, two_d=two_d, bit_order=order)
    except t4.T4Error:
        return
    assert decoded.page.width == width
    assert all(0 <= i < decoded.page.height for i in decoded.bad_lines)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=400), width=st.sampled_from([1728, 16]), height=st.none() | st.integers(0, 9))
def test_mmr_decoder_survives_garbage(data: bytes, width: int, height: int | None) -> None:
    try:
        decoded = t4.decode_mmr(data, width, height)
    except t4.T4Error:
        return
    assert decoded.page.width == width
    assert height is None or decoded.page.height == height


def test_mmr_truncated_keeps_good_rows_and_fills_the_rest() -> None:
    page = text_like_page()
    data = t4.encode_mmr(page)
    decoded = t4.decode_mmr(data[: len(data) // 2], 1728, page.height)
    assert decoded.page.height == page.height and not decoded.rtc
    good = page.height - decoded.bad_line_count
    assert 10 < good < page.height
    assert [decoded.page.row(i) for i in range(good - 1)] == [page.row(i) for i in range(good - 1)]


@settings(max_examples=100, deadline=None)
@given(page=pages(), seed=st.integers(0, 2**32), two_d=st.booleans())
def test_decoder_survives_bit_errors(page: Page, seed: int, two_d: bool) -> None:
    coding = Coding.MR if two_d else Coding.MH
    data = bytearray(t4.encode_page(page, coding))
    rnd = random.Random(seed)
    for _ in range(rnd.randint(1, 6)):
        data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
    try:
        decoded = t4.decode_page(bytes(data), page.width, two_d=two_d)
    except t4.T4Error:
        return
    assert decoded.page.width == page.width


def text_like_page(height: int = 64, width: int = 1728) -> Page:
    """Rows of short black strokes that drift slowly, like glyphs on a scanned line."""
    rnd = random.Random(7)
    rows, row = [], None
    for y in range(height):
        if y % 16 == 0:
            row = ["0"] * width
            for x in range(40, width - 40, 23):
                if rnd.random() < 0.7:
                    n = rnd.randint(2, 9)
                    row[x:x + n] = ["1"] * n
        else:
            i = rnd.randrange(40, width - 40)
            row[i] = "1" if row[i] == "0" else "0"
        rows.append(int("".join(row), 2).to_bytes(width // 8, "big"))
    return Page.from_rows(rows, width)


def flip_in_line(data: bytes, line: int, two_d: bool) -> bytes:
    """Flip one bit a few bits into coded line `line` (LSB-first data)."""
    text = t4._bits_of(data, BitOrder.LSB_FIRST)
    pos = -1
    for _ in range(line + 1):
        pos = text.index("0" * 11 + "1", pos + 1)
    start = text.index("1", pos) + 1 + two_d + 3
    flipped = text[:start] + ("1" if text[start] == "0" else "0") + text[start + 1:]
    return t4._bytes_of(flipped, BitOrder.LSB_FIRST)


def test_bit_error_in_mh_line_is_one_bad_line_repeating_the_row_above() -> None:
    page = text_like_page()
    good = t4.encode_page(page, Coding.MH)
    for line in (5, 20, 33):
        decoded = t4.decode_page(flip_in_line(good, line, False), 1728)
        assert decoded.bad_lines == (line,)
        assert decoded.page.height == page.height
        assert decoded.page.row(line) == page.row(line - 1)
        others = [i for i in range(page.height) if i != line]
        assert [decoded.page.row(i) for i in others] == [page.row(i) for i in others]


def test_bit_error_in_mr_spoils_lines_up_to_next_1d_line() -> None:
    page = text_like_page()
    good = t4.encode_page(page, Coding.MR, k=4)
    decoded = t4.decode_page(flip_in_line(good, 9, True), 1728, two_d=True)  # 8 is 1-D, 9..11 2-D
    assert decoded.bad_lines == (9, 10, 11)
    assert [decoded.page.row(i) for i in (9, 10, 11)] == [page.row(8)] * 3
    assert decoded.page.row(12) == page.row(12)
    decoded = t4.decode_page(flip_in_line(good, 12, True), 1728, two_d=True)  # a 1-D line
    assert decoded.bad_lines == (12, 13, 14, 15)


def test_truncated_page_keeps_the_lines_received() -> None:
    page = text_like_page()
    data = t4.encode_page(page, Coding.MR)
    decoded = t4.decode_page(data[: len(data) // 2], 1728, two_d=True)
    assert not decoded.rtc
    assert 20 < decoded.page.height < page.height
    good = decoded.page.height - decoded.bad_line_count
    assert [decoded.page.row(i) for i in range(good)] == [page.row(i) for i in range(good)]


def test_noise_before_first_eol_is_ignored() -> None:
    page = text_like_page(8)
    data = t4.encode_page(page, bit_order=BitOrder.MSB_FIRST)
    decoded = t4.decode_page(b"\xff\x13" + data, 1728, bit_order=BitOrder.MSB_FIRST)
    assert decoded.page == page and decoded.bad_lines == ()


def test_runaway_page_is_cut_at_max_height() -> None:
    line = t4.encode_page(Page.blank(64, 1), bit_order=BitOrder.MSB_FIRST, rtc=False)
    decoded = t4.decode_page(line * (t4.MAX_HEIGHT + 50), 64, bit_order=BitOrder.MSB_FIRST)
    assert decoded.page.height == t4.MAX_HEIGHT and decoded.bad_lines == ()


def test_zero_length_runs_and_long_black_runs_decode() -> None:
    """Other coders may send a run of length 0 inside a line; long black runs take make-up codes and
    fill more than a whole decoding window."""
    eol = "0" * 11 + "1"
    lines = [t4.run_code(10, False) + t4.run_code(0, True) + t4.run_code(5, False) + t4.run_code(1700, True)
             + t4.run_code(13, False),
             t4.run_code(0, False) + t4.run_code(1728, True),
             t4.run_code(64, False) + t4.run_code(0, True) + t4.run_code(0, False) + t4.run_code(1664, True)]
    data = t4._bytes_of("".join(eol + line for line in lines) + eol * 6, BitOrder.MSB_FIRST)
    decoded = t4.decode_page(data, 1728, bit_order=BitOrder.MSB_FIRST)
    rows = ["0" * 15 + "1" * 1700 + "0" * 13, "1" * 1728, "0" * 64 + "1" * 1664]
    assert decoded.bad_lines == () and decoded.rtc
    assert decoded.page == Page.from_rows([int(row, 2).to_bytes(216, "big") for row in rows], 1728)


def test_tall_pages_round_trip_in_every_coding() -> None:
    """Coding works a band of rows at a time: pages many bands tall keep every row."""
    page = text_like_page(height=700, width=2048)
    for coding in Coding:
        for order in BitOrder:
            data = t4.encode_page(page, coding, bit_order=order, min_bytes_per_line=30, align_eol=True)
            if coding is Coding.MMR:
                decoded = t4.decode_mmr(data, page.width, page.height, order)
            else:
                decoded = t4.decode_page(data, page.width, two_d=coding is Coding.MR, bit_order=order)
            assert decoded.page == page and decoded.bad_lines == ()


def test_a_line_flooded_with_empty_runs_is_lost_past_any_sane_length() -> None:
    """Empty runs cost no pixels, so a sender could make one line endless; a few are decoded, but a
    line with more code words than a line of its width can need is a bad line (and costs bounded work)."""
    eol = "0" * 11 + "1"
    empty_pair = t4.run_code(0, False) + t4.run_code(0, True)
    for pairs, bad in ((100, ()), (20_000, (1,))):
        text = eol + t4.run_code(1728, False) + eol + empty_pair * pairs + t4.run_code(1728, False) + eol * 6
        decoded = t4.decode_page(t4._bytes_of(text, BitOrder.MSB_FIRST), 1728, bit_order=BitOrder.MSB_FIRST)
        assert decoded.bad_lines == bad and decoded.page == Page.blank(1728, 2)
