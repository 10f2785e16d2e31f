"""Object identifiers of APPLIANCE-MIB and the metric names the agent reads.

The enterprise number lives here and in appliance/mib/APPLIANCE-MIB.txt only; a test checks that
they agree.
"""
from __future__ import annotations

# PLACEHOLDER private enterprise number: replace with the IANA-assigned PEN before shipping
# (and in the MIB's MODULE-IDENTITY).
ENTERPRISE_PEN = 99999

Oid = tuple[int, ...]

ENTERPRISES: Oid = (1, 3, 6, 1, 4, 1)
APPLIANCE: Oid = ENTERPRISES + (ENTERPRISE_PEN,)
NOTIFICATIONS: Oid = APPLIANCE + (0,)
OBJECTS: Oid = APPLIANCE + (1,)
PRODUCT: Oid = APPLIANCE + (3, 1)          # appProductContactCenter: our sysObjectID

APP_SYSTEM: Oid = OBJECTS + (1,)
SERVICE_ENTRY: Oid = OBJECTS + (2, 1)
HARDWARE_ENTRY: Oid = OBJECTS + (3, 1)
QUEUE_ENTRY: Oid = OBJECTS + (4, 1)
INTAKE_ENTRY: Oid = OBJECTS + (5, 1)

# appSystem scalars (column numbers under appSystem)
APP_VERSION, APP_UPTIME, APP_DB_SIZE, APP_DISK_FREE, APP_LOAD, APP_LOOP_LAG, APP_DEGRADED, \
    APP_DISK_LOW_THRESHOLD = range(1, 9)

# Notifications (RFC 3416 §4.2.6: snmpTrapOID.0 carries one of these)
SERVICE_FAILED: Oid = NOTIFICATIONS + (1,)
SERVICE_RECOVERED: Oid = NOTIFICATIONS + (2,)
MODEM_LOST: Oid = NOTIFICATIONS + (3,)
MODEM_BACK: Oid = NOTIFICATIONS + (4,)
QUARANTINE_GROWING: Oid = NOTIFICATIONS + (5,)
QUEUE_SERVICE_LEVEL_LOW: Oid = NOTIFICATIONS + (6,)
DISK_LOW: Oid = NOTIFICATIONS + (7,)
RECEIVER_TEST: Oid = NOTIFICATIONS + (8,)  # on request from the admin console only

# MIB-II and SNMP engine objects the agent serves beside our subtree
SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION, SYS_SERVICES = range(1, 8)
SNMP_GROUP: Oid = (1, 3, 6, 1, 2, 1, 11)
SNMP_TRAP_OID: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SYS_UPTIME_0: Oid = SYSTEM + (SYS_UPTIME, 0)
SNMP_ENGINE: Oid = (1, 3, 6, 1, 6, 3, 10, 2, 1)
USM_STATS: Oid = (1, 3, 6, 1, 6, 3, 15, 1, 1)
USM_STATS_WRONG_DIGESTS: Oid = USM_STATS + (5, 0)
# RFC 3418 sysServices: application (64) + end-to-end (8), as a host offering services
SYS_SERVICES_VALUE = 72

# AppServiceStatus, AppDeviceKind, AppDeviceStatus of the MIB, by the names the appliance uses
SERVICE_STATES = {"disabled": 1, "starting": 2, "running": 3, "backoff": 4, "failed": 5, "stopped": 6}
DEVICE_KINDS = {"other": 1, "fax_modem": 2, "gsm_modem": 3, "isdn_card": 4, "acd_card": 5, "scanner": 6}
DEVICE_STATES = {"unknown": 1, "up": 2, "busy": 3, "down": 4, "absent": 5}
DEVICE_PRESENT = frozenset({"up", "busy"})
DEVICE_GONE = frozenset({"down", "absent"})

# Metric names other services publish in appliance.metrics for the agent to serve. <name> and
# <channel> may contain dots; the field is always the last component.
#   queue.<name>.waiting | longest_wait_s | agents_ready | agents_busy | agents_paused
#                | service_level_pct | service_level_target_pct          (gauges)
#   intake.<channel>.received | quarantined | sent | failed               (counters)
QUEUE_PREFIX = "queue."
QUEUE_FIELDS = ("waiting", "longest_wait_s", "agents_ready", "agents_busy", "agents_paused",
                "service_level_pct", "service_level_target_pct")
# What the ACD bridge (services/pbx_bridge.py) publishes, turned into the fields above when those
# are absent: ready = free, busy = working - free, paused = logged_in - working, and fractions
# of 1 for the service level and its goal.
ACD_QUEUE_FIELDS = ("agents_free", "agents_working", "agents_logged_in", "service_level",
                    "service_level_goal")
INTAKE_PREFIX = "intake."
INTAKE_FIELDS = ("received", "quarantined", "sent", "failed")
# Hardware rows are strings as well as numbers, so drivers' services register them in
# ctx.shared[HARDWARE_KEY] (a dict: device name -> {"type", "device", "state", "signal_dbm",
# "last_activity"}); type and state use the keys of DEVICE_KINDS and DEVICE_STATES,
# last_activity is a Unix time. The agent only reads this dict.
HARDWARE_KEY = "hardware"
