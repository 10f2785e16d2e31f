"""Page data for a T.30 session: coding pages for a DCS mode, judging received pages and TCF.

Pure functions over `hardware.fax_modem.t4`; the session and the drivers call them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.fax_modem.errors import T4Error
from hardware.fax_modem.t30.caps import Mode
from hardware.fax_modem.t4_page import BitOrder, Coding, DecodedPage, Page, min_bytes_per_line

# The codec itself (hardware.fax_modem.t4, with numpy) is imported at the first page coded, not at start:
# a fax service waiting for calls does not need it, and it is a tenth of the appliance's start-up.

TCF_SECONDS = 1.5  # T.30 §5.3.6.2.2 / Table 2 note: TCF is 1.5 s ± 10 % of zeros


class PageStatus(enum.Enum):
    """How a page ended, as the post-page response said (T.30 §5.3.6.1.6) or as the line left it."""

    MCF = "MCF"  # message confirmation: page good
    RTP = "RTP"  # retrain positive: page good, retrain before the next
    RTN = "RTN"  # retrain negative: page bad (the sender may send it again)
    PIP = "PIP"  # procedure interrupt positive (treated as good)
    PIN = "PIN"  # procedure interrupt negative (treated as bad)
    UNCONFIRMED = "unconfirmed"  # sent, but no post-page response came
    PARTIAL = "partial"  # carrier lost before RTC: only part of the page arrived

    @property
    def good(self) -> bool:
        """True when the page counts as delivered."""
        return self in (PageStatus.MCF, PageStatus.RTP, PageStatus.PIP)


@dataclass(frozen=True)
class CopyQuality:
    """Thresholds for the receiver's page check (the T.30 MCF/RTP/RTN choice is left to the receiver)."""

    mcf_bad_ratio: float = 0.02  # up to 2 % bad rows and...
    max_consecutive_bad: int = 5  # ...no longer bad run than this: MCF
    rtp_bad_ratio: float = 0.10  # up to 10 % bad rows: RTP (keep page, retrain); worse: RTN


def fit_page(page: Page, mode: Mode) -> Page:
    """The page at the mode's resolution and width: rows halved or doubled, width cropped or padded."""
    rows = [page.row(i) for i in range(page.height)]
    if page.y_dpi > 150 and not mode.fine:
        rows = rows[::2]  # fine page to a normal-resolution receiver: every other row (T.4 §2.3)
    elif page.y_dpi <= 150 and mode.fine:
        rows = [row for row in rows for _ in (0, 1)]
    stride = (mode.width + 7) // 8
    if page.width != mode.width:
        # A wider page is cropped on the right, a narrower one padded with white: no rescaling here.
        rows = [(row + bytes(stride))[:stride] for row in rows]
        if mode.width % 8:
            mask = (0xFF << (8 - mode.width % 8)) & 0xFF
            rows = [row[:-1] + bytes((row[-1] & mask,)) for row in rows]
    return Page.from_rows(rows, mode.width, mode.y_dpi)


def code_page(page: Page, mode: Mode, bit_order: BitOrder = BitOrder.LSB_FIRST) -> bytes:
    """T.4 data for one page in `mode`, with fill for the minimum scan line time, ending in RTC."""
    from hardware.fax_modem.t4 import encode_page

    fitted = fit_page(page, mode)
    fill = min_bytes_per_line(mode.min_scan_ms, mode.bit_rate)
    return encode_page(fitted, Coding.MR if mode.two_d else Coding.MH, min_bytes_per_line=fill, bit_order=bit_order)


def judge_page(data: bytes, mode: Mode, quality: CopyQuality = CopyQuality(),
               bit_order: BitOrder = BitOrder.LSB_FIRST) -> tuple[DecodedPage | None, PageStatus]:
    """Decode received page data and pick the post-page response: MCF, RTP or RTN (or PARTIAL)."""
    from hardware.fax_modem.t4 import decode_page

    try:
        decoded = decode_page(data, mode.width, two_d=mode.two_d, bit_order=bit_order, y_dpi=mode.y_dpi)
    except T4Error:
        return None, PageStatus.RTN
    rows = max(decoded.page.height, 1)
    ratio = decoded.bad_line_count / rows
    run = _longest_run(decoded.bad_lines)
    if not decoded.rtc:
        return decoded, PageStatus.PARTIAL
    if ratio <= quality.mcf_bad_ratio and run <= quality.max_consecutive_bad:
        return decoded, PageStatus.MCF
    if ratio <= quality.rtp_bad_ratio:
        return decoded, PageStatus.RTP
    return decoded, PageStatus.RTN


def _longest_run(lines: tuple[int, ...]) -> int:
    best = run = 0
    previous = -2
    for line in lines:
        run = run + 1 if line == previous + 1 else 1
        best = max(best, run)
        previous = line
    return best


def tcf_length(mode: Mode) -> int:
    """Octets of zeros in a 1.5 s TCF at the mode's bit rate."""
    return int(mode.bit_rate * TCF_SECONDS) // 8


def tcf_ok(data: bytes, mode: Mode) -> bool:
    """T.30 §5.3.6.2.2 leaves the check to the receiver: we want an unbroken 1 s run of zero octets."""
    needed = mode.bit_rate // 8
    longest = max((len(run) for run in data.translate(_ZERO_MARK).split(b"\x01")), default=0)
    return longest >= needed


_ZERO_MARK = bytes([0] + [1] * 255)  # every non-zero octet becomes a separator
