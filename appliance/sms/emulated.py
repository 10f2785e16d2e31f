"""The emulated GSM network of `make run`: in-process modem emulators for emu:// modems, and what the
admin page "Emulated GSM network" does with them (inject an SMS, answer with a status report, unplug).

Emulators live in the service context's shared dict, not in the service: a service restart (or a
reopen after an unplug) finds the same SIM contents, as a real modem would keep them.
"""
from __future__ import annotations

import secrets
from typing import Any, Callable

from hardware.gsm.emulator import GsmEmulator
from hardware.gsm.errors import GsmError
from hardware.serial import register_emulator

SHARED_KEY = "gsm_emulators"


def emulator_for(shared: dict[str, Any], name: str, pin: str | None,
                 auto_reports: float | None) -> tuple[GsmEmulator, Callable[[], None]]:
    """The emulator registered as emu://<name>, made on first use; returns it and its unregister function."""
    emulators: dict[str, GsmEmulator] = shared.setdefault(SHARED_KEY, {})
    emu = emulators.get(name)
    if emu is None:
        emu = emulators[name] = GsmEmulator(pin=pin, auto_reports=auto_reports)
    return emu, register_emulator(name, emu)


def emulators(shared: dict[str, Any]) -> dict[str, GsmEmulator]:
    """Every emulator made so far, by name."""
    return dict(shared.get(SHARED_KEY, {}))


def inject(emu: GsmEmulator, sender: str, text: str) -> list[int]:
    """An SMS from `sender` arrives at the emulated modem (split into parts as a phone would)."""
    if not text:
        raise GsmError("the text is empty")
    # A phone picks a new concatenation reference per message (TS 23.040 §9.2.3.24.1).
    return emu.inject_sms(text=text, sender=sender, reference=secrets.randbelow(256))


def report(emu: GsmEmulator, reference: int, delivered: bool) -> bytes:
    """The network answers a sent message with a status report: delivered (TP-ST 0) or failed (0x41)."""
    return emu.deliver_report(reference, 0x00 if delivered else 0x41)


async def unplug(emu: GsmEmulator) -> None:
    """Pull the emulated modem out: every connection drops and reopening fails until `plug_in`."""
    await emu.unplug()


def plug_in(emu: GsmEmulator) -> None:
    """Put the emulated modem back: the service's next reopen attempt succeeds (SIM contents kept)."""
    emu.unplugged = False  # the emulator's own switch; unplug() sets it and nothing else clears it


def sent_view(emu: GsmEmulator, limit: int = 50) -> list[dict[str, Any]]:
    """What the emulated network received from us, newest first, decoded."""
    out = []
    for s in reversed(emu.sent[-limit:]):
        concat = s.pdu.concat
        out.append({"reference": s.reference, "to": str(s.pdu.to), "text": s.pdu.text,
                    "part": f"{concat.sequence}/{concat.total}" if concat else "",
                    "report_requested": s.pdu.status_report_request, "pdu": s.raw.hex().upper()})
    return out


def stored_count(emu: GsmEmulator) -> int:
    """Messages on the emulated SIM (not yet read and deleted by the service)."""
    return sum(len(store) for store in emu.stores.values())
