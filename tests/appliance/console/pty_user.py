"""A technician at a terminal: pexpect on a real pty, typing lines the way a person does (CR at the end)."""
from __future__ import annotations

import os
import sys

import pexpect
import pexpect.fdpexpect

from tests.appliance.process import REPO

MENU = r"Choice \[0-9\]: "
TIMEOUT_S = 30


def spawn_console(env: dict[str, str]) -> pexpect.spawn:
    """`python -m appliance console` on a fresh 80x24 pty."""
    full = {**os.environ, **env, "PYTHONPATH": str(REPO), "TERM": "vt100"}
    return pexpect.spawn(sys.executable, ["-m", "appliance", "console"], cwd=str(REPO), env=full,
                         encoding="ascii", codec_errors="replace", timeout=TIMEOUT_S, dimensions=(24, 80))


def attach(tty_path: str) -> pexpect.fdpexpect.fdspawn:
    """Connect to the console service's pty the way `screen /dev/pts/N` would."""
    fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
    return pexpect.fdpexpect.fdspawn(fd, encoding="ascii", codec_errors="replace", timeout=TIMEOUT_S)


def type_line(term, text: str) -> None:
    """Type a line and press Return."""
    term.send(text + "\r")


def log_in(term, password: str) -> None:
    """Answer the password prompt and wait for the main menu."""
    term.expect("Console password: ")
    type_line(term, password)
    term.expect(MENU)
