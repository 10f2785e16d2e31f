"""Pure parsing of AT response lines (ITU-T V.250 §5.7, TS 27.007 §9, TS 27.005 §3).

No I/O here: `AtChannel` feeds lines in and acts on what these functions say. Verbose result codes
(ATV1) are assumed; the channel turns them on.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hardware.serial.errors import AtCommandError, AtParseError, CmeError, CmsError


class Final(enum.Enum):
    """Final result codes (V.250 §5.7.1 table 1, TS 27.007 §9.2, TS 27.005 §3.2.5)."""

    OK = "OK"
    CONNECT = "CONNECT"
    ERROR = "ERROR"
    CME_ERROR = "+CME ERROR"
    CMS_ERROR = "+CMS ERROR"
    NO_CARRIER = "NO CARRIER"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    NO_DIALTONE = "NO DIALTONE"
    PROMPT = "> "  # not a result code: the "> " that asks for the PDU or text of +CMGS/+CMGW


_PLAIN_FINALS = {
    "OK": Final.OK, "ERROR": Final.ERROR, "NO CARRIER": Final.NO_CARRIER, "BUSY": Final.BUSY,
    "NO ANSWER": Final.NO_ANSWER, "NO DIALTONE": Final.NO_DIALTONE, "NO DIAL TONE": Final.NO_DIALTONE,
    "COMMAND NOT SUPPORT": Final.ERROR,  # some Huawei firmwares
    "+FCERROR": Final.ERROR,  # T.31 §8.3.1: another modulation was heard (fax class 1)
}

# Unsolicited result codes a modem may send at any time (TS 27.007 / 27.005 and common vendor ones).
URC_NAMES = frozenset({
    "RING", "+CRING", "+CLIP", "+CCWA", "+CMTI", "+CMT", "+CDS", "+CDSI", "+CBM", "+CBMI", "+CREG",
    "+CGREG", "+CEREG", "+CUSD", "+CIEV", "+CSSI", "+CSSU", "+CTZV", "+CTZE", "+CGEV", "+PACSP",
    "^RSSI", "^BOOT", "^MODE", "^SRVST", "^SIMST", "RDY", "+CFUN", "+CPIN", "CALL READY", "SMS READY",
})

# URCs followed by a second line with the message itself (TS 27.005 §3.4.1: +CMT, +CBM, +CDS in PDU mode).
_TWO_LINE_URCS = frozenset({"+CMT", "+CBM"})


@dataclass(frozen=True)
class FinalResult:
    """One parsed final result code."""

    kind: Final
    line: str
    code: int | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        """OK and CONNECT are successes; the rest are failures."""
        return self.kind in (Final.OK, Final.CONNECT, Final.PROMPT)


def parse_final(line: str) -> FinalResult | None:
    """The final result code in `line`, or None if it is not one."""
    text = line.strip()
    plain = _PLAIN_FINALS.get(text.upper())
    if plain is not None:
        return FinalResult(plain, text)
    if text.upper() == "CONNECT" or text.upper().startswith("CONNECT "):
        return FinalResult(Final.CONNECT, text, message=text[8:] or None)
    for prefix, kind in (("+CME ERROR:", Final.CME_ERROR), ("+CMS ERROR:", Final.CMS_ERROR)):
        if text.upper().startswith(prefix):
            detail = text[len(prefix):].strip()
            # Numeric with AT+CMEE=1, text with AT+CMEE=2 (TS 27.007 §9.1).
            if detail.isdigit() and detail.isascii():
                return FinalResult(kind, text, code=int(detail))
            return FinalResult(kind, text, message=detail or None)
    return None


def split_args(text: str) -> list[str]:
    """Split a TS 27.007 parameter list on commas outside quotes; quotes are removed."""
    args: list[str] = []
    current: list[str] = []
    quoted = False
    was_quoted = False
    for ch in text:
        if ch == '"':
            if not quoted and not was_quoted and not "".join(current).strip():
                current = []  # blanks before an opening quote are not part of the value
            quoted = not quoted
            was_quoted = True
        elif ch == "," and not quoted:
            args.append("".join(current) if was_quoted else "".join(current).strip())
            current, was_quoted = [], False
        else:
            current.append(ch)
    if quoted:
        raise AtParseError(f"unterminated quote in {text!r}")
    args.append("".join(current) if was_quoted else "".join(current).strip())
    return args


def parse_info(line: str) -> tuple[str, list[str]]:
    """('+CMTI', ['SM', '3']) for '+CMTI: "SM",3'; bare words give (word, [])."""
    text = line.strip()
    if text[:1] in ("+", "^", "*", "#", "$", "%") and ":" in text:
        name, _, rest = text.partition(":")
        name = name.strip().upper()
        if not name[1:] or any(c.isspace() for c in name):
            raise AtParseError(f"bad information response name in {line!r}")
        return name, split_args(rest) if rest.strip() else []
    return text.upper(), []


def command_prefix(command: str) -> str | None:
    """'+CREG' for 'AT+CREG?' or 'AT+CREG=2': the name its information responses carry."""
    body = command.strip()
    if body[:2].upper() != "AT":
        return None
    body = body[2:]
    if body[:1] not in ("+", "^", "*", "#", "$", "%"):
        return None
    end = 1
    while end < len(body) and (body[end].isalnum() or body[end] in "_-"):
        end += 1
    return body[:end].upper() if end > 1 else None


class LineKind(enum.Enum):
    """What a line from the device is, given what we are waiting for."""

    ECHO = "echo"
    FINAL = "final"
    INTERMEDIATE = "intermediate"
    URC = "urc"


def classify(line: str, pending_command: str | None) -> LineKind:
    """Echo, final result, a response to the pending command, or an unsolicited result code."""
    text = line.strip()
    if pending_command is not None:
        if text == pending_command.strip():
            return LineKind.ECHO
        if parse_final(text) is not None:
            return LineKind.FINAL
    name, _ = parse_info(text)
    prefix = command_prefix(pending_command) if pending_command else None
    if prefix is not None and name == prefix:
        return LineKind.INTERMEDIATE  # '+CREG: 0,1' answers 'AT+CREG?' even though +CREG is also a URC
    if name in URC_NAMES or name.split(":")[0] in URC_NAMES:
        return LineKind.URC
    if pending_command is not None:
        return LineKind.INTERMEDIATE
    return LineKind.URC  # unknown line with nothing pending: hand it to the URC listeners


def urc_has_body(name: str, args: list[str]) -> bool:
    """True if this URC is followed by one more line holding the message (PDU or text)."""
    if name in _TWO_LINE_URCS:
        return True
    return name == "+CDS" and len(args) == 1  # PDU mode '+CDS: <length>'; text mode has all fields inline


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code, with its second line when it has one."""

    name: str
    args: tuple[str, ...]
    line: str
    body: str | None = None


def parse_urc(line: str, body: str | None = None) -> Urc:
    """Build an `Urc` from its line (and body line)."""
    name, args = parse_info(line)
    return Urc(name, tuple(args), line.strip(), body)


@dataclass(frozen=True)
class AtResponse:
    """The whole answer to one command: information lines and the final result."""

    command: str
    lines: tuple[str, ...]
    result: FinalResult
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for OK, CONNECT and the +CMGS prompt."""
        return self.result.ok

    @property
    def final(self) -> str:
        """The final result line as received."""
        return self.result.line

    @property
    def error_code(self) -> int | None:
        """The +CME/+CMS error number, if any."""
        return self.result.code

    def raise_for_error(self) -> AtResponse:
        """Return self if ok, else raise CmeError / CmsError / AtCommandError."""
        if self.ok:
            return self
        if self.result.kind == Final.CME_ERROR:
            raise CmeError(self)
        if self.result.kind == Final.CMS_ERROR:
            raise CmsError(self)
        raise AtCommandError(self)

    def info(self, prefix: str) -> list[list[str]]:
        """Argument lists of the lines that start with `prefix:` (e.g. '+CMGL')."""
        out = []
        for line in self.lines:
            name, args = parse_info(line)
            if name == prefix.upper():
                out.append(args)
        return out

    def first(self, prefix: str) -> list[str]:
        """Arguments of the first `prefix:` line; AtParseError if there is none."""
        found = self.info(prefix)
        if not found:
            raise AtParseError(f"no {prefix} line in the answer to {self.command!r}: {list(self.lines)}")
        return found[0]

    @property
    def text(self) -> str:
        """The information lines joined, for plain answers such as ATI or AT+CGMI."""
        return "\n".join(self.lines)
