"""Emulated fax modems (Class 1 per T.31, Class 2 / 2.0 per SP-2388 / T.32) on an emulated phone line.

    exchange = Exchange(timescale=0.05)
    a = FaxModemEmulator(exchange, "100", local_id="EMU A")
    b = FaxModemEmulator(exchange, "200", local_id="EMU B")
    unregister = a.register("fax-a")              # now "emu://fax-a" reaches modem a
    path = await a.start_pty()                    # and /dev/pts/N does too (efax, mgetty, our driver)
    exchange.port("200").faults.ber = 1e-4        # line noise on b's transmissions

From a shell: `python -m hardware.fax_modem.t30.emulator --pty --class 2.0 --number 100` (see
`emulator_cli`).  Each modem answers V.250 basics (ATZ, ATE, ATV, ATQ, ATI, S-registers), identity queries
(+FMFR?/+FMI?, +FMDL?/+FMM?, +FREV?/+FMR?), +FCLASS=? and the commands of its fax classes.
"""
from __future__ import annotations

from collections.abc import Callable

from hardware.fax_modem.t30.emulator_class1 import Class1Mixin
from hardware.fax_modem.t30.emulator_class2 import Class2Mixin
from hardware.serial.pty import PtyEndpoint
from hardware.serial.transport import register_emulator


class FaxModemEmulator(Class2Mixin, Class1Mixin):
    """A virtual fax modem with service classes 1, 2 and 2.0."""

    _pty: PtyEndpoint | None = None

    @property
    def transcript(self) -> list[str]:
        """What this modem put on the line, in order: "> DIS", "> MCF", "> carrier 145" ..."""
        return self.port.transcript

    def register(self, name: str) -> Callable[[], None]:
        """Make `emu://<name>` reach this modem; returns the unregister function."""
        return register_emulator(name, self)

    async def start_pty(self) -> str:
        """Serve this modem on a new pty; returns the slave path (/dev/pts/N)."""
        self._pty = PtyEndpoint(self)
        return await self._pty.start()

    async def unplug(self) -> None:
        """Close the pty as if the modem were pulled out (the DTE sees the device vanish)."""
        if self._pty is not None:
            await self._pty.unplug()
        self.hang_up()


if __name__ == "__main__":  # python -m hardware.fax_modem.t30.emulator --pty --class 2.0 --number 100
    from hardware.fax_modem.t30.emulator_cli import main

    raise SystemExit(main())
