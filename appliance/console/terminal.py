"""The console's I/O layer: a raw tty, a pty or the current terminal, driven line by line.

The dialogue (menu.py) yields prompts; `run_dialogue` writes each one and feeds back the typed line.
Reads wait in `select` with short ticks so a stop request (the service stopping) or the idle timeout
ends a session within half a second. The session runs in a worker thread of the console service
(or in the `appliance console` process), never on the event loop.
"""
from __future__ import annotations

import errno
import os
import select
import sys
import termios
import threading
import time
import tty
from typing import Protocol

from appliance.console.errors import ConsoleError
from appliance.console.lineedit import LineEditor
from appliance.console.menu import Dialogue

TICK_S = 0.5
WRITE_TIMEOUT_S = 5.0  # a pty nobody has open fills up: drop output rather than hang the session
BAUD = {1200: termios.B1200, 2400: termios.B2400, 4800: termios.B4800, 9600: termios.B9600,
        19200: termios.B19200, 38400: termios.B38400, 57600: termios.B57600, 115200: termios.B115200}


class SessionEnded(ConsoleError):
    """The session is over: idle timeout, hang-up (EOF) or the service stopping."""


class Terminal(Protocol):
    """Where a dialogue is shown and answered."""

    def write(self, text: str) -> None:
        """Show text."""

    def read_line(self, secret: bool, timeout: float) -> str:
        """One typed line; raises SessionEnded."""


def _ascii(text: str) -> bytes:
    # A VT100 shows 7-bit ASCII; anything else would arrive as mojibake at 9600 baud.
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "replace")


class FdTerminal:
    """A raw file descriptor (tty device, pty master, or stdin/stdout in raw mode); echo is ours."""

    def __init__(self, fd_in: int, fd_out: int, stop: threading.Event | None = None) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self.stop = stop or threading.Event()
        self.editor = LineEditor()
        self._pending = b""

    def write(self, text: str) -> None:
        """Write all of it, waiting at most WRITE_TIMEOUT_S for a slow or absent reader."""
        data = _ascii(text)
        deadline = time.monotonic() + WRITE_TIMEOUT_S
        while data and time.monotonic() < deadline:
            try:
                data = data[os.write(self.fd_out, data):]
            except BlockingIOError:
                select.select([], [self.fd_out], [], TICK_S)
            except OSError as exc:
                if exc.errno == errno.EIO:  # the other end of a pty went away: nobody to show it to
                    return
                raise

    def read_line(self, secret: bool, timeout: float) -> str:
        """One line, echoing as it is typed (not for secrets)."""
        self.editor.secret = secret
        deadline = time.monotonic() + timeout
        while True:
            if self._pending:
                echo, line, self._pending = self.editor.feed(self._pending)
                if echo:
                    self.write(echo.decode("ascii"))
                if line is not None:
                    return line
                continue
            if self.stop.is_set():
                raise SessionEnded("stopping")
            if time.monotonic() > deadline:
                raise SessionEnded("idle")
            ready, _, _ = select.select([self.fd_in], [], [], TICK_S)
            if not ready:
                continue
            try:
                data = os.read(self.fd_in, 1024)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # pty slave closed by the technician's program: wait for the next
                    time.sleep(TICK_S)
                    continue
                raise
            if not data:
                raise SessionEnded("hang-up")
            self._pending = data


class LineTerminal:
    """Plain lines on pipes (stdin not a terminal): no echo, no raw mode."""

    def write(self, text: str) -> None:
        """Show text."""
        sys.stdout.write(text)
        sys.stdout.flush()

    def read_line(self, secret: bool, timeout: float) -> str:
        """One line from stdin."""
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        if not ready:
            raise SessionEnded("idle")
        line = sys.stdin.readline()
        if not line:
            raise SessionEnded("hang-up")
        return line.rstrip("\r\n")


def run_dialogue(dialogue: Dialogue, term: Terminal, idle_timeout_s: float) -> str:
    """Drive a dialogue to its end; returns why it ended: done, idle, hang-up or stopping."""
    try:
        prompt = next(dialogue)
        while True:
            term.write(prompt.text)
            line = term.read_line(prompt.secret, idle_timeout_s)
            prompt = dialogue.send(line)
    except StopIteration:
        return "done"
    except SessionEnded as exc:
        dialogue.close()
        return str(exc)


def make_raw(fd: int, baud: int | None = None) -> None:
    """Raw 8-bit, no echo, no output processing; on a real serial port also the speed, 8N1, no modem lines."""
    tty.setraw(fd, termios.TCSANOW)
    if baud is not None:
        attrs = termios.tcgetattr(fd)
        attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.CSTOPB)) | termios.CS8 \
            | termios.CLOCAL | termios.CREAD
        attrs[4] = attrs[5] = BAUD[baud]
        termios.tcsetattr(fd, termios.TCSANOW, attrs)


def open_serial(path: str, baud: int) -> int:
    """Open a serial device for the console (non-blocking, not our controlling tty)."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    make_raw(fd, baud)
    return fd


def open_pty() -> tuple[int, int, str]:
    """A pty for development: (master we serve on, slave kept open, slave path to connect to)."""
    master, slave = os.openpty()
    make_raw(slave)  # the technician's program sets its own mode; raw means no echo from the kernel
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)
