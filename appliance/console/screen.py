"""Pure screen text for an 80×24 VT100: menus, tables, pages, and parsing what was typed.

No colours and no cursor addressing beyond clear-screen (VT100 `ESC [ H ESC [ 2 J`), so the screens also
read right on a dumb terminal or in a log of the session.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Sequence

WIDTH = 80
HEIGHT = 24
PAGE_LINES = HEIGHT - 2  # one line for the pager prompt, one for the cursor line
CLEAR = "\x1b[H\x1b[2J"
YES_WORDS = ("y", "yes")
NO_WORDS = ("n", "no")


@dataclass(frozen=True)
class MenuItem:
    """One numbered entry."""

    key: int
    label: str


def clip(line: str, width: int = WIDTH - 1) -> str:
    """One line cut to the terminal width (the last column is left free: VT100 auto-wrap quirk)."""
    line = line.replace("\t", " ").rstrip()
    return line if len(line) <= width else line[: width - 1] + "~"


def wrap(lines: Sequence[str], width: int = WIDTH - 1) -> list[str]:
    """Long lines folded onto indented continuation lines instead of cut (test results, errors)."""
    out: list[str] = []
    for line in lines:
        indent = " " * min(len(line) - len(line.lstrip(" ")) + 4, 24)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False,
                             drop_whitespace=True, replace_whitespace=False) or [""]
    return out


def printable(text: str) -> str:
    """Text from outside (log lines, service errors) without control characters that could move the cursor."""
    return "".join(ch if ch == "\n" or (ch.isprintable() and ord(ch) < 0x2028) else "?" for ch in text)


def rule(char: str = "-") -> str:
    """A horizontal line."""
    return char * (WIDTH - 1)


def render_menu(title: str, header: Sequence[str], items: Sequence[MenuItem]) -> str:
    """A titled numbered menu; header lines (status) above it. Fits in HEIGHT lines with the prompt."""
    lines = [clip(title), rule("=")]
    lines += [clip(printable(h)) for h in header]
    if header:
        lines.append("")
    lines += [clip(f" {item.key:>2}) {item.label}") for item in items]
    lines.append("")
    return "\n".join(lines[: HEIGHT - 1]) + "\n"


def render_table(columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[object]]) -> list[str]:
    """Fixed-width columns; the last column takes what is left of the line."""
    def fmt(cells: Sequence[object]) -> str:
        out = []
        for (_, width), cell in zip(columns, cells):
            text = printable(str(cell)).replace("\n", " ")
            out.append(text[:width].ljust(width) if width else text)
        return clip(" ".join(out))
    return [fmt([name for name, _ in columns]), clip(" ".join("-" * (w or 10) for _, w in columns))] + \
        [fmt(row) for row in rows]


def pages(lines: Sequence[str], per_page: int = PAGE_LINES) -> list[list[str]]:
    """Split long output into screens."""
    clipped = [clip(printable(line)) for line in lines] or ["(nothing to show)"]
    return [clipped[i:i + per_page] for i in range(0, len(clipped), per_page)]


def parse_choice(text: str, keys: Sequence[int]) -> int | None:
    """The chosen menu number, or None when the input is not one of `keys`."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        return None
    value = int(text)
    return value if value in keys else None


def parse_yes_no(text: str) -> bool | None:
    """True for y/yes, False for n/no, None for anything else."""
    word = text.strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def format_duration(seconds: float) -> str:
    """`3 d 4 h`, `2 h 5 min`, `4 min 2 s`, `12 s`."""
    s = int(max(0, seconds))
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{s} s"


def format_size(n: int) -> str:
    """Bytes for people: 512 B, 3.4 kB, 12.0 MB, 1.2 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
