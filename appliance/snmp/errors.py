"""The SNMP package's exception family."""
from __future__ import annotations

from appliance.errors import ApplianceError


class SnmpError(ApplianceError):
    """Base of every error the SNMP agent raises on purpose."""


class CredentialsError(SnmpError):
    """The stored SNMPv3 credentials are missing, unreadable or too weak."""


class ReceiverError(SnmpError):
    """A trap receiver in the configuration is not a valid host:port."""
