"""Fax lines from the configuration, and the emulated exchange that `make run` uses without hardware.

`fax.modems = "emu://fax-a"` (default) makes an in-process emulated Class 1 modem on an emulated exchange,
plus a second emulated fax machine ("the outside world", number EMULATED_REMOTE) that the admin console
and tests use to send a fax to the appliance and to receive what it sends.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

from hardware.fax_modem.t30 import FaxModem, Timers
from hardware.fax_modem.t30.reports import LineState
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4_page import Page

EMULATED_REMOTE = "+4940999000"
EMULATED_TIMESCALE = 0.05  # the emulated line runs 20x faster than a real one
IN_CALL = frozenset({LineState.RINGING, LineState.DIALING, LineState.CONNECTED, LineState.PAGE})


@dataclass
class FaxLine:
    """One modem with its own number (the service address a caller dialled)."""

    name: str
    url: str
    number: str
    cls: str = "1"
    state: str = "down"
    last_error: str = ""
    last_activity: float | None = None
    received: int = 0
    sent: int = 0
    modem: FaxModem | None = None

    @property
    def emulated(self) -> bool:
        """True for emu:// lines."""
        return self.url.startswith("emu://")

    def health(self) -> dict[str, Any]:
        """For the admin console and SNMP's hardware table."""
        return {"name": self.name, "type": "fax_modem", "device": self.url, "number": self.number,
                "class": self.cls, "state": self.state, "last_error": self.last_error,
                "last_activity": self.last_activity, "received": self.received, "sent": self.sent}

    def hardware_row(self) -> dict[str, Any]:
        """The row SNMP's hardware table shows (appliance.snmp.const HARDWARE_KEY): up when the modem is
        open and idle, busy in a call, down when it cannot be opened."""
        in_call = self.modem is not None and self.modem.state in IN_CALL
        state = {"idle": "busy" if in_call else "up", "sending": "busy", "down": "down"}.get(self.state, "unknown")
        return {"type": "fax_modem", "device": self.url, "state": state, "last_activity": self.last_activity or 0}


def parse_lines(modems: str, numbers: str, cls: str) -> list[FaxLine]:
    """`modems` and `numbers` are comma-separated lists of the same length; ValueError names the problem."""
    urls = [m.strip() for m in modems.split(",") if m.strip()]
    nums = [n.strip() for n in numbers.split(",") if n.strip()]
    if len(nums) != len(urls):
        raise ValueError(f"fax.numbers must give one number per modem ({len(urls)} modems, {len(nums)} numbers)")
    return [FaxLine(url.split("://", 1)[-1].strip("/").replace("/", "-") or f"fax{i}", url, num, cls)
            for i, (url, num) in enumerate(zip(urls, nums))]


@dataclass
class EmulatedFaxNetwork:
    """The emulated exchange with our modems and one outside fax machine."""

    exchange: Exchange
    emulators: dict[str, FaxModemEmulator] = field(default_factory=dict)
    undo: list[Callable[[], None]] = field(default_factory=list)
    remote_url: str = "emu://fax-remote"

    def close(self) -> None:
        """Unregister the emulators."""
        for undo in self.undo:
            undo()

    async def send_in(self, number: str, pages: list[Page], station_id: str = EMULATED_REMOTE) -> Any:
        """The outside machine faxes `pages` to `number` (one of ours); returns its send report."""
        modem = await FaxModem(self.remote_url, "1", local_id=station_id, timers=Timers().scaled(0.3)).open()
        try:
            return await modem.send(number, pages)
        finally:
            await modem.close()

    async def receive_out(self, timeout: float = 60.0) -> Any:
        """The outside machine takes the next fax the appliance sends; returns what arrived."""
        modem = await FaxModem(self.remote_url, "1", local_id=EMULATED_REMOTE, timers=Timers().scaled(0.3)).open()
        try:
            return await modem.receive(timeout=timeout)
        finally:
            await modem.close()


def build_emulated(lines: list[FaxLine]) -> EmulatedFaxNetwork:
    """Emulated modems for the emu:// lines, numbered as configured, plus the outside machine."""
    net = EmulatedFaxNetwork(Exchange(timescale=EMULATED_TIMESCALE))
    for line in lines:
        if line.emulated:
            emu = FaxModemEmulator(net.exchange, line.number)
            net.emulators[line.name] = emu
            net.undo.append(emu.register(line.url.split("://", 1)[1]))
    remote = FaxModemEmulator(net.exchange, EMULATED_REMOTE)
    net.emulators["remote"] = remote
    net.undo.append(remote.register("fax-remote"))
    return net
