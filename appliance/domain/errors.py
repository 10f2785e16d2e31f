"""The domain core's exception family: what the API turns into 400, 403, 404 and 409."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain core raises on purpose."""


class ValidationError(DomainError):
    """Input is wrong; `fields` maps each bad field (dotted path) to what is expected."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


class NotFound(DomainError):
    """No such object in the caller's tenant (or not visible to the caller)."""


class Forbidden(DomainError):
    """The caller's role or profile does not allow this."""


class Conflict(DomainError):
    """The request is well-formed but clashes with the current state (e.g. a closed ticket)."""
