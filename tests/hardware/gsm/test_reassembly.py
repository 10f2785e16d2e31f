"""Reassembler: joining concatenated parts, pure and clock-free."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.gsm.fields import Address
from hardware.gsm.pdu import DeliverPdu, SubmitPdu, split_text
from hardware.gsm.reassembly import Reassembler

STAMP = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def delivers(text: str, sender: str = "+46708251358", reference: int = 7) -> list[DeliverPdu]:
    parts: list[SubmitPdu] = split_text(text, "+1", reference=reference)
    return [DeliverPdu(sender=Address.parse(sender), timestamp=STAMP, text=p.text, dcs=p.dcs, udh=p.udh) for p in parts]


def test_single_part_is_complete_at_once() -> None:
    r = Reassembler()
    done = r.add(delivers("hi")[0], now=0)
    assert done is not None and done.text == "hi" and done.sender == "+46708251358" and r.pending == 0


def test_out_of_order_and_duplicate_parts() -> None:
    r = Reassembler()
    a, b, c = delivers("x" * 400)
    assert r.add(c, 0) is None and r.add(a, 1) is None and r.add(a, 2) is None
    done = r.add(b, 3)
    assert done is not None and done.text == "x" * 400 and [p.concat.sequence for p in done.parts] == [1, 2, 3]


def test_same_reference_from_two_senders_stays_apart() -> None:
    r = Reassembler()
    one, two = delivers("a" * 200, sender="+111"), delivers("b" * 200, sender="+222")
    assert r.add(one[0], 0) is None and r.add(two[0], 0) is None
    assert r.add(one[1], 0).text == "a" * 200
    assert r.add(two[1], 0).text == "b" * 200


def test_incomplete_sets_expire_with_what_came() -> None:
    r = Reassembler(timeout=60)
    first, _, third = delivers("y" * 400)
    r.add(first, now=100)
    r.add(third, now=150)
    assert r.expire(now=159) == []
    [stale] = r.expire(now=160)
    assert stale.missing == (2,) and stale.text == "y" * (153 + 94) and stale.total == 3 and r.pending == 0


def test_surrogate_pair_split_by_a_sender_is_rejoined() -> None:
    r = Reassembler()
    # Some phones cut UCS-2 at 67 code units even inside a pair; build such parts by hand.
    whole = "Ж" * 66 + "😀" + "end"
    units = whole.encode("utf-16-be")
    cut = 67 * 2
    base = delivers("Ж" * 100)  # UCS-2, two parts: reuse their DCS and headers
    halves = [units[:cut].decode("utf-16-be", "surrogatepass"), units[cut:].decode("utf-16-be", "surrogatepass")]
    parts = [DeliverPdu(sender=p.sender, timestamp=STAMP, text=t, dcs=p.dcs, udh=p.udh) for p, t in zip(base, halves)]
    assert r.add(parts[0], 0) is None
    assert r.add(parts[1], 0).text == whole


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=700), st.randoms())
def test_any_order_gives_back_the_text(text: str, rnd) -> None:
    parts = delivers(text)
    rnd.shuffle(parts)
    r = Reassembler()
    results = [r.add(p, 0) for p in parts]
    assert results[-1] is not None and results[-1].text == text
    assert all(x is None for x in results[:-1])
