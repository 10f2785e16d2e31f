"""Network settings: validation says what is wrong, the plan is exact, dry run prints and changes nothing."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, strategies as st

from appliance.console import network
from appliance.console.errors import InputError
from appliance.console.system import SystemRunner


@pytest.mark.parametrize("text, why", [
    ("192.168.1.10", "prefix"), ("300.1.1.1/24", "not an address"), ("127.0.0.1/8", "loopback"),
    ("192.168.1.0/24", "network or broadcast"), ("192.168.1.255/24", "network or broadcast"),
    ("224.0.0.1/4", "multicast"), ("169.254.1.1/16", "link-local"), ("10.0.0.1/33", "not an address")])
def test_bad_addresses_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        network.parse_address(text)


def test_gateway_must_be_on_the_subnet() -> None:
    addr = network.parse_address("192.0.2.10/24")
    assert network.parse_gateway("192.0.2.1", addr) == ipaddress.ip_address("192.0.2.1")
    assert network.parse_gateway("", addr) is None
    for bad, why in (("198.51.100.1", "not on the subnet"), ("192.0.2.10", "own address"),
                     ("2001:db8::1", "IPv4"), ("gw", "not an IP")):
        with pytest.raises(InputError, match=why):
            network.parse_gateway(bad, addr)


def test_dns_list() -> None:
    assert [str(x) for x in network.parse_dns("9.9.9.9, 2001:db8::53")] == ["9.9.9.9", "2001:db8::53"]
    with pytest.raises(InputError, match="at most 3"):
        network.parse_dns("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4")
    with pytest.raises(InputError):
        network.parse_dns("dns.example")


def test_interface_must_exist_and_not_be_loopback() -> None:
    assert network.parse_interface("eth0", ["eth0", "lo"]) == "eth0"
    with pytest.raises(InputError, match="this host has"):
        network.parse_interface("eth9", ["eth0", "lo"])
    with pytest.raises(InputError, match="loopback"):
        network.parse_interface("lo", ["eth0", "lo"])
    with pytest.raises(InputError):
        network.parse_interface("eth0; reboot", [])


def test_plan_is_the_exact_commands_and_dry_run_only_prints(tmp_path) -> None:
    plan = network.NetworkPlan("eth0", network.parse_address("192.0.2.10/24"),
                               ipaddress.ip_address("192.0.2.1"), network.parse_dns("192.0.2.53"))
    steps = network.plan_steps(plan)
    assert [s.describe() for s in steps] == [
        "ip address flush dev eth0 scope global", "ip address add 192.0.2.10/24 dev eth0",
        "ip link set dev eth0 up", "ip route replace default via 192.0.2.1 dev eth0",
        "write /etc/resolv.conf", "write /etc/network/interfaces.d/eth0"]
    assert steps[4].content.endswith("nameserver 192.0.2.53\n")
    before = open("/etc/resolv.conf").read() if __import__("os").path.exists("/etc/resolv.conf") else None
    out = network.apply_steps(steps, SystemRunner(dry_run=True))
    assert "dry run: would run: ip address add 192.0.2.10/24 dev eth0" in out
    assert "    nameserver 192.0.2.53" in out
    after = open("/etc/resolv.conf").read() if before is not None else None
    assert before == after


def test_apply_stops_at_the_first_failure(tmp_path) -> None:
    from appliance.console.system import Step
    target = tmp_path / "later"
    steps = [Step(("false",)), Step(path=str(target), content="x")]
    out = network.apply_steps(steps, SystemRunner())
    assert not target.exists() and out[-1].startswith("stopped")


@given(st.text(max_size=60))
def test_parsers_raise_only_input_errors(text: str) -> None:
    addr = ipaddress.ip_interface("10.0.0.5/8")
    for fn in (network.parse_address, network.parse_dns, lambda t: network.parse_gateway(t, addr),
               lambda t: network.parse_interface(t, ["eth0"])):
        try:
            fn(text)
        except InputError:
            pass
