"""Network settings from the console: pure validation and a plan of steps, applied separately.

`plan_steps` turns validated settings into the exact commands (iproute2) and files (resolv.conf, an
ifupdown stanza so the setting survives a reboot); `apply_steps` is the only part that touches the
host, through a `SystemRunner` that can be in dry-run mode (tests, and a technician who wants to look
before leaping).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Sequence

from appliance.console.errors import InputError
from appliance.console.system import Step, SystemRunner

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")  # IFNAMSIZ is 16 with the NUL
RESOLV_CONF = "/etc/resolv.conf"
IFUPDOWN_DIR = "/etc/network/interfaces.d"
MAX_DNS = 3  # glibc resolv.conf reads at most MAXNS = 3 nameservers


@dataclass(frozen=True)
class NetworkPlan:
    """Validated settings for one interface."""

    interface: str
    address: IPInterface
    gateway: IPAddress | None
    dns: tuple[IPAddress, ...]


def parse_interface(text: str, known: Sequence[str]) -> str:
    """An interface name that exists on this host."""
    name = text.strip()
    if not IFNAME_RE.match(name):
        raise InputError("an interface name is 1-15 letters, digits or . _ - :")
    if name == "lo":
        raise InputError("the loopback interface cannot be configured here")
    if known and name not in known:
        raise InputError(f"no interface {name!r}; this host has: {', '.join(known)}")
    return name


def parse_address(text: str) -> IPInterface:
    """An address with its prefix length, e.g. 192.0.2.10/24 or 2001:db8::10/64."""
    text = text.strip()
    if "/" not in text:
        raise InputError("give the prefix length too, e.g. 192.168.1.10/24")
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise InputError(f"{text!r} is not an address/prefix such as 192.168.1.10/24") from None
    ip, net = iface.ip, iface.network
    if ip.is_loopback or ip.is_multicast or ip.is_unspecified or ip.is_link_local:
        raise InputError(f"{ip} cannot be the appliance's address (loopback, multicast or link-local)")
    if isinstance(iface, ipaddress.IPv4Interface) and net.prefixlen <= 30:
        if ip == net.network_address or ip == net.broadcast_address:
            raise InputError(f"{ip} is the network or broadcast address of {net}")
    return iface


def parse_gateway(text: str, address: IPInterface) -> IPAddress | None:
    """The default gateway, on the address's own subnet; empty means none."""
    text = text.strip()
    if not text:
        return None
    try:
        gw = ipaddress.ip_address(text)
    except ValueError:
        raise InputError(f"{text!r} is not an IP address") from None
    if gw.version != address.version:
        raise InputError(f"the gateway must be IPv{address.version} like the address")
    if gw == address.ip:
        raise InputError("the gateway cannot be the appliance's own address")
    if gw not in address.network:
        raise InputError(f"the gateway {gw} is not on the subnet {address.network}")
    return gw


def parse_dns(text: str) -> tuple[IPAddress, ...]:
    """Up to three name servers separated by spaces or commas; empty means keep none."""
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if len(parts) > MAX_DNS:
        raise InputError(f"at most {MAX_DNS} name servers")
    servers = []
    for part in parts:
        try:
            ip = ipaddress.ip_address(part)
        except ValueError:
            raise InputError(f"{part!r} is not an IP address") from None
        if ip.is_multicast or ip.is_unspecified:
            raise InputError(f"{ip} cannot be a name server")
        servers.append(ip)
    return tuple(servers)


def plan_steps(plan: NetworkPlan) -> list[Step]:
    """The commands and files that put the plan in place, in order."""
    dev = plan.interface
    steps = [Step(("ip", "address", "flush", "dev", dev, "scope", "global")),
             Step(("ip", "address", "add", str(plan.address), "dev", dev)),
             Step(("ip", "link", "set", "dev", dev, "up"))]
    if plan.gateway is not None:
        steps.append(Step(("ip", "route", "replace", "default", "via", str(plan.gateway), "dev", dev)))
    if plan.dns:
        steps.append(Step(path=RESOLV_CONF, content="# written by the appliance console\n"
                          + "".join(f"nameserver {ip}\n" for ip in plan.dns)))
    family = "inet" if plan.address.version == 4 else "inet6"
    stanza = [f"# written by the appliance console", f"auto {dev}", f"iface {dev} {family} static",
              f"    address {plan.address}"]
    if plan.gateway is not None:
        stanza.append(f"    gateway {plan.gateway}")
    if plan.dns:
        stanza.append("    dns-nameservers " + " ".join(str(ip) for ip in plan.dns))
    steps.append(Step(path=f"{IFUPDOWN_DIR}/{dev}", content="\n".join(stanza) + "\n"))
    return steps


def describe_plan(plan: NetworkPlan) -> list[str]:
    """The plan in words, for the confirmation screen."""
    return [f"interface   {plan.interface}",
            f"address     {plan.address}",
            f"gateway     {plan.gateway or '(none)'}",
            f"name server {', '.join(map(str, plan.dns)) or '(unchanged)'}"]


def apply_steps(steps: Sequence[Step], runner: SystemRunner) -> list[str]:
    """Run the steps in order, stopping at the first failure; returns what happened, line by line."""
    out: list[str] = []
    for step in steps:
        result = runner.do(step)
        out += result.lines
        if not result.ok:
            out.append("stopped: the remaining steps were not applied")
            break
    return out


def show_network(runner: SystemRunner) -> list[str]:
    """Addresses, default routes and name servers as the system reports them."""
    lines = ["Addresses (ip -brief address):"]
    lines += runner.query(("ip", "-brief", "address")) or ["  (ip is not available)"]
    lines += ["", "Default route:"]
    lines += runner.query(("ip", "route", "show", "default")) or ["  (none)"]
    lines += ["", "Name servers:"]
    try:
        with open(RESOLV_CONF, encoding="utf-8", errors="replace") as fh:
            servers = [ln.split()[1] for ln in fh if ln.startswith("nameserver") and len(ln.split()) > 1]
    except OSError:
        servers = []
    lines += [f"  {s}" for s in servers] or ["  (none)"]
    return lines


def interface_names(runner: SystemRunner) -> list[str]:
    """Names of this host's interfaces (from `ip -brief link`)."""
    names = []
    for line in runner.query(("ip", "-brief", "link")):
        if line.split():
            names.append(line.split()[0].split("@")[0])
    return names
