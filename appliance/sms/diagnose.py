"""Self-test of the GSM modems for the console and the admin page: per modem, open (the service's own
session), AT, identity, signal (+CSQ), registration (+CREG?) and operator (+COPS?), one line each.

The questions go through the running session's AT channel (one command at a time, between the
service's own), so the test never opens a port a second time; nothing is sent or deleted.
"""
from __future__ import annotations

from appliance.selftest import FAILED, StepFailed, StepLog
from appliance.sms.modems import ModemRunner
from hardware.gsm.errors import GsmError
from hardware.serial.errors import AtError

ERRORS = (GsmError, AtError, OSError, TimeoutError)
REGISTRATION = {0: "not registered, not searching", 1: "registered, home network", 2: "searching",
                3: "registration denied", 4: "unknown", 5: "registered, roaming"}  # TS 27.007 §7.2 <stat>


async def check_modem(runner: ModemRunner) -> list[str]:
    """One modem's test, headed by its name, port and number."""
    spec = runner.spec
    steps = StepLog(f"GSM modem {spec.name}: {spec.url}" + (f" number {spec.number}" if spec.number else ""), ERRORS)
    modem = runner.modem
    if not runner.usable or modem is None:
        retry = f", the service retries in {runner.reopen_in:.0f} s" if runner.state == "down" else ""
        steps.line("open", FAILED, f"{runner.state}{retry}: {runner.last_error or 'not open yet'}")
        return steps.lines
    steps.line("open", "ok", f"{runner.state}, opened {runner.opened} time(s)")
    try:
        await steps.arun("AT", lambda: modem.channel.command("AT", timeout=5, check=True))
        await steps.arun("AT+CGMI/CGMM", modem.identify,
                         lambda i: f"{i.manufacturer} {i.model} rev {i.revision}".strip())
        await steps.arun("AT+CSQ", modem.signal,
                         lambda s: f"{s.dbm} dBm (rssi {s.rssi})" if s.rssi is not None else "no signal (rssi 99)")
        reg = await steps.arun("AT+CREG?", modem.registration,
                               lambda r: f"{r.status}: {REGISTRATION.get(r.status, 'unknown')}")
        if reg.registered:
            await steps.arun("AT+COPS?", modem.operator, lambda o: o or "no operator name")
    except StepFailed:
        pass
    return steps.lines
