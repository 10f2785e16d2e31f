"""The mail package's exception family."""
from __future__ import annotations

from appliance.errors import ApplianceError


class MailError(ApplianceError):
    """Base of mail errors."""


class MailParseError(MailError):
    """Bytes that cannot be understood as a mail; the message says why (it goes to quarantine)."""


class MailTransportError(MailError):
    """A mail server could not be reached, refused us, or broke the protocol."""


class CertificatePinError(MailTransportError):
    """The server's certificate does not match the pinned fingerprint."""


class SmimeError(MailError):
    """An S/MIME structure is malformed, a signature is wrong, or no key fits."""
