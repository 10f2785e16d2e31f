"""Desk figures: screen-pop latency and event-loop lag with 500 agents connected by websocket.

The appliance runs in this process (simulator adapter); 500 agents with phone profiles are logged in and
ready, and 500 desk websockets (`/ws?view=desk`, real TLS on loopback) are held by a second process so the
clients do not share the appliance's event loop. Calls arrive at a busy-hour rate (half from known customers,
whose file the pop carries); each offered call is answered shortly after and hung up after a short talk.

desk.screen_pop_p99_ms: from the bridge publishing `call.offered` to the agent's socket holding the complete
pop payload (customer file included); CLOCK_MONOTONIC is one clock for both processes on Linux.
desk.loop_lag_p99_ms: the appliance's own loop-lag monitor over the call phase.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import secrets
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

from bench.figure import figure

AGENTS = 500
CUSTOMERS = 200
CALLS_PER_S = 5.0          # 18,000 calls an hour over 500 agents: a busy hour at ~0.5 occupancy
CALL_PHASE_S = 30.0
ANSWER_AFTER_S = (0.3, 1.5)
TALK_S = (5.0, 40.0)


def figures() -> Iterable[dict]:
    """desk.screen_pop_p99_ms, desk.loop_lag_p99_ms."""
    pops, lag, offered = asyncio.run(_run())
    pops.sort()
    p99 = pops[min(len(pops) - 1, int(round(0.99 * (len(pops) - 1))))] if pops else float("nan")
    p50 = pops[len(pops) // 2] if pops else float("nan")
    yield figure("desk.screen_pop_p99_ms", p99, "ms", goal="<= 50", p50_ms=round(p50, 2), samples=len(pops),
                 offered=offered, agents=AGENTS, calls_per_hour=CALLS_PER_S * 3600)
    yield figure("desk.loop_lag_p99_ms", lag, "ms", goal="<= 10", agents=AGENTS)


def _populate(tenant_name: str) -> list[tuple[int, str]]:
    """A tenant, its queue, AGENTS people with phone profiles, CUSTOMERS customers with phones (sync)."""
    from appliance.models import Customer, CustomerIdentifier, Tenant, User
    from appliance.models.acd import AcdQueue, AgentPhone
    tenant = Tenant.create(name=tenant_name)
    AcdQueue.create(tenant=tenant, key="bench", name="Bench", dialled_numbers="+4940555000", wrap_up_s=2)
    users = []
    for i in range(AGENTS):
        # No login form is used: sessions are minted below, so the hash only needs to be unique.
        user = User.create(username=f"agent{i:03d}", display_name=f"Agent {i}", role="agent", tenant=tenant,
                           password_hash="bench$" + secrets.token_hex(16))
        AgentPhone.create(user=user, tenant=tenant, extension=str(3000 + i))
        users.append((user.id, user.password_hash[-16:]))
    for i in range(CUSTOMERS):
        customer = Customer.create(tenant=tenant, name=f"Kund {i} Åström", number=f"K-{i:05d}",
                                   ownership="enterprise")
        CustomerIdentifier.create(tenant=tenant, customer=customer, kind="phone", value=f"+4940700{i:05d}")
    return users


def _cookie(session_key: bytes, uid: int, pwv: str) -> str:
    """A session cookie as the login would set it (aiohttp_session's encrypted JSON)."""
    from cryptography.fernet import Fernet
    fernet = Fernet(base64.urlsafe_b64encode(session_key))
    data = {"created": int(time.time()), "session": {"uid": uid, "pwv": pwv}}
    return fernet.encrypt(json.dumps(data).encode()).decode()


async def _run() -> tuple[list[float], float, int]:
    from appliance import config
    from appliance.bus import EventKind
    from appliance.firstboot import initialise
    from appliance.pbx.setup import human_agent_id
    from appliance.pbx.simulated import SimTraffic
    from appliance.runtime import Appliance
    from tests.pg import free_port

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        env = {"APPLIANCE_DATA_DIR": str(root), "APPLIANCE_WEB_PORT": "0", "APPLIANCE_WEB_HOST": "127.0.0.1",
               "APPLIANCE_SNMP_PORT": str(free_port()), "APPLIANCE_MAIL_SMTP_PORT": str(free_port())}
        initialise(root, env)
        app = Appliance(config.load(root, env))
        await app.start()
        try:
            service = app.supervisor.service("pbx_bridge")
            bridge = service.bridge
            bridge.adapter.arrivals_on = False  # no demo callers: only the bench's
            users = await app.db.call(_populate, "Bench")
            await service.refresh()
            for uid, _ in users:
                bridge.login(human_agent_id(uid))
            offered_at: dict[tuple[str, str], float] = {}
            publish = app.bus.publish

            def stamped(event):
                if event.kind is EventKind.CALL_OFFERED:
                    offered_at[(event.data["call_id"], event.data.get("agent_id", ""))] = time.monotonic()
                publish(event)
            app.bus.publish = stamped  # the moment the offer exists, before any subscriber sees it

            key = app.data.read_key(app.data.session_key)
            cookies = [_cookie(key, uid, pwv) for uid, pwv in users]
            clients = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "from bench.bench_desk import clients_main; clients_main()",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                cwd=str(Path(__file__).resolve().parents[1]))
            clients.stdin.write((json.dumps({"port": app.web_port, "cert": str(app.data.cert),
                                             "cookies": cookies}) + "\n").encode())
            await clients.stdin.drain()
            line = await asyncio.wait_for(clients.stdout.readline(), 120)
            assert line.startswith(b"READY"), line
            calls = await _call_phase(app, bridge, SimTraffic("bench", "+4940555000", 0, patience_mean_s=None))
            lag = app.lag.percentile_ms(99)
            clients.stdin.write(b"STOP\n")
            await clients.stdin.drain()
            out, _ = await asyncio.wait_for(clients.communicate(), 60)
            received = json.loads(out.decode().strip().splitlines()[-1])
            pops = [(at - offered_at[(c, a)]) * 1000 for c, a, at in received if (c, a) in offered_at]
            return pops, lag, calls
        finally:
            await app.stop()


async def _call_phase(app, bridge, traffic) -> int:
    """Calls at the busy-hour rate; each offer answered after a moment and hung up after a short talk."""
    from appliance.bus import EventKind
    rng = random.Random(7)
    sub = app.bus.subscribe(EventKind.CALL_OFFERED)
    loop = asyncio.get_running_loop()

    async def agent_side() -> None:
        while True:
            event = await sub.get()
            call_id, agent = event.data["call_id"], event.data["agent_id"]
            loop.call_later(rng.uniform(*ANSWER_AFTER_S), lambda c=call_id, a=agent: asyncio.ensure_future(
                _answer_then_hang_up(bridge, c, a, rng.uniform(*TALK_S))))

    worker = asyncio.create_task(agent_side())
    app.lag.samples.clear()
    end = loop.time() + CALL_PHASE_S
    calls = 0
    while loop.time() < end:
        await asyncio.sleep(rng.expovariate(CALLS_PER_S))
        known = rng.random() < 0.5
        caller = f"+4940700{rng.randrange(CUSTOMERS):05d}" if known else f"+4930{rng.randrange(10**7):07d}"
        bridge.adapter.arrive(traffic, caller=caller)
        calls += 1
    await asyncio.sleep(1.0)  # the last offers reach their sockets
    worker.cancel()
    sub.close()
    return calls


async def _answer_then_hang_up(bridge, call_id: str, agent_id: str, talk_s: float) -> None:
    from appliance.domain.acd import AcdError
    try:
        await bridge.answer(call_id, agent_id)
        await asyncio.sleep(talk_s)
        await bridge.hangup(call_id)
    except AcdError:
        pass  # the offer was withdrawn or the call already ended


def clients_main() -> None:
    """The client process: hold every desk socket, note when each offer arrives, report at STOP."""
    asyncio.run(_clients(json.loads(sys.stdin.readline())))


async def _clients(spec: dict) -> None:
    import aiohttp
    ctx = ssl.create_default_context(cafile=spec["cert"])
    received: list[tuple[str, str, float]] = []
    connector = aiohttp.TCPConnector(ssl=ctx, limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def one(cookie: str) -> None:
            async with http.ws_connect(f"wss://localhost:{spec['port']}/ws?view=desk",
                                       headers={"Cookie": f"appliance_session={cookie}"}) as ws:
                ready.append(1)
                async for msg in ws:
                    if '"call.offered"' in msg.data:
                        at = time.monotonic()
                        data = json.loads(msg.data)["data"]
                        if "pop" in data:
                            received.append((data["call_id"], data["agent_id"], at))

        ready: list[int] = []
        tasks = [asyncio.create_task(one(c)) for c in spec["cookies"]]
        while len(ready) < len(tasks):
            failed = [t for t in tasks if t.done() and t.exception() is not None]
            if failed:
                raise failed[0].exception()
            await asyncio.sleep(0.1)
        print(f"READY {len(ready)}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(received), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for fig in figures():
        print(json.dumps(fig))
