"""The T.30 state machine on its own: two sessions talk through an in-memory line, no I/O, no clock."""
from __future__ import annotations

import random

from hardware.fax_modem.t30 import FCF, Capabilities, Modulation, PageStatus, T30Session
from hardware.fax_modem.t30.pagedata import code_page, tcf_ok
from hardware.fax_modem.t30.session import (
    Done, Finish, FramesReceived, PageNotStored, PageReceived, PageSent, PageStored, PostPage, ReceiveFrames,
    ReceivePage, ReceiveTcf, SendFrames, SendPage, SendTcf, StorePage, TcfReceived, Timeout, WrongCarrier,
)
from hardware.fax_modem.t4 import Page


def stripes(height: int = 120, y_dpi: int = 196) -> Page:
    rows = [bytes((0xF0 if (r // 8 + c // 3) % 2 else 0) for c in range(216)) for r in range(height)]
    return Page.from_rows(rows, 1728, y_dpi)


def converse(sender: T30Session, receiver: T30Session, pages: list[Page], *, noisy_tcf_at: set[int] = frozenset(),
             noisy_pages: dict[int, int] | None = None, drop_frames: set[FCF] = frozenset(),
             store_fails: set[int] = frozenset()) -> list[str]:
    """Run both sessions to the end; carriers are queued per direction. Returns the trace.

    The receiver's `StorePage` requests land in the trace as "keep <index>" (failing for `store_fails`).
    """
    noisy_pages = dict(noisy_pages or {})
    actions = {id(sender): sender.start(), id(receiver): receiver.start()}
    air: dict[int, list] = {id(sender): [], id(receiver): []}
    other = {id(sender): receiver, id(receiver): sender}
    trace: list[str] = []
    sessions = (sender, receiver)
    for _ in range(400):
        if all(isinstance(actions[id(s)], Finish) for s in sessions):
            return trace
        moved = False
        for me in sessions:
            act, peer = actions[id(me)], other[id(me)]
            if isinstance(act, Finish):
                continue
            if isinstance(act, SendFrames):
                frames = tuple(f for f in act.frames if f.fcf not in drop_frames)
                if frames:
                    air[id(peer)].append(("frames", frames))
                trace.append("S>" if me is sender else "R>")
                actions[id(me)] = me.handle(Done())
            elif isinstance(act, SendTcf):
                data = bytearray(act.length)
                if act.mode.bit_rate in noisy_tcf_at:
                    for i in range(0, len(data), 97):
                        data[i] = 0x55
                air[id(peer)].append(("data", bytes(data)))
                actions[id(me)] = me.handle(Done())
            elif isinstance(act, SendPage):
                data = bytearray(code_page(pages[act.index], act.mode))
                bad = noisy_pages.pop(act.index, 0)
                rng = random.Random(act.index)
                for _ in range(bad):
                    data[rng.randrange(10, len(data) - 20)] ^= 0xFF
                air[id(peer)].append(("data", bytes(data)))
                ppm = PostPage.EOP if act.index == len(pages) - 1 else PostPage.MPS
                actions[id(me)] = me.handle(PageSent(ppm))
            elif isinstance(act, StorePage):
                trace.append(f"keep {act.index}")
                failed = act.index in store_fails
                actions[id(me)] = me.handle(PageNotStored("disk full") if failed else PageStored())
            elif air[id(me)]:
                kind, item = air[id(me)].pop(0)
                if isinstance(act, ReceiveFrames):
                    event = FramesReceived(item) if kind == "frames" else WrongCarrier()
                elif kind == "frames":
                    air[id(me)].insert(0, (kind, item))
                    event = WrongCarrier()
                else:
                    event = TcfReceived(item) if isinstance(act, ReceiveTcf) else PageReceived(item)
                actions[id(me)] = me.handle(event)
            else:
                continue
            moved = True
        if not moved:  # both listening and nothing on the line: their timers run out
            for me in sessions:
                if isinstance(actions[id(me)], (ReceiveFrames, ReceiveTcf, ReceivePage)):
                    actions[id(me)] = me.handle(Timeout())
    raise AssertionError("sessions did not finish")


def test_two_pages_clean_line():
    pages = [stripes(), stripes(60)]
    sender = T30Session.sender(Capabilities(), "SENDER 1", len(pages))
    receiver = T30Session.receiver(Capabilities(), "RECEIVER 2")
    converse(sender, receiver, pages)
    assert sender.outcome == Finish(True, "all pages confirmed")
    assert receiver.outcome is not None and receiver.outcome.ok
    assert [p.status for p in sender.pages] == [PageStatus.MCF, PageStatus.MCF]
    assert [p.page for p in receiver.received_pages] == pages
    assert (sender.remote_id, receiver.remote_id) == ("RECEIVER 2", "SENDER 1")
    assert sender.mode is not None and (sender.mode.bit_rate, sender.mode.modulation) == (14400, Modulation.V17)
    names = [line.split()[1] for line in sender.transcript]
    assert names == ["CSI", "DIS", "TSI", "DCS", "CFR", "MPS", "MCF", "EOP", "MCF", "DCN"]


def test_each_good_page_is_kept_before_its_confirmation():
    pages = [stripes(), stripes(60)]
    sender = T30Session.sender(Capabilities(), "S", len(pages))
    receiver = T30Session.receiver(Capabilities(), "R")
    trace = converse(sender, receiver, pages)
    assert trace.count("keep 0") == 1 and trace.count("keep 1") == 1
    # the receiver's next send after each keep is the MCF for that page
    for keep in ("keep 0", "keep 1"):
        assert trace[trace.index(keep) + 1:].index("R>") < trace[trace.index(keep) + 1:].index("S>")
    assert [line.split()[1] for line in receiver.transcript].count("MCF") == 2


def test_a_page_that_cannot_be_kept_is_not_confirmed():
    pages = [stripes(), stripes(60)]
    sender = T30Session.sender(Capabilities(), "S", len(pages))
    receiver = T30Session.receiver(Capabilities(), "R")
    trace = converse(sender, receiver, pages, store_fails={0})
    names = [line.split()[1] for line in receiver.transcript]
    assert names[names.index("MPS") + 1] == "RTN"  # T.30 §5.3.6.1.6: the sender retrains and sends it again
    assert "keep 1" in trace and sender.outcome is not None and sender.outcome.ok
    assert [p.page for p in receiver.received_pages] == pages


def test_ftt_steps_the_speed_down():
    pages = [stripes()]
    sender = T30Session.sender(Capabilities(), "S", 1)
    receiver = T30Session.receiver(Capabilities(modulations=(Modulation.V27TER, Modulation.V29)), "R")
    converse(sender, receiver, pages, noisy_tcf_at={9600, 7200})
    assert sender.outcome is not None and sender.outcome.ok
    assert sender.mode is not None and sender.mode.bit_rate == 4800
    assert sum(1 for line in sender.transcript if line.startswith("< FTT")) == 2


def test_bad_page_gets_rtn_and_is_sent_again():
    pages = [stripes(), stripes(80)]
    sender = T30Session.sender(Capabilities(), "S", 2)
    receiver = T30Session.receiver(Capabilities(), "R")
    converse(sender, receiver, pages, noisy_pages={0: 40})
    assert [(p.status, p.attempts) for p in sender.pages] == [(PageStatus.MCF, 2), (PageStatus.MCF, 1)]
    assert [r.status for r in receiver.pages] == [PageStatus.RTN, PageStatus.MCF, PageStatus.MCF]
    assert [p.page for p in receiver.received_pages] == pages


def test_receiver_that_never_answers_ends_in_t1():
    sender = T30Session.sender(Capabilities(), "S", 1)
    action = sender.start()
    assert isinstance(action, ReceiveFrames) and action.timer == "T1"
    assert sender.handle(Timeout()) == Finish(False, "no DIS from the remote station (T1)")


def test_lost_mcf_makes_sender_repeat_ppm_and_receiver_repeat_answer():
    pages = [stripes()]
    sender = T30Session.sender(Capabilities(), "S", 1)
    receiver = T30Session.receiver(Capabilities(), "R")
    converse(sender, receiver, pages, drop_frames={FCF.MCF})
    assert sender.outcome is not None and not sender.outcome.ok
    assert sender.pages[0].status is PageStatus.UNCONFIRMED
    assert sum(1 for line in sender.transcript if line.startswith("> EOP")) == 3
    assert receiver.received_pages  # the page itself arrived


def test_remote_dcn_mid_call():
    receiver = T30Session.receiver(Capabilities(), "R")
    assert isinstance(receiver.start(), SendFrames)
    assert isinstance(receiver.handle(Done()), ReceiveFrames)
    from hardware.fax_modem.t30 import Frame
    result = receiver.handle(FramesReceived((Frame(FCF.DCN),)))
    assert result == Finish(False, "remote disconnected before any page")


def test_tcf_check():
    from hardware.fax_modem.t30 import Mode
    mode = Mode(9600, Modulation.V29)
    assert tcf_ok(bytes(1800), mode)
    assert not tcf_ok(bytes(1000), mode)
    assert not tcf_ok(b"\x00\x01" * 900, mode)
