"""The spool codec and its states: written durably, replayed until done, damage detected."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from appliance.intake.errors import SpoolError
from appliance.intake.spool import Spool, SpoolEntry, decode_segment, encode_segment

entries = st.lists(st.builds(SpoolEntry, raw=st.binary(max_size=300), source=st.text(max_size=20),
                             meta=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
                             received_at=st.floats(0, 2e9)), min_size=1, max_size=5)


@given(entries)
def test_segment_round_trip(items: list[SpoolEntry]) -> None:
    assert decode_segment(encode_segment(items)) == items


@given(st.binary(max_size=400))
def test_garbage_raises_only_spool_error(data: bytes) -> None:
    try:
        decode_segment(data)
    except SpoolError:
        pass


def test_every_truncation_and_bit_flip_is_detected() -> None:
    data = encode_segment([SpoolEntry(b"From: a@b\r\n\r\nhello", "imap:x", {"uid": 7})])
    for cut in range(len(data) - 1):
        with pytest.raises(SpoolError):
            decode_segment(data[:cut])
    body_at = data.index(b"hello")
    flipped = data[:body_at] + b"j" + data[body_at + 1:]
    with pytest.raises(SpoolError, match="checksum"):
        decode_segment(flipped)


def test_states_new_done_damaged(tmp_path: Path) -> None:
    spool = Spool(tmp_path, "mail")
    first = spool.write([SpoolEntry(b"one", "s")])
    second = spool.write([SpoolEntry(b"two", "s"), SpoolEntry(b"three", "s")])
    assert spool.pending() == [first.name, second.name]
    assert [e.raw for e in spool.read(second.name).entries] == [b"two", b"three"]
    spool.mark_done(first.name)
    assert spool.pending() == [second.name]
    (spool.new_dir / second.name).write_bytes(b"APSPOOL1\n{broken")
    with pytest.raises(SpoolError):
        spool.read(second.name)
    spool.mark_damaged(second.name)
    assert spool.counts() == {"new": 0, "done": 1, "damaged": 1}
    # A fresh Spool over the same directory (a restart) sees the same states.
    assert Spool(tmp_path, "mail").pending() == []


def test_no_temporary_files_are_left_or_replayed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, "mail")
    (spool.new_dir / ".half-written.seg.1234.tmp").write_bytes(b"APSPOOL1\n")  # a crash mid-write
    spool.write([SpoolEntry(b"x", "s")])
    assert len(spool.pending()) == 1
    with pytest.raises(SpoolError):
        spool.write([])
