"""A fake Asterisk manager for tests and the emulator: TCP on a free port, the real banner and Login,
replays of AMI transcripts, answers to the actions the ACD sends, and faults on demand.

What it says is shaped like Asterisk 18's main/manager.c and apps/app_queue.c (messages, list framing,
where the ActionID goes); the channel list it reports is folded from the events it has played.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from hardware.ami.codec import AmiParser, Banner, Packet, make_packet, split_packets
from hardware.ami.errors import AmiProtocolError
from hardware.ami.events import (
    BridgeEnter, BridgeLeave, ChannelEvent, ChannelSnapshot, Hangup, QueueCallerJoin, QueueCallerLeave,
    decode_event,
)

log = logging.getLogger(__name__)

AMI_VERSION = "7.0.1"  # include/asterisk/manager.h at the 18.9.0 tag
# A handler may answer an action with any bytes it likes: the way tests script a lying PBX.
Script = Callable[[Packet], Sequence[bytes]]


def snapshot_fields(ch: ChannelSnapshot, prefix: str = "") -> list[tuple[str, str]]:
    """The 14 channel fields in Asterisk's order (manager_channels.c), under `prefix`."""
    return [(prefix + k, v) for k, v in (
        ("Channel", ch.channel), ("ChannelState", str(ch.state)), ("ChannelStateDesc", ch.state_desc),
        ("CallerIDNum", ch.caller_id_num), ("CallerIDName", ch.caller_id_name),
        ("ConnectedLineNum", ch.connected_line_num), ("ConnectedLineName", ch.connected_line_name),
        ("Language", ch.language), ("AccountCode", ch.account_code), ("Context", ch.context),
        ("Exten", ch.exten), ("Priority", str(ch.priority)), ("Uniqueid", ch.uniqueid), ("Linkedid", ch.linkedid))]


@dataclass
class LiveChannel:
    """What the fake PBX knows about a channel that has not hung up."""

    snapshot: ChannelSnapshot
    created: float
    bridge_id: str = ""
    queue: str | None = None


class ChannelBook:
    """The fake PBX's live channels, folded from the events it plays."""

    def __init__(self) -> None:
        self.channels: dict[str, LiveChannel] = {}
        self.queues: dict[str, list[str]] = {}  # queue -> waiting uniqueids, in order

    def apply(self, packet: Packet) -> None:
        """Update the book from one played event."""
        event = decode_event(packet)
        if not isinstance(event, ChannelEvent):
            return
        uid = event.channel.uniqueid
        if isinstance(event, Hangup):
            self.channels.pop(uid, None)
            for waiting in self.queues.values():
                if uid in waiting:
                    waiting.remove(uid)
            return
        live = self.channels.setdefault(uid, LiveChannel(event.channel, time.monotonic()))
        live.snapshot = event.channel
        if isinstance(event, BridgeEnter):
            live.bridge_id = event.bridge.uniqueid if event.bridge else ""
        elif isinstance(event, BridgeLeave):
            live.bridge_id = ""
        elif isinstance(event, QueueCallerJoin):
            self.queues.setdefault(event.queue, []).append(uid)
            live.queue = event.queue
        elif isinstance(event, QueueCallerLeave) and uid in self.queues.get(event.queue, []):
            self.queues[event.queue].remove(uid)
            live.queue = None

    def find(self, name: str) -> LiveChannel | None:
        """A live channel by its name (what actions carry)."""
        return next((c for c in self.channels.values() if c.snapshot.channel == name), None)


@dataclass
class Session:
    """One manager connection to the fake server."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    authenticated: bool = False
    events_on: bool = True
    username: str = ""
    challenge: str = ""
    actions: list[Packet] = field(default_factory=list)

    def write(self, data: bytes) -> None:
        """Queue bytes to the client unless it is gone."""
        if not self.writer.is_closing():
            self.writer.write(data)


class FakeAmiServer:
    """Listen on 127.0.0.1, speak AMI like Asterisk 18, replay transcripts, misbehave when asked."""

    def __init__(self, *, username: str = "acd", secret: str = "s3cret", version: str = AMI_VERSION,
                 seed: int = 0) -> None:
        self.username = username
        self.secret = secret
        self.version = version
        self.book = ChannelBook()
        self.sessions: list[Session] = []
        self.received: list[Packet] = []  # every action from every session, in arrival order
        self.scripts: dict[str, Script] = {}  # lower-case action name -> scripted answer
        self.silent: set[str] = set()  # lower-case action names left unanswered (client timeouts)
        self.originate_transcript: bytes | None = None
        # (action, test of the action, transcript): played once after that action was answered with Success,
        # as the PBX's own reaction (Atxfer → the consultation's events, PlayDTMF *2 → AttendedTransfer …)
        self.reactions: list[tuple[str, Callable[[Packet], bool], bytes]] = []
        self.logins = 0
        self._rng = random.Random(seed)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self._login_cond = asyncio.Condition()
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start listening; returns the port (a free one unless given)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening and hang up on every session."""
        if self._server is not None:
            self._server.close()
        self.drop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> "FakeAmiServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- faults and replays -------------------------------------------------------------
    def drop(self) -> None:
        """Cut every connection at once, as a PBX restart or a dead link does."""
        for session in self.sessions:
            transport = session.writer.transport
            transport.abort()
        self.sessions.clear()

    async def wait_for_login(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until `count` Logins in total have succeeded."""
        async with self._login_cond:
            await asyncio.wait_for(self._login_cond.wait_for(lambda: self.logins >= count), timeout)

    async def play(self, transcript: bytes | Iterable[Packet], *, chunks: str = "packet", max_chunk: int = 9,
                   noise: float = 0.0, drop_after: int | None = None, delay: float = 0.0) -> int:
        """Send a transcript's events to every logged-in session; returns how many were sent.

        chunks="random" writes each packet in pieces of 1..max_chunk bytes (partial reads on the client);
        noise is the chance, per packet, of a garbage line or an unknown event before it; drop_after=n
        writes n packets, half of the next one, then cuts every connection.
        """
        packets = split_packets(transcript) if isinstance(transcript, bytes) else list(transcript)
        for index, packet in enumerate(packets):
            if drop_after is not None and index == drop_after:
                wire = packet.encode()
                await self._broadcast(wire[: len(wire) // 2], chunks, max_chunk)
                self.drop()
                return index
            if noise and self._rng.random() < noise:
                await self._broadcast(self._noise(), chunks, max_chunk)
            self.book.apply(packet)
            await self._broadcast(packet.encode(), chunks, max_chunk)
            if delay:
                await asyncio.sleep(delay)
        return len(packets)

    def apply_silently(self, transcript: bytes | Iterable[Packet]) -> None:
        """Let events happen on the PBX without telling anyone (as while the link is down)."""
        packets = split_packets(transcript) if isinstance(transcript, bytes) else transcript
        for packet in packets:
            self.book.apply(packet)

    async def send_raw(self, data: bytes) -> None:
        """Write raw bytes (garbage, half packets) to every logged-in session."""
        await self._broadcast(data, "packet", 0)

    def _noise(self) -> bytes:
        if self._rng.random() < 0.5:
            return self._rng.choice([b"garbage without a colon\r\n", b"\x00\xff\xfe binary junk\r\n",
                                     b"Privilege call,all\r\n"])
        name = self._rng.choice(["RTCPSent", "ContactStatus", "PeerStatus", "FancyFutureEvent"])
        return make_packet({"Event": name, "Privilege": "reporting,all", "Detail": "x: y"}).encode()

    async def _broadcast(self, wire: bytes, chunks: str, max_chunk: int) -> None:
        targets = [s for s in self.sessions if s.authenticated and s.events_on]
        if chunks == "random":
            pos = 0
            while pos < len(wire):
                step = self._rng.randint(1, max(1, max_chunk))
                for s in targets:
                    s.write(wire[pos:pos + step])
                pos += step
                await self._flush(targets)
                await asyncio.sleep(0)
        else:
            for s in targets:
                s.write(wire)
            await self._flush(targets)

    @staticmethod
    async def _flush(targets: list[Session]) -> None:
        for s in targets:
            try:
                await s.writer.drain()
            except (ConnectionError, RuntimeError):
                pass  # the client went away; its session ends in _serve

    # ---- the manager session ------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        session = Session(reader, writer)
        self.sessions.append(session)
        session.write(Banner("Asterisk Call Manager", self.version).encode())
        parser = AmiParser(expect_banner=False)
        try:
            while not reader.at_eof():
                data = await reader.read(4096)
                if not data:
                    break
                parser.feed(data)
                while True:
                    try:
                        item = parser.next_packet()
                    except AmiProtocolError as exc:
                        log.info("fake AMI: client sent junk: %s", exc)
                        continue
                    if item is None:
                        break
                    if isinstance(item, Packet) and not await self._action(session, item):
                        return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _action(self, s: Session, action: Packet) -> bool:
        """Answer one action; False ends the session (failed Login, Logoff)."""
        name = (action.action or "").lower()
        self.received.append(action)
        s.actions.append(action)
        if name in self.scripts:
            for chunk in self.scripts[name](action):
                s.write(chunk)
            await s.writer.drain()
            return True
        if name in self.silent:
            return True
        if not name:
            s.write(self._response(action, "Error", "Missing action in request"))
        elif name == "challenge":
            s.challenge = str(self._rng.randrange(10**8, 10**9))
            s.write(self._response(action, "Success", None, Challenge=s.challenge))
        elif name == "login":
            return await self._login(s, action)
        elif not s.authenticated:
            s.write(self._response(action, "Error", "Permission denied"))
        else:
            keep = self._dispatch(s, name, action)
            await s.writer.drain()
            return keep
        await s.writer.drain()
        return True

    async def _login(self, s: Session, action: Packet) -> bool:
        ok = (action.get("Username") == self.username)
        if (action.get("AuthType") or "").lower() == "md5":
            # manager.c authenticate(): Key = hex(MD5(challenge + secret)).
            want = hashlib.md5((s.challenge + self.secret).encode()).hexdigest()
            ok = ok and bool(s.challenge) and action.get("Key") == want
        else:
            ok = ok and action.get("Secret") == self.secret
        if not ok:
            s.write(self._response(action, "Error", "Authentication failed"))
            await s.writer.drain()
            return False
        s.authenticated, s.username = True, self.username
        s.events_on = (action.get("Events") or "on").lower() != "off"
        s.write(self._response(action, "Success", "Authentication accepted"))
        if s.events_on:
            s.write(make_packet({"Event": "FullyBooted", "Privilege": "system,all", "Uptime": "1234",
                                 "LastReload": "1234", "Status": "Fully Booted"}).encode())
        await s.writer.drain()
        async with self._login_cond:
            self.logins += 1
            self._login_cond.notify_all()
        return True

    @staticmethod
    def _response(action: Packet, result: str, message: str | None, **extra: str) -> bytes:
        # astman_send_response_full: Response, ActionID, [EventList], Message.
        pairs = [("Response", result)]
        if action.action_id is not None:
            pairs.append(("ActionID", action.action_id))
        if message is not None:
            pairs.append(("Message", message))
        pairs.extend(extra.items())
        return make_packet(pairs).encode()

    def _dispatch(self, s: Session, name: str, action: Packet) -> bool:
        handler = {
            "ping": self._ping, "coreshowchannels": self._core_show_channels, "queuestatus": self._queue_status,
            "originate": self._originate, "hangup": self._hangup, "events": self._events,
        }.get(name)
        if handler is not None:
            handler(s, action)
            return True
        if name == "logoff":
            s.write(self._response(action, "Goodbye", "Thanks for all the fish."))
            return False
        channel_actions = {"redirect": "Redirect successful", "atxfer": "Atxfer successfully queued",
                           "blindtransfer": "Transfer succeeded", "bridge": "Channels have been bridged",
                           "mixmonitor": None, "stopmixmonitor": None,  # app_mixmonitor.c: no Message
                           "monitor": "Started monitoring channel", "setvar": "Variable Set",
                           "playdtmf": "DTMF successfully queued",  # app_senddtmf.c manager_play_dtmf
                           "muteaudio": None}  # res_mutestream.c: Success without a Message
        if name in channel_actions:
            names = [action.get("Channel") or action.get("Channel1") or ""]
            if name == "bridge":
                names.append(action.get("Channel2") or "")
            if all(self.book.find(n) for n in names):
                extra = {"MixMonitorID": f"0x{self._rng.getrandbits(48):012x}"} if name == "mixmonitor" else {}
                s.write(self._response(action, "Success", channel_actions[name], **extra))
                self._react(name, action)
            else:
                s.write(self._response(action, "Error", "Channel not found" if name == "playdtmf"
                                        else "No such channel"))
            return True
        s.write(self._response(action, "Error", f"Invalid/unknown command: {action.action}. "
                                                "Use Action: ListCommands to show available commands."))
        return True

    def react(self, action: str, transcript: bytes, when: Callable[[Packet], bool] = lambda p: True) -> None:
        """After the next successful `action` that passes `when`, play `transcript` (once)."""
        self.reactions.append((action.lower(), when, transcript))

    def _react(self, name: str, action: Packet) -> None:
        for i, (wanted, when, transcript) in enumerate(self.reactions):
            if wanted == name and when(action):
                del self.reactions[i]
                task = asyncio.ensure_future(self.play(transcript))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return

    def _ping(self, s: Session, action: Packet) -> None:
        s.write(make_packet([("Response", "Success")] + ([("ActionID", action.action_id)] if action.action_id else [])
                            + [("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]).encode())

    def _events(self, s: Session, action: Packet) -> None:
        s.events_on = (action.get("EventMask") or "on").lower() != "off"
        s.write(self._response(action, "Success", "Events On" if s.events_on else "Events Off"))

    def _list_ack(self, s: Session, action: Packet, message: str) -> list[tuple[str, str]]:
        idtext = [("ActionID", action.action_id)] if action.action_id else []
        s.write(make_packet([("Response", "Success")] + idtext + [("EventList", "start"), ("Message", message)])
                .encode())
        return idtext

    def _core_show_channels(self, s: Session, action: Packet) -> None:
        idtext = self._list_ack(s, action, "Channels will follow")
        now = time.monotonic()
        for live in self.book.channels.values():
            secs = int(now - live.created)
            s.write(make_packet([("Event", "CoreShowChannel")] + idtext + snapshot_fields(live.snapshot) + [
                ("Application", "Queue" if live.queue else "AppDial"), ("ApplicationData", ""),
                ("Duration", f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"),
                ("BridgeId", live.bridge_id)]).encode())
        s.write(make_packet([("Event", "CoreShowChannelsComplete")] + idtext + [
            ("EventList", "Complete"), ("ListItems", str(len(self.book.channels)))]).encode())

    def _queue_status(self, s: Session, action: Packet) -> None:
        idtext = self._list_ack(s, action, "Queue status will follow")
        wanted = action.get("Queue")
        items = 0
        for queue, waiting in self.book.queues.items():
            if wanted and wanted != queue:
                continue
            # app_queue.c manager_queues_status: the ActionID comes last in these list items.
            s.write(make_packet([("Event", "QueueParams"), ("Queue", queue), ("Max", "0"), ("Strategy", "rrmemory"),
                                 ("Calls", str(len(waiting))), ("Holdtime", "0"), ("TalkTime", "0"),
                                 ("Completed", "0"), ("Abandoned", "0"), ("ServiceLevel", "60"),
                                 ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"), ("Weight", "0")]
                                + idtext).encode())
            items += 1
            for pos, uid in enumerate(waiting, 1):
                ch = self.book.channels[uid].snapshot
                s.write(make_packet([("Event", "QueueEntry"), ("Queue", queue), ("Position", str(pos)),
                                     ("Channel", ch.channel), ("Uniqueid", ch.uniqueid),
                                     ("CallerIDNum", ch.caller_id_num), ("CallerIDName", ch.caller_id_name),
                                     ("ConnectedLineNum", ch.connected_line_num),
                                     ("ConnectedLineName", ch.connected_line_name), ("Wait", "0"),
                                     ("Priority", "0")] + idtext).encode())
                items += 1
        s.write(make_packet([("Event", "QueueStatusComplete")] + idtext + [
            ("EventList", "Complete"), ("ListItems", str(items))]).encode())

    def _hangup(self, s: Session, action: Packet) -> None:
        live = self.book.find(action.get("Channel") or "")
        if live is None:
            s.write(self._response(action, "Error", "No such channel"))
            return
        s.write(self._response(action, "Success", "Channel Hungup"))
        cause = action.get("Cause") or "16"
        hangup = make_packet([("Event", "Hangup"), ("Privilege", "call,all")] + snapshot_fields(live.snapshot)
                             + [("Cause", cause), ("Cause-txt", "Normal Clearing" if cause == "16" else "Unknown")])
        self.book.apply(hangup)
        for target in self.sessions:
            if target.authenticated and target.events_on:
                target.write(hangup.encode())

    def _originate(self, s: Session, action: Packet) -> None:
        if not action.get("Channel") or "/" not in (action.get("Channel") or ""):
            s.write(self._response(action, "Error", "Invalid channel" if action.get("Channel") else
                                   "Channel not specified"))
            return
        asynchronous = (action.get("Async") or "").lower() in ("true", "yes", "1")
        if asynchronous:
            s.write(self._response(action, "Success", "Originate successfully queued"))
        task = asyncio.ensure_future(self._run_originate(s, action, asynchronous))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_originate(self, s: Session, action: Packet, asynchronous: bool) -> None:
        await asyncio.sleep(0.01)  # the real one rings the phone first
        if self.originate_transcript is None:
            fields = [("Response", "Failure"), ("Channel", action.get("Channel") or ""),
                      ("Context", action.get("Context") or ""), ("Exten", action.get("Exten") or ""),
                      ("Reason", "0"), ("Uniqueid", "<unknown>"), ("CallerIDNum", "<unknown>"),
                      ("CallerIDName", "<unknown>")]
            packets = [make_packet([("Event", "OriginateResponse"), ("Privilege", "call,all")]
                                   + ([("ActionID", action.action_id)] if action.action_id else []) + fields)]
        else:
            packets = [self._with_action_id(p, action.action_id) for p in split_packets(self.originate_transcript)]
        failed = all((p.get("Response") or "") == "Failure" for p in packets if p.event == "OriginateResponse")
        if not asynchronous:
            s.write(self._response(action, "Error" if failed else "Success",
                                   "Originate failed" if failed else "Originate successfully queued"))
        await self.play(packets)

    @staticmethod
    def _with_action_id(packet: Packet, action_id: str | None) -> Packet:
        if packet.event != "OriginateResponse" or action_id is None:
            return packet
        return Packet(tuple((k, action_id if k == "ActionID" else v) for k, v in packet.items))


async def serve_forever(port: int, transcripts: list[str], every: float) -> None:
    """Run a fake PBX on `port`, replaying the transcripts in turn every `every` seconds."""
    from pathlib import Path

    server = FakeAmiServer()
    await server.start("127.0.0.1", port)
    log.warning("fake AMI on 127.0.0.1:%d (user %s, secret %s)", server.port, server.username, server.secret)
    try:
        while True:
            for name in transcripts:
                await asyncio.sleep(every)
                await server.play(Path(name).read_bytes(), delay=0.05)
    finally:
        await server.close()


if __name__ == "__main__":
    import argparse

    cli = argparse.ArgumentParser(description="Fake Asterisk manager replaying AMI transcripts.")
    cli.add_argument("--port", type=int, default=5038)
    cli.add_argument("--every", type=float, default=5.0, help="seconds between replays")
    cli.add_argument("transcripts", nargs="*", help="*.ami files (raw AMI text)")
    args = cli.parse_args()
    logging.basicConfig(level=logging.INFO)
    asyncio.run(serve_forever(args.port, args.transcripts, args.every))
