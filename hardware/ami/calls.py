"""Pure call tracker: folds typed AMI events into calls made of legs (channels), keyed by Linkedid.

Asterisk gives every channel of one call the Linkedid of the oldest channel (manager_channels.c docs);
an attended transfer joins two such calls, so the tracker merges them on AttendedTransfer or on a
BridgeEnter that swaps a channel in. No I/O: the PBX bridge feeds events and maps the returned
changes to ACD events and CDRs.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hardware.ami import events as ev

ANSWER = "ANSWER"


class Outcome(enum.Enum):
    """How a call ended (or that it has not)."""

    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class ChangeKind(enum.Enum):
    """What just happened to a call, for the PBX bridge to map onto ACD events."""

    CALL_STARTED = "call_started"
    LEG_ADDED = "leg_added"
    QUEUED = "queued"
    AGENT_RINGING = "agent_ringing"
    AGENT_NO_ANSWER = "agent_no_answer"
    ANSWERED = "answered"
    BRIDGED = "bridged"
    HELD = "held"
    UNHELD = "unheld"
    DIGIT = "digit"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"
    LEG_ENDED = "leg_ended"
    CALL_ENDED = "call_ended"


@dataclass(frozen=True)
class CallChange:
    """One change: its kind, the call, the channel it concerns and a short detail."""

    kind: ChangeKind
    call_id: str
    channel: str | None = None
    detail: str = ""


@dataclass
class Leg:
    """One channel of a call."""

    uniqueid: str
    channel: str
    linkedid: str
    caller_num: str | None
    caller_name: str | None
    context: str
    exten: str
    state_desc: str = ""
    connected_num: str | None = None
    answered: bool = False
    hungup: bool = False
    cause: int | None = None
    cause_txt: str = ""
    bridge: str | None = None
    on_hold: bool = False


@dataclass
class Transfer:
    """A transfer: `target` is a channel (attended) or `exten@context` (blind)."""

    kind: str
    transferer: str
    transferee: str | None
    target: str | None


@dataclass
class Call:
    """A call as the ACD sees it: who called whom, the queue, the agents, the end."""

    call_id: str
    legs: dict[str, Leg] = field(default_factory=dict)
    originated: bool = False
    queue: str | None = None
    queue_position: int | None = None
    agents_rung: list[str] = field(default_factory=list)
    agents_no_answer: list[str] = field(default_factory=list)
    answered_by: str | None = None  # queue member name, or the answering channel outside queues
    agent_channel: str | None = None
    answered: bool = False
    abandoned: bool = False
    hold_time: int | None = None
    talk_time: int | None = None
    complete_reason: str | None = None
    dial_statuses: list[tuple[str, str]] = field(default_factory=list)  # (dest channel, DialStatus)
    bridged: list[tuple[str, str]] = field(default_factory=list)  # channel pairs that met in a bridge
    transfers: list[Transfer] = field(default_factory=list)
    digits: str = ""
    holds: int = 0
    ended: bool = False
    partner: str | None = None  # uniqueid of whom the first leg was last bridged with
    ended_by: str | None = None  # first of (first leg, its last partner) to hang up: who ended the talk
    vanished: bool = False  # ended while the AMI link was down (reconciled, causes unknown)

    @property
    def first_leg(self) -> Leg:
        """The oldest channel: the caller, or the originated phone for click-to-dial."""
        return next(iter(self.legs.values()))

    @property
    def caller_number(self) -> str | None:
        """The calling number (for click-to-dial: our own line's caller id)."""
        return self.first_leg.caller_num

    @property
    def caller_name(self) -> str | None:
        """The calling name, None when Asterisk has none."""
        return self.first_leg.caller_name

    @property
    def dialled(self) -> str:
        """What was dialled: the DID of an inbound call, the number of an originated one."""
        return self.first_leg.exten

    @property
    def direction(self) -> str:
        """`outbound` for Originate calls, `inbound` otherwise."""
        return "outbound" if self.originated else "inbound"

    @property
    def hangup_cause(self) -> int | None:
        """The Q.850 cause of the first leg's hangup."""
        return self.first_leg.cause

    @property
    def outcome(self) -> Outcome:
        """Answered, abandoned, busy … from what the events said."""
        if not self.ended:
            return Outcome.IN_PROGRESS
        if self.abandoned:
            return Outcome.ABANDONED
        if self.answered:
            return Outcome.ANSWERED
        last = self.dial_statuses[-1][1] if self.dial_statuses else ""
        if last == "BUSY" or self.hangup_cause == 17:
            return Outcome.BUSY
        if last in ("NOANSWER", "CANCEL") or self.queue is not None:
            return Outcome.NO_ANSWER
        return Outcome.FAILED


def _name(value: str | None) -> str | None:
    return None if value in (None, "", ev.UNKNOWN) else value


class CallTracker:
    """Feed it events in stream order; read `calls`; act on the changes each `feed` returns."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self._leg_call: dict[str, str] = {}  # uniqueid -> call_id
        self._alias: dict[str, str] = {}  # linkedid of a merged call -> call it joined

    def call_of(self, uniqueid: str) -> Call | None:
        """The call a channel belongs to."""
        call_id = self._leg_call.get(uniqueid)
        return self.calls.get(call_id) if call_id else None

    def active(self) -> list[Call]:
        """Calls not yet ended."""
        return [c for c in self.calls.values() if not c.ended]

    def forget(self, call_id: str) -> None:
        """Drop an ended call once its CDR is written."""
        call = self.calls.pop(call_id, None)
        if call is not None:
            for uid in call.legs:
                self._leg_call.pop(uid, None)
            for alias in [a for a, target in self._alias.items() if target == call_id]:
                del self._alias[alias]

    def feed(self, event: ev.AmiEvent) -> list[CallChange]:
        """Fold one event in; the changes it caused, in order."""
        out: list[CallChange] = []
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event, out)
        elif isinstance(event, ev.ChannelEvent):
            self._leg(event.channel, out)
        return out

    def mark_vanished(self, uniqueids: list[str] | dict[str, str]) -> list[CallChange]:
        """After a reconnect: these channels are gone without a Hangup we saw; end them."""
        out: list[CallChange] = []
        for uid in uniqueids:
            call = self.call_of(uid)
            if call is not None and not call.legs[uid].hungup:
                call.vanished = True
                self._end_leg(call, call.legs[uid], None, "vanished while AMI was down", out)
        return out

    # ---- legs and calls -------------------------------------------------------------------
    def _leg(self, ch: ev.ChannelSnapshot, out: list[CallChange]) -> tuple[Call, Leg]:
        call = self.call_of(ch.uniqueid)
        if call is None:
            call_id = self._alias.get(ch.linkedid, ch.linkedid)
            call = self.calls.get(call_id)
            if call is None:
                call = self.calls[call_id] = Call(call_id)
                out.append(CallChange(ChangeKind.CALL_STARTED, call_id, ch.channel, ch.exten))
            else:
                out.append(CallChange(ChangeKind.LEG_ADDED, call_id, ch.channel))
            call.legs[ch.uniqueid] = Leg(ch.uniqueid, ch.channel, ch.linkedid, _name(ch.caller_id_num),
                                         _name(ch.caller_id_name), ch.context, ch.exten)
            self._leg_call[ch.uniqueid] = call.call_id
        leg = call.legs[ch.uniqueid]
        leg.state_desc, leg.connected_num = ch.state_desc, _name(ch.connected_line_num)
        if ch.state_desc == "Up":
            leg.answered = True
        return call, leg

    def _merge(self, keep: Call, other: Call, out: list[CallChange]) -> None:
        if keep is other:
            return
        for uid, leg in other.legs.items():
            keep.legs.setdefault(uid, leg)
            self._leg_call[uid] = keep.call_id
        keep.bridged.extend(other.bridged)
        keep.dial_statuses.extend(other.dial_statuses)
        self._alias[other.call_id] = keep.call_id
        for alias, target in list(self._alias.items()):
            if target == other.call_id:
                self._alias[alias] = keep.call_id
        del self.calls[other.call_id]
        keep.ended = False
        out.append(CallChange(ChangeKind.LEG_ADDED, keep.call_id, None, f"merged {other.call_id}"))

    def _end_leg(self, call: Call, leg: Leg, cause: int | None, cause_txt: str, out: list[CallChange]) -> None:
        leg.hungup, leg.cause, leg.cause_txt, leg.bridge = True, cause, cause_txt, None
        if call.answered and call.ended_by is None and leg.uniqueid in (call.first_leg.uniqueid, call.partner):
            call.ended_by = leg.channel
        out.append(CallChange(ChangeKind.LEG_ENDED, call.call_id, leg.channel, cause_txt))
        if all(leg.hungup for leg in call.legs.values()):
            call.ended = True
            out.append(CallChange(ChangeKind.CALL_ENDED, call.call_id, None, call.outcome.value))

    def _answered(self, call: Call, by: str, channel: str, out: list[CallChange]) -> None:
        if not call.answered:
            call.answered = True
            call.answered_by = call.answered_by or by
            out.append(CallChange(ChangeKind.ANSWERED, call.call_id, channel, by))

    # ---- per event --------------------------------------------------------------------------
    def _on_hangup(self, e: ev.Hangup, out: list[CallChange]) -> None:
        call, leg = self._leg(e.channel, out)
        if not leg.hungup:
            self._end_leg(call, leg, e.cause, e.cause_txt, out)

    def _on_dial_begin(self, e: ev.DialBegin, out: list[CallChange]) -> None:
        dest_call, dest_leg = self._leg(e.dest, out)
        if e.channel is None and dest_leg is dest_call.first_leg:
            dest_call.originated = True  # Originate dials with no caller channel (manager.c)
        elif e.channel is not None:
            self._leg(e.channel, out)

    def _on_dial_end(self, e: ev.DialEnd, out: list[CallChange]) -> None:
        call, leg = self._leg(e.dest, out)
        call.dial_statuses.append((leg.channel, e.dial_status))
        if e.dial_status == ANSWER and e.channel is not None and call.queue is None:
            self._answered(call, leg.channel, leg.channel, out)

    def _on_queue_join(self, e: ev.QueueCallerJoin, out: list[CallChange]) -> None:
        call, _ = self._leg(e.channel, out)
        call.queue, call.queue_position = e.queue, e.position
        out.append(CallChange(ChangeKind.QUEUED, call.call_id, e.channel.channel, e.queue))

    def _on_abandon(self, e: ev.QueueCallerAbandon, out: list[CallChange]) -> None:
        call, _ = self._leg(e.channel, out)
        call.abandoned, call.hold_time = True, e.hold_time
        out.append(CallChange(ChangeKind.ABANDONED, call.call_id, e.channel.channel, e.queue))

    def _on_agent_called(self, e: ev.AgentCalled, out: list[CallChange]) -> None:
        call, _ = self._leg(e.channel, out)
        if e.dest is not None:
            self._leg(e.dest, out)
        call.agents_rung.append(e.member_name or e.interface)
        out.append(CallChange(ChangeKind.AGENT_RINGING, call.call_id, e.dest.channel if e.dest else None,
                              e.member_name or e.interface))

    def _on_ring_no_answer(self, e: ev.AgentRingNoAnswer, out: list[CallChange]) -> None:
        call, _ = self._leg(e.channel, out)
        call.agents_no_answer.append(e.member_name or e.interface)
        out.append(CallChange(ChangeKind.AGENT_NO_ANSWER, call.call_id, e.dest.channel if e.dest else None,
                              e.member_name or e.interface))

    def _on_agent_connect(self, e: ev.AgentConnect, out: list[CallChange]) -> None:
        call, _ = self._leg(e.channel, out)
        call.hold_time = e.hold_time
        call.agent_channel = e.dest.channel if e.dest else None
        call.answered_by = e.member_name or e.interface
        self._answered(call, call.answered_by, call.agent_channel or "", out)

    def _on_agent_complete(self, e: ev.AgentComplete, out: list[CallChange]) -> None:
        call, _ = self._leg(e.channel, out)
        call.talk_time, call.complete_reason = e.talk_time, e.reason

    def _on_bridge_enter(self, e: ev.BridgeEnter, out: list[CallChange]) -> None:
        call, leg = self._leg(e.channel, out)
        bridge = e.bridge.uniqueid if e.bridge else None
        if e.swap_uniqueid:
            swapped = self.call_of(e.swap_uniqueid)
            if swapped is not None and swapped is not call:
                self._merge(swapped, call, out)  # the bridge's call stays; the newcomer joins it
                call = swapped
        leg.bridge = bridge
        others = [o for o in call.legs.values() if o is not leg and o.bridge == bridge and bridge]
        for other in others:
            if call.first_leg in (leg, other):
                call.partner = (other if leg is call.first_leg else leg).uniqueid
            call.bridged.append((other.channel, leg.channel))
            out.append(CallChange(ChangeKind.BRIDGED, call.call_id, leg.channel, other.channel))

    def _on_bridge_leave(self, e: ev.BridgeLeave, out: list[CallChange]) -> None:
        _, leg = self._leg(e.channel, out)
        leg.bridge = None

    def _on_hold(self, e: ev.Hold | ev.Unhold, out: list[CallChange]) -> None:
        call, leg = self._leg(e.channel, out)
        leg.on_hold = isinstance(e, ev.Hold)
        call.holds += leg.on_hold
        kind = ChangeKind.HELD if leg.on_hold else ChangeKind.UNHELD
        out.append(CallChange(kind, call.call_id, leg.channel))

    def _on_dtmf(self, e: ev.DTMFEnd, out: list[CallChange]) -> None:
        call, leg = self._leg(e.channel, out)
        if e.direction == "Received":
            call.digits += e.digit
            out.append(CallChange(ChangeKind.DIGIT, call.call_id, leg.channel, e.digit))

    def _on_blind(self, e: ev.BlindTransfer, out: list[CallChange]) -> None:
        if e.result != "Success":
            return
        call, _ = self._leg(e.transferee or e.transferer, out)
        call.transfers.append(Transfer("blind", e.transferer.channel, e.transferee.channel if e.transferee else None,
                                       f"{e.extension}@{e.context}"))
        out.append(CallChange(ChangeKind.TRANSFERRED, call.call_id, e.transferer.channel,
                              f"{e.extension}@{e.context}"))

    def _on_attended(self, e: ev.AttendedTransfer, out: list[CallChange]) -> None:
        if e.result != "Success":
            return
        first, _ = self._leg(e.orig_transferer, out)
        second, _ = self._leg(e.second_transferer, out)
        self._merge(first, second, out)
        target = e.transfer_target.channel if e.transfer_target else None
        first.transfers.append(Transfer("attended", e.orig_transferer.channel,
                                        e.transferee.channel if e.transferee else None, target))
        out.append(CallChange(ChangeKind.TRANSFERRED, first.call_id, e.orig_transferer.channel, target or ""))


_HANDLERS = {
    ev.Hangup: CallTracker._on_hangup, ev.DialBegin: CallTracker._on_dial_begin,
    ev.DialEnd: CallTracker._on_dial_end, ev.QueueCallerJoin: CallTracker._on_queue_join,
    ev.QueueCallerAbandon: CallTracker._on_abandon, ev.AgentCalled: CallTracker._on_agent_called,
    ev.AgentRingNoAnswer: CallTracker._on_ring_no_answer, ev.AgentConnect: CallTracker._on_agent_connect,
    ev.AgentComplete: CallTracker._on_agent_complete, ev.BridgeEnter: CallTracker._on_bridge_enter,
    ev.BridgeLeave: CallTracker._on_bridge_leave, ev.Hold: CallTracker._on_hold, ev.Unhold: CallTracker._on_hold,
    ev.DTMFEnd: CallTracker._on_dtmf, ev.BlindTransfer: CallTracker._on_blind,
    ev.AttendedTransfer: CallTracker._on_attended,
}
