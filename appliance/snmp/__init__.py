"""The SNMP agent's parts: OIDs and names (const), the live MIB view (view), the pysnmp adapter
(instrum, agent), credentials made at first boot, and the notification policy (watch)."""
