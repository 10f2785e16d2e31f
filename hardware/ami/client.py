"""Asyncio AMI client: login, actions matched to responses by ActionID, event lists, event dispatch,
keepalive, and reconnect with back-off that tells the caller which channels vanished or appeared.

The read loop reads and dispatches; decoding lives in codec/events, call state in calls.py.
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import itertools
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from hardware.ami.codec import AmiParser, Banner, Fields, Packet, encode_action
from hardware.ami.errors import (
    AmiActionError, AmiAuthError, AmiConnectionError, AmiError, AmiProtocolError, AmiTimeout,
)
from hardware.ami.events import AmiEvent, ChannelEvent, CoreShowChannel, Hangup, OriginateResponse, decode_event

log = logging.getLogger(__name__)

ACTION_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
PING_INTERVAL = 20.0
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0

EventHandler = Callable[[AmiEvent], Awaitable[None] | None]
ReconnectHandler = Callable[["Reconciliation"], Awaitable[None] | None]


@dataclass(frozen=True)
class ActionResult:
    """A successful response, with the events of its list (CoreShowChannels, QueueStatus …)."""

    response: Packet
    events: tuple[AmiEvent, ...] = ()
    complete: Packet | None = None  # the `…Complete` event that closed the list

    @property
    def message(self) -> str:
        """The response's `Message`, if any."""
        return self.response.get("Message", "") or ""

    @property
    def output(self) -> tuple[str, ...]:
        """Legacy `Response: Follows` command output."""
        return self.response.output


@dataclass(frozen=True)
class Reconciliation:
    """After a reconnect: what changed on the PBX while we were not listening."""

    reconnects: int
    outage_seconds: float
    vanished: dict[str, str]  # uniqueid -> channel name, channels we knew that are gone
    appeared: tuple[CoreShowChannel, ...]  # live now, unknown to us before the drop
    still_live: tuple[CoreShowChannel, ...]


@dataclass
class _Pending:
    action: str
    future: asyncio.Future
    is_list: bool = False
    response: Packet | None = None
    events: list[AmiEvent] = field(default_factory=list)


class AmiClient:
    """One manager session kept alive: `await start()`, then actions and subscriptions."""

    def __init__(self, host: str, port: int, username: str, secret: str, *, md5: bool = False,
                 action_timeout: float = ACTION_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT,
                 ping_interval: float = PING_INTERVAL, backoff_min: float = BACKOFF_MIN,
                 backoff_max: float = BACKOFF_MAX, events: bool = True) -> None:
        self.host, self.port, self.username, self._secret = host, port, username, secret
        self.md5, self.events_on = md5, events
        self.action_timeout, self.connect_timeout, self.ping_interval = action_timeout, connect_timeout, ping_interval
        self.backoff_min, self.backoff_max = backoff_min, backoff_max
        self.banner: Banner | None = None
        self.live_channels: dict[str, str] = {}  # uniqueid -> channel name, from events and CoreShowChannels
        self.stats = {"protocol_errors": 0, "unmatched": 0, "events": 0, "reconnects": 0, "handler_errors": 0}
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3)
        self._pending: dict[str, _Pending] = {}
        self._originates: dict[str, asyncio.Future] = {}
        self._subscribers: list[tuple[EventHandler, tuple[type, ...]]] = []
        self._reconnect_handlers: list[ReconnectHandler] = []
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._runner: asyncio.Task | None = None
        self._first: asyncio.Future | None = None
        self._held: list[AmiEvent] | None = None  # events buffered while we reconcile after login
        self._down_since: float | None = None
        self._known_at_drop: dict[str, str] | None = None
        self._sessions = 0
        self._tasks: set[asyncio.Task] = set()

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and log in; raises AmiAuthError/AmiConnectionError if the first attempt fails."""
        self._first = asyncio.get_running_loop().create_future()
        self._runner = asyncio.ensure_future(self._run())
        try:
            await self._first
        except AmiError:
            await self.close()
            raise

    async def close(self) -> None:
        """Log off if we can, stop reconnecting, fail whatever is still waiting."""
        self._closing = True
        if self._connected.is_set():
            try:
                await self.send_action("Logoff", timeout=1.0)
            except AmiError:
                pass  # a PBX that does not say goodbye is still left
        if self._writer is not None:
            self._writer.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._fail_pending(AmiConnectionError("client closed"))

    @property
    def connected(self) -> bool:
        """True while logged in."""
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until logged in (again)."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    def subscribe(self, handler: EventHandler, *types: type[AmiEvent]) -> Callable[[], None]:
        """Call `handler` for each event (of `types`, or all); returns the unsubscribe function.

        Handlers run in stream order; a coroutine handler is scheduled as a task.
        """
        entry = (handler, tuple(types))
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry) if entry in self._subscribers else None

    def on_reconnect(self, handler: ReconnectHandler) -> Callable[[], None]:
        """Call `handler` with a Reconciliation after every reconnect, before newer events."""
        self._reconnect_handlers.append(handler)
        return lambda: self._reconnect_handlers.remove(handler) if handler in self._reconnect_handlers else None

    async def _run(self) -> None:
        failures = 0
        while not self._closing:
            try:
                await self._session()
                failures = 0  # a session that logged in resets the back-off
            except asyncio.CancelledError:
                raise
            except (OSError, asyncio.TimeoutError, AmiError) as exc:
                failures += 1
                if self._first is not None and not self._first.done():
                    err = exc if isinstance(exc, AmiError) else AmiConnectionError(f"{self.host}:{self.port}: {exc}")
                    self._first.set_exception(err)
                    return
                log.warning("AMI %s:%s: %s", self.host, self.port, exc)
            if self._closing:
                return
            # Exponential back-off with jitter so a fleet does not stampede a restarted PBX.
            delay = min(self.backoff_max, self.backoff_min * 2 ** max(0, failures - 1))
            await asyncio.sleep(delay * (0.5 + secrets.randbelow(500) / 1000))

    async def _session(self) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.connect_timeout)
        self._writer = writer
        banner = asyncio.get_running_loop().create_future()
        self._held = []
        read_task = asyncio.ensure_future(self._read_loop(reader, banner))
        keepalive: asyncio.Task | None = None
        try:
            done, _ = await asyncio.wait({banner, read_task}, timeout=self.connect_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if banner not in done:
                raise AmiConnectionError("no AMI banner from the PBX")
            self.banner = banner.result()
            await self._login()
            self._connected.set()
            self._sessions += 1
            await self._reconcile()
            if self._first is not None and not self._first.done():
                self._first.set_result(None)
            keepalive = asyncio.ensure_future(self._keepalive())
            await read_task
        finally:
            self._connected.clear()
            self._held = None
            if self._down_since is None:
                self._down_since = time.monotonic()
                self._known_at_drop = dict(self.live_channels)
            for task in (read_task, keepalive):
                if task is not None:
                    task.cancel()
            writer.close()
            self._writer = None
            self._fail_pending(AmiConnectionError("AMI connection lost"))

    async def _login(self) -> None:
        fields: dict[str, str] = {"Username": self.username, "Events": "on" if self.events_on else "off"}
        if self.md5:
            challenge = await self._request("Challenge", {"AuthType": "MD5"}, login=True)
            key = hashlib.md5(((challenge.response.get("Challenge") or "") + self._secret).encode()).hexdigest()
            fields.update(AuthType="MD5", Key=key)
        else:
            fields["Secret"] = self._secret
        try:
            await self._request("Login", fields, login=True)
        except AmiActionError as exc:
            raise AmiAuthError(f"AMI login as {self.username!r} refused: {exc.message}") from exc

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.send_action("Ping", timeout=min(self.action_timeout, self.ping_interval))
            except AmiError as exc:
                log.warning("AMI keepalive failed (%s); reconnecting", exc)
                if self._writer is not None:
                    self._writer.transport.abort()
                return

    async def _reconcile(self) -> None:
        """Fetch the live channels; after a reconnect, report the difference, then release held events."""
        before = self._known_at_drop if self._known_at_drop is not None else dict(self.live_channels)
        listed = await self.core_show_channels()
        now = {c.channel.uniqueid: c for c in listed}
        self.live_channels = {uid: c.channel.channel for uid, c in now.items()}
        if self._sessions > 1:
            self.stats["reconnects"] += 1
            outage = time.monotonic() - self._down_since if self._down_since is not None else 0.0
            report = Reconciliation(
                reconnects=self.stats["reconnects"], outage_seconds=outage,
                vanished={uid: name for uid, name in before.items() if uid not in now},
                appeared=tuple(c for uid, c in now.items() if uid not in before),
                still_live=tuple(c for uid, c in now.items() if uid in before))
            for handler in list(self._reconnect_handlers):
                self._call(handler, report)
        self._down_since = None
        self._known_at_drop = None
        held, self._held = self._held or [], None
        for event in held:
            self._dispatch(event)

    # ---- reading --------------------------------------------------------------------------
    async def _read_loop(self, reader: asyncio.StreamReader, banner: asyncio.Future) -> None:
        try:
            await self._read_packets(reader, banner)
        finally:
            # Whoever waits on this connection learns now, not at its timeout.
            self._fail_pending(AmiConnectionError("AMI connection lost"))

    async def _read_packets(self, reader: asyncio.StreamReader, banner: asyncio.Future) -> None:
        parser = AmiParser()
        while True:
            try:
                data = await reader.read(65536)
            except ConnectionError:
                return
            if not data:
                return
            parser.feed(data)
            while True:
                try:
                    item = parser.next_packet()
                except AmiProtocolError as exc:
                    self.stats["protocol_errors"] += 1
                    log.warning("AMI %s:%s sent junk: %s", self.host, self.port, exc)
                    continue
                if item is None:
                    break
                if isinstance(item, Banner):
                    if not banner.done():
                        banner.set_result(item)
                else:
                    self._on_packet(item)

    def _on_packet(self, packet: Packet) -> None:
        if packet.event is not None:
            self._on_event(decode_event(packet))
        elif packet.response is not None:
            self._on_response(packet)
        else:
            self.stats["unmatched"] += 1
            log.warning("AMI packet with neither Event nor Response dropped: %s", packet.items[:3])

    def _on_response(self, packet: Packet) -> None:
        pending = self._pending.get(packet.action_id or "")
        if pending is None or pending.future.done():
            self.stats["unmatched"] += 1
            log.warning("AMI response for unknown ActionID %r dropped", packet.action_id)
            return
        if (packet.response or "").lower() == "error":
            pending.future.set_exception(AmiActionError(pending.action, packet.get("Message", "") or ""))
        elif pending.is_list and (packet.get("EventList") or "").lower() == "start":
            pending.response = packet  # the items and the …Complete event follow
        else:
            pending.future.set_result(ActionResult(packet))

    def _on_event(self, event: AmiEvent) -> None:
        pending = self._pending.get(event.action_id or "")
        if pending is not None and pending.is_list and not pending.future.done():
            if (event.packet.get("EventList") or "").lower() == "complete":
                response = pending.response or event.packet
                pending.future.set_result(ActionResult(response, tuple(pending.events), event.packet))
            else:
                pending.events.append(event)
            return
        self.stats["events"] += 1
        self._track(event)
        if isinstance(event, OriginateResponse):
            waiter = self._originates.pop(event.action_id or "", None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event)
        if self._held is not None:
            self._held.append(event)
        else:
            self._dispatch(event)

    def _track(self, event: AmiEvent) -> None:
        if isinstance(event, Hangup):
            self.live_channels.pop(event.channel.uniqueid, None)
        elif isinstance(event, ChannelEvent):
            self.live_channels[event.channel.uniqueid] = event.channel.channel

    def _dispatch(self, event: AmiEvent) -> None:
        for handler, types in list(self._subscribers):
            if not types or isinstance(event, types):
                self._call(handler, event)

    def _call(self, handler: Callable[[Any], Any], arg: object) -> None:
        try:
            result = handler(arg)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._task_done)
        except Exception:  # a subscriber's bug must not stop the read loop
            self.stats["handler_errors"] += 1
            log.exception("AMI event handler %r failed", handler)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.stats["handler_errors"] += 1
            log.error("AMI event handler task failed", exc_info=task.exception())

    def _fail_pending(self, exc: AmiError) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(exc)
        for waiter in self._originates.values():
            if not waiter.done():
                waiter.set_exception(exc)
        self._pending.clear()
        self._originates.clear()

    # ---- actions --------------------------------------------------------------------------
    def next_action_id(self) -> str:
        """A fresh ActionID, unique per client instance."""
        return f"{self._prefix}-{next(self._ids)}"

    async def send_action(self, action: str, fields: Fields = None, *, timeout: float | None = None) -> ActionResult:
        """Send an action and wait for its response; AmiActionError on `Response: Error`."""
        return await self._request(action, fields, timeout=timeout)

    async def send_list_action(self, action: str, fields: Fields = None, *,
                               timeout: float | None = None) -> ActionResult:
        """Send an action answered by an event list and wait for the list's `EventList: Complete`."""
        return await self._request(action, fields, timeout=timeout, is_list=True)

    async def _request(self, action: str, fields: Fields = None, *, timeout: float | None = None,
                       is_list: bool = False, login: bool = False, action_id: str | None = None) -> ActionResult:
        if self._writer is None or (not login and not self._connected.is_set()):
            raise AmiConnectionError(f"{action}: not connected to AMI {self.host}:{self.port}")
        action_id = action_id or self.next_action_id()
        wire = encode_action(action, action_id, fields)
        future = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(action, future, is_list)
        try:
            self._writer.write(wire)
            return await asyncio.wait_for(future, timeout if timeout is not None else self.action_timeout)
        except asyncio.TimeoutError:
            raise AmiTimeout(f"{action} (ActionID {action_id}): no answer from the PBX") from None
        finally:
            self._pending.pop(action_id, None)

    async def ping(self) -> float:
        """Round-trip time of a Ping, in seconds."""
        started = time.monotonic()
        await self.send_action("Ping")
        return time.monotonic() - started

    async def core_show_channels(self) -> list[CoreShowChannel]:
        """Every live channel on the PBX."""
        result = await self.send_list_action("CoreShowChannels")
        return [e for e in result.events if isinstance(e, CoreShowChannel)]

    async def queue_status(self, queue: str | None = None, member: str | None = None) -> ActionResult:
        """QueueParams/QueueMember/QueueEntry events of one queue or all."""
        fields = {k: v for k, v in (("Queue", queue), ("Member", member)) if v}
        return await self.send_list_action("QueueStatus", fields)

    async def originate(self, channel: str, *, context: str | None = None, exten: str | None = None,
                        priority: int = 1, application: str | None = None, data: str | None = None,
                        caller_id: str | None = None, ring_timeout: float = 30.0,
                        variables: Mapping[str, str] | None = None, account: str | None = None,
                        channel_id: str | None = None, other_channel_id: str | None = None) -> OriginateResponse:
        """Async Originate; waits for its OriginateResponse event (check `.success`)."""
        fields: dict[str, Any] = {"Channel": channel}
        if application:
            fields.update(Application=application, Data=data or "")
        else:
            fields.update(Context=context or "", Exten=exten or "", Priority=str(priority))
        optional = {"CallerID": caller_id, "Account": account, "ChannelId": channel_id,
                    "OtherChannelId": other_channel_id}
        fields.update({k: v for k, v in optional.items() if v})
        fields["Timeout"] = str(int(ring_timeout * 1000))
        if variables:
            fields["Variable"] = [f"{k}={v}" for k, v in variables.items()]
        fields["Async"] = "true"
        action_id = self.next_action_id()
        waiter = asyncio.get_running_loop().create_future()
        self._originates[action_id] = waiter
        try:
            await self._request("Originate", fields, action_id=action_id)
            return await asyncio.wait_for(waiter, ring_timeout + self.action_timeout)
        except asyncio.TimeoutError:
            raise AmiTimeout(f"Originate {channel}: no OriginateResponse") from None
        finally:
            self._originates.pop(action_id, None)

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1, *,
                       extra_channel: str | None = None) -> ActionResult:
        """Send a channel (and optionally its peer) to a dialplan location."""
        fields = {"Channel": channel, "Context": context, "Exten": exten, "Priority": str(priority)}
        if extra_channel:
            fields.update(ExtraChannel=extra_channel, ExtraContext=context, ExtraExten=exten,
                          ExtraPriority=str(priority))
        return await self.send_action("Redirect", fields)

    async def bridge(self, channel1: str, channel2: str, *, tone: bool = False) -> ActionResult:
        """Bridge two live channels together."""
        return await self.send_action("Bridge", {"Channel1": channel1, "Channel2": channel2,
                                                 "Tone": "Channel2" if tone else "no"})

    async def hangup(self, channel: str, cause: int | None = None) -> ActionResult:
        """Hang up a channel, with a Q.850 cause if given."""
        fields = {"Channel": channel} | ({"Cause": str(cause)} if cause is not None else {})
        return await self.send_action("Hangup", fields)

    async def atxfer(self, channel: str, exten: str, context: str) -> ActionResult:
        """Start an attended transfer of `channel`'s peer to exten@context."""
        return await self.send_action("Atxfer", {"Channel": channel, "Exten": exten, "Context": context})

    async def blind_transfer(self, channel: str, exten: str, context: str) -> ActionResult:
        """Blind-transfer `channel` to exten@context."""
        return await self.send_action("BlindTransfer", {"Channel": channel, "Exten": exten, "Context": context})

    async def mix_monitor(self, channel: str, file: str, options: str = "") -> ActionResult:
        """Start recording a channel (both directions mixed) to `file`."""
        fields = {"Channel": channel, "File": file} | ({"Options": options} if options else {})
        return await self.send_action("MixMonitor", fields)

    async def stop_mix_monitor(self, channel: str) -> ActionResult:
        """Stop a MixMonitor recording."""
        return await self.send_action("StopMixMonitor", {"Channel": channel})

    async def monitor(self, channel: str, file: str, fmt: str = "wav", mix: bool = True) -> ActionResult:
        """Legacy Monitor (Asterisk <= 20): record a channel."""
        return await self.send_action("Monitor", {"Channel": channel, "File": file, "Format": fmt,
                                                  "Mix": "true" if mix else "false"})

    async def command(self, command: str) -> list[str]:
        """Run a CLI command; its output lines (`Output:` in 14+, `Response: Follows` before)."""
        result = await self.send_action("Command", {"Command": command})
        return list(result.output) or result.response.get_all("Output")
