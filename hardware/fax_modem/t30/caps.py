"""DIS/DTC/DCS facsimile information fields (T.30 §5.3.6.2, Table 2) and mode negotiation.

Written by hand: the T.30 bit tables are not in any maintained library. Pure, no I/O.

Bits are numbered as in T.30 Table 2 (bit 1 first on the line).  Octets go LSB first, so bit n
is octet (n-1)//8, mask 1 << ((n-1) % 8) (see `hdlc`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.fax_modem.t30.errors import FrameError


class Modulation(enum.Enum):
    """Page modulations (T.30 §5.3.6.2.x bits 11-14)."""

    V27TER = "V.27ter"
    V29 = "V.29"
    V17 = "V.17"


# (bit rate, modulation) -> Class 1 <MOD> code for +FTM/+FRM (T.31 Table 2, long-train V.17)
CLASS1_MOD = {
    (2400, Modulation.V27TER): 24, (4800, Modulation.V27TER): 48,
    (7200, Modulation.V29): 72, (9600, Modulation.V29): 96,
    (7200, Modulation.V17): 73, (9600, Modulation.V17): 97,
    (12000, Modulation.V17): 121, (14400, Modulation.V17): 145,
}
CLASS1_MOD_SHORT_TRAIN = {72: 72, 96: 96, 73: 74, 97: 98, 121: 122, 145: 146}  # V.17 short train codes
MOD_OF_CLASS1 = {code: key for key, code in CLASS1_MOD.items()} | {
    74: (7200, Modulation.V17), 98: (9600, Modulation.V17), 122: (12000, Modulation.V17),
    146: (14400, Modulation.V17),
}

# DCS bits 11-14 (as a 4-bit number, bit 11 = 8) for each speed, T.30 Table 2.
_DCS_RATE = {
    (2400, Modulation.V27TER): 0b0000, (4800, Modulation.V27TER): 0b0100,
    (9600, Modulation.V29): 0b1000, (7200, Modulation.V29): 0b1100,
    (14400, Modulation.V17): 0b0001, (12000, Modulation.V17): 0b0101,
    (9600, Modulation.V17): 0b1001, (7200, Modulation.V17): 0b1101,
}
_RATE_OF_DCS = {code: key for key, code in _DCS_RATE.items()}
# DIS bits 11-14: which modulation sets the receiver has.
_DIS_SETS = {
    0b0000: (Modulation.V27TER,), 0b0100: (Modulation.V27TER,), 0b1000: (Modulation.V29,),
    0b1100: (Modulation.V27TER, Modulation.V29), 0b1101: (Modulation.V27TER, Modulation.V29, Modulation.V17),
}
_RATES_OF = {
    Modulation.V27TER: (4800, 2400), Modulation.V29: (9600, 7200), Modulation.V17: (14400, 12000, 9600, 7200),
}

WIDTHS = (1728, 2048, 2432)  # T.4 §2.2: A4, B4, A3 at 8 pels/mm
# Minimum scan line times for DIS bits 21-23 (ms at 3.85 l/mm, ms at 7.7 l/mm).
_DIS_SCAN = {0b000: (20, 20), 0b001: (40, 40), 0b010: (10, 10), 0b100: (5, 5), 0b111: (0, 0),
             0b011: (10, 5), 0b110: (20, 10), 0b101: (40, 20)}
_DCS_SCAN = {0b000: 20, 0b001: 40, 0b010: 10, 0b100: 5, 0b111: 0}
_SCAN_DCS = {ms: code for code, ms in _DCS_SCAN.items()}


def _get(fif: bytes, bit: int) -> int:
    index = (bit - 1) // 8
    return 1 if index < len(fif) and fif[index] & (1 << ((bit - 1) % 8)) else 0


def _field(fif: bytes, first: int, count: int) -> int:
    value = 0
    for bit in range(first, first + count):
        value = value << 1 | _get(fif, bit)
    return value


def _put(out: bytearray, bit: int, value: int = 1) -> None:
    if value:
        out[(bit - 1) // 8] |= 1 << ((bit - 1) % 8)


def _put_field(out: bytearray, first: int, count: int, value: int) -> None:
    for offset in range(count):
        _put(out, first + offset, value >> (count - 1 - offset) & 1)


@dataclass(frozen=True)
class Capabilities:
    """What a station can do (from or for a DIS/DTC)."""

    modulations: tuple[Modulation, ...] = (Modulation.V27TER, Modulation.V29, Modulation.V17)
    fine: bool = True  # 7.7 l/mm (bit 15)
    two_d: bool = True  # T.4 2-D coding (bit 16)
    max_width: int = 1728
    length: str = "unlimited"  # "A4", "B4", "unlimited" (bits 19-20)
    min_scan_ms: tuple[int, int] = (0, 0)  # at normal and fine resolution (bits 21-23)
    receiver: bool = True  # bit 10: can receive fax
    poll: bool = False  # bit 9: has a document to send (DIS) / wants to receive one (DTC)
    ecm: bool = False  # bit 27: ECM is left out of this engine, so we never offer it
    max_rate: int = 14400  # caps the rates our own modem offers (+FCC br, +FTM=? list)

    def rates(self) -> list[tuple[int, Modulation]]:
        """Every (bit rate, modulation) pair, fastest first."""
        pairs = [(rate, mod) for mod in self.modulations for rate in _RATES_OF[mod] if rate <= self.max_rate]
        order = {Modulation.V17: 0, Modulation.V29: 1, Modulation.V27TER: 2}
        return sorted(set(pairs), key=lambda p: (-p[0], order[p[1]]))


@dataclass(frozen=True)
class Mode:
    """The session parameters of a DCS (T.30 Table 2)."""

    bit_rate: int = 9600
    modulation: Modulation = Modulation.V29
    fine: bool = True
    two_d: bool = False
    width: int = 1728
    length: str = "A4"
    min_scan_ms: int = 0
    ecm: bool = False

    @property
    def class1_mod(self) -> int:
        """The <MOD> number for +FTM/+FRM."""
        return CLASS1_MOD[(self.bit_rate, self.modulation)]

    @property
    def y_dpi(self) -> int:
        """Vertical resolution in lines per inch (98 normal, 196 fine)."""
        return 196 if self.fine else 98


_LENGTH_DIS = {"A4": 0b00, "B4": 0b10, "unlimited": 0b01}
_DIS_LENGTH = {0b00: "A4", 0b10: "B4", 0b01: "unlimited", 0b11: "A4"}
_WIDTH_DIS = {1728: 0b00, 2048: 0b10, 2432: 0b01}
_DIS_WIDTH = {0b00: 1728, 0b10: 2048, 0b01: 2432, 0b11: 2432}
_DCS_WIDTH = {0b00: 1728, 0b10: 2048, 0b01: 2432}


def _dis_rate_code(mods: tuple[Modulation, ...]) -> int:
    if Modulation.V17 in mods:
        return 0b1101
    if Modulation.V29 in mods:
        return 0b1100 if Modulation.V27TER in mods else 0b1000
    return 0b0100


def encode_dis(caps: Capabilities) -> bytes:
    """The FIF of a DIS/DTC announcing `caps` (4 octets: ECM bits live in the fourth)."""
    out = bytearray(4)
    _put(out, 9, caps.poll)
    _put(out, 10, caps.receiver)
    _put_field(out, 11, 4, _dis_rate_code(caps.modulations))
    _put(out, 15, caps.fine)
    _put(out, 16, caps.two_d)
    _put_field(out, 17, 2, _WIDTH_DIS.get(caps.max_width, 0))
    _put_field(out, 19, 2, _LENGTH_DIS[caps.length])
    normal, fine = caps.min_scan_ms
    scan = next((code for code, times in _DIS_SCAN.items() if times == (normal, fine)), 0b111 if normal == 0 else 0b000)
    _put_field(out, 21, 3, scan)
    _put(out, 24)  # extend: octet 4 follows
    _put(out, 27, caps.ecm)
    return bytes(out)


def decode_dis(fif: bytes) -> Capabilities:
    """Capabilities from a DIS/DTC FIF; FrameError if shorter than the three octets T.30 requires."""
    if len(fif) < 3:
        raise FrameError(f"DIS/DTC FIF of {len(fif)} octets, at least 3 needed (T.30 §5.3.6.2)")
    rate_code = _field(fif, 11, 4)
    mods = _DIS_SETS.get(rate_code, (Modulation.V27TER,))  # reserved codes: fall back to the floor
    ext = _get(fif, 24)
    return Capabilities(
        modulations=mods, fine=bool(_get(fif, 15)), two_d=bool(_get(fif, 16)),
        max_width=_DIS_WIDTH[_field(fif, 17, 2)], length=_DIS_LENGTH[_field(fif, 19, 2)],
        min_scan_ms=_DIS_SCAN[_field(fif, 21, 3)], receiver=bool(_get(fif, 10)), poll=bool(_get(fif, 9)),
        ecm=bool(ext and _get(fif, 27)),
    )


def encode_dcs(mode: Mode) -> bytes:
    """The FIF of a DCS for `mode` (4 octets)."""
    out = bytearray(4)
    _put(out, 10)  # T.30 Table 2 note: bit 10 set in DCS = receive fax operation
    try:
        _put_field(out, 11, 4, _DCS_RATE[(mode.bit_rate, mode.modulation)])
    except KeyError:
        raise FrameError(f"no DCS code for {mode.bit_rate} bit/s {mode.modulation.value}") from None
    _put(out, 15, mode.fine)
    _put(out, 16, mode.two_d)
    _put_field(out, 17, 2, _WIDTH_DIS[mode.width])
    _put_field(out, 19, 2, _LENGTH_DIS[mode.length])
    _put_field(out, 21, 3, _SCAN_DCS.get(mode.min_scan_ms, 0b000))
    _put(out, 24)
    _put(out, 27, mode.ecm)
    return bytes(out)


def decode_dcs(fif: bytes) -> Mode:
    """The session mode from a DCS FIF; FrameError for a short FIF or a reserved rate code."""
    if len(fif) < 3:
        raise FrameError(f"DCS FIF of {len(fif)} octets, at least 3 needed (T.30 §5.3.6.2)")
    rate = _RATE_OF_DCS.get(_field(fif, 11, 4))
    if rate is None:
        raise FrameError(f"DCS data rate bits {_field(fif, 11, 4):04b} are reserved (T.30 Table 2)")
    width = _DCS_WIDTH.get(_field(fif, 17, 2))
    if width is None:
        raise FrameError("DCS recording width bits 17-18 = 11 are invalid (T.30 Table 2)")
    return Mode(bit_rate=rate[0], modulation=rate[1], fine=bool(_get(fif, 15)), two_d=bool(_get(fif, 16)),
                width=width, length=_DIS_LENGTH[_field(fif, 19, 2)],
                min_scan_ms=_DCS_SCAN.get(_field(fif, 21, 3), 20),
                ecm=bool(_get(fif, 24) and _get(fif, 27)))


def negotiate(local: Capabilities, remote: Capabilities, *, width: int = 1728, fine: bool = True,
              max_rate: int | None = None) -> Mode:
    """The best common mode for sending pages of `width` (and fine rows if `fine`) to `remote`."""
    ours = {pair for pair in local.rates()}
    common = [pair for pair in remote.rates() if pair in ours and (max_rate is None or pair[0] <= max_rate)]
    rate, modulation = common[0] if common else (2400, Modulation.V27TER)  # V.27ter 2400 is mandatory
    use_fine = fine and local.fine and remote.fine
    scan = remote.min_scan_ms[1 if use_fine else 0]
    fit = width if width <= remote.max_width else 1728
    return Mode(bit_rate=rate, modulation=modulation, fine=use_fine, two_d=local.two_d and remote.two_d,
                width=fit, length="A4" if remote.length == "A4" else remote.length,
                min_scan_ms=scan if scan in _SCAN_DCS else 20)


def fallback(mode: Mode, remote: Capabilities, local: Capabilities) -> Mode | None:
    """The next slower common mode after an FTT (T.30 §5.3.6.1.4 allows stepping down), or None."""
    ours = set(local.rates())
    slower = [pair for pair in remote.rates() if pair in ours and pair[0] < mode.bit_rate]
    if not slower:
        return None
    rate, modulation = slower[0]
    return Mode(bit_rate=rate, modulation=modulation, fine=mode.fine, two_d=mode.two_d, width=mode.width,
                length=mode.length, min_scan_ms=mode.min_scan_ms)
