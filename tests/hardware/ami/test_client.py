"""The AMI client against the fake Asterisk: login, actions, lists, events, faults, reconnects."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import AsyncIterator

import pytest

from hardware.ami import events as ev
from hardware.ami.client import AmiClient, Reconciliation
from hardware.ami.codec import Packet, make_packet, split_packets
from hardware.ami.errors import AmiActionError, AmiAuthError, AmiConnectionError, AmiTimeout
from hardware.ami.fake_server import FakeAmiServer

DATA = Path(__file__).parents[2] / "data" / "ami"


def transcript(name: str) -> bytes:
    return (DATA / name).read_bytes()


def make_client(server: FakeAmiServer, **kw: object) -> AmiClient:
    options: dict = {"action_timeout": 1.0, "backoff_min": 0.02, "backoff_max": 0.1, "ping_interval": 30.0}
    options.update(kw)
    return AmiClient("127.0.0.1", server.port, "acd", "s3cret", **options)


@pytest.fixture
async def server() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer(seed=7) as srv:
        yield srv


@pytest.fixture
async def client(server: FakeAmiServer) -> AsyncIterator[AmiClient]:
    c = make_client(server)
    await c.start()
    yield c
    await c.close()


async def until(predicate, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


def collect(client: AmiClient, *types: type) -> list[ev.AmiEvent]:
    seen: list[ev.AmiEvent] = []
    client.subscribe(seen.append, *types)
    return seen


async def test_login_banner_and_fully_booted(server: FakeAmiServer) -> None:
    client = make_client(server)
    booted = collect(client, ev.FullyBooted)
    await client.start()
    try:
        assert client.connected and client.banner is not None and client.banner.version == "7.0.1"
        await until(lambda: booted)
        login = next(p for p in server.received if p.action == "Login")
        assert login.get("Secret") == "s3cret" and login.action_id
    finally:
        await client.close()
    assert server.received[-1].action == "Logoff"


async def test_md5_login(server: FakeAmiServer) -> None:
    client = make_client(server, md5=True)
    await client.start()
    try:
        assert [p.action for p in server.received[:2]] == ["Challenge", "Login"]
        assert server.received[1].get("Secret") is None and server.received[1].get("Key")
    finally:
        await client.close()


async def test_wrong_secret_is_refused(server: FakeAmiServer) -> None:
    client = AmiClient("127.0.0.1", server.port, "acd", "wrong", action_timeout=1.0)
    with pytest.raises(AmiAuthError, match="Authentication failed"):
        await client.start()


async def test_nothing_listening() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AmiClient("127.0.0.1", port, "acd", "x", connect_timeout=1.0)
    with pytest.raises(AmiConnectionError):
        await client.start()


async def test_events_in_tiny_chunks_arrive_typed_and_in_order(server: FakeAmiServer, client: AmiClient) -> None:
    data = transcript("inbound_queue_answered.ami")
    expected = [ev.decode_event(p) for p in split_packets(data)]
    seen = collect(client)
    await server.play(data, chunks="random", max_chunk=5)
    await until(lambda: len(seen) >= len(expected))
    assert [type(e) for e in seen] == [type(e) for e in expected]
    assert [e.packet for e in seen] == [e.packet for e in expected]
    assert client.stats["protocol_errors"] == 0
    assert client.live_channels == {}  # both legs hung up


async def test_noise_and_unknown_events_are_survived(server: FakeAmiServer, client: AmiClient) -> None:
    data = transcript("inbound_abandoned.ami")
    wanted = len(split_packets(data))
    hangups = collect(client, ev.Hangup)
    everything = collect(client)
    await server.play(data, noise=0.4, chunks="random", max_chunk=40)
    await until(lambda: len(hangups) == 3)
    known = [e for e in everything if e.name not in ("RTCPSent", "ContactStatus", "PeerStatus", "FancyFutureEvent")]
    assert len(known) == wanted
    assert any(isinstance(e, ev.UnknownEvent) and e.name == "FancyFutureEvent" for e in everything)
    assert client.stats["protocol_errors"] > 0
    assert await client.ping() >= 0.0  # the session is still good


async def test_core_show_channels_and_queue_status(server: FakeAmiServer, client: AmiClient) -> None:
    packets = split_packets(transcript("inbound_abandoned.ami"))
    # Up to the first AgentCalled: the caller waits in `sales` and agent1's phone exists.
    upto = next(i for i, p in enumerate(packets) if p.event == "AgentCalled")
    await server.play(packets[:upto])
    channels = await client.core_show_channels()
    assert sorted(c.channel.channel for c in channels) == ["PJSIP/agent1-00000004", "PJSIP/trunk-00000003"]
    caller = next(c for c in channels if c.channel.uniqueid == "1717430500.3")
    assert caller.channel.state_desc == "Up" and caller.channel.caller_id_num == "0687654321"
    status = await client.queue_status("sales")
    assert [e.name for e in status.events] == ["QueueParams", "QueueEntry"]
    assert status.events[1].packet.get("Channel") == "PJSIP/trunk-00000003"
    assert status.complete is not None and status.complete.get("ListItems") == "2"
    assert status.message == "Queue status will follow"


async def test_originate_waits_for_originate_response(server: FakeAmiServer, client: AmiClient) -> None:
    server.originate_transcript = transcript("originate_outbound.ami")
    dials = collect(client, ev.DialBegin)
    result = await client.originate("PJSIP/agent1", context="from-internal", exten="0612345678",
                                    caller_id="Support <0201234567>", variables={"ACD_CALL": "42"})
    assert result.success and result.uniqueid == "1717430700.10" and result.reason == 4
    sent = next(p for p in server.received if p.action == "Originate")
    assert sent.get("Async") == "true" and sent.get_all("Variable") == ["ACD_CALL=42"]
    assert result.action_id == sent.action_id
    await until(lambda: len(dials) == 2)
    assert dials[0].channel is None


async def test_originate_failure(server: FakeAmiServer, client: AmiClient) -> None:
    result = await client.originate("PJSIP/nobody", context="from-internal", exten="1")
    assert not result.success
    with pytest.raises(AmiActionError, match="Invalid channel"):
        await client.originate("nobody", context="from-internal", exten="1")


async def test_channel_actions(server: FakeAmiServer, client: AmiClient) -> None:
    packets = split_packets(transcript("inbound_queue_answered.ami"))
    upto = next(i for i, p in enumerate(packets) if p.event == "DTMFBegin")
    await server.play(packets[:upto])
    caller, agent = "PJSIP/trunk-00000001", "PJSIP/agent1-00000002"
    assert (await client.redirect(caller, "from-internal", "300")).message == "Redirect successful"
    started = await client.mix_monitor(caller, "/var/spool/asterisk/monitor/x.wav", "b")
    assert (started.response.get("MixMonitorID") or "").startswith("0x")
    assert (await client.stop_mix_monitor(caller)).response.response == "Success"
    assert (await client.monitor(caller, "x")).message == "Started monitoring channel"
    assert (await client.bridge(caller, agent)).message == "Channels have been bridged"
    assert (await client.atxfer(agent, "202", "from-internal")).message == "Atxfer successfully queued"
    assert (await client.blind_transfer(agent, "202", "from-internal")).message == "Transfer succeeded"
    with pytest.raises(AmiActionError, match="No such channel"):
        await client.redirect("PJSIP/ghost-1", "x", "y")
    with pytest.raises(AmiActionError, match="Invalid/unknown command"):
        await client.send_action("FrobnicateQueue")
    hangups = collect(client, ev.Hangup)
    assert (await client.hangup(agent, cause=16)).message == "Channel Hungup"
    await until(lambda: hangups)
    assert hangups[0].channel.channel == agent and hangups[0].cause == 16
    assert server.received[-1].get("Cause") == "16"


async def test_action_timeout_leaves_session_usable(server: FakeAmiServer, client: AmiClient) -> None:
    server.silent.add("redirect")
    with pytest.raises(AmiTimeout, match="Redirect"):
        await client.redirect("PJSIP/a-1", "c", "e")
    assert await client.ping() >= 0.0


async def test_lying_server(server: FakeAmiServer, client: AmiClient) -> None:
    server.scripts["ping"] = lambda action: [
        b"Response: Success\r\nActionID: not-yours\r\nPing: Pong\r\n\r\n",  # wrong ActionID
        b"ActionID: " + (action.action_id or "").encode() + b"\r\nPing: Pong\r\n\r\n",  # no Response line
        b"\x00\x01 garbage\r\n\r\n",
    ]
    with pytest.raises(AmiTimeout):
        await client.ping()
    assert client.stats["unmatched"] == 2 and client.stats["protocol_errors"] >= 1
    del server.scripts["ping"]
    assert await client.ping() >= 0.0
    assert client.connected


async def test_legacy_command_follows(server: FakeAmiServer, client: AmiClient) -> None:
    def follows(action: Packet) -> list[bytes]:
        head = Packet((("Response", "Follows"), ("Privilege", "Command"), ("ActionID", action.action_id or "")),
                      ("Name/username   Host", "", "201/201   10.0.0.5: OK"))
        return [head.encode()]
    server.scripts["command"] = follows
    assert await client.command("pjsip show endpoints") == ["Name/username   Host", "", "201/201   10.0.0.5: OK"]

    def modern(action: Packet) -> list[bytes]:
        return [make_packet([("Response", "Success"), ("ActionID", action.action_id or ""),
                             ("Message", "Command output follows"), ("Output", "line 1"),
                             ("Output", "line 2")]).encode()]
    server.scripts["command"] = modern
    assert await client.command("core show uptime") == ["line 1", "line 2"]


async def test_drop_reconnect_and_reconcile(server: FakeAmiServer) -> None:
    client = make_client(server)
    reports: list[Reconciliation] = []
    client.on_reconnect(reports.append)
    seen = collect(client)
    await client.start()
    try:
        packets = split_packets(transcript("attended_transfer.ami"))
        # Play until agent2 answered agent1's consultation call: four channels are up.
        cut = next(i for i, p in enumerate(packets) if p.event == "BridgeEnter" and p.get("Uniqueid") == "1717430600.9")
        await server.play(packets[:cut + 1])
        await until(lambda: len(client.live_channels) == 4)
        waiting = asyncio.ensure_future(client.send_action("Redirect", {"Channel": "x"}, timeout=5))
        server.silent.add("redirect")
        await until(lambda: any(p.action == "Redirect" for p in server.received))
        server.drop()
        with pytest.raises(AmiConnectionError):
            await waiting  # failed at once, not at its timeout
        # While we are away the transfer completes: agent1's two legs hang up.
        rest = packets[cut + 1:]
        gone = next(i for i, p in enumerate(rest) if p.event == "AgentComplete")
        server.apply_silently(rest[:gone])
        # ... and a brand-new call arrives.
        server.apply_silently(split_packets(transcript("inbound_queue_answered.ami"))[:1])
        await server.wait_for_login(2)
        await until(lambda: bool(reports))
        report = reports[0]
        assert report.reconnects == 1 and report.outage_seconds >= 0
        assert report.vanished == {"1717430600.7": "PJSIP/agent1-00000007", "1717430600.8": "PJSIP/agent1-00000008"}
        assert [c.channel.uniqueid for c in report.appeared] == ["1717430400.1"]
        assert sorted(c.channel.uniqueid for c in report.still_live) == ["1717430600.6", "1717430600.9"]
        assert set(client.live_channels) == {"1717430600.6", "1717430600.9", "1717430400.1"}
        # Events after the reconnect flow again.
        before = len(seen)
        await server.play(rest[gone:])
        await until(lambda: len(seen) >= before + len(rest) - gone)
        assert set(client.live_channels) == {"1717430400.1"}
    finally:
        await client.close()


async def test_drop_in_the_middle_of_a_packet(server: FakeAmiServer) -> None:
    client = make_client(server)
    reports: list[Reconciliation] = []
    client.on_reconnect(reports.append)
    newstates = collect(client, ev.Newstate)
    await client.start()
    try:
        data = transcript("originate_outbound.ami")
        sent = await server.play(data, drop_after=3, chunks="random")
        assert sent == 3
        await server.wait_for_login(2)
        await until(lambda: bool(reports))
        assert [c.channel.uniqueid for c in reports[0].still_live] == ["1717430700.10"]
        count = len(newstates)
        await server.play(data)  # the half packet before the drop did not poison the new session
        await until(lambda: len(newstates) == count + 4)
        assert client.stats["protocol_errors"] == 0
    finally:
        await client.close()


async def test_keepalive_detects_a_silent_pbx(server: FakeAmiServer) -> None:
    client = make_client(server, ping_interval=0.1, action_timeout=0.2)
    await client.start()
    try:
        server.silent.add("ping")
        await until(lambda: server.logins >= 2, timeout=5)
        server.silent.discard("ping")
        await client.wait_connected(2)
        assert await client.ping() >= 0.0
    finally:
        await client.close()


async def test_handler_errors_do_not_stop_events(server: FakeAmiServer, client: AmiClient) -> None:
    def broken(event: ev.AmiEvent) -> None:
        raise RuntimeError("subscriber bug")

    async def broken_async(event: ev.AmiEvent) -> None:
        raise RuntimeError("async subscriber bug")

    client.subscribe(broken)
    client.subscribe(broken_async, ev.Hangup)
    hangups = collect(client, ev.Hangup)
    await server.play(transcript("blind_transfer_busy.ami"))
    await until(lambda: len(hangups) == 3)
    await until(lambda: client.stats["handler_errors"] >= len(split_packets(transcript("blind_transfer_busy.ami"))) + 3)


async def test_unsubscribe(server: FakeAmiServer, client: AmiClient) -> None:
    seen: list[ev.AmiEvent] = []
    stop = client.subscribe(seen.append)
    stop()
    marker = collect(client)
    await server.play(transcript("blind_transfer_busy.ami")[:400] + b"\r\n")
    await until(lambda: marker)
    assert seen == []


async def test_actions_refused_while_down(server: FakeAmiServer) -> None:
    client = make_client(server, backoff_min=5.0, backoff_max=5.0)
    await client.start()
    try:
        server.drop()
        await until(lambda: not client.connected)
        with pytest.raises(AmiConnectionError, match="not connected"):
            await client.ping()
    finally:
        await client.close()


async def test_tracker_fed_by_the_client_survives_a_drop(server: FakeAmiServer) -> None:
    from hardware.ami.calls import CallTracker, Outcome

    tracker = CallTracker()
    client = make_client(server)
    client.subscribe(tracker.feed)
    client.on_reconnect(lambda report: tracker.mark_vanished(report.vanished))
    await client.start()
    try:
        answered = split_packets(transcript("inbound_queue_answered.ami"))
        cut = next(i for i, p in enumerate(answered) if p.event == "DTMFBegin")
        await server.play(answered[:cut], chunks="random", max_chunk=64)
        await server.play(transcript("inbound_abandoned.ami"), chunks="random", max_chunk=64)
        await until(lambda: len(tracker.calls) == 2 and tracker.calls["1717430500.3"].ended)
        server.drop()
        server.apply_silently(answered[cut:])  # the answered call ends while we are away
        await server.wait_for_login(2)
        await until(lambda: not tracker.active())
        lost = tracker.calls["1717430400.1"]
        assert lost.vanished and lost.outcome is Outcome.ANSWERED and lost.answered_by == "Alice Agent"
        assert tracker.calls["1717430500.3"].outcome is Outcome.ABANDONED
    finally:
        await client.close()
