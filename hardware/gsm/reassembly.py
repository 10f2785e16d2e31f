"""Joining concatenated SMS parts (TS 23.040 §9.2.3.24.1 / .8): a pure class, time passed in by the caller.

    reassembler = Reassembler(timeout=3600)
    done = reassembler.add(deliver_pdu, now=time.monotonic())   # InboundMessage once every part is in
    for stale in reassembler.expire(now): ...                     # IncompleteMessage: parts that never completed
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hardware.gsm.fields import Alphabet
from hardware.gsm.pdu import DeliverPdu

DEFAULT_TIMEOUT = 3600.0  # TS 23.040 sets no limit; an hour covers networks that trickle parts in


def _join(parts: list[DeliverPdu]) -> tuple[str | None, bytes]:
    payload = b"".join(p.payload for p in parts)
    if any(p.text is None for p in parts):
        return None, payload
    text = "".join(p.text or "" for p in parts)
    if any(p.dcs.alphabet == Alphabet.UCS2 for p in parts):
        # A surrogate pair may straddle two parts; rejoin, and mark a half that never found its mate.
        text = text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "replace")
    return text, payload


@dataclass(frozen=True)
class InboundMessage:
    """A whole received message: one PDU, or every part of a concatenated one in order."""

    sender: str
    text: str | None
    payload: bytes
    timestamp: datetime
    parts: tuple[DeliverPdu, ...]
    reference: int | None = None


@dataclass(frozen=True)
class IncompleteMessage:
    """Parts of a concatenated message whose other parts did not come in time."""

    sender: str
    reference: int
    total: int
    parts: tuple[DeliverPdu, ...]

    @property
    def missing(self) -> tuple[int, ...]:
        """Sequence numbers never received."""
        have = {p.concat.sequence for p in self.parts if p.concat}
        return tuple(i for i in range(1, self.total + 1) if i not in have)

    @property
    def text(self) -> str | None:
        """The text of the parts that came, in order."""
        return _join(list(self.parts))[0]


@dataclass
class _Set:
    first_seen: float
    total: int
    parts: dict[int, DeliverPdu] = field(default_factory=dict)


class Reassembler:
    """Collects parts keyed by (sender, reference, total, reference width)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._sets: dict[tuple[str, int, int, bool], _Set] = {}

    @property
    def pending(self) -> int:
        """Number of incomplete sets held."""
        return len(self._sets)

    def add(self, pdu: DeliverPdu, now: float) -> InboundMessage | None:
        """Add one received PDU; returns the whole message when it is complete."""
        info = pdu.concat
        if info is None or info.total == 1:
            text, payload = _join([pdu])
            return InboundMessage(str(pdu.sender), text, payload, pdu.timestamp, (pdu,),
                                  info.reference if info else None)
        key = (str(pdu.sender), info.reference, info.total, info.wide)
        entry = self._sets.setdefault(key, _Set(now, info.total))
        entry.parts.setdefault(info.sequence, pdu)  # a repeated part (network retry) is dropped
        if len(entry.parts) < info.total:
            return None
        del self._sets[key]
        ordered = [entry.parts[i] for i in range(1, info.total + 1)]
        text, payload = _join(ordered)
        return InboundMessage(key[0], text, payload, ordered[0].timestamp, tuple(ordered), info.reference)

    def expire(self, now: float) -> list[IncompleteMessage]:
        """Remove and return the sets older than the timeout."""
        stale = [k for k, s in self._sets.items() if now - s.first_seen >= self.timeout]
        out = []
        for key in stale:
            entry = self._sets.pop(key)
            parts = tuple(entry.parts[i] for i in sorted(entry.parts))
            out.append(IncompleteMessage(key[0], key[1], key[2], parts))
        return out
