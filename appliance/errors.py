"""The appliance core's exception family."""
from __future__ import annotations


class ApplianceError(Exception):
    """Base of every error the appliance core raises on purpose."""


class ConfigError(ApplianceError):
    """A configuration value is wrong; the message names the key, the file and what is expected."""

    def __init__(self, key: str, source: str, expected: str, got: object = None) -> None:
        self.key, self.source, self.expected, self.got = key, source, expected, got
        detail = f"config error: {key} in {source}: expected {expected}"
        if got is not None:
            detail += f", got {got!r}"
        super().__init__(detail)


class NotInitialisedError(ApplianceError):
    """The data directory has not been set up by `init` yet."""


class StoreError(ApplianceError):
    """The document store could not read or write a document."""
