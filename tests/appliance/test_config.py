"""Configuration: defaults, file, environment overrides, and one clear line for every mistake."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from appliance import config
from appliance.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, {})
    assert cfg.get("web", "port") == 8443
    assert cfg.database_url == f"sqlite:///{tmp_path / 'appliance.db'}"


def test_written_file_is_all_comments_and_loads_to_defaults(tmp_path: Path) -> None:
    text = config.render_default_file()
    (tmp_path / config.CONFIG_FILE).write_text(text)
    for section, keys in config.SCHEMA.items():
        assert f"[{section}]" in text
        for key in keys:
            assert f"# {key} = " in text
    assert config.load(tmp_path, {}).section("snmp") == {k: v.default for k, v in config.SCHEMA["snmp"].items()}


def test_environment_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / config.CONFIG_FILE).write_text("[web]\nport = 9000\n")
    assert config.load(tmp_path, {}).get("web", "port") == 9000
    assert config.load(tmp_path, {"APPLIANCE_WEB_PORT": "9443"}).get("web", "port") == 9443
    assert config.load(tmp_path, {"APPLIANCE_SNMP_PORT": "1610"}).get("snmp", "port") == 1610
    assert config.load(tmp_path, {"APPLIANCE_MAIL_SMTP_PORT": "2526"}).get("mail", "smtp_port") == 2526


@pytest.mark.parametrize("text, env, key, expected", [
    ("[web]\nport = 'abc'\n", {}, "web.port", "port"),
    ("[web]\nport = 70000\n", {}, "web.port", "port"),
    ("[web]\nprot = 1\n", {}, "web.prot", "known key"),
    ("[wbe]\nport = 1\n", {}, "wbe", "known section"),
    ("[web\n", {}, "(syntax)", "valid TOML"),
    ("", {"APPLIANCE_WEB_PORT": "http"}, "APPLIANCE_WEB_PORT", "port"),
    ("", {"APPLIANCE_WEB_PROT": "1"}, "APPLIANCE_WEB_PROT", "known"),
    ("[pbx]\nadapter = 'sip'\n", {}, "pbx.adapter", "simulator"),
])
def test_bad_values_name_key_and_source(tmp_path: Path, text: str, env: dict, key: str, expected: str) -> None:
    (tmp_path / config.CONFIG_FILE).write_text(text)
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path, env)
    message = str(info.value)
    assert key in message and expected in message
    assert ("the environment" if env else config.CONFIG_FILE) in message


def test_cli_stops_with_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / config.CONFIG_FILE).write_text("[web]\nport = 'abc'\n")
    proc = subprocess.run([sys.executable, "-m", "appliance", "check-config"], capture_output=True, text=True,
                          env={"APPLIANCE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "web.port" in lines[0] and "appliance.toml" in lines[0]
    assert "Traceback" not in proc.stderr
