"""Exceptions of the T.30 engine and the fax modem drivers; all are `FaxError`s."""
from __future__ import annotations

from hardware.fax_modem.errors import FaxError


class T30Error(FaxError):
    """Base of every error raised by hardware.fax_modem.t30."""


class FrameError(T30Error, ValueError):
    """Bytes that are not a T.30 HDLC frame (too short, bad address/control, FIF too short)."""


class DleError(T30Error, ValueError):
    """A DLE-coded stream that breaks T.31 §8.3.3 / T.32 §8.5 transparency rules."""


class ModemError(T30Error):
    """The modem answered in a way the driver cannot continue from (wrong result code, no answer)."""


class CallFailed(T30Error):
    """The call could not be made or answered: BUSY, NO ANSWER, NO CARRIER, NO DIALTONE, no fax peer."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ParamError(T30Error, ValueError):
    """A Class 2 / 2.0 parameter list, page status or hang-up line that does not follow T.32 / SP-2388."""
