"""The service's own start-up checks, without the rest of the appliance."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from appliance.bus import Bus
from appliance.datadir import DataDir
from appliance.services.snmp import SnmpService, parse_receivers
from appliance.snmp.errors import ReceiverError, SnmpError
from appliance.supervisor import ServiceContext


def service(tmp_path: Path, **config) -> SnmpService:
    return SnmpService(ServiceContext({"host": "127.0.0.1", "port": 0, **config}, Bus(),
                                      shared={"data_dir": DataDir(tmp_path)}))


def test_receivers_parse_and_bad_ones_are_named() -> None:
    assert parse_receivers(" nms.example:162, 10.0.0.1:1162 ,") == [("nms.example", 162), ("10.0.0.1", 1162)]
    for bad in ("nms", "nms:", ":162", "nms:0", "nms:99999", "nms:x"):
        with pytest.raises(ReceiverError, match="trap_receivers"):
            parse_receivers(bad)


async def test_a_busy_port_is_a_clear_start_failure(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hold:
        hold.bind(("127.0.0.1", 0))
        svc = service(tmp_path, port=hold.getsockname()[1])
        with pytest.raises(SnmpError, match=f"udp 127.0.0.1:{hold.getsockname()[1]}"):
            await svc.start()


async def test_v2c_traps_need_a_community(tmp_path: Path) -> None:
    with pytest.raises(SnmpError, match="community"):
        await service(tmp_path, trap_version="v2c").start()


async def test_start_makes_missing_credentials_and_counts_boots(tmp_path: Path) -> None:
    first = service(tmp_path)
    await first.start()
    await first.stop()
    second = service(tmp_path)
    await second.start()
    try:
        assert DataDir(tmp_path).snmp_keys.exists()
        assert (tmp_path / "snmp-engine-boots").read_text().strip() == "2"
        assert second.port and second.port != 0
        assert second.health()["receivers"] == 0
    finally:
        await second.stop()


async def test_an_unresolvable_receiver_is_reported_not_fatal(tmp_path: Path) -> None:
    svc = service(tmp_path, trap_receivers="no-such-host.invalid:162,127.0.0.1:1162")
    await svc.start()
    try:
        assert list(svc.health()["receiver_errors"]) == ["config-0"]
        assert "no-such-host.invalid does not resolve" in svc.health()["receiver_errors"]["config-0"]
        assert svc.health()["receivers"] == 1
    finally:
        await svc.stop()
