"""The GSM package's exception family: every error it raises on purpose is a `GsmError`."""
from __future__ import annotations


class GsmError(Exception):
    """Base of every error raised on purpose by `hardware.gsm`."""


class PduError(GsmError, ValueError):
    """A PDU (or text to be encoded) that does not follow TS 23.040 / TS 23.038."""


class ModemError(GsmError):
    """The modem refused a command, or answered something the driver cannot use."""


class ModemUnavailable(ModemError):
    """The modem is gone (unplugged, port closed) or no modem of a pool can take the work."""
