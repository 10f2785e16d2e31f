"""The [sms] modem list: names, numbers and PINs position by position, and the errors a person sees."""
from __future__ import annotations

import pytest

from appliance import config
from appliance.errors import ConfigError
from appliance.sms.errors import SmsConfigError
from appliance.sms.modems import parse_modems


def test_defaults_give_the_emulated_modem_a_number() -> None:
    [spec] = parse_modems("emu://gsm-a")
    assert (spec.name, spec.url, spec.number, spec.pin, spec.emulated) == ("gsm-a", "emu://gsm-a", "+46700000100",
                                                                           None, True)


def test_names_numbers_and_pins_line_up() -> None:
    specs = parse_modems("serial:///dev/ttyUSB0?baud=115200, tcp://10.0.0.5:4001,/dev/ttyUSB0, emu://x",
                         "+49 30 1234567, 0301234568", "1234,,0000")
    assert [s.name for s in specs] == ["ttyUSB0", "10.0.0.5-4001", "ttyUSB0-2", "x"]
    assert [s.number for s in specs] == ["+49301234567", "+49301234568", "", "+46700000103"]
    assert [s.pin for s in specs] == ["1234", None, "0000", None]


@pytest.mark.parametrize("modems,numbers,pins,says", [
    ("emu://a", "+491,+492", "", "numbers lists 2 numbers for 1 modems"),
    ("emu://a", "", "1,2", "pins lists 2 PINs"),
    ("emu://a", "not a number", "", "numbers entry 'not a number' is not a phone number"),
    ("emu://a", "", "12ab", "pins entry 1 must be 4-8 digits"),
    ("ttyUSB0", "", "", "is not a URL"),
])
def test_mistakes_name_the_key(modems: str, numbers: str, pins: str, says: str) -> None:
    with pytest.raises(SmsConfigError, match=says):
        parse_modems(modems, numbers, pins)


def test_config_keys_are_checked_at_load(tmp_path) -> None:
    (tmp_path / config.CONFIG_FILE).write_text('[sms]\nsend_attempts = 0\n')
    with pytest.raises(ConfigError, match="sms.send_attempts"):
        config.load(tmp_path, {})
    (tmp_path / config.CONFIG_FILE).write_text('[sms]\nmodems = "emu://gsm-a,emu://gsm-b"\npoll_s = 5\n')
    cfg = config.load(tmp_path, {"APPLIANCE_SMS_STATUS_REPORTS": "false"})
    assert cfg.get("sms", "poll_s") == 5.0 and cfg.get("sms", "status_reports") is False
