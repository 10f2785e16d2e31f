"""HDLC framing details a Class 1 DTE handles itself (T.31 §8.3.3, §8.3.4) and DLE transparency.

Written by hand: no maintained library does the T.31 DTE side. Pure functions, no I/O.

In Class 1 the modem sends the flags and zero-bit insertion and computes the FCS (T.31 §8.3.3);
the DTE sends address, control, FCF and FIF, DLE-coded and ended with <DLE><ETX>.  Received frames
come with the FCS octets appended by most modems, and the modem's OK/ERROR after <DLE><ETX> says
whether the FCS was right.  Octets cross the serial port as they go on the line, first bit = least
significant bit, so the T.30 bit strings (written first bit leftmost) appear reversed: DIS
"0000 0001" is the octet 0x80 and the control field "1100 1000" (final) is 0x13.
"""
from __future__ import annotations

from hardware.fax_modem.t30.errors import DleError

DLE = 0x10
ETX = 0x03
SUB = 0x1A  # T.32 §8.5.1: <DLE><SUB> stands for two DLEs (optional, receive side only)
DC1 = 0x11  # XON
DC2 = 0x12
DC3 = 0x13  # XOFF
CAN = 0x18
DLE_ETX = bytes((DLE, ETX))

FCS_GOOD_RESIDUE = 0xF0B8  # ISO/IEC 13239 §4.2.3: CRC over data + FCS leaves this value

_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_octets(data: bytes) -> bytes:
    """Swap bit order in every octet (T.30 bit strings <-> octets as sent, LSB first)."""
    return data.translate(_REVERSE)


def dle_encode(data: bytes) -> bytes:
    """Double every DLE so the modem passes it through (T.31 §8.3.3, T.32 §8.5.1)."""
    return data.replace(b"\x10", b"\x10\x10")


class DleDecoder:
    """Incremental DLE decoder for received data: feed chunks, get data until <DLE><ETX>."""

    def __init__(self) -> None:
        self._pending_dle = False
        self.done = False
        self.tail = b""  # bytes after <DLE><ETX> (result codes that came in the same chunk)
        self.codes: list[int] = []  # other <DLE><x> shielded codes seen (T.32 §8.5: e.g. <DLE><DC2>)

    def feed(self, chunk: bytes) -> bytes:
        """Decode `chunk`; returns the data octets; sets `done` at <DLE><ETX>."""
        if self.done:
            self.tail += chunk
            return b""
        out = bytearray()
        i = 0
        while i < len(chunk):
            byte = chunk[i]
            i += 1
            if self._pending_dle:
                self._pending_dle = False
                if byte == DLE:
                    out.append(DLE)
                elif byte == SUB:
                    out += b"\x10\x10"
                elif byte == ETX:
                    self.done = True
                    self.tail = chunk[i:]
                    return bytes(out)
                else:
                    self.codes.append(byte)
            elif byte == DLE:
                self._pending_dle = True
            else:
                out.append(byte)
        return bytes(out)


def dle_decode(data: bytes) -> bytes:
    """Decode one complete DLE-coded block that ends with <DLE><ETX>; DleError if it does not."""
    decoder = DleDecoder()
    out = decoder.feed(data)
    if not decoder.done:
        raise DleError(f"no <DLE><ETX> in {len(data)} bytes of DLE-coded data")
    return out


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def _crc(line_order: bytes) -> int:
    crc = 0xFFFF
    for byte in line_order:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def fcs(frame: bytes) -> bytes:
    """The two FCS octets of a frame (ISO/IEC 13239 CRC-16, reflected: octets go LSB first)."""
    value = _crc(frame) ^ 0xFFFF
    return bytes((value & 0xFF, value >> 8))


def fcs_ok(frame_with_fcs: bytes) -> bool:
    """True if the last two octets are the right FCS for the rest."""
    return len(frame_with_fcs) > 2 and _crc(frame_with_fcs) == FCS_GOOD_RESIDUE


def strip_fcs(frame: bytes) -> bytes:
    """Drop the FCS the modem appended, if the frame carries a valid one; otherwise return it as is."""
    return frame[:-2] if fcs_ok(frame) else frame
