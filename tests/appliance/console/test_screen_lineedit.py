"""Pure parts of the console: screens fit a VT100, choices parse strictly, the line editor edits."""
from __future__ import annotations

from hypothesis import given, strategies as st

from appliance.console.lineedit import MAX_LINE, LineEditor
from appliance.console.screen import (HEIGHT, WIDTH, MenuItem, clip, pages, parse_choice, parse_yes_no,
                                      printable, render_menu, render_table)


def test_menu_fits_80x24_even_with_long_labels() -> None:
    items = [MenuItem(i, "x" * 200) for i in range(30)]
    text = render_menu("title " * 40, ["status " * 30], items)
    lines = text.splitlines()
    assert len(lines) < HEIGHT
    assert all(len(line) < WIDTH for line in lines)


def test_choices_accept_only_listed_numbers() -> None:
    keys = [0, 1, 2, 3]
    assert parse_choice(" 2 ", keys) == 2
    assert parse_choice("0", keys) == 0
    for bad in ("", "4", "-1", "1.0", "one", "2x", "²", "١", "9999", "1 2"):
        assert parse_choice(bad, keys) is None, bad


def test_yes_no_is_strict() -> None:
    assert parse_yes_no("Y") is True and parse_yes_no(" no ") is False
    assert parse_yes_no("yeah") is None and parse_yes_no("") is None


def test_table_and_pages_clip_and_strip_control_characters() -> None:
    rows = render_table([("a", 3), ("b", 0)], [("abcdef", "evil\x1b[2Jtext" + "z" * 100)])
    assert rows[2].startswith("abc ") and "\x1b" not in rows[2] and len(rows[2]) < WIDTH
    screens = pages([f"line {i}" for i in range(50)], per_page=22)
    assert [len(p) for p in screens] == [22, 22, 6]
    assert pages([]) == [["(nothing to show)"]]
    assert printable("a\x07b\nc") == "a?b\nc"
    assert clip("x" * 100).endswith("~")


def feed_all(editor: LineEditor, data: bytes) -> tuple[bytes, list[str]]:
    echo, lines = b"", []
    while data:
        e, line, data = editor.feed(data)
        echo += e
        if line is not None:
            lines.append(line)
    return echo, lines


def test_line_editor_echoes_erases_and_ends_lines() -> None:
    ed = LineEditor()
    echo, lines = feed_all(ed, b"ab\x7fc\r\n12\x08\x083\n")
    assert lines == ["ac", "3"]
    assert echo == b"ab\b \bc\r\n12\b \b\b \b3\r\n"


def test_line_editor_secret_is_not_echoed_and_escape_sequences_are_swallowed() -> None:
    ed = LineEditor(secret=True)
    echo, lines = feed_all(ed, b"pw\x1b[Ad\r")
    assert lines == ["pwd"] and echo == b"\r\n"


def test_ctrl_c_abandons_and_ctrl_u_kills() -> None:
    ed = LineEditor()
    _, lines = feed_all(ed, b"abc\x03xy\x15z\r")
    assert lines == ["", "z"]


def test_feed_returns_unconsumed_bytes_after_a_line() -> None:
    ed = LineEditor()
    echo, line, rest = ed.feed(b"1\r2\r")
    assert line == "1" and rest == b"2\r"


@given(st.binary(max_size=600))
def test_line_editor_never_fails_and_lines_are_printable_ascii(data: bytes) -> None:
    ed = LineEditor()
    _, lines = feed_all(ed, data)
    for line in lines:
        assert len(line) <= MAX_LINE and all(0x20 <= ord(c) < 0x7F for c in line)
    assert len(ed.pending) <= MAX_LINE
