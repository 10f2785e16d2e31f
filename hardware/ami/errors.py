"""The AMI package's exception family: one base, a few kinds a caller can act on."""
from __future__ import annotations


class AmiError(Exception):
    """Anything that went wrong talking AMI."""


class AmiProtocolError(AmiError):
    """Bytes from the PBX that are not AMI (garbage, oversized packet, missing banner)."""


class AmiEncodeError(AmiError, ValueError):
    """An action we were asked to send cannot be written on the wire (CR/LF in a value …)."""


class AmiConnectionError(AmiError):
    """The TCP session is down or went down while an action was waiting."""


class AmiAuthError(AmiConnectionError):
    """The PBX refused our Login (wrong user, secret or ACL)."""


class AmiTimeout(AmiError):
    """No response to an action (or no end of its event list) within its timeout."""


class AmiActionError(AmiError):
    """The PBX answered an action with `Response: Error`."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message
