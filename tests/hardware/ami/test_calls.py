"""The call tracker folded over every transcript: the outcomes a CDR needs."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from hardware.ami import events as ev
from hardware.ami.calls import CallChange, CallTracker, ChangeKind, Outcome
from hardware.ami.codec import split_packets

DATA = Path(__file__).parents[2] / "data" / "ami"


def events_of(name: str) -> list[ev.AmiEvent]:
    return [ev.decode_event(p) for p in split_packets((DATA / name).read_bytes())]


def fold(events: list[ev.AmiEvent]) -> tuple[CallTracker, list[CallChange]]:
    tracker = CallTracker()
    changes: list[CallChange] = []
    for event in events:
        changes.extend(tracker.feed(event))
    return tracker, changes


def only_call(tracker: CallTracker):  # type: ignore[no-untyped-def]
    assert len(tracker.calls) == 1, list(tracker.calls)
    return next(iter(tracker.calls.values()))


def test_inbound_queue_answered() -> None:
    tracker, changes = fold(events_of("inbound_queue_answered.ami"))
    call = only_call(tracker)
    assert call.call_id == "1717430400.1" and call.direction == "inbound"
    assert (call.caller_number, call.caller_name, call.dialled) == ("0612345678", "Jan Jansen", "0201234567")
    assert call.queue == "support" and call.queue_position == 1
    assert call.agents_rung == ["Alice Agent"] and call.agents_no_answer == []
    assert (call.answered_by, call.agent_channel) == ("Alice Agent", "PJSIP/agent1-00000002")
    assert (call.hold_time, call.talk_time, call.complete_reason) == (9, 95, "agent")
    assert call.bridged == [("PJSIP/trunk-00000001", "PJSIP/agent1-00000002")]
    assert call.digits == "5" and call.holds == 1
    assert call.ended and call.outcome is Outcome.ANSWERED
    assert call.ended_by == "PJSIP/agent1-00000002" and call.hangup_cause == 16
    assert [leg.channel for leg in call.legs.values()] == ["PJSIP/trunk-00000001", "PJSIP/agent1-00000002"]
    kinds = [c.kind for c in changes]
    order = [ChangeKind.CALL_STARTED, ChangeKind.QUEUED, ChangeKind.AGENT_RINGING, ChangeKind.ANSWERED,
             ChangeKind.BRIDGED, ChangeKind.DIGIT, ChangeKind.HELD, ChangeKind.UNHELD, ChangeKind.CALL_ENDED]
    assert [k for k in kinds if k in order] == order
    assert changes[-1] == CallChange(ChangeKind.CALL_ENDED, "1717430400.1", None, "answered")


def test_inbound_abandoned() -> None:
    tracker, changes = fold(events_of("inbound_abandoned.ami"))
    call = only_call(tracker)
    assert call.caller_number == "0687654321" and call.caller_name is None
    assert call.queue == "sales" and call.agents_rung == ["Alice Agent", "Bob Agent"]
    assert call.agents_no_answer == ["Alice Agent"]
    assert call.answered_by is None and not call.answered
    assert call.abandoned and call.hold_time == 27
    assert call.outcome is Outcome.ABANDONED and call.ended_by is None
    assert call.dial_statuses == [("PJSIP/agent1-00000004", "NOANSWER"), ("PJSIP/agent2-00000005", "CANCEL")]
    assert [leg.cause for leg in call.legs.values()] == [16, 19, 16]
    assert ChangeKind.ABANDONED in [c.kind for c in changes]


def test_attended_transfer_merges_the_consultation_call() -> None:
    tracker, changes = fold(events_of("attended_transfer.ami"))
    call = only_call(tracker)
    assert call.call_id == "1717430600.6"
    assert sorted(call.legs) == ["1717430600.6", "1717430600.7", "1717430600.8", "1717430600.9"]
    assert call.answered_by == "Alice Agent" and call.complete_reason == "transfer"
    (transfer,) = call.transfers
    assert (transfer.kind, transfer.transferer, transfer.transferee, transfer.target) == (
        "attended", "PJSIP/agent1-00000007", "PJSIP/trunk-00000006", "PJSIP/agent2-00000009")
    # Who talked with the caller, in order: agent1, then agent2 after the swap.
    caller = "PJSIP/trunk-00000006"
    partners = [b if a == caller else a for a, b in call.bridged if caller in (a, b)]
    assert partners == ["PJSIP/agent1-00000007", "PJSIP/agent2-00000009"]
    assert call.ended and call.outcome is Outcome.ANSWERED
    assert call.ended_by == "PJSIP/agent2-00000009"  # the caller's last partner hung up first
    assert tracker.call_of("1717430600.9") is call
    assert [c.kind for c in changes].count(ChangeKind.TRANSFERRED) == 1
    assert [c.kind for c in changes].count(ChangeKind.CALL_ENDED) == 1


def test_originate_outbound() -> None:
    tracker, _ = fold(events_of("originate_outbound.ami"))
    call = only_call(tracker)
    assert call.originated and call.direction == "outbound"
    assert call.first_leg.channel == "PJSIP/agent1-0000000a" and call.dialled == "0612345678"
    assert call.caller_number == "0201234567"
    assert call.answered and call.answered_by == "PJSIP/trunk-0000000b"
    assert call.dial_statuses == [("PJSIP/agent1-0000000a", "ANSWER"), ("PJSIP/trunk-0000000b", "ANSWER")]
    assert call.ended_by == "PJSIP/trunk-0000000b" and call.outcome is Outcome.ANSWERED
    assert call.queue is None and call.agents_rung == []


def test_blind_transfer_to_a_busy_agent() -> None:
    tracker, _ = fold(events_of("blind_transfer_busy.ami"))
    call = only_call(tracker)
    assert call.answered_by == "PJSIP/agent1-0000000d"
    (transfer,) = call.transfers
    assert (transfer.kind, transfer.transferer, transfer.target) == (
        "blind", "PJSIP/agent1-0000000d", "202@from-internal")
    assert call.dial_statuses[-1] == ("PJSIP/agent2-0000000e", "BUSY")
    assert call.hangup_cause == 17 and call.outcome is Outcome.ANSWERED


def test_unanswered_direct_call_is_busy() -> None:
    events = events_of("blind_transfer_busy.ami")
    # Only the part after the transfer, as a fresh tracker would see a call starting there.
    start = next(i for i, e in enumerate(events) if isinstance(e, ev.Newchannel) and e.channel.uniqueid.endswith(".14"))
    tracker, _ = fold(events[start:])
    call = only_call(tracker)
    assert call.outcome is Outcome.BUSY and not call.answered


def test_in_progress_and_vanished_after_reconnect() -> None:
    events = events_of("inbound_queue_answered.ami")
    upto = next(i for i, e in enumerate(events) if isinstance(e, ev.DTMFBegin))
    tracker, _ = fold(events[:upto])
    call = only_call(tracker)
    assert call.outcome is Outcome.IN_PROGRESS and tracker.active() == [call]
    changes = tracker.mark_vanished({"1717430400.1": "PJSIP/trunk-00000001", "1717430400.2": "PJSIP/agent1-00000002",
                                     "999.9": "PJSIP/unknown-1"})
    assert [c.kind for c in changes] == [ChangeKind.LEG_ENDED, ChangeKind.LEG_ENDED, ChangeKind.CALL_ENDED]
    assert call.ended and call.vanished and call.hangup_cause is None and call.outcome is Outcome.ANSWERED
    tracker.forget(call.call_id)
    assert tracker.calls == {} and tracker.call_of("1717430400.1") is None


def test_tracker_started_mid_call_still_follows_it() -> None:
    events = events_of("inbound_queue_answered.ami")
    tracker, _ = fold(events[10:])
    call = only_call(tracker)
    assert call.ended and call.answered_by == "Alice Agent"


ALL = ["inbound_queue_answered.ami", "inbound_abandoned.ami", "attended_transfer.ami", "originate_outbound.ami",
       "blind_transfer_busy.ami"]


def summary(tracker: CallTracker) -> dict[str, tuple]:
    return {cid: (c.outcome, c.answered_by, c.queue, tuple(c.agents_rung), len(c.legs), len(c.transfers),
                  c.ended_by, c.hangup_cause) for cid, c in tracker.calls.items()}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(range(len(ALL))), min_size=2, max_size=5, unique=True), st.randoms())
def test_interleaved_calls_do_not_disturb_each_other(which: list[int], rnd) -> None:  # type: ignore[no-untyped-def]
    streams = [events_of(ALL[i]) for i in which]
    alone: dict[str, tuple] = {}
    for stream in streams:
        alone.update(summary(fold(stream)[0]))
    cursors = [0] * len(streams)
    merged: list[ev.AmiEvent] = []
    while any(c < len(s) for c, s in zip(cursors, streams)):
        pick = rnd.choice([i for i, s in enumerate(streams) if cursors[i] < len(s)])
        merged.append(streams[pick][cursors[pick]])
        cursors[pick] += 1
    assert summary(fold(merged)[0]) == alone
