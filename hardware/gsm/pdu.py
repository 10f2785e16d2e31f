"""SMS PDU codec (TS 23.040 §9.2.2, TS 23.038): SMS-DELIVER, SMS-SUBMIT, SMS-STATUS-REPORT.

Written by hand (no maintained Python library does TPDUs with national tables and UDH); pure:
bytes in, dataclasses out, and back. PDUs as the AT interface sees them (TS 27.005 §3) start with
the SMSC address; pass `smsc=False` for a bare TPDU.

    msg = decode_pdu(bytes.fromhex("07917283010010F5040BC8…"))     # DeliverPdu / SubmitPdu / StatusReportPdu
    parts = split_text("long text…", "+46708251358", reference=7)   # list[SubmitPdu]
    raw = encode_pdu(parts[0]); length = cmgs_length(raw)            # bytes for AT+CMGS=<length>

Command line: `python -m hardware.gsm.pdu decode <HEX>` / `encode --to NUMBER [--smsc N] TEXT`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from hardware.gsm import gsm7
from hardware.gsm.errors import PduError
from hardware.gsm.fields import (
    Address, Alphabet, Concat, Dcs, UserDataHeader, ValidityPeriod, decode_address, decode_smsc,
    decode_timestamp, decode_validity, encode_address, encode_smsc, encode_timestamp, encode_validity,
)

MAX_SEPTETS = 160  # §9.2.3.16: TP-UDL limit for 7-bit data
MAX_OCTETS = 140  # §9.2.3.24: TP-UD limit in octets


class Mti(enum.IntEnum):
    """TP-MTI (§9.2.3.1) as seen from the MS reading its store: 0 deliver, 1 submit, 2 status report."""

    DELIVER = 0
    SUBMIT = 1
    STATUS_REPORT = 2


@dataclass(frozen=True, kw_only=True)
class UserData:
    """Decoded TP-UD: header, text (None for 8-bit or compressed data) and the raw payload octets."""

    udh: UserDataHeader | None = None
    text: str | None = ""
    payload: bytes = b""


@dataclass(frozen=True, kw_only=True)
class DeliverPdu:
    """SMS-DELIVER (§9.2.2.1): a message from the network to us."""

    sender: Address
    timestamp: datetime
    text: str | None = ""
    payload: bytes = b""
    dcs: Dcs = Dcs()
    pid: int = 0
    udh: UserDataHeader | None = None
    smsc: Address | None = None
    more_messages: bool = False
    reply_path: bool = False
    status_report_indication: bool = False

    @property
    def concat(self) -> Concat | None:
        """Concatenation info, if this is one part of a longer message."""
        return self.udh.concat if self.udh else None


@dataclass(frozen=True, kw_only=True)
class SubmitPdu:
    """SMS-SUBMIT (§9.2.2.2): a message from us to the network."""

    to: Address
    text: str | None = ""
    payload: bytes = b""
    dcs: Dcs = Dcs()
    pid: int = 0
    udh: UserDataHeader | None = None
    smsc: Address | None = None
    reference: int = 0
    validity: ValidityPeriod | None = None
    status_report_request: bool = False
    reject_duplicates: bool = False
    reply_path: bool = False

    @property
    def concat(self) -> Concat | None:
        """Concatenation info, if this is one part of a longer message."""
        return self.udh.concat if self.udh else None


@dataclass(frozen=True, kw_only=True)
class StatusReportPdu:
    """SMS-STATUS-REPORT (§9.2.2.3): the fate of a message we submitted, by its TP-MR."""

    reference: int
    recipient: Address
    timestamp: datetime
    discharge_time: datetime
    status: int
    smsc: Address | None = None
    more_messages: bool = False
    qualifier_command: bool = False
    pid: int | None = None
    dcs: Dcs | None = None
    udh: UserDataHeader | None = None
    text: str | None = None
    payload: bytes = b""

    @property
    def delivered(self) -> bool:
        """TP-ST 0x00..0x1F: the transaction completed (§9.2.3.15)."""
        return self.status < 0x20

    @property
    def final(self) -> bool:
        """False only while the SC is still trying (TP-ST 0x20..0x3F)."""
        return not 0x20 <= self.status < 0x40


Pdu = DeliverPdu | SubmitPdu | StatusReportPdu


def _fill_bits(header_octets: int) -> int:
    """§9.2.3.24: 7-bit text after a UDH starts on the next septet boundary."""
    return (7 - (header_octets * 8) % 7) % 7


def _header_septets(header_octets: int) -> int:
    return (header_octets * 8 + 6) // 7


def decode_user_data(ud: bytes, udl: int, dcs: Dcs, udhi: bool) -> UserData:
    """Split TP-UD into header and text/payload, per the DCS alphabet."""
    alphabet = dcs.alphabet
    if alphabet == Alphabet.GSM7 and not dcs.compressed:
        if udl > MAX_SEPTETS:
            raise PduError(f"TP-UDL {udl} septets is over the {MAX_SEPTETS} allowed")
        octets = gsm7.packed_length(udl)
    else:
        if udl > MAX_OCTETS:
            raise PduError(f"TP-UDL {udl} octets is over the {MAX_OCTETS} allowed")
        octets = udl
    if octets > len(ud):
        raise PduError(f"user data truncated: TP-UDL {udl} needs {octets} octets, {len(ud)} present")
    ud = ud[:octets]
    udh, start = UserDataHeader.decode(ud) if udhi else (None, 0)
    payload = bytes(ud[start:])
    if dcs.compressed:
        return UserData(udh=udh, text=None, payload=payload)
    if alphabet == Alphabet.GSM7:
        count = udl - _header_septets(start)
        if count < 0:
            raise PduError(f"UDH of {start} octets does not fit TP-UDL {udl} septets")
        septets = gsm7.unpack(ud[start:], count, _fill_bits(start) if start else 0)
        locking = udh.locking_shift if udh else 0
        single = udh.single_shift if udh else 0
        return UserData(udh=udh, text=gsm7.decode(septets, locking, single))
    if alphabet == Alphabet.UCS2:
        if len(payload) % 2:
            raise PduError(f"UCS-2 user data has an odd length ({len(payload)} octets)")
        # surrogatepass: one half of a pair may sit in the next part of a concatenated message.
        return UserData(udh=udh, text=payload.decode("utf-16-be", "surrogatepass"))
    return UserData(udh=udh, text=None, payload=payload)


def encode_user_data(text: str | None, payload: bytes, dcs: Dcs, udh: UserDataHeader | None) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for the given text (or 8-bit payload when text is None) and header."""
    header = udh.encode() if udh and udh.elements else b""
    alphabet = dcs.alphabet
    if alphabet == Alphabet.GSM7 and text is not None and not dcs.compressed:
        locking = udh.locking_shift if udh else 0
        single = udh.single_shift if udh else 0
        septets = gsm7.encode(text, locking, single)
        udl = _header_septets(len(header)) + len(septets)
        if udl > MAX_SEPTETS:
            raise PduError(f"text needs {udl} septets, one PDU holds {MAX_SEPTETS}")
        return udl, header + gsm7.pack(septets, _fill_bits(len(header)) if header else 0)
    if alphabet == Alphabet.UCS2 and text is not None:
        body = text.encode("utf-16-be", "surrogatepass")
    else:
        body = payload
    if len(header) + len(body) > MAX_OCTETS:
        raise PduError(f"user data needs {len(header) + len(body)} octets, one PDU holds {MAX_OCTETS}")
    return len(header) + len(body), header + body


def _octet(data: bytes, offset: int, what: str) -> int:
    if offset >= len(data):
        raise PduError(f"PDU truncated before {what} (octet {offset})")
    return data[offset]


def _decode_ud(data: bytes, offset: int, dcs: Dcs, udhi: bool) -> UserData:
    udl = _octet(data, offset, "TP-UDL")
    return decode_user_data(data[offset + 1:], udl, dcs, udhi)


def decode_pdu(data: bytes, *, smsc: bool = True) -> Pdu:
    """Decode one PDU (with the SMSC prefix unless smsc=False); PduError says what is wrong."""
    data = bytes(data)
    sc, pos = decode_smsc(data) if smsc else (None, 0)
    first = _octet(data, pos, "the first octet")
    mti = first & 0x03
    udhi = bool(first & 0x40)
    if mti == Mti.SUBMIT:
        return _decode_submit(data, pos, sc, first, udhi)
    if mti == Mti.STATUS_REPORT:
        return _decode_status(data, pos, sc, first, udhi)
    # §9.2.3.1: an MS treats the reserved value 3 as SMS-DELIVER.
    sender, pos = decode_address(data, pos + 1)
    pid = _octet(data, pos, "TP-PID")
    dcs = Dcs(_octet(data, pos + 1, "TP-DCS"))
    stamp, pos = decode_timestamp(data, pos + 2)
    ud = _decode_ud(data, pos, dcs, udhi)
    return DeliverPdu(sender=sender, timestamp=stamp, text=ud.text, payload=ud.payload, dcs=dcs, pid=pid,
                      udh=ud.udh, smsc=sc, more_messages=not first & 0x04, reply_path=bool(first & 0x80),
                      status_report_indication=bool(first & 0x20))


def _decode_submit(data: bytes, pos: int, sc: Address | None, first: int, udhi: bool) -> SubmitPdu:
    reference = _octet(data, pos + 1, "TP-MR")
    to, pos = decode_address(data, pos + 2)
    pid = _octet(data, pos, "TP-PID")
    dcs = Dcs(_octet(data, pos + 1, "TP-DCS"))
    validity, pos = decode_validity(data, pos + 2, first >> 3 & 3)
    ud = _decode_ud(data, pos, dcs, udhi)
    return SubmitPdu(to=to, text=ud.text, payload=ud.payload, dcs=dcs, pid=pid, udh=ud.udh, smsc=sc,
                     reference=reference, validity=validity, status_report_request=bool(first & 0x20),
                     reject_duplicates=bool(first & 0x04), reply_path=bool(first & 0x80))


def _decode_status(data: bytes, pos: int, sc: Address | None, first: int, udhi: bool) -> StatusReportPdu:
    reference = _octet(data, pos + 1, "TP-MR")
    recipient, pos = decode_address(data, pos + 2)
    stamp, pos = decode_timestamp(data, pos)
    discharge, pos = decode_timestamp(data, pos)
    status = _octet(data, pos, "TP-ST")
    pos += 1
    pid = dcs = None
    ud = UserData(text=None)
    if pos < len(data):  # §9.2.2.3: TP-PI and what it announces are optional
        pi = data[pos]
        pos += 1
        while data[pos - 1] & 0x80 and pos < len(data):  # §9.2.3.27: extension bit, more PI octets
            pos += 1
        if pi & 0x01:
            pid = _octet(data, pos, "TP-PID")
            pos += 1
        if pi & 0x02:
            dcs = Dcs(_octet(data, pos, "TP-DCS"))
            pos += 1
        if pi & 0x04:
            ud = _decode_ud(data, pos, dcs or Dcs(), udhi)
    return StatusReportPdu(reference=reference, recipient=recipient, timestamp=stamp, discharge_time=discharge,
                           status=status, smsc=sc, more_messages=not first & 0x04,
                           qualifier_command=bool(first & 0x20), pid=pid, dcs=dcs, udh=ud.udh, text=ud.text,
                           payload=ud.payload)


def decode_hex(text: str, *, smsc: bool = True) -> Pdu:
    """Decode a PDU given as hex (as +CMGL/+CMGR/+CMT print it)."""
    cleaned = "".join(text.split())
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise PduError("PDU is not valid hex") from None
    return decode_pdu(data, smsc=smsc)


def encode_pdu(msg: Pdu, *, smsc: bool = True) -> bytes:
    """Encode a message; the SMSC prefix (00 if msg.smsc is None) comes first unless smsc=False."""
    prefix = encode_smsc(msg.smsc) if smsc else b""
    if isinstance(msg, SubmitPdu):
        return prefix + _encode_submit(msg)
    if isinstance(msg, DeliverPdu):
        return prefix + _encode_deliver(msg)
    return prefix + _encode_status(msg)


def _check_octet(value: int, what: str) -> int:
    if not 0 <= value <= 255:
        raise PduError(f"{what} {value} does not fit one octet")
    return value


def _encode_submit(msg: SubmitPdu) -> bytes:
    udl, ud = encode_user_data(msg.text, msg.payload, msg.dcs, msg.udh)
    validity = encode_validity(msg.validity) if msg.validity else b""
    first = (Mti.SUBMIT | (0x04 if msg.reject_duplicates else 0)
             | ((msg.validity.format_bits << 3) if msg.validity else 0)
             | (0x20 if msg.status_report_request else 0) | (0x40 if msg.udh and msg.udh.elements else 0)
             | (0x80 if msg.reply_path else 0))
    return (bytes([first, _check_octet(msg.reference, "TP-MR")]) + encode_address(msg.to)
            + bytes([_check_octet(msg.pid, "TP-PID"), _check_octet(msg.dcs.raw, "TP-DCS")]) + validity
            + bytes([udl]) + ud)


def _encode_deliver(msg: DeliverPdu) -> bytes:
    udl, ud = encode_user_data(msg.text, msg.payload, msg.dcs, msg.udh)
    first = (Mti.DELIVER | (0 if msg.more_messages else 0x04) | (0x20 if msg.status_report_indication else 0)
             | (0x40 if msg.udh and msg.udh.elements else 0) | (0x80 if msg.reply_path else 0))
    return (bytes([first]) + encode_address(msg.sender)
            + bytes([_check_octet(msg.pid, "TP-PID"), _check_octet(msg.dcs.raw, "TP-DCS")])
            + encode_timestamp(msg.timestamp) + bytes([udl]) + ud)


def _encode_status(msg: StatusReportPdu) -> bytes:
    has_ud = msg.text is not None or bool(msg.payload) or bool(msg.udh and msg.udh.elements)
    first = (Mti.STATUS_REPORT | (0 if msg.more_messages else 0x04) | (0x20 if msg.qualifier_command else 0)
             | (0x40 if has_ud and msg.udh and msg.udh.elements else 0))
    out = (bytes([first, _check_octet(msg.reference, "TP-MR")]) + encode_address(msg.recipient)
           + encode_timestamp(msg.timestamp) + encode_timestamp(msg.discharge_time)
           + bytes([_check_octet(msg.status, "TP-ST")]))
    pi = (0x01 if msg.pid is not None else 0) | (0x02 if msg.dcs is not None else 0) | (0x04 if has_ud else 0)
    if pi:
        out += bytes([pi])
        if msg.pid is not None:
            out += bytes([_check_octet(msg.pid, "TP-PID")])
        if msg.dcs is not None:
            out += bytes([_check_octet(msg.dcs.raw, "TP-DCS")])
        if has_ud:
            udl, ud = encode_user_data(msg.text, msg.payload, msg.dcs or Dcs(), msg.udh)
            out += bytes([udl]) + ud
    return out


def cmgs_length(pdu: bytes) -> int:
    """The <length> of AT+CMGS/AT+CMGW (TS 27.005 §3.5.1): TPDU octets, the SMSC prefix not counted."""
    if not pdu:
        raise PduError("empty PDU")
    return len(pdu) - 1 - pdu[0]


def _chunks_gsm7(text: str, capacity: int, locking: int, single: int) -> list[str]:
    chunks, current, used = [], [], 0
    for ch, codes in zip(text, gsm7.char_septets(text, locking, single)):
        if used + len(codes) > capacity:  # never split an escape pair across parts (TS 23.038 §6.2.1.1)
            chunks.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += len(codes)
    chunks.append("".join(current))
    return chunks


def _chunks_ucs2(text: str, capacity_units: int) -> list[str]:
    chunks, current, used = [], [], 0
    for ch in text:
        units = 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair stays within one part
        if used + units > capacity_units:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += units
    chunks.append("".join(current))
    return chunks


def choose_encoding(text: str, national: gsm7.Language | None = None) -> tuple[Alphabet, int, int]:
    """(alphabet, locking table, single shift table) for `text`: default GSM-7, then the national tables, then UCS-2."""
    if gsm7.can_encode(text):
        return Alphabet.GSM7, 0, 0
    if national:
        locking = national if gsm7.has_locking_table(national) else 0
        single = national if gsm7.has_single_table(national) else 0
        for lock, sing in ((0, single), (locking, single)):
            if gsm7.can_encode(text, lock, sing):
                return Alphabet.GSM7, lock, sing
    return Alphabet.UCS2, 0, 0


def split_text(text: str, to: str | Address = "", *, reference: int = 0, wide_reference: bool = False,
               smsc: str | Address | None = None, national: gsm7.Language | None = None,
               status_report: bool = False, validity: ValidityPeriod | None = None,
               message_class: int | None = None) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs for `text`: GSM-7 if it fits the alphabet (153 chars a part) else UCS-2 (67 a part)."""
    dest = to if isinstance(to, Address) else (Address.parse(to) if to else Address(""))
    sc = smsc if isinstance(smsc, Address) or smsc is None else Address.parse(smsc)
    alphabet, locking, single = choose_encoding(text, national)
    base = SubmitPdu(to=dest, dcs=Dcs.for_alphabet(alphabet, message_class), smsc=sc,
                     status_report_request=status_report, validity=validity)

    def header_len(concat: Concat | None) -> int:
        udh = UserDataHeader.build(concat, single, locking)
        return len(udh.encode()) if udh.elements else 0

    def capacity(hlen: int) -> int:
        if alphabet == Alphabet.GSM7:
            return MAX_SEPTETS - (_header_septets(hlen) if hlen else 0)
        return (MAX_OCTETS - hlen) // 2

    def chunk(cap: int) -> list[str]:
        if alphabet == Alphabet.GSM7:
            return _chunks_gsm7(text, cap, locking, single)
        return _chunks_ucs2(text, cap)

    single_part = chunk(capacity(header_len(None)))
    if len(single_part) == 1:
        udh = UserDataHeader.build(None, single, locking)
        return [replace(base, text=text, udh=udh if udh.elements else None)]
    probe = Concat(reference, 1, 1, wide_reference)
    parts = chunk(capacity(header_len(probe)))
    if len(parts) > 255:
        raise PduError(f"text needs {len(parts)} parts; concatenation allows 255")
    limit = 0xFFFF if wide_reference else 0xFF
    if not 0 <= reference <= limit:
        raise PduError(f"concatenation reference {reference} is out of range")
    return [replace(base, text=part, udh=UserDataHeader.build(Concat(reference, len(parts), i, wide_reference),
                                                               single, locking))
            for i, part in enumerate(parts, start=1)]


if __name__ == "__main__":
    import sys

    from hardware.gsm.pdu_cli import main

    sys.exit(main(sys.argv[1:]))
