"""What the fax drivers hand back: per-page results, send reports, received faxes, line events."""
from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hardware.fax_modem.t30.caps import Mode
from hardware.fax_modem.t30.pagedata import PageStatus
from hardware.fax_modem.t4_page import DecodedPage, Page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageReport:
    """One page of a send: its index (0-based), final status and how many times it went out."""

    index: int
    status: PageStatus
    attempts: int = 1


@dataclass
class SendReport:
    """The transmission report of one send (T.30 per-page confirmation)."""

    ok: bool
    number: str
    reason: str
    remote_id: str = ""
    pages: list[PageReport] = field(default_factory=list)
    mode: Mode | None = None
    hangup_code: str = ""  # Class 2 +FHNG / Class 2.0 +FHS code, when the modem gave one

    @property
    def pages_confirmed(self) -> int:
        """Pages the receiver confirmed (MCF/RTP/PIP)."""
        return sum(1 for p in self.pages if p.status.good)


@dataclass(frozen=True)
class ReceivedPage:
    """One received page with its status (bad pages are kept: the partial fax keeps what arrived)."""

    decoded: DecodedPage
    status: PageStatus

    @property
    def page(self) -> Page:
        """The page image."""
        return self.decoded.page


@dataclass
class ReceivedFax:
    """A received fax: the pages that arrived and how the call went."""

    ok: bool
    reason: str
    remote_id: str = ""
    received: list[ReceivedPage] = field(default_factory=list)
    mode: Mode | None = None
    caller: str = ""
    hangup_code: str = ""

    @property
    def pages(self) -> list[Page]:
        """Pages that arrived good (MCF/RTP); see `received` for every page with its status."""
        return [r.page for r in self.received if r.status.good]

    @property
    def per_page_status(self) -> list[PageStatus]:
        """The status of every page received, in order."""
        return [r.status for r in self.received]


class LineState(enum.Enum):
    """Line states a fax modem goes through (for the admin console)."""

    IDLE = "idle"
    RINGING = "ringing"
    DIALING = "dialing"
    CONNECTED = "connected"
    PAGE = "page"
    HUNG_UP = "hung up"
    FAILED = "failed"


@dataclass(frozen=True)
class LineEvent:
    """A change of line state with a human-readable detail."""

    state: LineState
    detail: str = ""


PageKeeper = Callable[[int, "ReceivedPage", str], Awaitable[None]]
"""Called with each received page (its index in the call, 0-based) and the sender's station id before the
page is confirmed to the sender; when it returns the page must be on disk. Raising makes the driver
refuse the page (RTN)."""


async def keep_page(keeper: PageKeeper | None, index: int, page: ReceivedPage, remote_id: str) -> str:
    """Run `keeper` for one page; returns "" when kept, else why not (the page is then not confirmed)."""
    if keeper is None:
        return ""
    try:
        await keeper(index, page, remote_id)
    except Exception as exc:  # whatever stopped the write, the page must not be confirmed
        log.exception("received page %d could not be kept", index + 1)
        return f"{type(exc).__name__}: {exc}"
    return ""
