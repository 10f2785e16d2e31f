"""The SMS package's exception family."""
from __future__ import annotations

from appliance.errors import ApplianceError


class SmsError(ApplianceError):
    """Base of every error the SMS channel raises on purpose."""


class SmsConfigError(SmsError):
    """The [sms] section names modems, numbers or PINs that do not fit together."""


class RecipientError(SmsError):
    """An outgoing SMS has no usable recipient number."""
