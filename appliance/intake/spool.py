"""The durable spool: raw input lands here, fsynced, before the source is told it may forget it.

Inputs are written in segments (one or more entries) so that a batch fetched from a server costs one
fsync instead of one per message. A segment is written to a temporary name, fsynced and renamed, so
after a crash it is either complete or absent. States: a segment in `new/` is waiting; once every
entry in it has been delivered or quarantined it is renamed into `done/` (kept for a while for
forensics, then pruned). On start, everything in `new/` is replayed; idempotency keys make that safe.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from appliance.intake.errors import SpoolError
from appliance.store import fsync_dir, write_durably

MAGIC = b"APSPOOL1\n"
END = b"APSPOOL-END "  # trailer with the entry count: a cut at an entry boundary is still detected
DONE_KEEP_S = 3 * 24 * 3600.0  # how long delivered segments stay for forensics


@dataclass
class SpoolEntry:
    """One raw input and what the source told us about it."""

    raw: bytes
    source: str                      # e.g. "imap:support@example.com", "smtp:192.0.2.7"
    meta: dict[str, Any] = field(default_factory=dict)  # envelope, UID, received time …
    received_at: float = field(default_factory=time.time)


@dataclass
class Segment:
    """A spooled batch of entries, named by its file."""

    name: str
    channel: str
    entries: list[SpoolEntry]


def encode_segment(entries: Iterable[SpoolEntry]) -> bytes:
    """Serialise entries: per entry one JSON header line, then exactly `len` raw bytes and a newline."""
    out, count = [MAGIC], 0
    for e in entries:
        count += 1
        head = {"source": e.source, "meta": e.meta, "received_at": e.received_at, "len": len(e.raw),
                "sha256": hashlib.sha256(e.raw).hexdigest()}
        out.append(json.dumps(head, separators=(",", ":"), ensure_ascii=True).encode() + b"\n")
        out.append(e.raw)
        out.append(b"\n")
    out.append(END + str(count).encode() + b"\n")
    return b"".join(out)


def decode_segment(data: bytes) -> list[SpoolEntry]:
    """Parse a segment; raises SpoolError on any damage (the caller quarantines the file)."""
    if not data.startswith(MAGIC):
        raise SpoolError("not a spool segment (bad magic)")
    pos, entries = len(MAGIC), []
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise SpoolError(f"truncated entry header at byte {pos}")
        if data.startswith(END, pos):
            if data[pos + len(END):nl] != str(len(entries)).encode() or nl + 1 != len(data):
                raise SpoolError("segment trailer does not match its entries")
            return entries
        try:
            head = json.loads(data[pos:nl])
            length, want = int(head["len"]), str(head["sha256"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SpoolError(f"bad entry header at byte {pos}: {exc}") from None
        raw = data[nl + 1:nl + 1 + length]
        if len(raw) != length or data[nl + 1 + length:nl + 2 + length] != b"\n":
            raise SpoolError(f"truncated entry body at byte {nl + 1}")
        if hashlib.sha256(raw).hexdigest() != want:
            raise SpoolError(f"entry at byte {pos} fails its checksum")
        entries.append(SpoolEntry(raw, str(head.get("source", "")), dict(head.get("meta") or {}),
                                  float(head.get("received_at", 0.0))))
        pos = nl + 2 + length


class Spool:
    """Spool of one channel under `root/<channel>/{new,done,damaged}`."""

    def __init__(self, root: Path, channel: str) -> None:
        self.channel = channel
        self.base = root / channel
        self.new_dir, self.done_dir, self.damaged_dir = (self.base / "new", self.base / "done",
                                                         self.base / "damaged")
        for d in (self.new_dir, self.done_dir, self.damaged_dir):
            d.mkdir(parents=True, exist_ok=True)

    def write(self, entries: list[SpoolEntry]) -> Segment:
        """Write entries durably; when this returns, the source may be acknowledged."""
        if not entries:
            raise SpoolError("refusing to write an empty segment")
        # Names sort in arrival order: nanosecond clock, then randomness against collisions.
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.seg"
        try:
            write_durably(self.new_dir / name, encode_segment(entries))
        except OSError as exc:
            raise SpoolError(f"cannot write spool segment {name}: {exc}") from exc
        return Segment(name, self.channel, entries)

    def pending(self) -> list[str]:
        """Names of segments not yet done, oldest first."""
        return sorted(p.name for p in self.new_dir.glob("*.seg"))

    def read(self, name: str) -> Segment:
        """Load a pending segment."""
        try:
            data = (self.new_dir / name).read_bytes()
        except OSError as exc:
            raise SpoolError(f"cannot read spool segment {name}: {exc}") from exc
        return Segment(name, self.channel, decode_segment(data))

    def raw_bytes(self, name: str) -> bytes:
        """The file's bytes as they are, for quarantining a damaged segment."""
        return (self.new_dir / name).read_bytes()

    def mark_done(self, name: str) -> None:
        """Move a delivered segment out of `new/`; durable before returning."""
        os.replace(self.new_dir / name, self.done_dir / name)
        fsync_dir(self.new_dir)
        fsync_dir(self.done_dir)

    def mark_damaged(self, name: str) -> None:
        """Move an unreadable segment aside so it is not replayed forever."""
        os.replace(self.new_dir / name, self.damaged_dir / name)
        fsync_dir(self.new_dir)

    def prune(self, now: float | None = None, keep_s: float = DONE_KEEP_S) -> int:
        """Delete done segments older than `keep_s`; returns how many."""
        now = now or time.time()
        removed = 0
        for p in self.done_dir.glob("*.seg"):
            try:
                if now - p.stat().st_mtime > keep_s:
                    p.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def counts(self) -> dict[str, int]:
        """Segments per state, for the admin console."""
        return {"new": len(list(self.new_dir.glob("*.seg"))), "done": len(list(self.done_dir.glob("*.seg"))),
                "damaged": len(list(self.damaged_dir.glob("*.seg")))}


def channel_spool(shared: dict[str, Any], store_root: Path, channel: str) -> Spool:
    """A channel's spool in the data directory (beside the document store when run without one, in tests)."""
    data_dir = shared.get("data_dir")
    root = data_dir.spool if data_dir is not None else Path(store_root).parent / "spool"
    return Spool(Path(root), channel)
