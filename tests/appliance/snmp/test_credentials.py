"""SNMPv3 credentials made at first boot: random, private, validated, overridable."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from appliance.firstboot import make_snmp_credentials
from appliance.datadir import DataDir
from appliance.snmp import credentials
from appliance.snmp.const import ENTERPRISE_PEN
from appliance.snmp.errors import CredentialsError


def test_generated_credentials_are_random_and_strong() -> None:
    a, b = credentials.generate(), credentials.generate()
    assert a.user != b.user and a.auth != b.auth and a.priv != b.priv and a.engine_id != b.engine_id
    assert len(a.auth) >= 20 and len(a.priv) >= 20 and a.auth != a.priv
    engine = a.engine_id_bytes
    # RFC 3411 §5: high bit set, our enterprise number, format 5 (octets)
    assert int.from_bytes(engine[:4], "big") == 0x80000000 | ENTERPRISE_PEN and engine[4] == 5
    assert 5 <= len(engine) <= 32


def test_first_boot_makes_them_once_with_mode_0600(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    line = make_snmp_credentials(data)
    stored = json.loads(data.snmp_keys.read_text())
    assert line.startswith(f"snmp v3 user: {stored['user']} auth: {stored['auth']} priv: {stored['priv']}")
    assert stat.S_IMODE(data.snmp_keys.stat().st_mode) == 0o600
    assert make_snmp_credentials(data) is None  # kept, not shown again
    assert json.loads(data.snmp_keys.read_text()) == stored


@pytest.mark.parametrize("content", ["", "[]", "{}", '{"user": "u", "auth": "short", "priv": "long-enough",'
                                     ' "engine_id": "8001869f05aabbccdd"}',
                                     '{"user": "u", "auth": "long-enough", "priv": "long-enough", "engine_id": "zz"}',
                                     '{"user": "u", "auth": "long-enough", "priv": "long-enough", "engine_id": "80"}'])
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "snmp.json"
    path.write_text(content)
    with pytest.raises(CredentialsError, match="snmp.json"):
        credentials.load(path)


def test_config_overrides_and_their_checks() -> None:
    base = credentials.generate()
    out = credentials.with_overrides(base, {"v3_user": "nms", "v3_auth_key": "", "v3_priv_key": "p" * 12}, "cfg")
    assert (out.user, out.auth, out.priv, out.engine_id) == ("nms", base.auth, "p" * 12, base.engine_id)
    with pytest.raises(CredentialsError, match="cfg"):
        credentials.with_overrides(base, {"v3_user": "x" * 33}, "cfg")


def test_engine_boots_grow_at_every_start(tmp_path: Path) -> None:
    path = tmp_path / "boots"
    assert [credentials.next_engine_boots(path) for _ in range(3)] == [1, 2, 3]
    path.write_text("garbage")
    assert credentials.next_engine_boots(path) == 1
