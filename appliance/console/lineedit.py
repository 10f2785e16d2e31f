"""A pure line editor for a raw serial line: bytes typed in, bytes to echo and finished lines out.

On a serial console the far end is a dumb terminal that does not echo locally, and the tty is raw (so a
pty and /dev/ttyS0 behave the same), so echo and erase are ours, the way getty and login do it:
BS (0x08) and DEL (0x7f) erase one character, ^U the line, ^C abandons it; CR, LF or CR LF end it.
Escape sequences (arrow keys, ECMA-48 §5.4: ESC [ parameters final-byte 0x40–0x7E) are swallowed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_LINE = 200          # longer input is not a menu answer; stop echoing rather than grow forever
BS, DEL, CR, LF, ESC = 0x08, 0x7F, 0x0D, 0x0A, 0x1B
CTRL_C, CTRL_U = 0x03, 0x15
ERASE_ECHO = b"\b \b"


@dataclass
class LineEditor:
    """Collects one line at a time; `secret` lines are not echoed (passwords)."""

    secret: bool = False
    _buf: bytearray = field(default_factory=bytearray)
    _after_cr: bool = False
    _esc: int = 0  # 0: normal, 1: after ESC, 2: inside a CSI sequence

    def feed(self, data: bytes) -> tuple[bytes, str | None, bytes]:
        """Consume bytes until a line ends: (echo, the line or None, bytes not consumed yet)."""
        echo = bytearray()
        for i, byte in enumerate(data):
            line = self._byte(byte, echo)
            if line is not None:
                return bytes(echo), line, data[i + 1:]
        return bytes(echo), None, b""

    def _byte(self, byte: int, echo: bytearray) -> str | None:
        after_cr, self._after_cr = self._after_cr, False
        if self._esc == 1:
            self._esc = 2 if byte in (0x5B, 0x4F) else 0  # CSI `[` or SS3 `O` (VT100 cursor keys)
            return None
        if self._esc == 2:
            if 0x40 <= byte <= 0x7E:
                self._esc = 0
            return None
        if byte == ESC:
            self._esc = 1
        elif byte in (CR, LF):
            if byte == LF and after_cr:
                return None  # the LF of a CR LF pair: the line already ended at CR
            self._after_cr = byte == CR
            echo += b"\r\n"
            line = self._buf.decode("ascii")
            self._buf.clear()
            return line
        elif byte in (BS, DEL):
            if self._buf:
                self._buf.pop()
                if not self.secret:
                    echo += ERASE_ECHO
        elif byte == CTRL_U:
            if not self.secret:
                echo += ERASE_ECHO * len(self._buf)
            self._buf.clear()
        elif byte == CTRL_C:
            self._buf.clear()
            echo += b"^C\r\n"
            return ""
        elif 0x20 <= byte < 0x7F and len(self._buf) < MAX_LINE:
            self._buf.append(byte)
            if not self.secret:
                echo.append(byte)
        return None  # other control bytes and 8-bit noise (a wrong baud rate) are ignored

    @property
    def pending(self) -> str:
        """What has been typed on the current line so far."""
        return self._buf.decode("ascii")
