"""Async AT-command channel over serial ports, ptys, TCP and in-process emulators.

Public API: `open_transport(url)`, `register_emulator(name, emulator)`, `AtChannel`, `AtResponse`,
`Urc`, `PtyEndpoint`, and the `AtError` family. See `hardware.serial.channel` for the channel's use.
"""
from hardware.serial.channel import AtChannel
from hardware.serial.errors import (
    AtClosed, AtCommandError, AtError, AtParseError, AtTimeout, CmeError, CmsError, TransportError,
)
from hardware.serial.lines import AtResponse, Final, Urc
from hardware.serial.pty import PtyEndpoint
from hardware.serial.transport import Transport, open_transport, register_emulator

__all__ = [
    "AtChannel", "AtClosed", "AtCommandError", "AtError", "AtParseError", "AtResponse", "AtTimeout", "CmeError",
    "CmsError", "Final", "PtyEndpoint", "Transport", "TransportError", "Urc", "open_transport", "register_emulator",
]
