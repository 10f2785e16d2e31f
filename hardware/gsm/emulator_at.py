"""AT command handlers of the GSM modem emulator (TS 27.007 §5-8, TS 27.005 §3), kept apart from its I/O.

Each handler gets (mode, argument) where mode is '' (action), '?' (read), '=?' (test) or '=' (set),
returns information lines, and raises `CommandFailed` for an error result code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from hardware.gsm.errors import PduError
from hardware.gsm.fields import Address, Ton
from hardware.gsm.pdu import DeliverPdu, StatusReportPdu, SubmitPdu, decode_pdu, encode_pdu, split_text
from hardware.serial.lines import split_args

if TYPE_CHECKING:
    from hardware.gsm.emulator import GsmEmulator

# TS 27.007 §9.2.1 / TS 27.005 §3.2.5 codes the emulator uses.
CME_NOT_ALLOWED, CME_NOT_SUPPORTED, CME_SIM_PIN_REQUIRED, CME_WRONG_PASSWORD = 3, 4, 11, 16
CME_INVALID_INDEX, CME_NO_NETWORK = 21, 30
CMS_SIM_PIN_REQUIRED, CMS_INVALID_PDU, CMS_NOT_ALLOWED, CMS_INVALID_INDEX = 311, 304, 302, 321
CMS_MEMORY_FULL, CMS_NO_NETWORK, CMS_INVALID_TEXT_MODE_PARAM = 322, 331, 305

STATUS_NAMES = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL")


class CommandFailed(Exception):
    """Internal: the command ends with ERROR, +CME ERROR: n or +CMS ERROR: n."""

    def __init__(self, cme: int | None = None, cms: int | None = None) -> None:
        super().__init__(cme or cms)
        self.cme = cme
        self.cms = cms


@dataclass
class StoredSms:
    """One slot of the emulated message store: TS 27.005 <stat> and the PDU with its SMSC prefix."""

    status: int
    pdu: bytes


@dataclass
class BodyRequest:
    """A +CMGS/+CMGW waiting for its body after the '> ' prompt."""

    command: str
    argument: str


def text_stamp(stamp: datetime) -> str:
    """Text-mode time stamp "yy/MM/dd,hh:mm:ss±zz" (TS 27.005 §3.3.1, zone in quarter hours)."""
    offset = stamp.utcoffset()
    quarters = int(offset.total_seconds() // 900) if offset else 0
    return stamp.strftime("%y/%m/%d,%H:%M:%S") + f"{quarters:+03d}"


def _quoted_address(addr: Address) -> str:
    return f'"{addr}"'


class AtCommands:
    """The handlers; mixed into `GsmEmulator`, which supplies the state they touch."""

    def handlers(self: GsmEmulator) -> dict[str, Callable[[str, str], list[str]]]:
        """Command name to handler."""
        ident = {"+CGMI": self.manufacturer, "+GMI": self.manufacturer, "+CGMM": self.model,
                 "+GMM": self.model, "+CGMR": self.revision, "+GMR": self.revision, "+CGSN": self.imei,
                 "+GSN": self.imei}
        table: dict[str, Callable[[str, str], list[str]]] = {
            name: (lambda mode, arg, v=value: [] if mode == "=?" else [v]) for name, value in ident.items()
        }
        table.update({
            "+CIMI": self._cimi, "+CPIN": self._cpin, "+CSQ": self._csq, "+CREG": self._creg, "+COPS": self._cops,
            "+CMEE": self._cmee, "+CMGF": self._cmgf, "+CSCS": self._cscs, "+CPMS": self._cpms, "+CNMI": self._cnmi,
            "+CMGL": self._cmgl, "+CMGR": self._cmgr, "+CMGD": self._cmgd, "+CMGS": self._cmgs, "+CMGW": self._cmgw,
            "+CSCA": self._csca, "+CSMS": self._csms, "+CSDH": self._simple_flag, "+CSMP": self._simple_flag,
            "+CFUN": self._cfun, "+CBC": self._cbc, "+CLIP": self._clip, "+CPAS": self._cpas,
            "+CGATT": lambda mode, arg: ["+CGATT: 0"] if mode == "?" else [],
        })
        return table

    # --- identity, SIM, network ------------------------------------------------------------

    def _need_sim(self: GsmEmulator, sms: bool = False) -> None:
        if self.pin_state != "READY":
            raise CommandFailed(cms=CMS_SIM_PIN_REQUIRED) if sms else CommandFailed(cme=CME_SIM_PIN_REQUIRED)

    def _cimi(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return []
        self._need_sim()
        return [self.imsi]

    def _cpin(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "?":
            return [f"+CPIN: {self.pin_state}"]
        if mode == "=":
            given = split_args(arg)[0]
            if self.pin_state == "READY":
                raise CommandFailed(cme=CME_NOT_ALLOWED)
            if given != self.pin:
                raise CommandFailed(cme=CME_WRONG_PASSWORD)
            self.pin_state = "READY"
            return []
        return []

    def _csq(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return ["+CSQ: (0-31,99),(0-7,99)"]
        return [f"+CSQ: {self.rssi if self.registered else 99},99"]

    def _creg(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return ["+CREG: (0-2)"]
        if mode == "=":
            self.creg_mode = self._int(arg, 0, 2)
            return []
        tail = f',"{self.lac}","{self.cell}"' if self.creg_mode == 2 and self.registered else ""
        return [f"+CREG: {self.creg_mode},{self.registration_status}{tail}"]

    def _cops(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return [f'+COPS: (2,"{self.operator}","EMU","{self.mcc_mnc}"),,(0-4),(0-2)']
        if mode == "?":
            return [f'+COPS: 0,0,"{self.operator}"'] if self.registered else ["+COPS: 0"]
        return []

    def _cmee(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "?":
            return [f"+CMEE: {self.cmee}"]
        if mode == "=?":
            return ["+CMEE: (0-2)"]
        self.cmee = self._int(arg or "0", 0, 2)
        return []

    def _cfun(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        return ["+CFUN: 1"] if mode == "?" else ["+CFUN: (0,1,4),(0-1)"] if mode == "=?" else []

    def _cbc(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        return [] if mode == "=?" else ["+CBC: 0,100"]

    def _cpas(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        return [] if mode == "=?" else ["+CPAS: 0"]

    def _clip(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=":
            self.clip = self._int(arg, 0, 1) == 1
            return []
        return [f"+CLIP: {int(self.clip)},1"] if mode == "?" else ["+CLIP: (0,1)"]

    @staticmethod
    def _int(text: str, low: int, high: int, cms: bool = False) -> int:
        try:
            value = int(text.strip().strip('"'))
        except ValueError:
            raise CommandFailed(cms=CMS_NOT_ALLOWED) if cms else CommandFailed(cme=CME_NOT_ALLOWED) from None
        if not low <= value <= high:
            raise CommandFailed(cms=CMS_NOT_ALLOWED) if cms else CommandFailed(cme=CME_NOT_ALLOWED)
        return value

    # --- SMS settings -----------------------------------------------------------------------

    def _cmgf(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "?":
            return [f"+CMGF: {self.cmgf}"]
        if mode == "=?":
            return ["+CMGF: (0,1)"]
        self.cmgf = self._int(arg or "0", 0, 1, cms=True)
        return []

    def _cscs(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "?":
            return [f'+CSCS: "{self.cscs}"']
        if mode == "=?":
            return ['+CSCS: ("GSM","IRA","UCS2")']
        value = split_args(arg)[0].upper()
        if value not in ("GSM", "IRA", "UCS2"):
            raise CommandFailed(cme=CME_NOT_SUPPORTED)
        self.cscs = value
        return []

    def _csms(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return ["+CSMS: (0,1)"]
        return ["+CSMS: 0,1,1,1"]

    def _simple_flag(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        return []

    def _csca(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        self._need_sim(sms=True)
        if mode == "?":
            addr = Address.parse(self.smsc)
            return [f'+CSCA: "{addr}",{addr.type_octet}']
        if mode == "=":
            self.smsc = split_args(arg)[0]
        return []

    def _cpms(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        names = '("SM","ME")'
        if mode == "=?":
            return [f"+CPMS: {names},{names},{names}"]
        self._need_sim(sms=True)
        if mode == "?":
            return ["+CPMS: " + ",".join(f'"{m}",{len(self.stores[m])},{self.capacity[m]}' for m in self.mem)]
        wanted = [a.upper() for a in split_args(arg) if a]
        if not wanted or any(m not in self.stores for m in wanted):
            raise CommandFailed(cms=CMS_NOT_ALLOWED)
        for i, name in enumerate(wanted[:3]):
            self.mem[i] = name
        return ["+CPMS: " + ",".join(f"{len(self.stores[m])},{self.capacity[m]}" for m in self.mem)]

    def _cnmi(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "?":
            return ["+CNMI: " + ",".join(str(v) for v in self.cnmi)]
        if mode == "=?":
            return ["+CNMI: (0-2),(0-2),(0),(0-2),(0,1)"]
        values = [a for a in split_args(arg)]
        limits = (2, 2, 3, 2, 1)
        for i, text in enumerate(values[:5]):
            if text:
                self.cnmi[i] = self._int(text, 0, limits[i], cms=True)
        return []

    # --- the message store ------------------------------------------------------------------

    def _read_line(self: GsmEmulator, prefix: str, index: int, slot: StoredSms, with_index: bool) -> list[str]:
        head = f"{prefix}: {index}," if with_index else f"{prefix}: "
        if self.cmgf == 0:
            length = len(slot.pdu) - 1 - slot.pdu[0]
            return [f"{head}{slot.status},,{length}", slot.pdu.hex().upper()]
        msg = decode_pdu(slot.pdu)
        status = f'"{STATUS_NAMES[slot.status]}"'
        if isinstance(msg, DeliverPdu):
            return [f"{head}{status},{_quoted_address(msg.sender)},,\"{text_stamp(msg.timestamp)}\"", msg.text or ""]
        if isinstance(msg, SubmitPdu):
            return [f"{head}{status},{_quoted_address(msg.to)},", msg.text or ""]
        return [f"{head}{status},6,{msg.reference},{_quoted_address(msg.recipient)},,"
                f"\"{text_stamp(msg.timestamp)}\",\"{text_stamp(msg.discharge_time)}\",{msg.status}"]

    def _status_filter(self: GsmEmulator, arg: str) -> int:
        text = (split_args(arg)[0] if arg else ("0" if self.cmgf == 0 else "REC UNREAD")).upper()
        if self.cmgf == 1:
            if text not in STATUS_NAMES:
                raise CommandFailed(cms=CMS_INVALID_TEXT_MODE_PARAM)
            return STATUS_NAMES.index(text)
        return self._int(text, 0, 4, cms=True)

    def _cmgl(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            names = ",".join(f'"{name}"' for name in STATUS_NAMES)
            return ["+CMGL: (0-4)" if self.cmgf == 0 else f"+CMGL: ({names})"]
        self._need_sim(sms=True)
        wanted = self._status_filter(arg)
        store = self.stores[self.mem[0]]
        lines: list[str] = []
        for index in sorted(store):
            slot = store[index]
            if wanted == 4 or slot.status == wanted:
                lines += self._read_line("+CMGL", index, slot, True)
                if slot.status == 0:
                    slot.status = 1  # listing marks received messages read, as modems do
        return lines

    def _cmgr(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return []
        self._need_sim(sms=True)
        index = self._int(arg, 0, 10_000, cms=True)
        slot = self.stores[self.mem[0]].get(index)
        if slot is None:
            raise CommandFailed(cms=CMS_INVALID_INDEX)
        lines = self._read_line("+CMGR", index, slot, False)
        if slot.status == 0:
            slot.status = 1
        return lines

    def _cmgd(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return ["+CMGD: (" + ",".join(str(i) for i in sorted(self.stores[self.mem[0]])) + "),(0-4)"]
        self._need_sim(sms=True)
        args = split_args(arg)
        store = self.stores[self.mem[0]]
        flag = self._int(args[1], 0, 4, cms=True) if len(args) > 1 and args[1] else 0
        if flag == 0:
            index = self._int(args[0], 0, 10_000, cms=True)
            if index not in store:
                raise CommandFailed(cms=CMS_INVALID_INDEX)
            del store[index]
        else:
            doomed = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}[flag]
            for index in [i for i, s in store.items() if s.status in doomed]:
                del store[index]
        self.deleted += 1
        self.network_retry()
        return []

    # --- sending ----------------------------------------------------------------------------

    def _cmgs(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return []
        self._need_sim(sms=True)
        if not arg:
            raise CommandFailed(cms=CMS_NOT_ALLOWED)
        self.body_request = BodyRequest("+CMGS", arg)
        return []

    def _cmgw(self: GsmEmulator, mode: str, arg: str) -> list[str]:
        if mode == "=?":
            return []
        self._need_sim(sms=True)
        self.body_request = BodyRequest("+CMGW", arg)
        return []

    def submit_from_body(self: GsmEmulator, request: BodyRequest, body: bytes) -> tuple[SubmitPdu, bytes]:
        """Turn what followed the prompt into an SMS-SUBMIT (PDU mode: hex; text mode: the text)."""
        if self.cmgf == 0:
            try:
                length = int(split_args(request.argument)[0])
                raw = bytes.fromhex(body.decode("ascii").strip())
                msg = decode_pdu(raw)
            except (ValueError, UnicodeDecodeError, PduError):
                raise CommandFailed(cms=CMS_INVALID_PDU) from None
            if not isinstance(msg, SubmitPdu) or len(raw) - 1 - raw[0] != length:
                raise CommandFailed(cms=CMS_INVALID_PDU)
            return msg, raw
        args = split_args(request.argument)
        try:
            text = body.decode("utf-8")
            parts = split_text(text, Address.parse(args[0]), smsc=Address.parse(self.smsc))
        except (UnicodeDecodeError, PduError, IndexError):
            raise CommandFailed(cms=CMS_INVALID_TEXT_MODE_PARAM) from None
        if len(parts) != 1:
            raise CommandFailed(cms=CMS_INVALID_TEXT_MODE_PARAM)
        return parts[0], encode_pdu(parts[0])

    def status_report_pdu(self: GsmEmulator, submit: SubmitPdu, reference: int, status: int,
                          when: datetime) -> bytes:
        """The SMS-STATUS-REPORT the network sends back for `submit`."""
        recipient = submit.to if submit.to.ton != Ton.ALPHANUMERIC else Address("0")
        report = StatusReportPdu(reference=reference, recipient=recipient, timestamp=when, discharge_time=when,
                                 status=status, smsc=Address.parse(self.smsc))
        return encode_pdu(report)
