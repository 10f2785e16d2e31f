"""TPDU fields of TS 23.040 §9.1.2 / §9.2.3: addresses, time stamps, validity period, DCS and UDH.

Pure codecs, each `decode_*` takes (data, offset) and returns (value, new offset); errors are `PduError`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from hardware.gsm import gsm7
from hardware.gsm.errors import PduError


class Ton(enum.IntEnum):
    """Type of number, TS 23.040 §9.1.2.5."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK = 3
    SUBSCRIBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6
    RESERVED = 7


class Npi(enum.IntEnum):
    """Numbering plan identification, TS 23.040 §9.1.2.5 (the common ones)."""

    UNKNOWN = 0
    ISDN = 1
    DATA = 3
    TELEX = 4
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10


# TS 23.040 §9.1.2.3: semi-octet digits; A..C are '*', '#', and the 'a','b','c' of TS 24.008.
_DIGITS = "0123456789*#abc"


@dataclass(frozen=True)
class Address:
    """A TP address (or the SMSC's RP address): digits or alphanumeric text with TON/NPI."""

    number: str
    ton: int = Ton.UNKNOWN
    npi: int = Npi.ISDN

    def __str__(self) -> str:
        return f"+{self.number}" if self.ton == Ton.INTERNATIONAL else self.number

    @property
    def type_octet(self) -> int:
        """The type-of-address octet: bit 7 set, TON in bits 6..4, NPI in bits 3..0."""
        return 0x80 | (self.ton & 7) << 4 | (self.npi & 0x0F)

    @classmethod
    def parse(cls, text: str) -> Address:
        """'+4670…' is international/ISDN, digits are unknown/ISDN, anything else alphanumeric."""
        text = text.strip()
        if text.startswith("+") and len(text) > 1 and all(c in _DIGITS for c in text[1:]):
            return cls(text[1:], Ton.INTERNATIONAL, Npi.ISDN)
        if text and all(c in _DIGITS for c in text):
            return cls(text, Ton.UNKNOWN, Npi.ISDN)
        if not text:
            raise PduError("empty address")
        return cls(text, Ton.ALPHANUMERIC, Npi.UNKNOWN)


def _encode_digits(number: str) -> bytes:
    try:
        nibbles = [_DIGITS.index(c) for c in number]
    except ValueError:
        raise PduError(f"address {number!r} has a character that is not a semi-octet digit") from None
    if len(nibbles) % 2:
        nibbles.append(0x0F)  # §9.1.2.3: an odd count is filled with 1111
    return bytes(nibbles[i] | nibbles[i + 1] << 4 for i in range(0, len(nibbles), 2))


_SWAP_NIBBLES = bytes((b >> 4) | ((b & 0x0F) << 4) for b in range(256))
_HEX_TO_DIGIT = str.maketrans("abcde", "*#abc")


def _decode_digits(data: bytes, count: int) -> str:
    # Low nibble first (§9.1.2.3): swap nibbles, then hex digits map 1:1 onto semi-octet digits.
    text = bytes(data).translate(_SWAP_NIBBLES).hex()[:count]
    end = text.find("f")
    if end >= 0:
        text = text[:end]  # filler; some networks pad the even case too
    return text.translate(_HEX_TO_DIGIT)


def encode_address(address: Address) -> bytes:
    """TP-address (§9.1.2.5): length in useful semi-octets, type octet, value."""
    if address.ton == Ton.ALPHANUMERIC:
        septets = gsm7.encode(address.number)
        if len(septets) > 11:
            raise PduError(f"alphanumeric address {address.number!r} is longer than 11 characters")
        value = gsm7.pack(septets)
        semi_octets = (len(septets) * 7 + 3) // 4
        return bytes([semi_octets, address.type_octet]) + value
    if len(address.number) > 20:
        raise PduError(f"address {address.number!r} has more than 20 digits")
    return bytes([len(address.number), address.type_octet]) + _encode_digits(address.number)


def decode_address(data: bytes, offset: int) -> tuple[Address, int]:
    """Decode a TP-address at `offset`."""
    if offset + 2 > len(data):
        raise PduError(f"PDU truncated in an address at octet {offset}")
    semi_octets, toa = data[offset], data[offset + 1]
    if semi_octets > 20:
        raise PduError(f"address length {semi_octets} semi-octets is over the 20 allowed (§9.1.2.5)")
    octets = (semi_octets + 1) // 2
    value = data[offset + 2:offset + 2 + octets]
    if len(value) < octets:
        raise PduError(f"PDU truncated in an address at octet {offset}")
    ton, npi = toa >> 4 & 7, toa & 0x0F
    if ton == Ton.ALPHANUMERIC:
        number = gsm7.decode(gsm7.unpack(value, semi_octets * 4 // 7))
    else:
        number = _decode_digits(value, semi_octets)
    return Address(number, ton, npi), offset + 2 + octets


def encode_smsc(address: Address | None) -> bytes:
    """The SMSC prefix of +CMGS/+CMGL PDUs (TS 27.005 §3.1, RP address of TS 24.011): 00 if absent."""
    if address is None:
        return b"\x00"
    value = bytes([address.type_octet]) + _encode_digits(address.number)
    return bytes([len(value)]) + value


def decode_smsc(data: bytes, offset: int = 0) -> tuple[Address | None, int]:
    """Decode the SMSC prefix; its length counts octets (type octet included), not digits."""
    if offset >= len(data):
        raise PduError("empty PDU")
    length = data[offset]
    if length == 0:
        return None, offset + 1
    if length > 11 or offset + 1 + length > len(data):
        raise PduError(f"SMSC address length {length} does not fit the PDU")
    toa = data[offset + 1]
    value = data[offset + 2:offset + 1 + length]
    number = _decode_digits(value, 2 * len(value))
    return Address(number, toa >> 4 & 7, toa & 0x0F), offset + 1 + length


def _bcd(octet: int, what: str) -> int:
    low, high = octet & 0x0F, octet >> 4
    if low > 9 or high > 9:
        raise PduError(f"time stamp {what} octet {octet:02X} is not BCD")
    return low * 10 + high  # §9.2.3.11: semi-octets are swapped, the low nibble is the tens digit


def decode_timestamp(data: bytes, offset: int) -> tuple[datetime, int]:
    """TP-SCTS / TP-DT / absolute TP-VP (§9.2.3.11): 7 swapped semi-octets with a quarter-hour zone."""
    raw = data[offset:offset + 7]
    if len(raw) < 7:
        raise PduError(f"PDU truncated in a time stamp at octet {offset}")
    fields = ("year", "month", "day", "hour", "minute", "second")
    year, month, day, hour, minute, second = (_bcd(b, what) for b, what in zip(raw, fields))
    tz = raw[6]
    # Bit 3 is the sign; the tens digit has only 3 bits left. Units are taken as-is because some
    # networks send a units nibble over 9 (seen in the wild); the result is still a valid offset.
    quarters = (tz & 0x07) * 10 + (tz >> 4)
    if quarters > 79:
        raise PduError(f"time zone octet {tz:02X} is out of range")
    offset_delta = timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1)
    try:
        stamp = datetime(year + (1900 if year >= 70 else 2000), month, day, hour, minute, second,
                         tzinfo=timezone(offset_delta))
    except ValueError as exc:
        raise PduError(f"invalid time stamp {raw.hex().upper()}: {exc}") from None
    return stamp, offset + 7


def encode_timestamp(stamp: datetime) -> bytes:
    """Encode an aware datetime (years 1970..2069) as a 7-octet TS 23.040 time stamp."""
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise PduError("time stamp must carry a time zone")
    if not 1970 <= stamp.year <= 2069:
        raise PduError(f"year {stamp.year} cannot be coded in a TP time stamp")
    delta = stamp.utcoffset()
    assert delta is not None
    minutes = int(delta.total_seconds()) // 60
    if minutes % 15:
        raise PduError("time zone offset must be a whole number of quarter hours")
    quarters = abs(minutes) // 15
    if quarters > 79:
        raise PduError("time zone offset is out of range")

    def swap(value: int) -> int:
        return (value % 10) << 4 | value // 10

    octets = [swap(v) for v in (stamp.year % 100, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)]
    octets.append(swap(quarters) | (0x08 if minutes < 0 else 0))
    return bytes(octets)


def relative_validity(code: int) -> timedelta:
    """TP-VP relative format (§9.2.3.12.1) octet to a duration."""
    if code <= 143:
        return timedelta(minutes=(code + 1) * 5)
    if code <= 167:
        return timedelta(hours=12, minutes=(code - 143) * 30)
    if code <= 196:
        return timedelta(days=code - 166)
    return timedelta(weeks=code - 192)


def relative_validity_code(period: timedelta) -> int:
    """The smallest relative TP-VP octet whose duration is at least `period` (255 = 63 weeks)."""
    for code in range(256):
        if relative_validity(code) >= period:
            return code
    raise PduError(f"validity period {period} is over the 63 weeks TP-VP can express")


@dataclass(frozen=True)
class ValidityPeriod:
    """TP-VP in one of its three formats (§9.2.3.12); `enhanced` keeps the 7 raw octets."""

    relative: timedelta | None = None
    absolute: datetime | None = None
    enhanced: bytes | None = None

    @property
    def format_bits(self) -> int:
        """TP-VPF value for the first octet: 2 relative, 1 enhanced, 3 absolute."""
        if self.enhanced is not None:
            return 1
        if self.absolute is not None:
            return 3
        return 2


def encode_validity(vp: ValidityPeriod) -> bytes:
    """Encode a validity period in the format it carries."""
    if vp.enhanced is not None:
        if len(vp.enhanced) != 7:
            raise PduError("enhanced validity period must be 7 octets (§9.2.3.12.3)")
        return vp.enhanced
    if vp.absolute is not None:
        return encode_timestamp(vp.absolute)
    if vp.relative is None:
        raise PduError("validity period is empty")
    return bytes([relative_validity_code(vp.relative)])


def decode_validity(data: bytes, offset: int, vpf: int) -> tuple[ValidityPeriod | None, int]:
    """Decode TP-VP given the TP-VPF bits of the first octet."""
    if vpf == 0:
        return None, offset
    if vpf == 2:
        if offset >= len(data):
            raise PduError("PDU truncated in the validity period")
        return ValidityPeriod(relative=relative_validity(data[offset])), offset + 1
    if vpf == 3:
        stamp, offset = decode_timestamp(data, offset)
        return ValidityPeriod(absolute=stamp), offset
    raw = data[offset:offset + 7]
    if len(raw) < 7:
        raise PduError("PDU truncated in the enhanced validity period")
    return ValidityPeriod(relative=_enhanced_relative(raw), enhanced=raw), offset + 7


def _enhanced_relative(raw: bytes) -> timedelta | None:
    """§9.2.3.12.3: the functionality indicator's low 3 bits select the form of the period."""
    form = raw[0] & 0x07
    skip = 2 if raw[0] & 0x80 else 1  # bit 7: one extension octet follows the indicator
    if form == 1:
        return relative_validity(raw[skip])
    if form == 2:
        return timedelta(seconds=raw[skip])
    if form == 3:
        try:
            h, m, s = (_bcd(b, "validity") for b in raw[skip:skip + 3])
        except (PduError, ValueError):
            return None
        return timedelta(hours=h, minutes=m, seconds=s)
    return None


class Alphabet(enum.Enum):
    """Character set of the user data (TS 23.038 §4)."""

    GSM7 = "gsm7"
    DATA8 = "8bit"
    UCS2 = "ucs2"


@dataclass(frozen=True)
class Dcs:
    """TP-DCS (TS 23.038 §4): the raw octet with the parts the codec needs."""

    raw: int = 0

    @property
    def alphabet(self) -> Alphabet:
        """The user data alphabet; reserved codings are read as GSM 7-bit, as §4 asks."""
        group = self.raw >> 4
        if group <= 0x7:  # general data coding, with or without automatic deletion
            bits = self.raw >> 2 & 3
            return {1: Alphabet.DATA8, 2: Alphabet.UCS2}.get(bits, Alphabet.GSM7)
        if group == 0xE:
            return Alphabet.UCS2
        if group == 0xF:
            return Alphabet.DATA8 if self.raw & 0x04 else Alphabet.GSM7
        return Alphabet.GSM7

    @property
    def compressed(self) -> bool:
        """True if the text is compressed (TS 23.042), which this codec does not expand."""
        return self.raw >> 6 in (0, 1) and bool(self.raw & 0x20)

    @property
    def message_class(self) -> int | None:
        """Message class 0..3 if the DCS gives one."""
        if (self.raw >> 6 in (0, 1) and self.raw & 0x10) or self.raw >> 4 == 0xF:
            return self.raw & 3
        return None

    @classmethod
    def for_alphabet(cls, alphabet: Alphabet, message_class: int | None = None) -> Dcs:
        """General data coding DCS for an alphabet, with an optional message class."""
        bits = {Alphabet.GSM7: 0, Alphabet.DATA8: 1, Alphabet.UCS2: 2}[alphabet] << 2
        if message_class is not None:
            bits |= 0x10 | (message_class & 3)
        return cls(bits)


IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08
IEI_SINGLE_SHIFT = 0x24
IEI_LOCKING_SHIFT = 0x25


@dataclass(frozen=True)
class InformationElement:
    """One UDH information element (§9.2.3.24)."""

    iei: int
    data: bytes


@dataclass(frozen=True)
class Concat:
    """Concatenation info (§9.2.3.24.1 / .8): reference, part count and this part's number (from 1)."""

    reference: int
    total: int
    sequence: int
    wide: bool = False


@dataclass(frozen=True)
class UserDataHeader:
    """TP-UDH: an ordered list of information elements."""

    elements: tuple[InformationElement, ...] = field(default_factory=tuple)

    @classmethod
    def build(cls, concat: Concat | None = None, single_shift: int = 0, locking_shift: int = 0) -> UserDataHeader:
        """A header with the common elements."""
        ies = []
        if concat is not None:
            if concat.wide:
                ies.append(InformationElement(IEI_CONCAT_16, concat.reference.to_bytes(2, "big")
                                              + bytes([concat.total, concat.sequence])))
            else:
                ies.append(InformationElement(IEI_CONCAT_8, bytes([concat.reference, concat.total, concat.sequence])))
        if single_shift:
            ies.append(InformationElement(IEI_SINGLE_SHIFT, bytes([single_shift])))
        if locking_shift:
            ies.append(InformationElement(IEI_LOCKING_SHIFT, bytes([locking_shift])))
        return cls(tuple(ies))

    def _first(self, iei: int, size: int) -> bytes | None:
        for ie in self.elements:
            if ie.iei == iei and len(ie.data) == size:
                return ie.data
        return None

    @property
    def concat(self) -> Concat | None:
        """The concatenation element; one with total or sequence 0, or sequence > total, is ignored (§9.2.3.24.1)."""
        wide = self._first(IEI_CONCAT_16, 4)
        if wide is not None:
            info = Concat(int.from_bytes(wide[:2], "big"), wide[2], wide[3], True)
        else:
            narrow = self._first(IEI_CONCAT_8, 3)
            if narrow is None:
                return None
            info = Concat(narrow[0], narrow[1], narrow[2], False)
        if info.total == 0 or info.sequence == 0 or info.sequence > info.total:
            return None
        return info

    @property
    def single_shift(self) -> int:
        """National language single shift table id (§9.2.3.24.15), 0 if none."""
        data = self._first(IEI_SINGLE_SHIFT, 1)
        return data[0] if data else 0

    @property
    def locking_shift(self) -> int:
        """National language locking shift table id (§9.2.3.24.16), 0 if none."""
        data = self._first(IEI_LOCKING_SHIFT, 1)
        return data[0] if data else 0

    def encode(self) -> bytes:
        """UDHL followed by the elements."""
        body = b"".join(bytes([ie.iei, len(ie.data)]) + ie.data for ie in self.elements)
        if len(body) > 139:
            raise PduError("user data header is longer than 139 octets")
        return bytes([len(body)]) + body

    @classmethod
    def decode(cls, ud: bytes) -> tuple[UserDataHeader, int]:
        """Decode the header at the start of `ud`; returns it and the octets it takes (UDHL included)."""
        if not ud:
            raise PduError("UDHI is set but the user data is empty")
        end = 1 + ud[0]
        if end > len(ud):
            raise PduError(f"UDH length {ud[0]} runs past the {len(ud)} octets of user data")
        pos, ies = 1, []
        while pos < end:
            if pos + 2 > end:
                raise PduError(f"UDH element at octet {pos} is cut short")
            iei, size = ud[pos], ud[pos + 1]
            if pos + 2 + size > end:
                raise PduError(f"UDH element {iei:#04x} of {size} octets runs past the header")
            ies.append(InformationElement(iei, bytes(ud[pos + 2:pos + 2 + size])))
            pos += 2 + size
        return cls(tuple(ies)), end
