"""Configuration: one TOML file in the data directory plus APPLIANCE_<SECTION>_<KEY> overrides.

Every key is declared once in SCHEMA with its type, default, check and a comment; `init` writes the
file from SCHEMA with every key commented, and loading validates every value and flags unknown keys,
so a typo stops start-up with one line naming the key and the file instead of being ignored.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from appliance.errors import ConfigError

CONFIG_FILE = "appliance.toml"
ENV_PREFIX = "APPLIANCE_"


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default, a check and the comment written by `init`."""

    type: type
    default: Any
    doc: str
    check: Callable[[Any], bool] | None = None
    expected: str = ""

    def describe(self) -> str:
        """What a valid value looks like, for error messages."""
        return self.expected or {int: "an integer", str: "a string", bool: "true or false",
                                 float: "a number"}[self.type]


def _port(v: int) -> bool:
    return 0 <= v <= 65535


def _host_port(v: str) -> bool:
    host, sep, port = v.strip().rpartition(":")
    return bool(sep and host.strip("[]") and port.isdigit() and 0 < int(port) <= 65535)


def _public_url(v: str) -> bool:
    if not v.strip():
        return True
    try:
        parts = urlsplit(v.strip())
    except ValueError:  # e.g. an unclosed [IPv6 literal
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname) and not parts.query and not parts.fragment


PORT = "an integer port 0–65535 (0 picks a free port)"
SCHEMA: dict[str, dict[str, Key]] = {
    "database": {
        "url": Key(str, "", "Empty: SQLite at <data_dir>/appliance.db. Or postgresql://user:pw@host/db",
                   lambda v: v == "" or v.startswith(("postgresql://", "postgres://", "sqlite:///")),
                   "empty, sqlite:///PATH or postgresql://…"),
    },
    "web": {
        "host": Key(str, "0.0.0.0", "Address the HTTPS server listens on."),
        "port": Key(int, 8443, "HTTPS port. Plain HTTP is never served.", _port, PORT),
        "session_hours": Key(int, 12, "How long a login lasts.", lambda v: 1 <= v <= 168, "1–168"),
        "public_url": Key(str, "", "How people reach the web UI, e.g. https://desk.example.com; links in mails "
                          "(SLA escalation) start with it. Empty: those mails carry the path only.",
                          _public_url, "empty or https://host[:port][/path]"),
    },
    "security": {
        "login_max_failures": Key(int, 5, "Failed logins before an account is locked.",
                                  lambda v: 1 <= v <= 100, "1–100"),
        "lockout_s": Key(int, 300, "How long a locked account stays locked, seconds.",
                         lambda v: 1 <= v <= 86400, "1–86400"),
        "login_rate_per_min": Key(int, 20, "Login attempts allowed per client address per minute.",
                                  lambda v: 1 <= v <= 10000, "1–10000"),
    },
    "supervisor": {
        "heartbeat_timeout_s": Key(float, 10.0, "A service silent this long is restarted.",
                                   lambda v: 0.2 <= v <= 3600, "0.2–3600"),
        "stop_timeout_s": Key(float, 10.0, "Bound on a clean stop of everything.",
                              lambda v: 0.5 <= v <= 120, "0.5–120"),
    },
    "pbx": {
        "adapter": Key(str, "simulator", "simulator (built in), ami or csta.",
                       lambda v: v in ("simulator", "ami", "csta"), "simulator, ami or csta"),
        "ami_url": Key(str, "", "tcp://user:secret@host:5038 for the ami adapter (see docs/asterisk.md)."),
        "voicemail_dir": Key(str, "", "Directory where Asterisk's Record() leaves voice messages (ami adapter, "
                             "read-only for us; see docs/asterisk.md); empty: voice messages are not collected."),
        "sim_survey_rate": Key(float, 0.6, "Share of simulated callers who answer the after-call survey.",
                               lambda v: 0.0 <= v <= 1.0, "0–1"),
    },
    "mail": {
        "smtp_port": Key(int, 2525, "Inbound SMTP listener port.", _port, PORT),
        "smtp_host": Key(str, "0.0.0.0", "Address the inbound SMTP listener binds to."),
        "smtp_enabled": Key(bool, True, "Run the inbound SMTP listener (the appliance as MX or relay target)."),
        "smtp_hostname": Key(str, "", "Name in the SMTP greeting; empty: this host's name."),
        "max_message_mb": Key(int, 50, "Largest inbound mail accepted (SMTP answers 552 above it).",
                              lambda v: 1 <= v <= 1024, "1–1024"),
        "relay_url": Key(str, "", "Outgoing relay: starttls://user:pw@host:587, tls://…:465 or "
                         "plain://localhost:25; empty: replies wait in the outbox.",
                         lambda v: v == "" or v.split("://")[0] in ("starttls", "tls", "plain"),
                         "empty, starttls://…, tls://… or plain://localhost…"),
        "relay_ca_file": Key(str, "", "CA bundle for the relay's certificate; empty: the system store."),
        "relay_pin_sha256": Key(str, "", "Trust exactly the relay certificate with this SHA-256 fingerprint."),
        "spamc": Key(str, "", "Path of SpamAssassin's spamc to score inbound mail; empty: our own rules only."),
        "spamd": Key(str, "", "Where spamc finds SpamAssassin's spamd: host:port or a unix socket path; empty: "
                     "spamc's own default (localhost:783, /etc/spamassassin/spamc.conf).",
                     lambda v: v == "" or v.startswith("/") or v.rpartition(":")[2].isdigit(),
                     "empty, host:port or /path/to/socket"),
        "spam_threshold": Key(float, 5.0, "Score from which a new mail is filed in the mailbox's spam folder.",
                              lambda v: 0 < v <= 100, "0–100"),
        "clamd": Key(str, "", "ClamAV's clamd to virus-check inbound mail (Debian clamav-daemon): a socket path "
                     "such as /run/clamav/clamd.ctl, unix:///path or tcp://host:3310; empty: no virus check.",
                     lambda v: v == "" or v.startswith(("/", "unix:///", "tcp://")),
                     "empty, /path, unix:///path or tcp://host:port"),
        "virus_fail": Key(str, "closed", "When clamd cannot be asked: closed keeps mail in the spool until it "
                          "answers again; open delivers it flagged 'unscanned'.",
                          lambda v: v in ("closed", "open"), "closed or open"),
        "clamd_timeout_s": Key(float, 60.0, "How long one virus check may take before clamd counts as away.",
                               lambda v: 1 <= v <= 600, "1–600"),
        "sender_limit_per_hour": Key(int, 30, "Mails per sender and hour before auto-replies stop (flood).",
                                     lambda v: 1 <= v <= 100000, "1–100000"),
        "fetch_batch": Key(int, 100, "Messages fetched, spooled and acknowledged per round trip.",
                           lambda v: 1 <= v <= 1000, "1–1000"),
    },
    "snmp": {
        "port": Key(int, 1161, "SNMP agent UDP port (161 needs root).", _port, PORT),
        "community": Key(str, "", "v2c read-only community; empty: SNMPv3 only."),
        "host": Key(str, "0.0.0.0", "Address the SNMP agent listens on (127.0.0.1: this host only)."),
        "v3_user": Key(str, "", "SNMPv3 user (authPriv, SHA-256/AES-128); empty: the one made at init "
                       "in <data_dir>/keys/snmp.json."),
        "v3_auth_key": Key(str, "", "SNMPv3 authentication passphrase (8+ characters); empty: from init.",
                           lambda v: v == "" or len(v) >= 8, "empty or at least 8 characters"),
        "v3_priv_key": Key(str, "", "SNMPv3 privacy passphrase (8+ characters); empty: from init.",
                           lambda v: v == "" or len(v) >= 8, "empty or at least 8 characters"),
        "contact": Key(str, "", "sysContact: who looks after this appliance."),
        "location": Key(str, "", "sysLocation: where it stands."),
        "trap_receivers": Key(str, "", "Comma-separated host:port of notification receivers.",
                              lambda v: all(_host_port(p) for p in v.split(",") if p.strip()),
                              "comma-separated host:port"),
        "trap_version": Key(str, "auto", "auto (v2c when a community is set, else v3), v2c or v3.",
                            lambda v: v in ("auto", "v2c", "v3"), "auto, v2c or v3"),
        "trap_type": Key(str, "trap", "trap (unacknowledged) or inform (acknowledged, retried).",
                         lambda v: v in ("trap", "inform"), "trap or inform"),
        "disk_low_mb": Key(int, 1024, "diskLow is sent when free space in the data directory falls "
                           "below this many MB.", lambda v: 0 <= v <= 10**9, "0–1000000000"),
        "quarantine_step": Key(int, 10, "quarantineGrowing is sent each time a channel's quarantine "
                               "grows by this many messages.", lambda v: 1 <= v <= 10**6, "1–1000000"),
        "service_level_target_pct": Key(int, 80, "Service level below which queueServiceLevelLow is "
                                        "sent, for queues that publish no target of their own.",
                                        lambda v: 0 <= v <= 100, "0–100"),
    },
    "fax": {
        "modems": Key(str, "emu://fax-a", "Comma-separated modem URLs (serial:///dev/ttyS1, emu://name)."),
        "numbers": Key(str, "+4940111333", "The fax number of each modem, same order (a fax service address picks the mailbox)."),
        "class": Key(str, "1", "Fax class the modems are driven in: 1 (2 and 2.0 as they land).",
                      lambda v: v in ("1", "2", "2.0"), "1, 2 or 2.0"),
    },
    "sms": {
        "modems": Key(str, "emu://gsm-a", "Comma-separated GSM modem URLs (serial:///dev/ttyUSB0?baud=115200, "
                      "pty:///dev/pts/N, tcp://host:port, emu://name for an in-process emulated modem)."),
        "numbers": Key(str, "", "Each modem's own number, comma-separated in the order of `modems` (+<country>…). "
                       "It is the service number that picks tenant and mailbox: add it to a mailbox as "
                       "sms:+…. Empty for an emulated modem: +46700000100, +46700000101, …"),
        "pins": Key(str, "", "SIM PINs, comma-separated in the order of `modems`; empty: the SIM asks for none."),
        "status_reports": Key(bool, True, "Ask the network for a status report on every SMS sent."),
        "send_attempts": Key(int, 8, "Tries of an outgoing SMS before it is marked failed for a person.",
                             lambda v: 1 <= v <= 100, "1–100"),
        "poll_s": Key(float, 30.0, "Read the SIM this often even without a new-message indication.",
                      lambda v: 1 <= v <= 3600, "1–3600"),
        "reopen_max_s": Key(float, 60.0, "Longest pause between attempts to reopen a modem that went away.",
                            lambda v: 1 <= v <= 3600, "1–3600"),
        "multipart_timeout_s": Key(int, 3600, "Parts of a long SMS wait this long for the rest, then the "
                                   "parts that came are delivered marked incomplete.",
                                   lambda v: 60 <= v <= 7 * 86400, "60–604800"),
        "emulator_reports_s": Key(float, 2.0, "Emulated modems: seconds until a requested status report "
                                  "arrives by itself; 0: only from the admin page.",
                                  lambda v: 0 <= v <= 3600, "0–3600"),
        # An HTTP(S) SMS gateway (appliance.sms.http_gateway): empty URL, none. The auth value is a
        # secret: the data directory holding this file is mode 0700, the appliance user's only.
        "gateway_url": Key(str, "", "HTTP(S) SMS gateway URL outgoing SMS are sent to; empty: no gateway.",
                           lambda v: v == "" or v.startswith(("https://", "http://")), "empty or an http(s):// URL"),
        "gateway_use": Key(str, "failover", "failover: the gateway sends only while no GSM modem is up or "
                           "when every modem failed a send; always: every outgoing SMS goes through it.",
                           lambda v: v in ("failover", "always"), "failover or always"),
        "gateway_method": Key(str, "POST", "HTTP method of the gateway request.",
                              lambda v: v.upper() in ("POST", "PUT"), "POST or PUT"),
        "gateway_content_type": Key(str, "application/json", "Content-Type of the request body; values are "
                                    "escaped for JSON or application/x-www-form-urlencoded."),
        "gateway_body": Key(str, '{"to": "{to}", "text": "{text}", "from": "{sender}"}',
                            "Request body template: {to} (E.164), {text}, {sender} (the service number)."),
        "gateway_auth_header": Key(str, "Authorization", "Header that carries the gateway credential."),
        "gateway_auth_value": Key(str, "", "Its value, e.g. Bearer <token>; empty: no header is sent."),
        "gateway_cafile": Key(str, "", "PEM file of the CA a private gateway's certificate is checked "
                              "against; empty: the system's trusted CAs. Certificates are always checked."),
        "gateway_id_field": Key(str, "id", "JSON field of the gateway's answer that holds its message id (a.b for "
                                "a nested one); its delivery reports (POST /api/v1/sms/reports) name that id."),
        "gateway_report_map": Key(str, "", "The gateway's own status words for its reports, e.g. "
                                  "DELIVRD=delivered,UNDELIV=failed,ENROUTE=pending; delivered, failed and "
                                  "pending are always understood.",
                                  lambda v: all(p.count("=") == 1 and p.split("=")[1].strip() in
                                                ("delivered", "failed", "pending") for p in v.split(",") if p.strip()),
                                  "WORD=delivered|failed|pending, comma-separated"),
        "gateway_parallel": Key(int, 4, "SMS handed to the HTTP gateway at the same time (one slow answer does "
                                "not hold up the others).", lambda v: 1 <= v <= 32, "1–32"),
        "mail_gateway": Key(str, "", "SMS out by mail when no HTTP gateway is set (same gateway_use): the "
                            "e-mail-to-SMS address, {number} (E.164 without +) or {e164}, e.g. {number}@sms.example.net; "
                            "sent through [mail] relay_url by the mail outbox. Empty: none.",
                            lambda v: v == "" or ("@" in v and ("{number}" in v or "{e164}" in v)),
                            "empty or an address with {number} or {e164}"),
        "mail_gateway_from": Key(str, "", "From address of those mails (the gateway may check it).",
                                 lambda v: v == "" or "@" in v, "empty or an e-mail address"),
    },
    "console": {
        "tty": Key(str, "", "Serial console device (/dev/ttyS0); empty: a pty whose path is logged; "
                   "none: no tty (the getty unit runs `appliance console`), only the control socket."),
        "baud": Key(int, 9600, "Speed of a real serial console device.",
                    lambda v: v in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200), "a standard baud rate"),
        "max_failures": Key(int, 3, "Wrong console passwords before the console locks.",
                            lambda v: 1 <= v <= 20, "1–20"),
        "lockout_s": Key(int, 60, "How long a locked console stays locked, seconds.",
                         lambda v: 1 <= v <= 3600, "1–3600"),
        "idle_timeout_s": Key(int, 600, "A console session idle this long is logged out.",
                              lambda v: 10 <= v <= 86400, "10–86400"),
        "dry_run": Key(bool, False, "Print system commands (network, reboot) instead of running them."),
    },
    "update": {
        "root": Key(str, "/opt/appliance", "Where versions/<version> and the `current` link live."),
        "public_key": Key(str, "", "Ed25519 public key (PEM) that signs updates; empty: the key installed "
                          "with the image (update_key.pub beside the bundle, or image_build/ in a checkout)."),
        "ready_timeout_s": Key(int, 120, "A new version that is not READY this long is rolled back.",
                               lambda v: 5 <= v <= 3600, "5–3600"),
        "manager": Key(str, "auto", "How to restart: systemd, trial (start the new version once to prove it "
                       "reaches READY) or auto (systemd when the appliance unit is active).",
                       lambda v: v in ("auto", "systemd", "trial"), "auto, systemd or trial"),
    },
    "backup": {
        "keep_days": Key(int, 14, "Scheduled backups older than this are deleted.",
                         lambda v: 1 <= v <= 3650, "1–3650"),
        "hour": Key(int, 2, "Hour of day (0–23) of the daily backup; -1 disables it.",
                    lambda v: -1 <= v <= 23, "-1–23"),
    },
    "log": {
        "level": Key(str, "info", "debug, info, warning or error.",
                     lambda v: v in ("debug", "info", "warning", "error"), "debug, info, warning or error"),
    },
}


class Config:
    """Validated configuration; `cfg.section("web")["port"]` or `cfg.get("web", "port")`."""

    def __init__(self, data_dir: Path, values: dict[str, dict[str, Any]], source: str) -> None:
        self.data_dir = data_dir
        self.source = source
        self._values = values

    def get(self, section: str, key: str) -> Any:
        """One value."""
        return self._values[section][key]

    def section(self, section: str) -> Mapping[str, Any]:
        """All values of one section."""
        return dict(self._values[section])

    @property
    def database_url(self) -> str:
        """The effective database URL (SQLite in the data directory by default)."""
        return self.get("database", "url") or f"sqlite:///{self.data_dir / 'appliance.db'}"


def data_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """APPLIANCE_DATA_DIR, default ./data."""
    env = os.environ if env is None else env
    return Path(env.get("APPLIANCE_DATA_DIR", "./data")).absolute()


def _coerce(raw: Any, spec: Key, key: str, source: str, from_env: bool) -> Any:
    value = raw
    if from_env:
        try:
            if spec.type is bool:
                if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value = raw.lower() in ("true", "1", "yes")
            else:
                value = spec.type(raw)
        except ValueError:
            raise ConfigError(key, source, spec.describe(), raw) from None
    elif spec.type is float and isinstance(raw, int) and not isinstance(raw, bool):
        value = float(raw)
    if not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool)):
        raise ConfigError(key, source, spec.describe(), raw)
    if spec.check and not spec.check(value):
        raise ConfigError(key, source, spec.describe(), raw)
    return value


def load(data_dir: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration; raises ConfigError naming key and source."""
    env = os.environ if env is None else env
    data_dir = data_dir or data_dir_from_env(env)
    path = data_dir / CONFIG_FILE
    file_values: dict[str, Any] = {}
    if path.exists():
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError("(syntax)", str(path), "valid TOML", str(exc)) from None
    values: dict[str, dict[str, Any]] = {}
    for section, table in file_values.items():
        if section not in SCHEMA:
            raise ConfigError(section, str(path), "a known section: " + ", ".join(SCHEMA))
        if not isinstance(table, dict):
            raise ConfigError(section, str(path), "a [section] table", table)
        for key in table:
            if key not in SCHEMA[section]:
                raise ConfigError(f"{section}.{key}", str(path),
                                  "a known key: " + ", ".join(SCHEMA[section]))
    for section, keys in SCHEMA.items():
        values[section] = {}
        for key, spec in keys.items():
            env_name = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
            if env_name in env:
                values[section][key] = _coerce(env[env_name], spec, env_name, "the environment", True)
            elif key in file_values.get(section, {}):
                values[section][key] = _coerce(file_values[section][key], spec, f"{section}.{key}",
                                               str(path), False)
            else:
                values[section][key] = spec.default
    # Unknown APPLIANCE_* variables are typos as surely as unknown file keys are.
    known = {f"{ENV_PREFIX}{s.upper()}_{k.upper()}" for s, ks in SCHEMA.items() for k in ks}
    known |= {"APPLIANCE_DATA_DIR"} | {n for n in env if n.startswith("APPLIANCE_HW_")}
    for name in env:
        if name.startswith(ENV_PREFIX) and name not in known and not name.startswith("APPLIANCE_TEST_"):
            raise ConfigError(name, "the environment", "a known APPLIANCE_<SECTION>_<KEY> variable")
    return Config(data_dir, values, str(path))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def render_default_file() -> str:
    """The configuration file `init` writes: every key present, commented out, with its default."""
    lines = ["# Appliance configuration. Every key is shown with its default, commented out.",
             "# Uncomment to change. Each key can also be set by the environment variable",
             "# APPLIANCE_<SECTION>_<KEY>, which wins over this file.", ""]
    for section, keys in SCHEMA.items():
        lines.append(f"[{section}]")
        for key, spec in keys.items():
            lines.append(f"# {spec.doc}")
            lines.append(f"# {key} = {_toml_value(spec.default)}")
        lines.append("")
    return "\n".join(lines)
