"""Typed AMI events decoded from Asterisk 18 shaped packets."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from hardware.ami import events as ev
from hardware.ami.codec import Packet, split_packets

DATA = Path(__file__).parents[2] / "data" / "ami"


def events_of(name: str) -> list[ev.AmiEvent]:
    return [ev.decode_event(p) for p in split_packets((DATA / name).read_bytes())]


def test_queue_answered_transcript_types() -> None:
    decoded = events_of("inbound_queue_answered.ami")
    kinds = [type(e).__name__ for e in decoded]
    for wanted in ("Newchannel", "VarSet", "Newstate", "QueueCallerJoin", "NewConnectedLine", "AgentCalled",
                   "DialBegin", "DialState", "DialEnd", "QueueCallerLeave", "AgentConnect", "BridgeEnter",
                   "DTMFBegin", "DTMFEnd", "Hold", "Unhold", "BridgeLeave", "Hangup", "AgentComplete"):
        assert wanted in kinds, wanted
    unknown = {e.name for e in decoded if isinstance(e, ev.UnknownEvent)}
    assert unknown == {"NewExten", "BridgeCreate", "BridgeDestroy", "SoftHangupRequest"}
    assert all(e.problem is None for e in decoded if isinstance(e, ev.UnknownEvent))


def test_newchannel_fields() -> None:
    first = events_of("inbound_queue_answered.ami")[0]
    assert isinstance(first, ev.Newchannel)
    ch = first.channel
    assert (ch.channel, ch.state, ch.state_desc) == ("PJSIP/trunk-00000001", 4, "Ring")
    assert (ch.caller_id_num, ch.caller_id_name) == ("0612345678", "Jan Jansen")
    assert ch.connected_line_num == "<unknown>" and ch.connected_number is None
    assert (ch.context, ch.exten, ch.priority) == ("from-trunk", "0201234567", 1)
    assert ch.uniqueid == ch.linkedid == "1717430400.1"
    assert ch.account_code == "" and ch.language == "en"


def test_agent_and_dial_events() -> None:
    decoded = events_of("inbound_queue_answered.ami")
    called = next(e for e in decoded if isinstance(e, ev.AgentCalled))
    assert called.queue == "support" and called.interface == "PJSIP/agent1" and called.member_name == "Alice Agent"
    assert called.channel.channel == "PJSIP/trunk-00000001" and called.dest.channel == "PJSIP/agent1-00000002"
    assert called.dest.linkedid == "1717430400.1"
    begin = next(e for e in decoded if isinstance(e, ev.DialBegin))
    assert begin.dial_string == "PJSIP/agent1" and begin.dest.uniqueid == "1717430400.2"
    end = next(e for e in decoded if isinstance(e, ev.DialEnd))
    assert end.dial_status == "ANSWER"
    connect = next(e for e in decoded if isinstance(e, ev.AgentConnect))
    assert (connect.hold_time, connect.ring_time) == (9, 4)
    complete = next(e for e in decoded if isinstance(e, ev.AgentComplete))
    assert (complete.talk_time, complete.reason) == (95, "agent")
    hangups = [e for e in decoded if isinstance(e, ev.Hangup)]
    assert [(h.channel.channel, h.cause, h.cause_txt) for h in hangups] == [
        ("PJSIP/agent1-00000002", 16, "Normal Clearing"), ("PJSIP/trunk-00000001", 16, "Normal Clearing")]
    dtmf = next(e for e in decoded if isinstance(e, ev.DTMFEnd))
    assert (dtmf.digit, dtmf.duration_ms, dtmf.direction) == ("5", 120, "Received")
    hold = next(e for e in decoded if isinstance(e, ev.Hold))
    assert hold.music_class == "default"
    enter = next(e for e in decoded if isinstance(e, ev.BridgeEnter))
    assert enter.bridge.uniqueid == "7d4c1b3e-2a1f-4c55-9e0d-3f1b2c4d5e60" and enter.bridge.bridge_type == "basic"
    assert enter.swap_uniqueid is None
    varset = next(e for e in decoded if isinstance(e, ev.VarSet))
    assert (varset.variable, varset.value) == ("__ACD_TENANT", "1")


def test_abandon_and_ring_no_answer() -> None:
    decoded = events_of("inbound_abandoned.ami")
    rna = next(e for e in decoded if isinstance(e, ev.AgentRingNoAnswer))
    assert rna.ring_time == 15000 and rna.member_name == "Alice Agent"
    abandon = next(e for e in decoded if isinstance(e, ev.QueueCallerAbandon))
    assert (abandon.queue, abandon.position, abandon.original_position, abandon.hold_time) == ("sales", 1, 1, 27)
    assert abandon.channel.caller_number == "0687654321"


def test_originate_dial_without_caller_and_response() -> None:
    decoded = events_of("originate_outbound.ami")
    begin = next(e for e in decoded if isinstance(e, ev.DialBegin))
    assert begin.channel is None and begin.dest.channel == "PJSIP/agent1-0000000a"
    resp = next(e for e in decoded if isinstance(e, ev.OriginateResponse))
    assert resp.success and resp.reason == 4 and resp.uniqueid == "1717430700.10" and resp.action_id == "orig-1"


def test_transfers() -> None:
    att = next(e for e in events_of("attended_transfer.ami") if isinstance(e, ev.AttendedTransfer))
    assert att.result == "Success" and att.dest_type == "Bridge"
    assert att.orig_transferer.uniqueid == "1717430600.7" and att.second_transferer.uniqueid == "1717430600.8"
    assert att.transferee is not None and att.transferee.uniqueid == "1717430600.6"
    assert att.transfer_target is not None and att.transfer_target.uniqueid == "1717430600.9"
    assert att.orig_bridge is not None and att.second_bridge is not None
    swap = next(e for e in events_of("attended_transfer.ami") if isinstance(e, ev.BridgeEnter) and e.swap_uniqueid)
    assert swap.swap_uniqueid == "1717430600.7"
    blind = next(e for e in events_of("blind_transfer_busy.ami") if isinstance(e, ev.BlindTransfer))
    assert (blind.context, blind.extension, blind.is_external) == ("from-internal", "202", True)
    assert blind.transferee is not None and blind.transferee.uniqueid == "1717430800.12"


def test_chan_variables_with_prefix() -> None:
    packet = Packet((("Event", "DialBegin"), ("Channel", "A"), ("Uniqueid", "1"), ("ChanVariable", "X=1"),
                     ("DestChannel", "B"), ("DestUniqueid", "2"), ("DestChanVariable", "Y=a=b")))
    begin = ev.decode_event(packet)
    assert isinstance(begin, ev.DialBegin)
    assert begin.channel is not None and begin.channel.variables == {"X": "1"}
    assert begin.dest.variables == {"Y": "a=b"} and begin.dest.linkedid == "2"


def test_broken_known_event_stays_unknown() -> None:
    broken = ev.decode_event(Packet((("Event", "Hangup"), ("Cause", "16"))))
    assert isinstance(broken, ev.UnknownEvent) and broken.problem and "Channel" in broken.problem
    dial = ev.decode_event(Packet((("Event", "DialEnd"), ("Channel", "A"), ("Uniqueid", "1"))))
    assert isinstance(dial, ev.UnknownEvent)


def test_bad_numbers_do_not_raise() -> None:
    hangup = ev.decode_event(Packet((("Event", "hangup"), ("Channel", "A"), ("Uniqueid", "1"),
                                     ("ChannelState", "six"), ("Cause", ""))))
    assert isinstance(hangup, ev.Hangup) and hangup.cause == 0 and hangup.channel.state == 0


KEYS = ["Event", "Channel", "Uniqueid", "DestChannel", "DestUniqueid", "Cause", "Position", "HoldTime",
        "TransfererChannel", "TransfererUniqueid", "OrigTransfererChannel", "OrigTransfererUniqueid",
        "SecondTransfererChannel", "SecondTransfererUniqueid", "BridgeUniqueid", "ChannelState", "Reason"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(ev.EVENT_TYPES) + ["Foo"]),
       st.lists(st.tuples(st.sampled_from(KEYS), st.text(max_size=8)), max_size=12))
def test_decode_never_raises(name: str, pairs: list[tuple[str, str]]) -> None:
    decoded = ev.decode_event(Packet((("Event", name),) + tuple(pairs)))
    assert isinstance(decoded, ev.AmiEvent)
