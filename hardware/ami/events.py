"""Typed AMI events the ACD needs, decoded from packets; everything else is an `UnknownEvent`.

Field names and order follow Asterisk 18+: channel fields come from
`ast_manager_build_channel_state_string_prefix` (main/manager_channels.c), bridge fields from
`ast_manager_build_bridge_state_string_prefix` (main/manager_bridges.c), queue fields from the JSON
blobs of apps/app_queue.c. Decoding never raises: a known event too broken to type stays unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar

from hardware.ami.codec import Packet
# Re-exported: the snapshots are the events' field types, callers import them from here too.
from hardware.ami.snapshots import UNKNOWN, BridgeSnapshot, ChannelSnapshot  # noqa: F401
from hardware.ami.snapshots import as_int as _int


@dataclass(frozen=True)
class AmiEvent:
    """Base of every decoded event; `packet` keeps the raw fields for anything not typed here."""

    packet: Packet = field(repr=False, compare=False)
    NAME: ClassVar[str] = ""

    @property
    def name(self) -> str:
        """The event name as sent."""
        return self.packet.event or ""

    @property
    def action_id(self) -> str | None:
        """The ActionID, present on list items and OriginateResponse."""
        return self.packet.action_id


@dataclass(frozen=True)
class UnknownEvent(AmiEvent):
    """Any event not typed here (NewExten, BridgeCreate, RTCP …), or a known one missing its channel."""

    problem: str | None = None


@dataclass(frozen=True)
class ChannelEvent(AmiEvent):
    """An event about one channel."""

    channel: ChannelSnapshot = field(default=None)  # type: ignore[assignment]


@dataclass(frozen=True)
class Newchannel(ChannelEvent):
    """A channel was created (manager_channels.c)."""

    NAME: ClassVar[str] = "Newchannel"


@dataclass(frozen=True)
class Newstate(ChannelEvent):
    """A channel changed state (Ring, Ringing, Up …)."""

    NAME: ClassVar[str] = "Newstate"


@dataclass(frozen=True)
class NewCallerid(ChannelEvent):
    """New caller id on a channel; `CID-CallingPres` says how it may be shown."""

    NAME: ClassVar[str] = "NewCallerid"
    calling_pres: str = ""


@dataclass(frozen=True)
class NewConnectedLine(ChannelEvent):
    """New connected line (whom the channel talks to, as far as Asterisk knows)."""

    NAME: ClassVar[str] = "NewConnectedLine"


@dataclass(frozen=True)
class Hangup(ChannelEvent):
    """A channel hung up; Q.850 cause code and its text (`Cause`, `Cause-txt`)."""

    NAME: ClassVar[str] = "Hangup"
    cause: int = 0
    cause_txt: str = ""
    tech_cause: int | None = None


@dataclass(frozen=True)
class Hold(ChannelEvent):
    """A channel went on hold."""

    NAME: ClassVar[str] = "Hold"
    music_class: str = ""


@dataclass(frozen=True)
class Unhold(ChannelEvent):
    """A channel came off hold."""

    NAME: ClassVar[str] = "Unhold"


@dataclass(frozen=True)
class VarSet(ChannelEvent):
    """A channel variable was set (only sent if the PBX has `dialplan` events on)."""

    NAME: ClassVar[str] = "VarSet"
    variable: str = ""
    value: str = ""


@dataclass(frozen=True)
class DTMFBegin(ChannelEvent):
    """A DTMF digit started (`Direction`: Received or Sent)."""

    NAME: ClassVar[str] = "DTMFBegin"
    digit: str = ""
    direction: str = ""


@dataclass(frozen=True)
class DTMFEnd(ChannelEvent):
    """A DTMF digit ended, with its duration in ms."""

    NAME: ClassVar[str] = "DTMFEnd"
    digit: str = ""
    direction: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class DialBegin(AmiEvent):
    """A dial started; `channel` is None for an Originate, which dials with no caller channel."""

    NAME: ClassVar[str] = "DialBegin"
    channel: ChannelSnapshot | None = None
    dest: ChannelSnapshot = field(default=None)  # type: ignore[assignment]
    dial_string: str = ""


@dataclass(frozen=True)
class DialState(AmiEvent):
    """The dialled side reported progress (RINGING, PROCEEDING, PROGRESS)."""

    NAME: ClassVar[str] = "DialState"
    channel: ChannelSnapshot | None = None
    dest: ChannelSnapshot = field(default=None)  # type: ignore[assignment]
    dial_status: str = ""


@dataclass(frozen=True)
class DialEnd(AmiEvent):
    """A dial finished: `DialStatus` is ANSWER, BUSY, NOANSWER, CANCEL, CHANUNAVAIL, CONGESTION …"""

    NAME: ClassVar[str] = "DialEnd"
    channel: ChannelSnapshot | None = None
    dest: ChannelSnapshot = field(default=None)  # type: ignore[assignment]
    dial_status: str = ""
    forward: str = ""


@dataclass(frozen=True)
class BridgeEnter(ChannelEvent):
    """A channel entered a bridge; `swap_uniqueid` names the channel it replaced (transfers)."""

    NAME: ClassVar[str] = "BridgeEnter"
    bridge: BridgeSnapshot = field(default=None)  # type: ignore[assignment]
    swap_uniqueid: str | None = None


@dataclass(frozen=True)
class BridgeLeave(ChannelEvent):
    """A channel left a bridge."""

    NAME: ClassVar[str] = "BridgeLeave"
    bridge: BridgeSnapshot = field(default=None)  # type: ignore[assignment]


@dataclass(frozen=True)
class QueueCallerJoin(ChannelEvent):
    """A caller joined an Asterisk queue at `position` of `count`."""

    NAME: ClassVar[str] = "QueueCallerJoin"
    queue: str = ""
    position: int = 0
    count: int = 0


@dataclass(frozen=True)
class QueueCallerLeave(ChannelEvent):
    """A caller left an Asterisk queue (answered, abandoned or timed out)."""

    NAME: ClassVar[str] = "QueueCallerLeave"
    queue: str = ""
    position: int = 0
    count: int = 0


@dataclass(frozen=True)
class QueueCallerAbandon(ChannelEvent):
    """A caller hung up while waiting; `hold_time` in seconds."""

    NAME: ClassVar[str] = "QueueCallerAbandon"
    queue: str = ""
    position: int = 0
    original_position: int = 0
    hold_time: int = 0


@dataclass(frozen=True)
class AgentEvent(ChannelEvent):
    """A queue member event: caller channel, member channel as `dest` (`Dest…` fields)."""

    dest: ChannelSnapshot | None = None
    queue: str = ""
    interface: str = ""
    member_name: str = ""


@dataclass(frozen=True)
class AgentCalled(AgentEvent):
    """A queue member's phone is being rung for a caller."""

    NAME: ClassVar[str] = "AgentCalled"


@dataclass(frozen=True)
class AgentRingNoAnswer(AgentEvent):
    """A queue member did not answer within the ring time (`RingTime` as app_queue.c sends it)."""

    NAME: ClassVar[str] = "AgentRingNoAnswer"
    ring_time: int = 0


@dataclass(frozen=True)
class AgentConnect(AgentEvent):
    """A queue member answered and is bridged to the caller."""

    NAME: ClassVar[str] = "AgentConnect"
    hold_time: int = 0
    ring_time: int = 0


@dataclass(frozen=True)
class AgentComplete(AgentEvent):
    """A queue call ended; `reason` is caller, agent or transfer."""

    NAME: ClassVar[str] = "AgentComplete"
    hold_time: int = 0
    talk_time: int = 0
    reason: str = ""


@dataclass(frozen=True)
class BlindTransfer(AmiEvent):
    """A blind transfer happened (stasis_bridges.c): transferee sent to `context`/`extension`."""

    NAME: ClassVar[str] = "BlindTransfer"
    result: str = ""
    transferer: ChannelSnapshot = field(default=None)  # type: ignore[assignment]
    transferee: ChannelSnapshot | None = None
    bridge: BridgeSnapshot | None = None
    is_external: bool = False
    context: str = ""
    extension: str = ""


@dataclass(frozen=True)
class AttendedTransfer(AmiEvent):
    """An attended transfer completed: the transferer's two calls were joined."""

    NAME: ClassVar[str] = "AttendedTransfer"
    result: str = ""
    orig_transferer: ChannelSnapshot = field(default=None)  # type: ignore[assignment]
    second_transferer: ChannelSnapshot = field(default=None)  # type: ignore[assignment]
    transferee: ChannelSnapshot | None = None
    transfer_target: ChannelSnapshot | None = None
    orig_bridge: BridgeSnapshot | None = None
    second_bridge: BridgeSnapshot | None = None
    dest_type: str = ""
    is_external: bool = False


@dataclass(frozen=True)
class FullyBooted(AmiEvent):
    """Sent right after Login when the PBX has finished starting (manager.c action_login)."""

    NAME: ClassVar[str] = "FullyBooted"
    status: str = ""
    uptime: int = 0
    last_reload: int = 0


@dataclass(frozen=True)
class OriginateResponse(AmiEvent):
    """The outcome of an async Originate; `reason` is the AST_CONTROL code (4 = answered)."""

    NAME: ClassVar[str] = "OriginateResponse"
    response: str = ""
    channel_name: str = ""
    context: str = ""
    exten: str = ""
    application: str = ""
    data: str = ""
    reason: int = 0
    uniqueid: str = ""
    caller_id_num: str = ""
    caller_id_name: str = ""

    @property
    def success(self) -> bool:
        """True when the originated channel answered."""
        return self.response.lower() == "success"


@dataclass(frozen=True)
class CoreShowChannel(ChannelEvent):
    """One live channel in a `CoreShowChannels` list."""

    NAME: ClassVar[str] = "CoreShowChannel"
    application: str = ""
    application_data: str = ""
    duration: str = ""
    bridge_id: str = ""


def _no_extras(p: Packet) -> dict:
    return {}


def _agent(p: Packet) -> dict:
    return {"dest": ChannelSnapshot.from_packet(p, "Dest"), "queue": p.get("Queue", "") or "",
            "interface": p.get("Interface", "") or "", "member_name": p.get("MemberName", "") or ""}


def _s(p: Packet, key: str) -> str:
    return p.get(key, "") or ""


# Extra fields per event beyond its own channel snapshot; lambdas keep the table readable.
_EXTRA: dict[type, Callable[[Packet], dict]] = {
    Newchannel: _no_extras, Newstate: _no_extras, NewConnectedLine: _no_extras,
    Unhold: _no_extras,
    NewCallerid: lambda p: {"calling_pres": _s(p, "CID-CallingPres")},
    Hangup: lambda p: {"cause": _int(p.get("Cause")), "cause_txt": _s(p, "Cause-txt"),
                       "tech_cause": _int(p.get("TechCause")) if p.get("TechCause") is not None else None},
    Hold: lambda p: {"music_class": _s(p, "MusicClass")},
    VarSet: lambda p: {"variable": _s(p, "Variable"), "value": _s(p, "Value")},
    DTMFBegin: lambda p: {"digit": _s(p, "Digit"), "direction": _s(p, "Direction")},
    DTMFEnd: lambda p: {"digit": _s(p, "Digit"), "direction": _s(p, "Direction"),
                        "duration_ms": _int(p.get("DurationMs"))},
    BridgeEnter: lambda p: {"bridge": BridgeSnapshot.from_packet(p), "swap_uniqueid": p.get("SwapUniqueid")},
    BridgeLeave: lambda p: {"bridge": BridgeSnapshot.from_packet(p)},
    QueueCallerJoin: lambda p: {"queue": _s(p, "Queue"), "position": _int(p.get("Position")),
                                "count": _int(p.get("Count"))},
    QueueCallerLeave: lambda p: {"queue": _s(p, "Queue"), "position": _int(p.get("Position")),
                                 "count": _int(p.get("Count"))},
    QueueCallerAbandon: lambda p: {"queue": _s(p, "Queue"), "position": _int(p.get("Position")),
                                   "original_position": _int(p.get("OriginalPosition")),
                                   "hold_time": _int(p.get("HoldTime"))},
    AgentCalled: _agent,
    AgentRingNoAnswer: lambda p: {**_agent(p), "ring_time": _int(p.get("RingTime"))},
    AgentConnect: lambda p: {**_agent(p), "hold_time": _int(p.get("HoldTime")), "ring_time": _int(p.get("RingTime"))},
    AgentComplete: lambda p: {**_agent(p), "hold_time": _int(p.get("HoldTime")),
                              "talk_time": _int(p.get("TalkTime")), "reason": _s(p, "Reason")},
    CoreShowChannel: lambda p: {"application": _s(p, "Application"), "application_data": _s(p, "ApplicationData"),
                                "duration": _s(p, "Duration"), "bridge_id": _s(p, "BridgeId")},
}


def _dial(p: Packet) -> dict | None:
    dest = ChannelSnapshot.from_packet(p, "Dest")
    if dest is None:
        return None
    return {"channel": ChannelSnapshot.from_packet(p), "dest": dest}


def _transfer_blind(p: Packet) -> dict | None:
    transferer = ChannelSnapshot.from_packet(p, "Transferer")
    if transferer is None:
        return None
    return {"result": _s(p, "Result"), "transferer": transferer,
            "transferee": ChannelSnapshot.from_packet(p, "Transferee"), "bridge": BridgeSnapshot.from_packet(p),
            "is_external": _s(p, "IsExternal") == "Yes", "context": _s(p, "Context"),
            "extension": _s(p, "Extension")}


def _transfer_attended(p: Packet) -> dict | None:
    first = ChannelSnapshot.from_packet(p, "OrigTransferer")
    second = ChannelSnapshot.from_packet(p, "SecondTransferer")
    if first is None or second is None:
        return None
    return {"result": _s(p, "Result"), "orig_transferer": first, "second_transferer": second,
            "transferee": ChannelSnapshot.from_packet(p, "Transferee"),
            "transfer_target": ChannelSnapshot.from_packet(p, "TransferTarget"),
            "orig_bridge": BridgeSnapshot.from_packet(p, "Orig"),
            "second_bridge": BridgeSnapshot.from_packet(p, "Second"),
            "dest_type": _s(p, "DestType"), "is_external": _s(p, "IsExternal") == "Yes"}


# Events whose shape is not "one channel snapshot + extras": built whole, None when too broken.
_WHOLE: dict[type, Callable[[Packet], dict | None]] = {
    DialBegin: lambda p: None if (d := _dial(p)) is None else {**d, "dial_string": _s(p, "DialString")},
    DialState: lambda p: None if (d := _dial(p)) is None else {**d, "dial_status": _s(p, "DialStatus")},
    DialEnd: lambda p: None if (d := _dial(p)) is None else {**d, "dial_status": _s(p, "DialStatus"),
                                                             "forward": _s(p, "Forward")},
    BlindTransfer: _transfer_blind,
    AttendedTransfer: _transfer_attended,
    FullyBooted: lambda p: {"status": _s(p, "Status"), "uptime": _int(p.get("Uptime")),
                            "last_reload": _int(p.get("LastReload"))},
    OriginateResponse: lambda p: {
        "response": _s(p, "Response"), "channel_name": _s(p, "Channel"), "context": _s(p, "Context"),
        "exten": _s(p, "Exten"), "application": _s(p, "Application"), "data": _s(p, "Data"),
        "reason": _int(p.get("Reason")), "uniqueid": _s(p, "Uniqueid"),
        "caller_id_num": _s(p, "CallerIDNum"), "caller_id_name": _s(p, "CallerIDName")},
}

EVENT_TYPES: dict[str, type[AmiEvent]] = {cls.NAME.lower(): cls for cls in (*_EXTRA, *_WHOLE)}


def decode_event(packet: Packet) -> AmiEvent:
    """The typed event for an `Event:` packet; `UnknownEvent` for any other name or a broken one."""
    name = packet.event or ""
    cls = EVENT_TYPES.get(name.lower())
    if cls is None:
        return UnknownEvent(packet)
    if cls in _WHOLE:
        extra = _WHOLE[cls](packet)
        if extra is None:
            return UnknownEvent(packet, problem=f"{name} without its channel fields")
        return cls(packet, **extra)
    channel = ChannelSnapshot.from_packet(packet)
    if channel is None:
        return UnknownEvent(packet, problem=f"{name} without Channel/Uniqueid")
    return cls(packet, channel=channel, **_EXTRA[cls](packet))  # type: ignore[call-arg]
