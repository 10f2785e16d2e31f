"""AMI figures: parser and decoder throughput, call tracking rate, events/s through client and fake PBX.

Baselines run in the same process: a naive `split(b"\\r\\n\\r\\n")` parser (no partial reads, no limits)
for the codec, and whole-packet writes for the chunked end-to-end run.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable, Iterable

from bench.figure import figure
from hardware.ami.calls import CallTracker
from hardware.ami.client import AmiClient
from hardware.ami.codec import AmiParser, split_packets
from hardware.ami.events import Hangup, decode_event
from hardware.ami.fake_server import FakeAmiServer

DATA = Path(__file__).parent.parent / "tests" / "data" / "ami"
REPEAT = 40  # ~3 MB of events: long enough to time, short enough for a 2-core box


def _corpus() -> bytes:
    return b"".join(p.read_bytes() for p in sorted(DATA.glob("*.ami"))) * REPEAT


def _best(fn: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _naive(data: bytes) -> int:
    count = 0
    for block in data.split(b"\r\n\r\n"):
        if block:
            dict(line.split(b": ", 1) for line in block.split(b"\r\n") if b": " in line)
            count += 1
    return count


def _ours(data: bytes, chunk: int) -> int:
    parser = AmiParser(expect_banner=False)
    count = 0
    for i in range(0, len(data), chunk):
        parser.feed(data[i:i + chunk])
        count += sum(1 for _ in parser.packets())
    return count


def figures() -> Iterable[dict]:
    """ami.parse_mb_s (vs naive split), ami.parse_7byte_reads_mb_s, ami.decode_events_s, ami.track_events_s,
    ami.client_events_s (vs whole-packet writes)."""
    data = _corpus()
    mb = len(data) / 1e6
    naive = _best(lambda: _naive(data))
    whole = _best(lambda: _ours(data, 65536))
    yield figure("ami.parse_mb_s", mb / whole, "MB/s", baseline=mb / naive)
    small = data[: len(data) // 20]
    tiny = _best(lambda: _ours(small, 7), rounds=1)
    yield figure("ami.parse_7byte_reads_mb_s", len(small) / 1e6 / tiny, "MB/s", baseline=mb / whole)
    packets = split_packets(data)
    decode = _best(lambda: [decode_event(p) for p in packets])
    yield figure("ami.decode_events_s", len(packets) / decode, "events/s")
    events = [decode_event(p) for p in packets]

    def track() -> None:
        tracker = CallTracker()
        for e in events:
            tracker.feed(e)
            if isinstance(e, Hangup) and (call := tracker.call_of(e.channel.uniqueid)) and call.ended:
                tracker.forget(call.call_id)  # transcripts repeat ids: forget ended calls as the bridge would
    yield figure("ami.track_events_s", len(events) / _best(track), "events/s")
    one = (DATA / "inbound_queue_answered.ami").read_bytes() * 10
    chunked = asyncio.run(_end_to_end(one, "random"))
    whole_writes = asyncio.run(_end_to_end(one, "packet"))
    yield figure("ami.client_events_s", chunked, "events/s", baseline=whole_writes,
                 note="random 1..64-byte writes vs whole packets, loopback TCP")


async def _end_to_end(data: bytes, chunks: str) -> float:
    wanted = len(split_packets(data))
    async with FakeAmiServer(seed=1) as server:
        client = AmiClient("127.0.0.1", server.port, "acd", "s3cret")
        seen = 0
        done = asyncio.Event()

        def count(_: object) -> None:
            nonlocal seen
            seen += 1
            if seen >= wanted:
                done.set()

        await client.start()
        client.subscribe(count)
        t0 = time.perf_counter()
        await server.play(data, chunks=chunks, max_chunk=64)
        await asyncio.wait_for(done.wait(), 30)
        elapsed = time.perf_counter() - t0
        await client.close()
    return wanted / elapsed
