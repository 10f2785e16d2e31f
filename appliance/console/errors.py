"""The console's exception family."""
from __future__ import annotations

from appliance.errors import ApplianceError


class ConsoleError(ApplianceError):
    """Base of the console's deliberate errors."""


class InputError(ConsoleError):
    """What the technician typed is not acceptable; the message says why, in words for them."""


class ControlUnavailable(ConsoleError):
    """The running appliance does not answer on its control socket (it is stopped, or starting)."""


class ControlError(ConsoleError):
    """The running appliance answered a control request with an error."""
