"""A fax line's row in the SNMP hardware table: up when idle, busy in a call, down when it cannot be opened."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from appliance.fax.lines import FaxLine
from hardware.fax_modem.t30.reports import LineState


@pytest.mark.parametrize("line_state, modem_state, shown", [
    ("idle", LineState.IDLE, "up"),
    ("idle", LineState.HUNG_UP, "up"),
    ("idle", LineState.RINGING, "busy"),
    ("idle", LineState.PAGE, "busy"),
    ("sending", LineState.CONNECTED, "busy"),
    ("down", None, "down"),
])
def test_state_in_the_hardware_table(line_state: str, modem_state: LineState | None, shown: str) -> None:
    line = FaxLine("fax-a", "emu://fax-a", "+4940111333", state=line_state, last_activity=1_790_000_000.0)
    line.modem = SimpleNamespace(state=modem_state) if modem_state else None
    assert line.hardware_row() == {"type": "fax_modem", "device": "emu://fax-a", "state": shown,
                                   "last_activity": 1_790_000_000.0}
