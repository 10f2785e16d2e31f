"""The intake package's exception family."""
from __future__ import annotations

from appliance.errors import ApplianceError


class IntakeError(ApplianceError):
    """Base of intake errors."""


class SpoolError(IntakeError):
    """A spool segment could not be written or read back intact."""


class RejectedInput(IntakeError):
    """Input that cannot become a ticket message; the reason goes to quarantine and to a person."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DeferredInput(IntakeError):
    """Input that cannot be checked yet (a required checker is away): it stays in the spool, tried again later."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class QuarantineError(IntakeError):
    """A quarantine entry is missing or cannot be re-processed."""
