"""Pure codec of the Asterisk Manager Interface wire format (hand-written: no maintained library does AMI
as a sans-I/O codec). Bytes in, packets out; packets in, bytes out; no sockets here.

The wire format, as `main/manager.c` writes it:
- on connect, one line `Asterisk Call Manager/<AMI version>\r\n` (no blank line after it);
- then packets: `Key: Value\r\n` lines ended by an empty line. Keys may repeat (`ChanVariable`,
  `Variable`), values may contain colons, and some peers end lines with a bare `\n`;
- Asterisk <= 13 answers the `Command` action with `Response: Follows`, raw CLI output (which may hold
  blank lines and colons) and a closing `--END COMMAND--` marker, then the empty line.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Iterator, Mapping, Sequence, Union

from hardware.ami.errors import AmiEncodeError, AmiProtocolError

BANNER_PREFIX = "Asterisk Call Manager"
# Asterisk reads at most 1 KiB per action line, but events with many ChanVariable lines or a long
# `Command` output are bigger; 256 KiB bounds memory without refusing anything a real PBX sends.
DEFAULT_MAX_PACKET_BYTES = 256 * 1024
END_COMMAND = "--END COMMAND--"
# Headers Asterisk 1.8-13 put before the raw output of a `Response: Follows` (manager.c action_command).
_FOLLOWS_HEADERS = frozenset({"privilege", "actionid", "message"})
_KEY_RE = re.compile(r"^[A-Za-z0-9_()\-./@$#*]+$")

FieldValue = Union[str, Sequence[str]]
Fields = Union[Mapping[str, FieldValue], Sequence[tuple[str, str]], None]


@dataclass(frozen=True)
class Banner:
    """The greeting line, e.g. `Asterisk Call Manager/7.0.1` (Asterisk 18)."""

    product: str
    version: str

    def encode(self) -> bytes:
        """The greeting as Asterisk sends it."""
        return f"{self.product}/{self.version}\r\n".encode()


@dataclass(frozen=True)
class Packet:
    """One AMI packet: ordered `(key, value)` pairs, plus raw output lines for `Response: Follows`."""

    items: tuple[tuple[str, str], ...]
    output: tuple[str, ...] = field(default=())

    @cached_property
    def _index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for k, v in self.items:
            index.setdefault(k.lower(), []).append(v)
        return index

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of `key` (AMI keys are case-insensitive, manager.c astman_get_header)."""
        values = self._index.get(key.lower())
        return values[0] if values else default

    def get_all(self, key: str) -> list[str]:
        """Every value of a key that may repeat (`ChanVariable`, `Variable`), in wire order."""
        return list(self._index.get(key.lower(), ()))

    def fields(self) -> dict[str, str | list[str]]:
        """Keys to values; a repeated key maps to the list of its values."""
        out: dict[str, str | list[str]] = {}
        for k, v in self.items:
            if k in out:
                old = out[k]
                out[k] = (old if isinstance(old, list) else [old]) + [v]
            else:
                out[k] = v
        return out

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    @property
    def event(self) -> str | None:
        """The event name if this is an event."""
        return self.get("Event")

    @property
    def response(self) -> str | None:
        """`Success`, `Error`, `Follows`, `Goodbye` … if this is a response."""
        return self.get("Response") if self.event is None else None

    @property
    def action(self) -> str | None:
        """The action name if this is an action (what a server reads)."""
        return self.get("Action")

    @property
    def action_id(self) -> str | None:
        """The ActionID echoed by the PBX, if any."""
        return self.get("ActionID")

    def encode(self) -> bytes:
        """This packet on the wire, `\\r\\n` line ends, closing empty line."""
        lines = [_encode_line(k, v) for k, v in self.items]
        if self.output or (self.get("Response") or "").lower() == "follows":
            lines.extend(_check_value(line) for line in self.output)
            lines.append(END_COMMAND)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def make_packet(fields: Fields = None, **more: str) -> Packet:
    """A packet from a mapping (lists for repeated keys) or from pairs, keyword fields appended."""
    return Packet(tuple(_pairs(fields)) + tuple((k, str(v)) for k, v in more.items()))


def encode_action(action: str, action_id: str | None, fields: Fields = None) -> bytes:
    """The bytes of one action; `ActionID` goes right after `Action`, as Asterisk's docs show it."""
    pairs: list[tuple[str, str]] = [("Action", action)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    for k, v in _pairs(fields):
        if k.lower() in ("action", "actionid"):
            raise AmiEncodeError(f"{k!r} is set by the encoder, not by fields")
        pairs.append((k, v))
    return Packet(tuple(pairs)).encode()


def _pairs(fields: Fields) -> Iterator[tuple[str, str]]:
    if fields is None:
        return
    if isinstance(fields, Mapping):
        for k, v in fields.items():
            if isinstance(v, (list, tuple)):
                for one in v:
                    yield str(k), str(one)
            else:
                yield str(k), str(v)
    else:
        for k, v in fields:
            yield str(k), str(v)


def _check_value(value: str) -> str:
    # A CR or LF inside a value would end the line early and let the rest forge more headers.
    if "\r" in value or "\n" in value:
        raise AmiEncodeError(f"line break inside AMI value {value[:40]!r}")
    return value


def _encode_line(key: str, value: str) -> str:
    if not _KEY_RE.match(key):
        raise AmiEncodeError(f"bad AMI key {key!r}")
    return f"{key}: {_check_value(value)}"


def _decode(raw: bytes) -> str:
    # Asterisk passes caller names through as the phone sent them; old SIP phones send Latin-1.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


Item = Union[Packet, Banner]


class AmiParser:
    """Incremental parser: `feed` bytes split anywhere, then take packets with `next_packet`.

    Errors are queued in stream order with the packets: `next_packet` raises the queued
    `AmiProtocolError` once, and the following call goes on with the rest of the stream.
    """

    def __init__(self, *, expect_banner: bool = True, max_packet_bytes: int = DEFAULT_MAX_PACKET_BYTES) -> None:
        self._expect_banner = expect_banner
        self._max = max_packet_bytes
        self._buf = bytearray()
        self._out: deque[Item | AmiProtocolError] = deque()
        self._items: list[tuple[str, str]] = []
        self._output: list[str] | None = None  # not None while inside a `Response: Follows` body
        self._size = 0
        self._discarding = False  # after an oversized packet: drop lines up to the next empty one
        self.banner: Banner | None = None

    def feed(self, data: bytes) -> None:
        """Add bytes read from the socket; any split point is fine."""
        self._buf += data
        if b"\n" in data:
            *lines, rest = bytes(self._buf).split(b"\n")
            self._buf[:] = rest
            for raw in lines:
                self._line(raw[:-1] if raw.endswith(b"\r") else raw)
        if len(self._buf) > self._max:
            if not self._discarding:
                self._fail(f"AMI line longer than {self._max} bytes")
            # Only whether the partial line is empty matters while discarding; keep two bytes.
            self._buf[:] = b"xx"

    def next_packet(self) -> Item | None:
        """The next banner or packet, None when more bytes are needed; raises a queued error."""
        if not self._out:
            return None
        item = self._out.popleft()
        if isinstance(item, AmiProtocolError):
            raise item
        return item

    def packets(self) -> Iterator[Item]:
        """Every complete item so far, skipping (not raising) protocol errors."""
        while self._out:
            item = self._out.popleft()
            if not isinstance(item, AmiProtocolError):
                yield item

    def drain(self) -> tuple[list[Item], list[AmiProtocolError]]:
        """Everything complete so far, split into items and errors."""
        items: list[Item] = []
        errors: list[AmiProtocolError] = []
        while self._out:
            item = self._out.popleft()
            (errors if isinstance(item, AmiProtocolError) else items).append(item)  # type: ignore[arg-type]
        return items, errors

    @property
    def pending_bytes(self) -> int:
        """Bytes held for an unfinished packet (for tests and a stuck-peer check)."""
        return len(self._buf) + self._size

    def _fail(self, why: str) -> None:
        self._out.append(AmiProtocolError(why))
        self._reset_packet()
        self._discarding = True

    def _reset_packet(self) -> None:
        self._items = []
        self._output = None
        self._size = 0

    def _line(self, raw: bytes) -> None:
        if self._discarding:
            if raw == b"":
                self._discarding = False
            return
        text = _decode(raw)
        if self._expect_banner:
            self._expect_banner = False
            if text.startswith(BANNER_PREFIX) and ":" not in text:
                product, _, version = text.partition("/")
                self.banner = Banner(product, version)
                self._out.append(self.banner)
                return
            self._out.append(AmiProtocolError(f"expected '{BANNER_PREFIX}/…' banner, got {text[:60]!r}"))
        self._size += len(raw) + 2
        if self._size > self._max:
            self._fail(f"AMI packet longer than {self._max} bytes")
            if raw == b"":
                self._discarding = False
            return
        if self._output is not None:
            self._follows_line(text)
        elif text == "":
            self._end_packet()
        else:
            self._header_line(text)

    def _header_line(self, text: str) -> None:
        key, sep, value = text.partition(":")
        key = key.strip()
        if not sep or not key or " " in key:
            # A stray line (a proxy's notice, line noise) must not cost us the packet around it.
            self._out.append(AmiProtocolError(f"not an AMI 'Key: Value' line: {text[:60]!r}"))
            return
        # manager.c writes "Key: Value"; only the one space after the colon is framing.
        value = value[1:] if value.startswith(" ") else value
        self._items.append((key, value))
        if key.lower() == "response" and value.strip().lower() == "follows" and len(self._items) == 1:
            self._output = []

    def _follows_line(self, text: str) -> None:
        assert self._output is not None
        if not self._output:
            key, sep, value = text.partition(":")
            if sep and key.strip().lower() in _FOLLOWS_HEADERS:
                self._items.append((key.strip(), value[1:] if value.startswith(" ") else value))
                return
        if text.endswith(END_COMMAND):
            # Output that does not end in a newline glues the marker onto its last line (manager.c).
            head = text[: -len(END_COMMAND)]
            if head:
                self._output.append(head)
            self._output.append(END_COMMAND)  # sentinel: body done, the empty line ends the packet
            return
        if self._output and self._output[-1] == END_COMMAND:
            if text == "":
                self._output.pop()
                self._end_packet()
            else:
                self._out.append(AmiProtocolError(f"text after {END_COMMAND}: {text[:60]!r}"))
            return
        self._output.append(text)

    def _end_packet(self) -> None:
        if self._items:
            self._out.append(Packet(tuple(self._items), tuple(self._output or ())))
        self._reset_packet()


def parse_stream(data: bytes, *, expect_banner: bool = False) -> list[Item]:
    """Every item in a complete byte string (a transcript), skipping protocol errors."""
    parser = AmiParser(expect_banner=expect_banner)
    parser.feed(data)
    return list(parser.packets())


def split_packets(data: bytes) -> Iterable[Packet]:
    """Only the packets of a transcript (no banner, errors skipped)."""
    return [p for p in parse_stream(data) if isinstance(p, Packet)]
