"""The supervisor: restarts crashed and hung services, gives up on crash loops, stops cleanly,
and talks sd_notify to a real datagram socket."""
from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from appliance import supervisor as sup_mod
from appliance.bus import Bus, EventKind
from appliance.supervisor import Service, ServiceContext, ServiceSpec, ServiceState, Supervisor
from appliance.systemd_notify import Notifier


class Worker(Service):
    """Beats until killed."""

    name = "worker"
    beat_interval_s = 0.02


class Hanging(Service):
    """Beats a few times, then hangs without beating (a stuck read, say)."""

    name = "hanging"
    starts = 0

    async def run(self) -> None:
        type(self).starts += 1
        self.beat()
        if type(self).starts == 1:
            await asyncio.sleep(3600)
        while True:
            self.beat()
            await asyncio.sleep(0.02)


class Crashing(Service):
    """Crashes right after starting, every time."""

    name = "crashing"

    async def run(self) -> None:
        await asyncio.sleep(0.001)
        raise RuntimeError("modem on fire")


class SlowStop(Service):
    """Ignores cancellation for a long time when stopping."""

    async def stop(self) -> None:
        await asyncio.sleep(3600)


def ctx() -> ServiceContext:
    return ServiceContext({}, Bus())


async def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def fast_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sup_mod, "CRASH_LOOP_WINDOW_S", 5.0)


async def test_killed_service_is_restarted_within_a_second() -> None:
    bus = Bus()
    events = bus.subscribe(EventKind.SERVICE_STATE)
    sup = Supervisor([ServiceSpec("worker", lambda: Worker(ctx()))], bus)
    await sup.start()
    first = sup.service("worker")
    sup.kill("worker")
    await wait_for(lambda: sup.records["worker"].state == ServiceState.BACKOFF, 1.0)
    await wait_for(lambda: sup.records["worker"].state == ServiceState.RUNNING, 1.0)
    assert sup.service("worker") is not first  # a fresh instance, not the dead one
    assert sup.records["worker"].restarts == 1
    assert "killed" in sup.records["worker"].last_error
    states = []
    while not events.queue.empty():
        states.append(events.queue.get_nowait().data["state"])
    assert states == ["starting", "running", "backoff", "starting", "running"]
    await sup.shutdown()


async def test_hung_service_is_detected_by_heartbeat_and_restarted() -> None:
    Hanging.starts = 0
    sup = Supervisor([ServiceSpec("hanging", lambda: Hanging(ctx()), heartbeat_timeout_s=0.3)], Bus())
    await sup.start()
    await wait_for(lambda: sup.records["hanging"].restarts == 1, 2.0)
    await wait_for(lambda: sup.records["hanging"].state == ServiceState.RUNNING, 1.0)
    assert "no heartbeat" in sup.records["hanging"].last_error
    assert Hanging.starts == 2
    await sup.shutdown()


async def test_crash_loop_marks_failed_and_others_keep_running() -> None:
    sup = Supervisor([ServiceSpec("crashing", lambda: Crashing(ctx())),
                      ServiceSpec("worker", lambda: Worker(ctx()))], Bus())
    await sup.start()
    # Back-off grows 0.1, 0.2, 0.4, 0.8, 1.6 s: six crashes fit in about 3.2 s.
    await wait_for(lambda: sup.records["crashing"].state == ServiceState.FAILED, 6.0)
    assert sup.records["crashing"].restarts == sup_mod.CRASH_LOOP_LIMIT
    assert "modem on fire" in sup.records["crashing"].last_error
    assert sup.records["worker"].state == ServiceState.RUNNING
    assert sup.degraded
    await asyncio.sleep(0.3)
    assert sup.records["crashing"].state == ServiceState.FAILED  # stays failed, no more restarts
    sup.records["crashing"].spec.factory = lambda: Worker(ctx())  # "fixed" (config changed)
    await sup.restart("crashing")
    assert sup.records["crashing"].state == ServiceState.RUNNING
    assert not sup.degraded
    await sup.shutdown()


async def test_disabled_services_say_why() -> None:
    sup = Supervisor([ServiceSpec("fax", None, "not built yet: serial fax modems")], Bus())
    await sup.start()
    snap = sup.snapshot()[0]
    assert snap["state"] == "disabled" and "not built" in snap["last_error"]
    with pytest.raises(ValueError):
        await sup.restart("fax")
    await sup.shutdown()


async def test_shutdown_is_bounded_even_when_a_service_will_not_stop(monkeypatch) -> None:
    monkeypatch.setattr(sup_mod, "SERVICE_STOP_TIMEOUT_S", 0.2)
    sup = Supervisor([ServiceSpec("slow", lambda: SlowStop(ctx())),
                      ServiceSpec("worker", lambda: Worker(ctx()))], Bus(), stop_timeout_s=1.0)
    await sup.start()
    started = time.monotonic()
    await sup.shutdown()
    assert time.monotonic() - started < 2.0
    assert all(r.state == ServiceState.STOPPED for r in sup.records.values())


async def test_sd_notify_ready_watchdog_status_stopping(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.setblocking(False)
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"})
    sup = Supervisor([ServiceSpec("worker", lambda: Worker(ctx()))], Bus(), notifier)
    await sup.start()
    await asyncio.sleep(0.35)
    await sup.shutdown()
    received = []
    while True:
        try:
            received.append(listener.recv(4096).decode())
        except BlockingIOError:
            break
    listener.close()
    assert any(m.startswith("READY=1") for m in received)
    assert received.count("WATCHDOG=1") >= 2
    assert any(m.startswith("STATUS=") and "running" in m for m in received)
    assert "STOPPING=1" in received


async def test_watchdog_stops_when_the_supervisor_is_wedged(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": "", "WATCHDOG_USEC": "100000"})
    sup = Supervisor([ServiceSpec("worker", lambda: Worker(ctx()))], Bus(), notifier)
    await sup.start()
    await asyncio.sleep(0.15)
    assert "WATCHDOG=1" in notifier.sent
    sup._monitor_task.cancel()  # the monitor dies: the supervisor is no longer healthy
    sup.last_monitor_at -= 10
    notifier.sent.clear()
    await asyncio.sleep(0.2)
    assert "WATCHDOG=1" not in notifier.sent
    await sup.shutdown()
