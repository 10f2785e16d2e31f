"""The ACD's exception family: every error the routing core raises on purpose."""
from __future__ import annotations

from appliance.errors import ApplianceError


class AcdError(ApplianceError):
    """Base of every ACD error."""


class AcdConfigError(AcdError, ValueError):
    """A queue, agent, calendar or routing rule is configured wrongly; the message names the field."""


class InvalidExtension(AcdConfigError):
    """An extension number is not 1 to 6 digits (B20)."""


class UnknownAgent(AcdError, KeyError):
    """No agent with that id is known to the engine."""


class UnknownQueue(AcdError, KeyError):
    """No queue with that id is known to the engine."""


class UnknownCall(AcdError, KeyError):
    """No live call with that id is known to the engine."""


class InvalidTransition(AcdError):
    """The agent or call is not in a state that allows the requested change."""


class InvalidValue(AcdError, ValueError):
    """An argument is outside its range (a negative traffic load, a position of 0 …)."""
