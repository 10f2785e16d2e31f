"""The modems of the [sms] section and a runner per modem: open, init, drain the SIM into the spool,
pass status reports on, and reopen with back-off when the modem goes away (unplugged, crashed).

The runner owns no policy about what a message means: it hands the stored PDUs to the `spool`
coroutine (which must persist them; only then are they deleted from the SIM) and each live status
report to `on_report`.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from appliance.domain.identifiers import normalise_phone
from appliance.errors import ApplianceError
from appliance.sms.errors import SmsConfigError
from hardware.gsm.driver import (
    DeliveryReport, DirectMessage, GsmModem, ModemGone, NewMessage, RegistrationChanged, StoredMessage,
)
from hardware.gsm.errors import GsmError, ModemUnavailable

log = logging.getLogger(__name__)

REOPEN_FIRST_S = 1.0
REOPEN_FACTOR = 2.0
EMULATED_NUMBER = "+46700000{:03d}"  # an emulated modem without a configured number: +46700000100, …101
COMMAND_TIMEOUT_S = 10.0

Spool = Callable[["ModemSpec", list[StoredMessage]], Awaitable[None]]
ReportHandler = Callable[["ModemSpec", DeliveryReport], Awaitable[None]]
StateListener = Callable[["ModemRunner"], None]


@dataclass(frozen=True)
class ModemSpec:
    """One configured modem: a name for people and SNMP, its port URL, its own number, its SIM PIN."""

    name: str
    url: str
    number: str
    pin: str | None

    @property
    def emulated(self) -> bool:
        """True for an in-process emulator (emu://)."""
        return self.url.startswith("emu://")

    @property
    def emulator_name(self) -> str:
        """The registered emulator's name of an emu:// URL."""
        parts = urllib.parse.urlsplit(self.url)
        return parts.netloc or parts.path.lstrip("/")


def _name_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url if "://" in url else "serial://" + url)
    if parts.scheme == "emu":
        return parts.netloc or parts.path.lstrip("/") or "emu"
    if parts.scheme in ("tcp", "socket"):
        return f"{parts.hostname}-{parts.port}"
    return parts.path.rstrip("/").rsplit("/", 1)[-1] or "modem"


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",")] if text.strip() else []


def parse_modems(modems: str, numbers: str = "", pins: str = "", key: str = "sms") -> list[ModemSpec]:
    """The [sms] modems, numbers and pins lists, position by position; SmsConfigError names the key."""
    urls = [u for u in _split(modems) if u]
    nums, pin_list = _split(numbers), _split(pins)
    if len(nums) > len(urls):
        raise SmsConfigError(f"{key}.numbers lists {len(nums)} numbers for {len(urls)} modems")
    if len(pin_list) > len(urls):
        raise SmsConfigError(f"{key}.pins lists {len(pin_list)} PINs for {len(urls)} modems")
    specs: list[ModemSpec] = []
    taken: set[str] = set()
    for i, url in enumerate(urls):
        if "://" not in url and not url.startswith("/"):
            raise SmsConfigError(f"{key}.modems entry {url!r} is not a URL (serial://, pty://, tcp://, emu://)")
        name = base = _name_of(url)
        n = 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        raw = nums[i] if i < len(nums) else ""
        if raw:
            try:
                number = normalise_phone(raw, "DE")
            except ValueError:
                raise SmsConfigError(f"{key}.numbers entry {raw!r} is not a phone number (use +<country>…)") from None
        else:
            number = EMULATED_NUMBER.format(100 + i) if url.startswith("emu://") else ""
        pin = pin_list[i] if i < len(pin_list) and pin_list[i] else None
        if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise SmsConfigError(f"{key}.pins entry {i + 1} must be 4-8 digits")
        specs.append(ModemSpec(name, url, number, pin))
    return specs


def _iso(ts: float | None) -> str | None:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else None


class ModemRunner:
    """Keeps one modem open and working; `run` never returns until cancelled."""

    def __init__(self, spec: ModemSpec, spool: Spool, on_report: ReportHandler, *, poll_s: float = 30.0,
                 reopen_max_s: float = 60.0, on_state: StateListener | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.spool, self.on_report, self.on_state = spool, on_report, on_state
        self.poll_s, self.reopen_max_s = poll_s, reopen_max_s
        self.clock = clock
        self.modem: GsmModem | None = None
        self.state = "starting"          # starting, up, down
        self.rssi: int | None = None
        self.signal_dbm: int | None = None
        self.registration: int | None = None
        self.operator: str | None = None
        self.model = ""
        self.last_activity: float | None = None
        self.last_error = ""
        self.last_error_at: float | None = None
        self.opened = 0
        self.opened_ok = False           # the current session got as far as "up"
        self.received = 0
        self.sent = 0
        self.errors = 0
        self.reopen_in = 0.0

    @property
    def usable(self) -> bool:
        """Open, initialised and registered enough to try sending."""
        return self.state == "up" and self.modem is not None and self.modem.alive

    def _set_state(self, state: str) -> None:
        changed = state != self.state
        self.state = state
        if changed and self.on_state is not None:
            self.on_state(self)

    def note_error(self, text: str) -> None:
        """Remember an error for the console (and count it)."""
        self.last_error, self.last_error_at = text, self.clock()
        self.errors += 1

    def touch(self) -> None:
        """Something happened on the modem just now."""
        self.last_activity = self.clock()

    async def run(self) -> None:
        """Open, work, and on any failure close and reopen after a growing pause."""
        delay = REOPEN_FIRST_S
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except GsmError as exc:
                self.note_error(str(exc))
                log.warning("sms modem %s (%s) is down: %s; reopening in %.0f s", self.spec.name, self.spec.url,
                            exc, delay)
            except ApplianceError as exc:  # the spool could not take the messages: they stay on the SIM
                self.note_error(f"intake: {exc}")
                log.error("sms modem %s: cannot spool its messages (%s); they stay on the SIM, retrying in %.0f s",
                          self.spec.name, exc, delay)
            except Exception as exc:  # a driver bug must not end the runner: show it, reopen
                self.note_error(f"internal error: {exc!r}")
                log.exception("sms modem %s failed; reopening in %.0f s", self.spec.name, delay)
            await self.close()
            self._set_state("down")
            if self.opened_ok:
                delay = REOPEN_FIRST_S  # it worked before: the first retry comes quickly
                self.opened_ok = False
            self.reopen_in = delay
            await asyncio.sleep(delay)
            delay = min(delay * REOPEN_FACTOR, self.reopen_max_s)

    async def close(self) -> None:
        """Close the port (the runner task must be cancelled first, or it reopens)."""
        modem, self.modem = self.modem, None
        if modem is not None:
            try:
                await modem.close()
            except Exception as exc:  # closing a dead port may fail in many ways; it is gone either way
                log.debug("closing %s: %r", self.spec.name, exc)

    async def _session(self) -> None:
        self.modem = await GsmModem.open(self.spec.url, name=self.spec.name, pin=self.spec.pin,
                                         command_timeout=COMMAND_TIMEOUT_S)
        await self.modem.init()
        try:
            info = await self.modem.identify()
            self.model = f"{info.manufacturer} {info.model}".strip()
        except GsmError as exc:
            log.info("sms modem %s does not identify itself: %s", self.spec.name, exc)
        self.opened += 1
        self.opened_ok = True
        self.touch()
        await self.refresh()
        self._set_state("up")
        log.info("sms modem %s up (%s, %s, signal %s dBm)", self.spec.name, self.spec.url, self.model,
                 self.signal_dbm)
        await self.drain()
        while True:
            try:
                event = await asyncio.wait_for(self.modem.events.get(), self.poll_s)
            except asyncio.TimeoutError:
                event = None
            if isinstance(event, ModemGone) or not self.modem.alive:
                raise ModemUnavailable(f"{self.spec.name}: the port closed (modem unplugged?)")
            await self._handle(event)

    async def _handle(self, event: Any) -> None:
        assert self.modem is not None
        if event is None:
            await self.refresh()   # the poll also catches a +CMTI a modem forgot to send
            await self.drain()
        elif isinstance(event, NewMessage):
            self.touch()
            await self.drain()
        elif isinstance(event, DirectMessage):
            # +CMT: never stored on the SIM, so spooling it is all "acknowledge" can mean here.
            self.touch()
            await self.spool(self.spec, [event.message])
            self.received += 1
        elif isinstance(event, DeliveryReport):
            self.touch()
            await self.on_report(self.spec, event)
        elif isinstance(event, RegistrationChanged):
            self.registration = event.status

    async def drain(self) -> int:
        """Move everything on the SIM into the spool, then delete it there (DESIGN.md "Intake" steps 1-2).

        The whole listing is spooled as one segment, one fsync for a SIM full of messages; a crash
        before the deletes leaves them on the SIM, and the replay's idempotency keys absorb the repeat.
        """
        assert self.modem is not None
        messages = await self.modem.list_messages(4)
        if not messages:
            return 0
        await self.spool(self.spec, messages)
        self.received += len(messages)
        self.touch()
        for message in messages:
            await self.modem.delete(message.index)
        return len(messages)

    async def refresh(self) -> None:
        """Signal and registration, for the console and SNMP."""
        assert self.modem is not None
        signal = await self.modem.signal()
        self.rssi, self.signal_dbm = signal.rssi, signal.dbm
        self.registration = (await self.modem.registration()).status
        try:
            self.operator = await self.modem.operator()
        except GsmError:
            self.operator = None

    def health(self) -> dict[str, Any]:
        """The modem's state for the console and /healthz."""
        return {"name": self.spec.name, "url": self.spec.url, "number": self.spec.number,
                "emulated": self.spec.emulated, "state": self.state, "model": self.model,
                "signal_dbm": self.signal_dbm, "rssi": self.rssi, "registration": self.registration,
                "registered": self.registration in (1, 5), "operator": self.operator,
                "last_activity": self.last_activity, "last_activity_at": _iso(self.last_activity),
                "last_error": self.last_error,
                "last_error_at": self.last_error_at, "opened": self.opened, "received": self.received,
                "sent": self.sent, "errors": self.errors, "reopen_in_s": self.reopen_in if self.state == "down" else 0}

    def hardware_row(self) -> dict[str, Any]:
        """The row SNMP's hardware table shows (appliance.snmp.const HARDWARE_KEY)."""
        state = {"up": "up", "down": "down"}.get(self.state, "unknown")
        return {"type": "gsm_modem", "device": self.spec.url, "state": state, "signal_dbm": self.signal_dbm,
                "last_activity": self.last_activity or 0}
