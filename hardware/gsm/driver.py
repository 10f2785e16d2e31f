"""`GsmModem`: the SMS driver over an `AtChannel` (TS 27.007 / 27.005, PDU mode), and a `ModemPool`.

    modem = await GsmModem.open("serial:///dev/ttyUSB0?baud=115200", pin="1234")
    await modem.init()                                    # echo off, CMEE, PIN, PDU mode, CNMI
    info = await modem.identify(); sig = await modem.signal(); reg = await modem.registration()
    await modem.drain_inbox(spool)                        # spool(msg) must persist; only then is msg deleted
    result = await modem.send("+46708251358", "text", status_report=True, tag="outbox-17")
    event = await modem.events.get()                      # NewMessage / DeliveryReport / ... / ModemGone

Nothing lost (DESIGN.md "Intake"): `drain_inbox` deletes a message from the SIM only after the
caller's `spool` coroutine returned; if it raises, that message and the rest stay on the SIM.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hardware.gsm import gsm7
from hardware.gsm.errors import ModemError, ModemUnavailable, PduError
from hardware.gsm.fields import ValidityPeriod
from hardware.gsm.pdu import Pdu, StatusReportPdu, cmgs_length, decode_pdu, encode_pdu, split_text
from hardware.serial import AtChannel, AtClosed, AtCommandError, AtError, AtResponse, Urc
from hardware.serial.lines import split_args

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 10.0
SEND_TIMEOUT = 60.0  # TS 27.005 leaves it open; networks answer +CMGS within tens of seconds
CNMI_SETTINGS = ("2,1,0,1,0", "1,1,0,1,0", "2,1,0,2,0", "1,1,0,2,0")  # +CMTI for SMS, +CDS/+CDSI reports


@dataclass(frozen=True)
class ModemInfo:
    """What the modem says it is (+CGMI, +CGMM, +CGMR, +CGSN, +CIMI)."""

    manufacturer: str
    model: str
    revision: str
    imei: str
    imsi: str | None


@dataclass(frozen=True)
class Signal:
    """+CSQ (TS 27.007 §8.5); rssi None means unknown (99)."""

    rssi: int | None
    ber: int | None

    @property
    def dbm(self) -> int | None:
        """Received power: rssi 0 is -113 dBm or less, each step 2 dB."""
        return None if self.rssi is None else -113 + 2 * self.rssi


@dataclass(frozen=True)
class Registration:
    """+CREG (TS 27.007 §7.2): 1 home, 5 roaming are registered."""

    status: int
    lac: str | None = None
    cell: str | None = None

    @property
    def registered(self) -> bool:
        """True when the modem can send."""
        return self.status in (1, 5)


@dataclass(frozen=True)
class StoredMessage:
    """One message in the modem's store; `pdu` is None when it does not decode (send `raw` to quarantine)."""

    index: int
    status: int
    raw: bytes
    pdu: Pdu | None
    error: str | None = None

    @property
    def digest(self) -> str:
        """SHA-256 of the raw PDU: the idempotency key for the spool."""
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True)
class SendResult:
    """The TP-MRs the network gave each part, in order."""

    references: tuple[int, ...]
    concat_reference: int | None
    tag: str | None = None


@dataclass(frozen=True)
class NewMessage:
    """+CMTI: a message was stored at `index` of `memory`."""

    memory: str
    index: int


@dataclass(frozen=True)
class DirectMessage:
    """+CMT: a message routed straight to us, not stored; spool it at once."""

    message: StoredMessage


@dataclass(frozen=True)
class DeliveryReport:
    """A status report matched to what we sent: `tag` and `part` come from `send`."""

    reference: int
    status: int
    delivered: bool
    final: bool
    recipient: str
    discharge_time: datetime
    tag: str | None
    part: int | None
    raw: bytes


@dataclass(frozen=True)
class RegistrationChanged:
    """+CREG URC."""

    status: int


@dataclass(frozen=True)
class ModemGone:
    """The port closed: the modem was unplugged or crashed."""

    name: str


ModemEvent = NewMessage | DirectMessage | DeliveryReport | RegistrationChanged | ModemGone


def parse_stored(index: int, status: int, pdu_hex: str) -> StoredMessage:
    """Decode one +CMGL/+CMGR entry; a bad PDU is kept raw with its error."""
    try:
        raw = bytes.fromhex(pdu_hex.strip())
    except ValueError:
        return StoredMessage(index, status, pdu_hex.encode(), None, "PDU line is not hex")
    try:
        return StoredMessage(index, status, raw, decode_pdu(raw))
    except PduError as exc:
        return StoredMessage(index, status, raw, None, str(exc))


class GsmModem:
    """One GSM modem (see the module docstring)."""

    def __init__(self, channel: AtChannel, *, name: str = "gsm", pin: str | None = None,
                 command_timeout: float = COMMAND_TIMEOUT, send_timeout: float = SEND_TIMEOUT) -> None:
        self.channel = channel
        self.name = name
        self.pin = pin
        self.command_timeout = command_timeout
        self.send_timeout = send_timeout
        self.events: asyncio.Queue[ModemEvent] = asyncio.Queue()
        self._outstanding: dict[int, tuple[str | None, int]] = {}
        self._concat_reference = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        channel.on_unsolicited(self._on_urc)
        channel.on_close(lambda: self.events.put_nowait(ModemGone(self.name)))

    @classmethod
    async def open(cls, url: str, **options: Any) -> GsmModem:
        """Open the port named by `url` (any `open_transport` form) and wrap it."""
        try:
            channel = await AtChannel.open(url, default_timeout=options.get("command_timeout", COMMAND_TIMEOUT))
        except AtError as exc:
            raise ModemUnavailable(f"cannot open {url}: {exc}") from exc
        return cls(channel, name=options.pop("name", url), **options)

    @property
    def alive(self) -> bool:
        """False once the port closed."""
        return not self.channel.closed

    async def _at(self, cmd: str, timeout: float | None = None, body: str | None = None) -> AtResponse:
        try:
            response = await self.channel.command(cmd, timeout=timeout or self.command_timeout, body=body)
            return response.raise_for_error()
        except AtClosed as exc:
            raise ModemUnavailable(f"{self.name}: {exc}") from exc
        except AtCommandError as exc:
            raise ModemError(f"{self.name}: {cmd} failed: {exc.response.final}") from exc
        except AtError as exc:
            raise ModemError(f"{self.name}: {cmd}: {exc}") from exc

    async def init(self) -> None:
        """Echo off, verbose and numeric errors, SIM PIN, PDU mode, SM storage, new-message indications."""
        await self._at("ATE0V1")
        await self._at("AT+CMEE=1")
        state = (await self._at("AT+CPIN?")).first("+CPIN")[0].upper()
        if state == "SIM PIN":
            if not self.pin:
                raise ModemError(f"{self.name}: the SIM asks for a PIN and none is configured")
            await self._at(f'AT+CPIN="{self.pin}"')
        elif state != "READY":
            raise ModemError(f"{self.name}: SIM is not usable ({state})")
        await self._at("AT+CMGF=0")
        try:
            await self._at('AT+CPMS="SM","SM","SM"')
        except ModemError as exc:
            log.warning("%s keeps its default message storage: %s", self.name, exc)
        for setting in CNMI_SETTINGS:
            try:
                await self._at(f"AT+CNMI={setting}")
                break
            except ModemError:
                continue
        else:
            log.warning("%s accepts no +CNMI setting; poll the inbox instead", self.name)

    async def identify(self) -> ModemInfo:
        """Manufacturer, model, revision, IMEI and IMSI."""
        async def one(cmd: str) -> str:
            lines = (await self._at(cmd)).lines
            text = lines[0] if lines else ""
            name = cmd[2:]
            return text.split(":", 1)[1].strip() if text.upper().startswith(name + ":") else text

        imsi: str | None
        try:
            imsi = await one("AT+CIMI")
        except ModemError:
            imsi = None
        return ModemInfo(await one("AT+CGMI"), await one("AT+CGMM"), await one("AT+CGMR"), await one("AT+CGSN"), imsi)

    async def signal(self) -> Signal:
        """+CSQ; 99 becomes None."""
        args = (await self._at("AT+CSQ")).first("+CSQ")
        try:
            rssi, ber = int(args[0]), int(args[1])
        except (ValueError, IndexError):
            raise ModemError(f"{self.name}: unreadable +CSQ {args}") from None
        return Signal(None if rssi == 99 else rssi, None if ber == 99 else ber)

    async def registration(self) -> Registration:
        """+CREG? (the n field is skipped)."""
        args = (await self._at("AT+CREG?")).first("+CREG")
        try:
            return Registration(int(args[1]), *(args[2:4] or [None, None]))
        except (ValueError, IndexError):
            raise ModemError(f"{self.name}: unreadable +CREG {args}") from None

    async def operator(self) -> str | None:
        """+COPS? operator name, None if not registered."""
        args = (await self._at("AT+COPS?")).first("+COPS")
        return args[2] if len(args) > 2 else None

    async def list_messages(self, status: int = 4) -> list[StoredMessage]:
        """+CMGL=<status> in PDU mode (4: all)."""
        response = await self._at(f"AT+CMGL={status}", timeout=max(self.command_timeout, 30))
        return _pair_listing(response.lines, self.name)

    async def read_message(self, index: int) -> StoredMessage:
        """+CMGR=<index>."""
        response = await self._at(f"AT+CMGR={index}")
        head = response.first("+CMGR")
        body = [line for line in response.lines if not line.upper().startswith("+CMGR")]
        if not body:
            raise ModemError(f"{self.name}: +CMGR={index} returned no PDU")
        return parse_stored(index, int(head[0]) if head[0].isdigit() else 0, body[0])

    async def delete(self, index: int) -> None:
        """+CMGD=<index>."""
        await self._at(f"AT+CMGD={index}")

    async def drain_inbox(self, spool: Callable[[StoredMessage], Awaitable[None]]) -> int:
        """Hand every stored message to `spool`, deleting each only after `spool` returned; returns the count."""
        done = 0
        for message in await self.list_messages(4):
            await spool(message)  # an exception here leaves this message (and the rest) on the SIM
            await self.delete(message.index)
            done += 1
        return done

    async def send(self, number: str, text: str, *, status_report: bool = False, tag: str | None = None,
                   validity: ValidityPeriod | None = None, national: gsm7.Language | None = None) -> SendResult:
        """Send `text` (split into parts as needed); PduError for text that cannot be sent at all."""
        self._concat_reference = (self._concat_reference + 1) % 256
        parts = split_text(text, number, reference=self._concat_reference, status_report=status_report,
                           validity=validity, national=national)
        references = []
        for number_in_set, part in enumerate(parts, start=1):
            raw = encode_pdu(part)
            response = await self._at(f"AT+CMGS={cmgs_length(raw)}", timeout=self.send_timeout, body=raw.hex().upper())
            try:
                reference = int(response.first("+CMGS")[0])
            except (ValueError, AtError):
                raise ModemError(f"{self.name}: no message reference in {response.lines}") from None
            references.append(reference)
            if status_report:
                self._outstanding[reference] = (tag, number_in_set)
        return SendResult(tuple(references), self._concat_reference if len(parts) > 1 else None, tag)

    def match_report(self, report: StatusReportPdu, raw: bytes) -> DeliveryReport:
        """Map a status report to the send it answers (by TP-MR, TS 23.040 §9.2.3.6)."""
        tag, part = self._outstanding.get(report.reference, (None, None))
        if report.final:
            self._outstanding.pop(report.reference, None)
        return DeliveryReport(report.reference, report.status, report.delivered, report.final, str(report.recipient),
                              report.discharge_time, tag, part, raw)

    async def close(self) -> None:
        """Close the port."""
        for task in list(self._tasks):
            task.cancel()
        await self.channel.close()

    def _on_urc(self, urc: Urc) -> None:
        try:
            if urc.name == "+CMTI" and len(urc.args) >= 2:
                self.events.put_nowait(NewMessage(urc.args[0], int(urc.args[1])))
            elif urc.name == "+CMT" and urc.body:
                self.events.put_nowait(DirectMessage(parse_stored(-1, 0, urc.body)))
            elif urc.name == "+CDS" and urc.body:
                self._report_from_hex(urc.body)
            elif urc.name == "+CDSI" and len(urc.args) >= 2:
                task = asyncio.ensure_future(self._fetch_report(int(urc.args[1])))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif urc.name == "+CREG" and urc.args:
                self.events.put_nowait(RegistrationChanged(int(urc.args[0])))
        except ValueError:
            log.warning("%s: unreadable %s", self.name, urc.line)

    def _report_from_hex(self, pdu_hex: str) -> None:
        stored = parse_stored(-1, 0, pdu_hex)
        if isinstance(stored.pdu, StatusReportPdu):
            self.events.put_nowait(self.match_report(stored.pdu, stored.raw))
        else:
            log.warning("%s: status report does not decode: %s", self.name, stored.error)

    async def _fetch_report(self, index: int) -> None:
        try:
            stored = await self.read_message(index)
            if isinstance(stored.pdu, StatusReportPdu):
                self.events.put_nowait(self.match_report(stored.pdu, stored.raw))
            await self.delete(index)
        except ModemError as exc:
            log.warning("%s: cannot fetch stored status report %d: %s", self.name, index, exc)


def _pair_listing(lines: Sequence[str], name: str) -> list[StoredMessage]:
    """+CMGL answers come in pairs: '+CMGL: <index>,<stat>,[<alpha>],<length>' then the PDU."""
    out: list[StoredMessage] = []
    head: list[str] | None = None
    for line in lines:
        if line.upper().startswith("+CMGL:"):
            try:
                head = split_args(line.split(":", 1)[1])
            except AtError:
                head = None
            continue
        if head is None:
            log.warning("%s: PDU line without +CMGL header: %r", name, line)
            continue
        try:
            out.append(parse_stored(int(head[0]), int(head[1]), line))
        except (ValueError, IndexError):
            log.warning("%s: bad +CMGL header %r", name, head)
        head = None
    return out


class ModemPool:
    """Round-robin sending over several modems, skipping one that failed for `retry_after` seconds."""

    def __init__(self, modems: Sequence[GsmModem], *, retry_after: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.modems = list(modems)
        self.retry_after = retry_after
        self.clock = clock
        self._next = 0
        self._down_until: dict[str, float] = {}

    def available(self) -> list[GsmModem]:
        """Modems that are open and not resting after a failure."""
        now = self.clock()
        return [m for m in self.modems if m.alive and self._down_until.get(m.name, 0.0) <= now]

    def mark_down(self, modem: GsmModem) -> None:
        """Rest `modem` for `retry_after` seconds."""
        self._down_until[modem.name] = self.clock() + self.retry_after

    async def send(self, number: str, text: str, **options: Any) -> tuple[GsmModem, SendResult]:
        """Send on the next modem in turn; on a modem error try the others; ModemUnavailable if all fail."""
        if not self.modems:
            raise ModemUnavailable("the pool has no modems")
        count = len(self.modems)
        start, self._next = self._next, (self._next + 1) % count
        errors = []
        for step in range(count):
            modem = self.modems[(start + step) % count]
            if modem not in self.available():
                continue
            try:
                return modem, await modem.send(number, text, **options)
            except ModemError as exc:  # ModemUnavailable included; PduError (the text's fault) passes through
                log.warning("pool: %s failed, trying the next modem: %s", modem.name, exc)
                errors.append(f"{modem.name}: {exc}")
                self.mark_down(modem)
        raise ModemUnavailable("no modem could send: " + ("; ".join(errors) or "none available"))
