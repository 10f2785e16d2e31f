"""The bridge on the AMI adapter against the fake Asterisk, as every AMI test starts it: agent u7 on extension
201, a recorder that keeps the history records, logged in and connected before the test plays its events."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from hardware.ami.fake_server import FakeAmiServer

from appliance.bus import Bus
from appliance.domain.acd import AcdEngine
from appliance.pbx.ami_adapter import AmiPbx
from appliance.pbx.bridge import AcdBridge


async def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll until `predicate()` is true; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def start_bridge(server: FakeAmiServer, engine: AcdEngine, bus: Bus | None = None, *, phone: str | None = None,
                       login: bool = True, before_run: Callable[[AcdBridge], None] | None = None,
                       **bridge_options: Any) -> tuple[AmiPbx, AcdBridge, list[dict], asyncio.Task]:
    """Start the bridge on `engine`; returns (adapter, bridge, history records, the bridge's task)."""
    pbx = AmiPbx(f"tcp://acd:s3cret@127.0.0.1:{server.port}", lambda a: None, {"201": "u7"}.get)
    records: list[dict] = []

    async def recorder(r: dict) -> None:
        records.append(r)

    bridge = AcdBridge(engine, pbx, bus or Bus(), recorder=recorder, **bridge_options)
    if before_run is not None:
        before_run(bridge)
    if login:
        bridge.login("u7", phone=phone) if phone else bridge.login("u7")
    task = asyncio.create_task(bridge.run())
    await server.wait_for_login(1)
    # The client lists live channels right after login; wait for that so our events do not interleave
    # with the fake server's answer (a real Asterisk writes each packet whole).
    await wait_until(lambda: bridge.adapter_connected)
    return pbx, bridge, records, task


def redirects(server: FakeAmiServer) -> list[tuple[str, str, str]]:
    """(channel, context, exten) of each Redirect the adapter sent."""
    return [(p.get("Channel"), p.get("Context"), p.get("Exten")) for p in server.received
            if (p.action or "").lower() == "redirect"]


def sent(server: FakeAmiServer) -> list[tuple[str, ...]]:
    """The Setvar and Redirect actions sent, in order: what a script step asked of the dialplan."""
    out = []
    for p in server.received:
        name = (p.action or "").lower()
        if name == "setvar":
            out.append(("setvar", p.get("Variable"), p.get("Value")))
        elif name == "redirect":
            out.append(("redirect", p.get("Context"), p.get("Exten")))
    return out
