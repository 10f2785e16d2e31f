"""Class 2 (SP-2388 / EIA-592 draft) and Class 2.0 (ITU-T T.32) commands for the emulated modem.

The modem runs T.30 itself (`emulator_class2_call.Class2Call` drives our `T30Session` on the
line); the DTE sets parameters and moves page data.  Answers follow what Rockwell / USRobotics /
ZyXEL modems print, since efax and mgetty sendfax were written against those:

* Class 2 reverses received page data while +FBOR=0 (Rockwell did; efax and mgetty expect it;
  `class2_rx_reversed = False` behaves like a Multi-Tech instead), sends XON after +FDT's CONNECT,
  and ends pages with <DLE><ETX> + AT+FET.
* Class 2.0 keeps the order +FBO asks for both ways, has no XON, and also takes <DLE><ppm>.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace

from hardware.fax_modem.t30.class2_codes import (
    CODE_OF_PAGE_STATUS, COMMANDS, PAGE_STATUS_OF_CODE, RANGES, Dialect, T30Params, caps_of_params,
)
from hardware.fax_modem.t30.emulator_at import ERROR, OK, Command, ModemBase
from hardware.fax_modem.t30.emulator_class1 import CED_SECONDS
from hardware.fax_modem.t30.emulator_class2_call import Class2Call
from hardware.fax_modem.t30.errors import ParamError
from hardware.fax_modem.t30.hdlc import DC1, DC2
from hardware.fax_modem.t30.pagedata import CopyQuality
from hardware.fax_modem.t30.session import T30Session, Timers

# Parameters we accept and keep but that change nothing on an emulated line (value shown on '?').
_PLAIN = {"+FCR": "1", "+FCQ": "1,0", "+FRQ": "0,0", "+FNR": "0,0,0,0", "+FIE": "0", "+FPP": "0", "+FCT": "1E",
          "+FPHCTO": "30", "+FAA": "0", "+FAP": "0,0,0", "+FBU": "0", "+FBUG": "0", "+FMS": "0", "+FMINSP": "0",
          "+FSP": "0", "+FSPL": "0", "+FLP": "0", "+FLPL": "0", "+FPI": '""', "+FCIG": '""', "+FNS": '""',
          "+FREL": "0", "+FECM": "0", "+FAE": "0", "+FTBC": "0", "+FWDFC": "0", "+FAXERR": "0", "+FND": "0",
          "+FIT": "0,0", "+FCS": "", "+FDCS": ""}
_RANGE_OF = {"+FCR": "(0,1)", "+FLO": "(0-2)", "+FBO": "(0-3)", "+FBOR": "(0-3)", "+FNR": "(0,1),(0,1),(0,1),(0,1)",
             "+FIE": "(0,1)", "+FPTS": "(1-5)", "+FPS": "(1-5)", "+FET": "(0-2)", "+FLID": "(20),(32-127)",
             "+FLI": "(20),(32-127)", "+FCT": "(0-FF)"}


class Class2Mixin(ModemBase):
    """T.32 / SP-2388 service class 2 and 2.0 commands."""

    fclasses = ("0", "1", "2", "2.0")
    class2_rx_reversed = True  # Rockwell-style Class 2: received data bit-reversed while +FBOR=0
    t30_timers = Timers()  # the modem's own T.30 timers (real time: DTEs need the full T4 to answer)
    quality = CopyQuality()

    def reset(self) -> None:
        """Factory settings of the fax parameters too (+FIP)."""
        super().reset()
        self.fax_params = T30Params()  # +FDIS/+FIS: what the next session uses
        self.fax_caps = T30Params()  # +FDCC/+FCC: what the modem may do
        self.bit_order = 0  # +FBOR/+FBO: 0 = direct (first bit on the line = LSB of the octet)
        self.flow = 1  # +FLO: 0 none, 1 XON/XOFF, 2 RTS/CTS
        self.xoff_sent = 0  # how often our transmit buffer filled up (tests check the DTE copes)
        self.plain = dict(_PLAIN)
        self.class2_call: Class2Call | None = None

    @property
    def dialect(self) -> Dialect:
        """The service class in use."""
        return Dialect.CLASS20 if self.fclass == "2.0" else Dialect.CLASS2

    @property
    def dte_gone(self) -> bool:
        """True once the DTE closed the port."""
        return self._eof

    def dialect_reverses_tx(self) -> bool:
        """Whether page data from the DTE is bit-reversed before it goes on the line."""
        return bool(self.bit_order & 1)

    def dialect_reverses_rx(self) -> bool:
        """Whether received page data is bit-reversed towards the DTE (Rockwell Class 2 quirk)."""
        if self.dialect is Dialect.CLASS2 and self.class2_rx_reversed:
            return not self.bit_order & 1
        return bool(self.bit_order & 1)

    def push_back(self, data: bytes) -> None:
        """Put bytes read too far back in front of the DTE input."""
        if data:
            self._input[:0] = data
            self._input_event.set()

    async def wait_start_character(self, timeout: float) -> None:
        """T.32 +FDR: the DTE sends <DC2> (some Class 2 DTEs XON) when it is ready for page data."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            data = await self.read_data(max(deadline - loop.time(), 0.001))
            for start in (DC2, DC1):
                index = data.find(bytes((start,)))
                if index >= 0:
                    self.push_back(data[index + 1:])
                    return
            if self._eof:
                return

    # --- commands --------------------------------------------------------------------------------------
    async def fax_command(self, cmd: Command) -> str | None:
        """Dispatch +F commands while +FCLASS=2 or 2.0."""
        if self.fclass not in ("2", "2.0"):
            return await super().fax_command(cmd)
        names = COMMANDS[self.dialect]
        name, op = cmd.name, cmd.op
        hexa = self.dialect is Dialect.CLASS20
        if op == "=?":
            if name in (names.capabilities, names.session):
                self.result(RANGES)
                return OK
            self.result(_RANGE_OF.get(name, "(0,1)"))
            return OK
        if name == names.local_id:
            if op == "?":
                self.result(f'"{self.local_id}"')
            else:
                self.local_id = cmd.arg.strip().strip('"')[:20]
            return OK
        if name in (names.capabilities, names.session):
            return self._session_parameters(name == names.capabilities, cmd, hexa)
        if name == names.bit_order:
            return self._number(cmd, "bit_order", 3)
        if name == "+FLO" and self.dialect is Dialect.CLASS20:
            return self._number(cmd, "flow", 2)
        if name in ("+FDT", "+FDR", "+FET"):
            if op == "?" or self.class2_call is None:
                return ERROR
            return await self.class2_call.submit(name, cmd.arg)
        if name == names.page_status:
            return self._page_status(cmd)
        if name == names.abort:
            return self._abort()
        if name == "+FIP":
            self.reset_fax()
            return OK
        if name in self.plain:
            if op == "?":
                self.result(self.plain[name])
            elif op == "=":
                self.plain[name] = cmd.arg
            return OK
        return ERROR

    def reset_fax(self) -> None:
        """T.32 +FIP: fax parameters back to their defaults, class unchanged."""
        fclass = self.fclass
        local_id = self.local_id
        registers = dict(self.registers)
        echo, verbose, quiet = self.echo, self.verbose, self.quiet
        self.reset()
        self.fclass, self.local_id, self.registers = fclass, local_id, registers
        self.echo, self.verbose, self.quiet = echo, verbose, quiet

    def _session_parameters(self, capabilities: bool, cmd: Command, hexa: bool) -> str:
        current = self.fax_caps if capabilities else self.fax_params
        if cmd.op == "?":
            self.result(current.format(hexadecimal=hexa))  # bare values, as Rockwell / USR print them
            return OK
        try:
            updated = current.merged(cmd.arg, hexadecimal=hexa)
        except ParamError:
            return ERROR
        if capabilities:
            self.fax_caps = self.fax_params = updated  # T.32: setting +FCC copies it into +FIS
        else:
            self.fax_params = _clamp(updated, self.fax_caps)
        return OK

    def _number(self, cmd: Command, attribute: str, highest: int) -> str:
        if cmd.op == "?":
            self.result(str(getattr(self, attribute)))
            return OK
        try:
            value = int(cmd.arg or 0)
        except ValueError:
            return ERROR
        if not 0 <= value <= highest:
            return ERROR
        setattr(self, attribute, value)
        return OK

    def _page_status(self, cmd: Command) -> str:
        call = self.class2_call
        if cmd.op == "?":
            status = call.last_ppr if call is not None else None
            self.result(str(CODE_OF_PAGE_STATUS.get(status, 1)) if status is not None else "1")
            return OK
        try:
            status = PAGE_STATUS_OF_CODE[int(cmd.arg.split(",")[0])]
        except (KeyError, ValueError):
            return ERROR
        if call is not None:
            call.ppr_override = status
        return OK

    def _abort(self) -> str:
        call = self.class2_call
        if call is not None and call.running:
            call.abort()
            self.result(f"{COMMANDS[self.dialect].hangup}:02")
        self.hang_up()
        return OK

    # --- calls ---------------------------------------------------------------------------------------
    def hang_up(self) -> None:
        """On-hook: also stop the modem's T.30 session (later +FDT/+FDR get ERROR)."""
        call = getattr(self, "class2_call", None)
        if call is not None and call.running:
            call.abort()
        self.class2_call = None
        super().hang_up()

    async def connected(self, calling: bool) -> str | None:
        """The modem takes the call: its own T.30 session runs until the DTE's commands are answered."""
        if self.fclass not in ("2", "2.0"):
            return await super().connected(calling)
        assert self.end is not None
        caps = caps_of_params(self.fax_params)
        if calling:
            session = T30Session.sender(caps, self.local_id, 1, timers=self.t30_timers,
                                        fine=bool(self.fax_params.vr), width=caps.max_width)
        else:
            session = T30Session.receiver(caps, self.local_id, timers=self.t30_timers, quality=self.quality)
            await asyncio.sleep(self.scaled(CED_SECONDS))  # T.30 §4.2.2.1: CED before the first DIS
        self.class2_call = Class2Call(self, self.end, session, self.dialect)
        self.class2_call.start()
        return await self.class2_call.submit("D" if calling else "A")


def _clamp(params: T30Params, limit: T30Params) -> T30Params:
    """Session parameters no better than the capabilities: VR, BR, WD, LN and DF are ordered codes."""
    return replace(params, vr=min(params.vr, limit.vr), br=min(params.br, limit.br), wd=min(params.wd, limit.wd),
                   ln=min(params.ln, limit.ln), df=min(params.df, limit.df))
