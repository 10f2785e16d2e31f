"""The ACD's exception family: every error the routing core raises on purpose."""
from __future__ import annotations

from appliance.errors import ApplianceError


class AcdError(ApplianceError):
    """Base of every ACD error."""


class AcdConfigError(AcdError, ValueError):
    """A queue, agent, calendar or routing rule is configured wrongly; the message names the field."""


class InvalidExtension(AcdConfigError):
    """An extension number is not 1 to 6 digits (B20)."""


class _Unknown(AcdError, KeyError):
    """An id the engine does not know; reads as "unknown <what> <id>" (KeyError alone would print "'u3'")."""

    what = "object"

    def __str__(self) -> str:
        return f"unknown {self.what} {self.args[0]}" if self.args else f"unknown {self.what}"


class UnknownAgent(_Unknown):
    """No agent with that id is known to the engine."""

    what = "agent"


class UnknownQueue(_Unknown):
    """No queue with that id is known to the engine."""

    what = "queue"


class UnknownCall(_Unknown):
    """No live call with that id is known to the engine."""

    what = "call"


class InvalidTransition(AcdError):
    """The agent or call is not in a state that allows the requested change."""


class InvalidValue(AcdError, ValueError):
    """An argument is outside its range (a negative traffic load, a position of 0 …)."""
