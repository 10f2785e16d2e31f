"""Page data from the DTE in Class 2 / 2.0: DLE-coded octets up to <DLE><ETX> or <DLE><ppm> (T.32 +FDT).

Pure, no I/O: the emulated modem feeds it what the DTE wrote and puts the result on the line.
"""
from __future__ import annotations

from hardware.fax_modem.t30.class2_codes import POST_PAGE_OF_DLE
from hardware.fax_modem.t30.hdlc import DLE, ETX, reverse_octets
from hardware.fax_modem.t30.session import PostPage


class PageDataReader:
    """DLE-decodes page data from the DTE up to <DLE><ETX> or a Class 2.0 <DLE><ppm> (T.32 +FDT)."""

    def __init__(self, reverse: bool) -> None:
        self.reverse = reverse
        self.done = False
        self.ppm: PostPage | None = None
        self.tail = b""
        self._dle = False

    def feed(self, chunk: bytes) -> bytes:
        """Line-order page octets from `chunk`; sets `done` (and `ppm`) at the end marker."""
        out = bytearray()
        for index, byte in enumerate(chunk):
            if self._dle:
                self._dle = False
                if byte == DLE:
                    out.append(DLE)
                elif byte == ETX or byte in POST_PAGE_OF_DLE:
                    self.done = True
                    self.ppm = POST_PAGE_OF_DLE.get(byte)
                    self.tail = chunk[index + 1:]
                    break
                # other <DLE><x> pairs (rate hints, +FDB debug) carry no page data
            elif byte == DLE:
                self._dle = True
            else:
                out.append(byte)
        return reverse_octets(bytes(out)) if self.reverse else bytes(out)
