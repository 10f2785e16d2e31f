"""The pysnmp engine of the agent: UDP transport, USM and community security, VACM, responders
and the notification originator. What it answers comes from a MibView source (instrum.py)."""
from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as snmp_config
from pysnmp.entity import engine as snmp_engine
from pysnmp.entity.rfc3413 import cmdrsp, context, ntforg
from pysnmp.proto import rfc1902

from appliance.snmp import const
from appliance.snmp.const import Oid
from appliance.snmp.credentials import V3Credentials
from appliance.snmp.errors import SnmpError
from appliance.snmp.instrum import ViewInstrumentation, ViewSource
from appliance.snmp.receivers import Target

log = logging.getLogger(__name__)

READ_VIEW: Oid = (1, 3, 6, 1)        # everything served is readable once VACM lets a user in
COMMUNITY_INDEX = "appliance-ro"      # snmpCommunityIndex / securityName of the v2c community
NOTIFY_NAME = "appliance-notify"
NOTIFY_TAG = "appliance-receivers"
# A receiver's community may only send, never read: its snmpCommunityTransportTag names no target
# address, so an incoming request with it matches no community row (RFC 3584 §5.2.1).
SEND_ONLY_TAG = "appliance-send-only"
SNMP_ENGINE_TIME: Oid = const.SNMP_ENGINE + (3, 0)
INFORM_TIMEOUT_S = 1.5
INFORM_RETRIES = 2
# Engine counters served beside our subtree (symbol names in pysnmp's instrumentation).
ENGINE_COUNTERS = {
    "__SNMPv2-MIB": ("snmpInPkts", "snmpInBadVersions", "snmpInBadCommunityNames",
                     "snmpInASNParseErrs", "snmpSilentDrops"),
    "__SNMP-FRAMEWORK-MIB": ("snmpEngineID", "snmpEngineBoots", "snmpEngineMaxMessageSize"),
    "__SNMP-USER-BASED-SM-MIB": ("usmStatsUnsupportedSecLevels", "usmStatsNotInTimeWindows",
                                 "usmStatsUnknownUserNames", "usmStatsUnknownEngineIDs",
                                 "usmStatsWrongDigests", "usmStatsDecryptionErrors"),
}


@dataclass(frozen=True)
class AgentSettings:
    """How the agent listens, whom it lets in, and where its notifications go."""

    host: str
    port: int
    v3: V3Credentials
    engine_boots: int = 1
    community: str = ""               # empty: no SNMPv1/v2c at all
    trap_type: str = "trap"           # trap or inform


@dataclass(frozen=True)
class Configured:
    """A target as configured in the engine: its resolved address, and why it is not used if so."""

    target: Target
    address: tuple[str, int]
    error: str = ""


class GuardedUdpTransport(udp.UdpAsyncioTransport):
    """pysnmp's UDP transport, but a datagram that makes the engine raise is counted and dropped:
    garbage on the socket must never reach the event loop's exception handler or stop the agent."""

    on_bad_packet: Callable[[BaseException], None] | None = None

    def datagram_received(self, datagram: bytes, address: Any) -> None:
        """Hand the datagram to the engine at once, containing any failure."""
        try:
            if self._callback_function is not None:
                self._callback_function(self, address, datagram)
        except Exception as exc:  # a malformed packet is the sender's problem, not ours
            if self.on_bad_packet:
                self.on_bad_packet(exc)


class Agent:
    """One SNMP engine serving a view and sending notifications."""

    def __init__(self, settings: AgentSettings, source: ViewSource) -> None:
        self.settings = settings
        self.bad_packets = 0
        self.notifications_sent = 0
        self.notification_errors = 0
        self.started_at = time.monotonic()
        self.engine = snmp_engine.SnmpEngine(rfc1902.OctetString(settings.v3.engine_id_bytes))
        self._set_boots(settings.engine_boots)
        self._transport: GuardedUdpTransport | None = None
        self._originator = ntforg.NotificationOriginator()
        self._counters = self._engine_counters()
        self.targets: dict[str, Configured] = {}
        self._configure_security()
        snmp_context = context.SnmpContext(self.engine)
        # Answer the default context from our view instead of pysnmp's own MIB tree.
        snmp_context.context_names[b""] = ViewInstrumentation(source)  # type: ignore[assignment]
        for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder,
                          cmdrsp.BulkCommandResponder, cmdrsp.SetCommandResponder):
            responder(self.engine, snmp_context)

    # --- setup ----------------------------------------------------------------------------------
    def _set_boots(self, boots: int) -> None:
        # RFC 3414 §2.2: snmpEngineBoots must grow at every restart for replay protection; the
        # service keeps it in the data directory (pysnmp would keep it in /tmp).
        (sym,) = self.engine.get_mib_builder().import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineBoots")
        sym.syntax = sym.syntax.clone(boots)

    def _engine_counters(self) -> list[tuple[Oid, Any]]:
        builder = self.engine.get_mib_builder()
        out = []
        for module, names in ENGINE_COUNTERS.items():
            for sym in builder.import_symbols(module, *names):
                out.append((tuple(sym.name), sym))  # instances: the name ends in .0 already
        return out

    def _configure_security(self) -> None:
        s, e = self.settings, self.engine
        # RFC 7860 usmHMAC192SHA256AuthProtocol and RFC 3826 usmAesCfb128Protocol.
        snmp_config.add_v3_user(e, s.v3.user, snmp_config.USM_AUTH_HMAC192_SHA256, s.v3.auth,
                                snmp_config.USM_PRIV_CFB128_AES, s.v3.priv)
        # VACM (RFC 3415): the v3 user gets in with authPriv only; a lower level is refused.
        snmp_config.add_vacm_user(e, 3, s.v3.user, "authPriv", readSubTree=READ_VIEW,
                                  notifySubTree=READ_VIEW)
        if s.community:
            snmp_config.add_v1_system(e, COMMUNITY_INDEX, s.community)
            snmp_config.add_vacm_user(e, 2, COMMUNITY_INDEX, "noAuthNoPriv", readSubTree=READ_VIEW,
                                      notifySubTree=READ_VIEW)

    def set_targets(self, targets: list[tuple[Target, tuple[str, int]]]) -> None:
        """Replace the notification receivers (target, resolved address) while the agent runs."""
        for configured in self.targets.values():
            if not configured.error:  # a refused receiver was never configured
                self._remove_target(configured.target)
        # Receivers' own v3 users go too (each once); the ones still wanted come back just below.
        for user in {c.target.user for c in self.targets.values() if c.target.version == "v3" and not c.error}:
            if user != self.settings.v3.user:
                snmp_config.delete_v3_user(self.engine, user)
        self.targets = {}
        users = {self.settings.v3.user: (self.settings.v3.auth, self.settings.v3.priv)}
        for target, address in targets:
            error = ""
            if target.version == "v3":
                keys = users.setdefault(target.user, (target.auth, target.priv))
                if keys != (target.auth, target.priv):
                    # usmUserTable is indexed by engine ID and user name (RFC 3414 §5): one user
                    # name, one set of keys for everything this engine sends.
                    error = (f"the SNMPv3 user {target.user!r} is already used with other keys (by the agent "
                             f"or another receiver); give this receiver its own user name")
            if not error:
                self._add_target(target, address)
            self.targets[target.name] = Configured(target, address, error)

    def _add_target(self, target: Target, address: tuple[str, int]) -> None:
        e, params = self.engine, f"{target.name}-params"
        if target.version == "v2c":
            snmp_config.add_v1_system(e, target.name, target.community, transportTag=SEND_ONLY_TAG)
            self._notify_only(target.name, 2, target.name, "noAuthNoPriv")
            snmp_config.add_target_parameters(e, params, target.name, "noAuthNoPriv", 1)
        else:
            if target.user != self.settings.v3.user:
                # RFC 7860 usmHMAC192SHA256AuthProtocol and RFC 3826 usmAesCfb128Protocol.
                snmp_config.add_v3_user(e, target.user, snmp_config.USM_AUTH_HMAC192_SHA256, target.auth,
                                        snmp_config.USM_PRIV_CFB128_AES, target.priv)
                self._notify_only(target.name, 3, target.user, "authPriv")
            snmp_config.add_target_parameters(e, params, target.user, "authPriv", 3)
        # Every receiver carries the shared tag (all notifications) and its own (the test notification).
        snmp_config.add_target_address(e, target.name, udp.DOMAIN_NAME, address, params,
                                       timeout=INFORM_TIMEOUT_S * 100, retryCount=INFORM_RETRIES,
                                       tagList=f"{NOTIFY_TAG} {target.name}")
        snmp_config.add_notification_target(e, f"{target.name}-notify", params, target.name,
                                            self.settings.trap_type)

    def _notify_only(self, name: str, model: int, security_name: str, level: str) -> None:
        """VACM (RFC 3415) for a receiver's identity: it may be sent notifications and read nothing.

        The read and write views exclude everything explicitly: pysnmp lets a request through when
        its view has no entries at all (rfc3415.py returns, not raises, notInView there)."""
        e, group = self.engine, f"{name}-group"
        snmp_config.add_vacm_group(e, group, model, security_name)
        snmp_config.add_vacm_access(e, group, b"", model, level, "exact", f"{name}-read", f"{name}-write",
                                    f"{name}-notify")
        snmp_config.add_vacm_view(e, f"{name}-notify", "included", READ_VIEW, b"")
        for view in (f"{name}-read", f"{name}-write"):
            snmp_config.add_vacm_view(e, view, "excluded", READ_VIEW, b"")

    def _remove_target(self, target: Target) -> None:
        e, params = self.engine, f"{target.name}-params"
        snmp_config.delete_notification_target(e, f"{target.name}-notify", params)
        snmp_config.delete_target_address(e, target.name)
        snmp_config.delete_target_parameters(e, params)
        if target.version == "v2c":
            snmp_config.delete_v1_system(e, target.name)

    # --- life -----------------------------------------------------------------------------------
    async def open(self) -> int:
        """Bind the UDP socket and start answering; returns the bound port."""
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self.settings.host, self.settings.port))
        except OSError as exc:
            sock.close()
            raise SnmpError(f"cannot listen on udp {self.settings.host}:{self.settings.port}: "
                            f"{exc.strerror or exc}") from exc
        sock.setblocking(False)
        transport = GuardedUdpTransport(loop=asyncio.get_running_loop())
        transport.on_bad_packet = self._bad_packet
        transport.open_server_mode(sock=sock)
        await transport._lport  # the endpoint future: the socket is registered with the loop
        domain = udp.DOMAIN_NAME if family == socket.AF_INET else (1, 3, 6, 1, 2, 1, 100, 1, 2)
        snmp_config.add_transport(self.engine, domain, transport)
        self._transport = transport
        # One notification name for everything; each receiver's address carries its tag.
        snmp_config.add_notification_target(self.engine, NOTIFY_NAME, "appliance-notify-params", NOTIFY_TAG,
                                            self.settings.trap_type)
        return sock.getsockname()[1]

    def close(self) -> None:
        """Stop answering and release the socket."""
        if self.engine.transport_dispatcher:
            self.engine.close_dispatcher()
        self._transport = None

    def _bad_packet(self, exc: BaseException) -> None:
        self.bad_packets += 1
        if self.bad_packets in (1, 100, 10000):
            log.warning("snmp dropped malformed packets count=%d last=%r", self.bad_packets, exc)

    # --- reads and notifications ----------------------------------------------------------------
    def counters(self) -> list[tuple[Oid, Any]]:
        """Engine counters (snmp group, snmpEngine, usmStats) as (instance OID, value)."""
        out = [(oid, sym.syntax.clone()) for oid, sym in self._counters]
        # RFC 3414 §2.2.1: snmpEngineTime counts seconds since snmpEngineBoots last changed.
        out.append((SNMP_ENGINE_TIME, rfc1902.Integer32(int(time.monotonic() - self.started_at))))
        return out

    def usable_targets(self, only: str | None = None) -> list[str]:
        """Names of the receivers a notification goes to (all, or just `only`)."""
        return [n for n, c in self.targets.items() if not c.error and (only is None or n == only)]

    def notify(self, trap_oid: Oid, sys_uptime: Any, var_binds: list[tuple[Oid, Any]],
               only: str | None = None) -> bool:
        """Send one notification to every receiver, or to `only` (RFC 3416 §4.2.6); False if none was sent."""
        if not self.usable_targets(only) or self._transport is None:
            return False
        binds = [(const.SYS_UPTIME_0, sys_uptime), (const.SNMP_TRAP_OID, rfc1902.ObjectIdentifier(trap_oid))]
        binds += var_binds
        try:
            # The default context as octets: VACM (pysnmp rfc3415) matches context names as bytes.
            self._originator.send_varbinds(self.engine, NOTIFY_NAME if only is None else f"{only}-notify", None,
                                           b"", binds, self._sent)
        except Exception as exc:  # a notification that cannot be sent must not stop the agent
            self.notification_errors += 1
            log.warning("snmp notification not sent: %r", exc)
            return False
        if self.settings.trap_type == "trap":  # unacknowledged: handed to the socket is all we know
            self.notifications_sent += 1
        return True

    def _sent(self, engine: Any, handle: Any, error_indication: Any, *rest: Any) -> None:
        # pysnmp calls back with 5 or 7 arguments depending on the path (ntforg.py).
        if error_indication:
            self.notification_errors += 1
            log.warning("snmp notification not delivered: %s", error_indication)
        elif self.settings.trap_type == "inform":
            self.notifications_sent += 1
