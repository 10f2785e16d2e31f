"""T.30 HDLC frames: address, control, FCF and FIF (T.30 §5.3.5-5.3.6), in Class 1 DTE octet order.

Written by hand: no maintained library codes T.30 frames. Pure, no I/O.

    frame = decode_frame(b"\\xff\\x13\\x80" + fif)      # Frame(FCF.DIS, fif, final=True, x=False)
    data = encode_frame(Frame(FCF.DCS, encode_dcs(mode), final=True, x=True))

The FCF values below are the bit strings of T.30 §5.3.6.1 read left to right as a binary number
(DIS "0000 0001" = 0x01, X bit = 0x80), which is how the standard and fax logs name them.  On the
serial port the octet goes first bit = LSB, so `encode_frame` reverses it (DIS is sent as 0x80).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.fax_modem.t30.errors import FrameError
from hardware.fax_modem.t30.hdlc import reverse_octets

ADDRESS = 0xFF  # T.30 §5.3.5: the only address used on the PSTN
CONTROL = 0x03  # T.30 §5.3.5: "1100 0000", not the final frame
CONTROL_FINAL = 0x13  # "1100 1000": the final frame, the sender then expects a response
ID_LENGTH = 20  # T.30 §5.3.6.2.4: CSI/TSI/CIG carry 20 characters


class FCF(enum.IntEnum):
    """Facsimile control fields, X bit clear (T.30 §5.3.6.1)."""

    DIS = 0x01
    CSI = 0x02
    NSF = 0x04
    DTC = 0x81
    CIG = 0x82
    NSC = 0x84
    DCS = 0x41
    TSI = 0x42
    NSS = 0x44
    CFR = 0x21
    FTT = 0x22
    EOM = 0x71
    MPS = 0x72
    EOP = 0x74
    PRI_EOM = 0x79
    PRI_MPS = 0x7A
    PRI_EOP = 0x7C
    MCF = 0x31
    RTN = 0x32
    RTP = 0x33
    PIN = 0x34
    PIP = 0x35
    DCN = 0x5F
    CRP = 0x58


# The initial identification frames have no X bit: their first bit tells DIS from DTC (T.30 §5.3.6.1.1).
_NO_X_BIT = frozenset({FCF.DIS, FCF.CSI, FCF.NSF, FCF.DTC, FCF.CIG, FCF.NSC})
_BY_VALUE = {int(f): f for f in FCF}
# Frames whose FIF is required, with its minimum length.
_MIN_FIF = {FCF.DIS: 3, FCF.DTC: 3, FCF.DCS: 3, FCF.CSI: 1, FCF.TSI: 1, FCF.CIG: 1}
MAX_FRAME = 256  # T.30 §5.3.5: a frame is at most 2.55 s of V.21, far below this


@dataclass(frozen=True)
class Frame:
    """One T.30 frame: its FCF, FIF octets, the final-frame bit and the X bit."""

    fcf: FCF
    fif: bytes = b""
    final: bool = True
    x: bool = False

    def __str__(self) -> str:
        return f"{self.fcf.name}{' ' + self.fif.hex() if self.fif else ''}"


def encode_frame(frame: Frame) -> bytes:
    """Address, control, FCF (with X bit) and FIF as sent, without FCS or DLE coding."""
    fcf = int(frame.fcf) | (0x80 if frame.x and frame.fcf not in _NO_X_BIT else 0)
    return bytes((ADDRESS, CONTROL_FINAL if frame.final else CONTROL)) + reverse_octets(bytes((fcf,))) + frame.fif


def decode_frame(data: bytes) -> Frame:
    """A `Frame` from address + control + FCF + FIF octets (FCS already removed); FrameError if invalid."""
    if len(data) < 3:
        raise FrameError(f"frame of {len(data)} octets is shorter than address + control + FCF")
    if len(data) > MAX_FRAME:
        raise FrameError(f"frame of {len(data)} octets is longer than any T.30 frame")
    if data[0] != ADDRESS:
        raise FrameError(f"address octet 0x{data[0]:02x}, expected 0xff (T.30 §5.3.5)")
    if data[1] not in (CONTROL, CONTROL_FINAL):
        raise FrameError(f"control octet 0x{data[1]:02x}, expected 0x03 or 0x13 (T.30 §5.3.5)")
    raw = reverse_octets(data[2:3])[0]
    fcf = _BY_VALUE.get(raw) if raw in (0x01, 0x02, 0x04, 0x81, 0x82, 0x84) else _BY_VALUE.get(raw & 0x7F)
    if fcf is None:
        raise FrameError(f"unknown facsimile control field 0x{raw:02x}")
    x = bool(raw & 0x80) and fcf not in _NO_X_BIT
    fif = bytes(data[3:])
    if len(fif) < _MIN_FIF.get(fcf, 0):
        raise FrameError(f"{fcf.name} with a FIF of {len(fif)} octets, {_MIN_FIF[fcf]} needed")
    return Frame(fcf, fif, data[1] == CONTROL_FINAL, x)


def encode_id(text: str) -> bytes:
    """A CSI/TSI/CIG FIF: 20 characters, last character sent first, padding last (T.30 §5.3.6.2.4)."""
    clean = "".join(ch if " " <= ch <= "~" else " " for ch in text)[:ID_LENGTH]
    return clean.rjust(ID_LENGTH).encode("ascii")[::-1]


def decode_id(fif: bytes) -> str:
    """The identity string of a CSI/TSI/CIG FIF (reversed back, padding stripped, non-ASCII dropped)."""
    return "".join(chr(b) for b in fif[::-1] if 0x20 <= b < 0x7F).strip()


def id_frame(fcf: FCF, text: str, *, x: bool = False) -> Frame:
    """A non-final CSI/TSI/CIG frame carrying `text`."""
    return Frame(fcf, encode_id(text), final=False, x=x)
