"""The serial package's exception family: every error it raises on purpose is an `AtError`."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardware.serial.lines import AtResponse


class AtError(Exception):
    """Base of every error raised on purpose by `hardware.serial`."""


class AtParseError(AtError, ValueError):
    """A line from the device that does not follow V.250 / TS 27.007 syntax."""


class TransportError(AtError):
    """A transport URL that cannot be opened (bad scheme, unknown emulator, port missing)."""


class AtTimeout(AtError, TimeoutError):
    """No final result code (or prompt, or raw data) came within the time allowed."""


class AtClosed(AtError, ConnectionError):
    """The transport closed (device unplugged, pty hung up, emulator stopped)."""


class AtCommandError(AtError):
    """The device answered with an error result code; `response` holds the whole answer."""

    def __init__(self, response: AtResponse) -> None:
        super().__init__(f"{response.command!r} failed: {response.final}")
        self.response = response

    @property
    def code(self) -> int | None:
        """The numeric +CME/+CMS error code, if the device gave one."""
        return self.response.error_code


class CmeError(AtCommandError):
    """+CME ERROR: equipment error (TS 27.007 §9.2)."""


class CmsError(AtCommandError):
    """+CMS ERROR: message service error (TS 27.005 §3.2.5)."""
