"""What a `T30Session` asks its driver to do (actions) and what the driver reports back (events)."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.fax_modem.t30.caps import Mode
from hardware.fax_modem.t30.frames import FCF, Frame
from hardware.fax_modem.t30.pagedata import PageStatus
from hardware.fax_modem.t4_page import DecodedPage


class PostPage(enum.Enum):
    """What the sender says after a page (T.30 §5.3.6.1.5)."""

    MPS = FCF.MPS  # more pages, same mode
    EOM = FCF.EOM  # end of document, back to phase B
    EOP = FCF.EOP  # end of procedure


# --- actions the session asks for ------------------------------------------------------------------
@dataclass(frozen=True)
class SendFrames:
    """Send these V.21 HDLC frames in one carrier (the last one final)."""

    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class ReceiveFrames:
    """Receive V.21 frames up to a final frame, giving up after `timeout` s (timer `timer`)."""

    timeout: float
    timer: str


@dataclass(frozen=True)
class SendTcf:
    """Send the training check: `length` zero octets in `mode`'s modulation."""

    mode: Mode
    length: int


@dataclass(frozen=True)
class ReceiveTcf:
    """Receive a training check in `mode`'s modulation."""

    mode: Mode
    timeout: float


@dataclass(frozen=True)
class SendPage:
    """Send page `index` in `mode`; the driver answers with `PageSent(ppm)`."""

    index: int
    mode: Mode


@dataclass(frozen=True)
class ReceivePage:
    """Receive one page of T.4 data in `mode`."""

    mode: Mode
    timeout: float


@dataclass(frozen=True)
class StorePage:
    """Keep received page `index` durably before it is confirmed; answered `PageStored` or `PageNotStored`.

    DESIGN.md "Intake": the source is acknowledged only after the input is on disk, and for a fax the
    acknowledgement is the post-page response (MCF/RTP, T.30 §5.3.6.1.6).
    """

    index: int
    page: DecodedPage
    status: PageStatus
    remote_id: str = ""


@dataclass(frozen=True)
class Finish:
    """The call is over: hang up. `ok` says whether the procedure completed."""

    ok: bool
    reason: str


Action = SendFrames | ReceiveFrames | SendTcf | ReceiveTcf | SendPage | ReceivePage | StorePage | Finish


# --- events the driver reports -----------------------------------------------------------------------
@dataclass(frozen=True)
class Done:
    """The last send action completed."""


@dataclass(frozen=True)
class FramesReceived:
    """Frames of one V.21 carrier, in order, with good FCS."""

    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class BadFrame:
    """A frame arrived with a bad FCS or could not be decoded."""


@dataclass(frozen=True)
class WrongCarrier:
    """The modem heard a different modulation than asked for (+FCERROR, T.31 §8.3.1)."""


@dataclass(frozen=True)
class Timeout:
    """The timer of the last receive action ran out."""


@dataclass(frozen=True)
class TcfReceived:
    """The octets of a received TCF."""

    data: bytes


@dataclass(frozen=True)
class PageSent:
    """A page went out; `ppm` says what follows it."""

    ppm: PostPage


@dataclass(frozen=True)
class PageReceived:
    """A page's T.4 data arrived (up to the carrier's end)."""

    data: bytes


@dataclass(frozen=True)
class LinkDown:
    """The modem or the line went away (NO CARRIER outside a data phase, pty closed)."""

    reason: str


@dataclass(frozen=True)
class PageStored:
    """The page of the last `StorePage` is on disk: it may be confirmed."""


@dataclass(frozen=True)
class PageNotStored:
    """The page of the last `StorePage` could not be kept: it must not be confirmed."""

    reason: str


Event = PageStored | PageNotStored | Done | FramesReceived | BadFrame | WrongCarrier | Timeout | TcfReceived | PageSent | PageReceived | LinkDown
