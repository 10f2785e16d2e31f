"""The update package's exception family."""
from __future__ import annotations

from appliance.errors import ApplianceError


class UpdateError(ApplianceError):
    """Base of deliberate update errors."""


class BundleRejected(UpdateError):
    """The bundle is refused (signature, version, damage); nothing was changed."""


class InstallFailed(UpdateError):
    """The new version was installed but did not come up; the old one was put back."""
