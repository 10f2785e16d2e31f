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


async def test_runner_leaves_messages_on_the_sim_until_the_spool_takes_them() -> None:
    import asyncio

    from appliance.intake.errors import SpoolError
    from appliance.sms.modems import ModemRunner, ModemSpec
    from hardware.gsm.driver import DeliveryReport
    from hardware.gsm.emulator import GsmEmulator
    from hardware.serial import register_emulator

    emu = GsmEmulator()
    unregister = register_emulator("runner-test", emu)
    emu.inject_sms(text="one", sender="+491701234567")
    state = {"fail": True}
    spooled: list = []
    reports: list[DeliveryReport] = []

    async def spool(spec, messages) -> None:
        if state["fail"]:
            raise SpoolError("disk full")
        spooled.extend(messages)

    async def on_report(spec, report) -> None:
        reports.append(report)

    async def wait(pred) -> bool:
        for _ in range(300):
            if pred():
                return True
            await asyncio.sleep(0.02)
        return False
    runner = ModemRunner(ModemSpec("runner-test", "emu://runner-test", "+46700000100", None), spool, on_report,
                         poll_s=0.2, reopen_max_s=0.5)
    task = asyncio.create_task(runner.run())
    try:
        assert await wait(lambda: "disk full" in runner.last_error), runner.health()
        assert sum(len(s) for s in emu.stores.values()) == 1  # not deleted: nothing was spooled
        state["fail"] = False
        assert await wait(lambda: spooled and not any(emu.stores.values())), runner.health()
        assert [m.pdu.text for m in spooled] == ["one"] and runner.received == 1
        assert await wait(lambda: runner.usable)
        result = await runner.modem.send("+491701234567", "answer", status_report=True)
        emu.deliver_report(result.references[0], 0)
        assert await wait(lambda: reports) and reports[0].delivered and reports[0].reference == result.references[0]
        row = runner.hardware_row()
        assert row["type"] == "gsm_modem" and row["state"] == "up" and row["signal_dbm"] == -113 + 2 * emu.rssi
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runner.close()
        unregister()
