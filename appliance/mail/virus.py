"""Virus check of inbound mail with ClamAV's clamd (G9), over its socket with the INSTREAM command.

The client is `clamav-client` (clamd's own protocol, unix or TCP socket). clamd unpacks MIME, archives and
Office files itself, so the raw mail is what gets scanned. A mail with a virus is rejected into quarantine
with the signature's name; when clamd cannot be asked, the configured mode decides: fail-closed keeps the
mail in the spool until clamd answers again, fail-open lets it through flagged as unscanned.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from clamav_client import clamd

from appliance.intake.errors import DeferredInput, RejectedInput
from appliance.mail.errors import MailError

DEFAULT_TIMEOUT_S = 60.0
FAIL_MODES = ("closed", "open")
TOO_LARGE = "larger than clamd's StreamMaxLength (clamd.conf)"


@dataclass(frozen=True)
class ScanOutcome:
    """What the scanner said: a virus name, or why nothing was said (clean when both are empty)."""

    virus: str = ""
    unscanned: str = ""
    refused: bool = False  # clamd is there but would not scan this input (too large): waiting will not help


@dataclass(frozen=True)
class VirusScanner:
    """clamd at `address` (a socket path, unix:///path or tcp://host:port); picklable for the parsing pool."""

    address: str
    fail_closed: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S

    def _client(self) -> clamd.ClamdNetworkSocket:
        if self.address.startswith("tcp://"):
            parts = urlsplit(self.address)
            if not parts.hostname or not parts.port:
                raise MailError(f"clamd address {self.address!r}: tcp:// needs a host and a port")
            return clamd.ClamdNetworkSocket(parts.hostname, parts.port, self.timeout_s)
        return clamd.ClamdUnixSocket(self.address.removeprefix("unix://"), self.timeout_s)

    def scan(self, data: bytes) -> ScanOutcome:
        """Ask clamd about `data`; never raises for clamd's own troubles (they come back as `unscanned`)."""
        try:
            result = self._client().instream(io.BytesIO(data))
        except clamd.BufferTooLongError:
            return ScanOutcome(unscanned=TOO_LARGE, refused=True)
        except (clamd.ClamdError, OSError, ValueError, MailError) as exc:
            # clamd hangs up mid-stream once StreamMaxLength is passed; if it still answers, that was it.
            if isinstance(exc, (BrokenPipeError, ConnectionResetError)) and self.ping().startswith("ok"):
                return ScanOutcome(unscanned=TOO_LARGE, refused=True)
            return ScanOutcome(unscanned=f"clamd at {self.address} did not answer: {exc}")
        status, name = next(iter(result.values()), ("ERROR", "empty reply"))
        if status == "FOUND":
            return ScanOutcome(virus=name or "unnamed signature")
        if status != "OK":
            return ScanOutcome(unscanned=f"clamd could not scan it: {name}")
        return ScanOutcome()

    def screen(self, data: bytes, what: str = "mail") -> str:
        """"" for clean; the unscanned reason when fail-open lets it through; raises otherwise.

        RejectedInput (quarantine) for a virus, and for input clamd refuses (too large) when fail-closed;
        DeferredInput (stays in the spool) when clamd is away and the mode is fail-closed.
        """
        outcome = self.scan(data)
        if outcome.virus:
            raise RejectedInput(f"virus found in the {what}: {outcome.virus} (ClamAV)")
        if not outcome.unscanned or not self.fail_closed:
            return outcome.unscanned
        if outcome.refused:
            raise RejectedInput(f"virus check impossible, {what} {outcome.unscanned}; fail-closed, so held here")
        raise DeferredInput(f"virus check waits: {outcome.unscanned}")

    def ping(self) -> str:
        """clamd's version line, or why it cannot be reached (for the admin console)."""
        try:
            return "ok: " + self._client().version()
        except (clamd.ClamdError, OSError, ValueError, MailError) as exc:
            return f"unreachable: {exc}"


def scanner_from_config(address: str, fail: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> VirusScanner | None:
    """The scanner the [mail] section asks for, or None when `clamd` is empty."""
    if not address:
        return None
    return VirusScanner(address, fail != "open", timeout_s)
