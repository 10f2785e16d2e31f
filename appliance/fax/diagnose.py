"""Self-test of the fax lines for the console and the admin page: per line, open (the service's own
session), AT, ATI, AT+FCLASS=? (the classes the modem offers) and AT+FCLASS? (the one in use).

The questions go through the running session's AT channel between calls; a line in a call is not
disturbed (the test says so instead). Nothing is dialled.
"""
from __future__ import annotations

from appliance.fax.lines import FaxLine
from appliance.selftest import FAILED, SKIPPED, StepFailed, StepLog
from hardware.fax_modem.t30.reports import LineState
from hardware.serial.errors import AtError

ERRORS = (AtError, OSError, TimeoutError)
COMMAND_TIMEOUT_S = 5.0


def _answer(response) -> str:
    return " ".join(line.strip() for line in response.lines if line.strip())[:60] or response.final


async def check_line(line: FaxLine) -> list[str]:
    """One line's test, headed by its name, port, number and class."""
    steps = StepLog(f"fax line {line.name}: {line.url} number {line.number} class {line.cls}", ERRORS)
    modem = line.modem
    channel = modem.channel if modem is not None else None
    if channel is None or channel.closed or line.state == "down":
        steps.line("open", FAILED, f"{line.state}: {line.last_error or 'not open yet'}; the service reopens it")
        return steps.lines
    if line.state != "idle" or modem.state not in (LineState.IDLE, LineState.HUNG_UP, LineState.FAILED):
        steps.line("open", "ok", f"{line.state}")
        steps.line("AT", SKIPPED, "not tested: the line is in a call; try again when it is idle")
        return steps.lines
    steps.line("open", "ok", "idle, waiting for calls")
    try:
        for command in ("AT", "ATI", "AT+FCLASS=?", "AT+FCLASS?"):
            await steps.arun(command, lambda c=command: channel.command(c, timeout=COMMAND_TIMEOUT_S, check=True),
                             _answer)
    except StepFailed:
        pass
    return steps.lines
