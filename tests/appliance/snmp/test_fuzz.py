"""Malformed SNMP packets never stop the agent: random and mutated datagrams, then real queries."""
from __future__ import annotations

import asyncio
import json
import random
import socket
from pathlib import Path

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto import api

from tests.appliance.snmp.netsnmp import V3, free_udp_port, run, v2c

pytestmark = pytest.mark.needs_tool("snmpget")

COMMUNITY = "fuzz-community"
PACKETS = 3000


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The agent does not care about the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
def app_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The appliance with its agent on a free port and a v2c community (more parsers to hit)."""
    return {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_DATABASE_URL": database_url,
            "APPLIANCE_WEB_PORT": "0", "APPLIANCE_WEB_HOST": "127.0.0.1",
            "APPLIANCE_SNMP_PORT": str(free_udp_port()), "APPLIANCE_SNMP_HOST": "127.0.0.1",
            "APPLIANCE_SNMP_COMMUNITY": COMMUNITY}


def v2c_get(community: str, oid: str) -> bytes:
    """A well-formed v2c GetRequest, the seed of the mutations."""
    p = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = p.GetRequestPDU()
    p.apiPDU.set_defaults(pdu)
    p.apiPDU.set_varbinds(pdu, [(p.ObjectIdentifier(oid), p.Null(""))])
    msg = p.Message()
    p.apiMessage.set_defaults(msg)
    p.apiMessage.set_community(msg, community)
    p.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


async def captured_v3_probe(creds: V3) -> bytes:
    """The first datagram net-snmp sends for a v3 request (engine discovery, RFC 3414 §4)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    try:
        await run("snmpget", [*creds.args(), "-r", "0", "-t", "0.3"], sink.getsockname()[1], "1.3.6.1.2.1.1.1.0",
                  mibs=False)
        return sink.recv(65535)
    finally:
        sink.close()


def mutations(seeds: list[bytes], rng: random.Random):
    """Random bytes, BER-looking headers with absurd lengths, and bit-flipped/truncated seeds."""
    for i in range(PACKETS):
        kind = i % 4
        if kind == 0:
            yield rng.randbytes(rng.randint(0, 1500))
        elif kind == 1:
            yield bytes([0x30, 0x84]) + rng.randbytes(4) + rng.randbytes(rng.randint(0, 64))
        else:
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            if kind == 3:
                data = data[:rng.randrange(len(data))]
            yield bytes(data)


async def test_garbage_never_stops_the_agent(appliance) -> None:
    snmp = appliance.supervisor.service("snmp")
    port = snmp.port
    stored = json.loads(appliance.data.snmp_keys.read_text())
    creds = V3(stored["user"], stored["auth"], stored["priv"])
    seeds = [v2c_get(COMMUNITY, "1.3.6.1.2.1.1.1.0"), v2c_get("wrong", "1.3.6.1.4.1.99999.1.1.1.0"),
             await captured_v3_probe(creds)]
    rng = random.Random(20261123)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for n, packet in enumerate(mutations(seeds, rng)):
            sender.sendto(packet, ("127.0.0.1", port))
            if n % 50 == 0:
                await asyncio.sleep(0.005)  # the agent runs in this loop: let it read
    finally:
        sender.close()
    await asyncio.sleep(0.2)
    assert appliance.supervisor.records["snmp"].restarts == 0
    assert appliance.supervisor.service("snmp") is snmp
    ok = await run("snmpget", creds.args(), port, "-On", "1.3.6.1.2.1.11.6.0", "1.3.6.1.2.1.1.5.0")
    assert ok.code == 0, ok.err
    parse_errors = int(ok.out.split("Counter32: ")[1].split()[0])
    assert parse_errors > PACKETS // 10  # snmpInASNParseErrs counted the garbage
    assert (await run("snmpget", v2c(COMMUNITY), port, "SNMPv2-MIB::sysName.0")).code == 0
