"""T.4 code words and coded lines checked bit by bit against the tables of T.4 §4.1.2 and §4.2."""
from __future__ import annotations

import pytest

from hardware.fax_modem import t4
from hardware.fax_modem.t4 import BitOrder, Coding, Page

EOL = "000000000001"


def bits(data: bytes) -> str:
    """MSB-first bit string of data."""
    return "".join(f"{b:08b}" for b in data)


def page_of(rows: list[list[tuple[int, int]]], width: int = 1728, y_dpi: int = 196) -> Page:
    """A page whose rows are given as black spans [start, end)."""
    packed = []
    for spans in rows:
        row = ["0"] * width
        for start, end in spans:
            row[start:end] = "1" * (end - start)
        text = "".join(row) + "0" * (-width % 8)
        packed.append(int(text, 2).to_bytes(len(text) // 8, "big"))
    return Page.from_rows(packed, width, y_dpi)


@pytest.mark.parametrize("table", [t4.WHITE_CODES, t4.BLACK_CODES])
def test_code_tables_are_prefix_free_and_leave_room_only_for_eol(table: dict[int, str]) -> None:
    codes = sorted(table.values())
    assert len(table) == 64 + 27 + 13
    for shorter, longer in zip(codes, codes[1:]):
        assert not longer.startswith(shorter)
    assert not any(EOL.startswith(code) for code in codes)
    assert "0" * 11 not in "".join(code + other for code in codes for other in codes)


def test_known_code_words() -> None:
    # a handful read straight off T.4 Tables 1-3
    assert t4.run_code(0, black=False) == "00110101"
    assert t4.run_code(0, black=True) == "0000110111"
    assert t4.run_code(2, black=True) == "11"
    assert t4.run_code(63, black=False) == "00110100"
    assert t4.run_code(1728, black=False) == "010011011" + "00110101"
    assert t4.run_code(1792, black=True) == "00000001000" + "0000110111"
    assert t4.run_code(2560 + 70, black=False) == "000000011111" + "11011" + "1110"
    assert t4.run_code(5200, black=False) == "000000011111" * 2 + "11011" + "101010"


def test_all_white_a4_line_is_4d9a() -> None:
    data = t4.encode_page(Page.blank(1728, 1), bit_order=BitOrder.MSB_FIRST, align_eol=True, rtc=False)
    assert data == bytes([0x00, 0x01, 0x4D, 0x9A, 0x80])
    lsb = t4.encode_page(Page.blank(1728, 1), align_eol=True, rtc=False)
    assert lsb == bytes([0x00, 0x80, 0xB2, 0x59, 0x01])  # each octet mirrored for the modem


def test_mh_line_with_one_black_run() -> None:
    page = page_of([[(100, 110)]])
    got = bits(t4.encode_page(page, bit_order=BitOrder.MSB_FIRST))
    line = "11011" + "00010101" + "0000100" + "010011010" + "0100111"  # W64+W36, B10, W1600+W18
    assert got == (EOL + line + EOL * 6).ljust(len(got), "0")


def test_line_starting_black_begins_with_white_zero() -> None:
    page = page_of([[(0, 3)]])
    got = bits(t4.encode_page(page, bit_order=BitOrder.MSB_FIRST, rtc=False))
    assert got.startswith(EOL + "00110101" + "10" + "011000" + "00110010")  # W0 B3 W1664+W61


def test_mr_modes_by_hand() -> None:
    page = page_of([[(10, 20)], [(11, 21)], [], [(100, 110)]], y_dpi=196)  # K=4: one 1-D, three 2-D
    got = bits(t4.encode_page(page, Coding.MR, bit_order=BitOrder.MSB_FIRST))
    # T.4 §4.2.4: the tag bit after EOL is 1 before a 1-D line, 0 before a 2-D line
    first = "1" + t4.run_code(10, False) + t4.run_code(10, True) + t4.run_code(1708, False)
    vertical = "0" + "011" + "011" + "1"  # VR1 VR1 then V0 on the imaginary element at 1728
    passing = "0" + "0001" + "1"  # P under b2 = 21, then V0 at the line end
    horizontal = "0" + "001" + "11011" + "00010101" + "0000100" + "1"  # H W100 B10, V0
    expected = EOL + first + EOL + vertical + EOL + passing + EOL + horizontal + (EOL + "1") * 6
    assert got == expected.ljust(len(got), "0")


def test_fill_meets_minimum_line_length_and_alignment() -> None:
    page = page_of([[], [(5, 9)], []])
    data = t4.encode_page(page, min_bytes_per_line=20, bit_order=BitOrder.MSB_FIRST, rtc=False)
    text = bits(data)
    starts = [i for i in range(len(text)) if text.startswith("0" * 11 + "1", i)]
    ends = [text.index("1", i) + 1 for i in starts]
    for previous_end, eol_end in zip(ends, ends[1:]):
        assert eol_end - previous_end >= 20 * 8  # data + fill + EOL of each line
    aligned = bits(t4.encode_page(page, align_eol=True, bit_order=BitOrder.MSB_FIRST, rtc=False))
    for i in range(len(aligned)):
        if aligned.startswith("0" * 11 + "1", i):
            assert (aligned.index("1", i) + 1) % 8 == 0


def test_min_bytes_per_line_from_scan_time() -> None:
    assert t4.min_bytes_per_line(20, 9600) == 24
    assert t4.min_bytes_per_line(0, 14400) == 0
    assert t4.min_bytes_per_line(10, 14400) == 18
    assert t4.default_k(98) == 2 and t4.default_k(196) == 4


def test_widths_b4_and_a3_use_extended_makeup() -> None:
    for width in (2048, 2432):
        page = page_of([[], [(0, width)]], width=width)
        text = bits(t4.encode_page(page, bit_order=BitOrder.MSB_FIRST, rtc=False))
        assert t4.WHITE_CODES[width] in text and t4.BLACK_CODES[width] in text
        decoded = t4.decode_page(t4.encode_page(page), width)
        assert decoded.page == page and decoded.bad_lines == ()


def test_bad_parameters_raise_t4error() -> None:
    with pytest.raises(t4.T4Error):
        Page(1728, 2, b"\0" * 10)
    with pytest.raises(t4.T4Error):
        t4.decode_page(b"\x00\x80", 0)
    with pytest.raises(t4.T4Error):
        t4.decode_page(b"", 1728)
    with pytest.raises(t4.T4Error):
        t4.encode_page(Page.blank(), Coding.MR, k=-1)


def test_libtiff_codes_the_same_bits() -> None:
    """An independent encoder (libtiff through Pillow) produces our exact 1-D and 2-D bit stream."""
    import io

    from PIL import Image, ImageDraw, TiffImagePlugin

    rows = [[(10, 20), (700, 1199)], [(12, 29), (705, 1099), (1500, 1727)], [(0, 3)], [(2, 5), (100, 200)],
            [(50, 60), (300, 400), (1000, 1010)], [(47, 58), (302, 399), (1600, 1700)]]  # V, H and P modes
    image = Image.new("1", (1728, len(rows)), 1)
    draw = ImageDraw.Draw(image)
    for y, spans in enumerate(rows):
        for start, end in spans:
            draw.line((start, y, end, y), fill=0)
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[292] = 1  # T4Options: 2-D coding, no fill bits
    out = io.BytesIO()
    image.save(out, "TIFF", compression="group3", tiffinfo=info)
    with Image.open(io.BytesIO(out.getvalue())) as back:
        start, size = back.tag_v2[273][0], back.tag_v2[279][0]
    theirs = bits(out.getvalue()[start:start + size])
    # Pillow writes BlackIsZero and libtiff codes the raw bits, so its T.4 "black" is Pillow's white:
    # our page of the same raw bits must code identically (libtiff uses K=2 without a YResolution)
    page = Page(1728, len(rows), image.tobytes("raw", "1"))
    ours = bits(t4.encode_page(page, Coding.MR, k=2, bit_order=BitOrder.MSB_FIRST, rtc=False))
    assert theirs.rstrip("0") == ours.rstrip("0")


def libtiff_strip(image: "Image.Image", compression: str, two_d: bool) -> bytes:
    """The coded bits libtiff (through Pillow) writes for a mode-1 image, as one strip."""
    import io

    from PIL import Image, TiffImagePlugin

    info = TiffImagePlugin.ImageFileDirectory_v2()
    if two_d:
        info[292] = 1  # T4Options: 2-D coding, no fill bits
    out = io.BytesIO()
    image.save(out, "TIFF", compression=compression, tiffinfo=info, strip_size=2**30)  # one strip
    with Image.open(io.BytesIO(out.getvalue())) as back:
        assert len(back.tag_v2[273]) == 1
        start, size = back.tag_v2[273][0], back.tag_v2[279][0]
    return out.getvalue()[start:start + size]


@pytest.mark.parametrize(("coding", "compression"), [(Coding.MH, "group3"), (Coding.MR, "group3"),
                                                     (Coding.MMR, "group4")])
def test_libtiff_codes_a_tall_drawn_page_the_same(coding: Coding, compression: str) -> None:
    """Pages are coded a band of rows at a time: a page many bands tall, with text, frames, diagonals
    and solid blocks (long runs, passes, every vertical offset), codes as libtiff codes it."""
    import random

    from PIL import Image, ImageDraw

    rnd = random.Random(40)
    image = Image.new("1", (1728, 700), 1)
    draw = ImageDraw.Draw(image)
    for y in range(0, 680, 23):
        draw.text((rnd.randint(0, 300), y), f"Ticket {rnd.randint(0, 10**12)} queue {y}", fill=0)
    draw.rectangle((30, 20, 1700, 690), outline=0, width=5)
    draw.line((0, 0, 1727, 699), fill=0, width=3)
    draw.ellipse((500, 100, 1300, 650), outline=0, width=7)
    draw.rectangle((900, 300, 1650, 420), fill=0)
    theirs = libtiff_strip(image, compression, coding is Coding.MR)
    page = Page(1728, image.height, image.tobytes("raw", "1"))  # libtiff's "black" is Pillow's white
    ours = t4.encode_page(page, coding, k=2, bit_order=BitOrder.MSB_FIRST, rtc=False)
    assert bits(theirs).rstrip("0") == bits(ours).rstrip("0")
    if coding is Coding.MMR:
        decoded = t4.decode_mmr(theirs, 1728, page.height)
    else:
        decoded = t4.decode_page(theirs, 1728, two_d=coding is Coding.MR, bit_order=BitOrder.MSB_FIRST)
    assert decoded.page == page and decoded.bad_lines == ()
