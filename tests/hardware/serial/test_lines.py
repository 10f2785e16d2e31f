"""The pure response-line parser: table tests and fuzzing."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.serial.errors import AtCommandError, AtError, AtParseError, CmeError, CmsError
from hardware.serial.lines import (
    AtResponse, Final, LineKind, classify, command_prefix, parse_final, parse_info, split_args, urc_has_body,
)


@pytest.mark.parametrize("line, kind, code, ok", [
    ("OK", Final.OK, None, True),
    ("ERROR", Final.ERROR, None, False),
    ("+CME ERROR: 10", Final.CME_ERROR, 10, False),
    ("+CMS ERROR: 322", Final.CMS_ERROR, 322, False),
    ("+CME ERROR: SIM not inserted", Final.CME_ERROR, None, False),
    ("NO CARRIER", Final.NO_CARRIER, None, False),
    ("BUSY", Final.BUSY, None, False),
    ("NO ANSWER", Final.NO_ANSWER, None, False),
    ("NO DIALTONE", Final.NO_DIALTONE, None, False),
    ("CONNECT", Final.CONNECT, None, True),
    ("CONNECT 9600", Final.CONNECT, None, True),
    ("COMMAND NOT SUPPORT", Final.ERROR, None, False),
])
def test_final_result_codes(line: str, kind: Final, code: int | None, ok: bool) -> None:
    result = parse_final(line)
    assert result is not None
    assert (result.kind, result.code, result.ok) == (kind, code, ok)


@pytest.mark.parametrize("line", ["+CSQ: 20,99", "RING", "OKAY", "CONNECTED", "0", "", "+CME ERRORS"])
def test_not_final(line: str) -> None:
    assert parse_final(line) is None


def test_connect_keeps_its_speed_text() -> None:
    assert parse_final("CONNECT 9600").message == "9600"


@pytest.mark.parametrize("text, args", [
    ('"SM",3', ["SM", "3"]),
    ('1,0,,23', ["1", "0", "", "23"]),
    ('"+46708251358",145', ["+46708251358", "145"]),
    ('"a,b", 7 ', ["a,b", "7"]),
    ('0,"Operator ""X"""', ["0", 'Operator X']),
    ('', [""]),
])
def test_split_args(text: str, args: list[str]) -> None:
    assert split_args(text) == args


def test_unterminated_quote_is_a_parse_error() -> None:
    with pytest.raises(AtParseError):
        split_args('"SM,3')


@pytest.mark.parametrize("line, name, args", [
    ('+CMTI: "SM",3', "+CMTI", ["SM", "3"]),
    ("+CSQ: 21,99", "+CSQ", ["21", "99"]),
    ("RING", "RING", []),
    ("^RSSI:15", "^RSSI", ["15"]),
    ("+CPIN: READY", "+CPIN", ["READY"]),
    ("Manufacturer: ACME", "MANUFACTURER: ACME", []),
])
def test_parse_info(line: str, name: str, args: list[str]) -> None:
    assert parse_info(line) == (name, args)


@pytest.mark.parametrize("cmd, prefix", [
    ("AT+CREG?", "+CREG"), ("AT+CMGS=23", "+CMGS"), ("at+cpms=\"SM\"", "+CPMS"), ("ATI", None),
    ("ATE0", None), ("AT^SYSINFO", "^SYSINFO"), ("AT+", None), ("hello", None),
])
def test_command_prefix(cmd: str, prefix: str | None) -> None:
    assert command_prefix(cmd) == prefix


@pytest.mark.parametrize("line, pending, kind", [
    ("AT+CSQ", "AT+CSQ", LineKind.ECHO),
    ("OK", "AT", LineKind.FINAL),
    ("+CSQ: 12,0", "AT+CSQ", LineKind.INTERMEDIATE),
    ('+CMTI: "SM",1', "AT+CSQ", LineKind.URC),
    ("+CREG: 0,1", "AT+CREG?", LineKind.INTERMEDIATE),
    ("+CREG: 1", "AT+CSQ", LineKind.URC),
    ("+CREG: 1", None, LineKind.URC),
    ("RING", "AT+CMGL=4", LineKind.URC),
    ("0791447758100650040DD0F3", "AT+CMGL=4", LineKind.INTERMEDIATE),
    ("ACME Modem 3000", "ATI", LineKind.INTERMEDIATE),
    ("ACME Modem 3000", None, LineKind.URC),
])
def test_classify(line: str, pending: str | None, kind: LineKind) -> None:
    assert classify(line, pending) == kind


@pytest.mark.parametrize("line, body", [
    ("+CMT: ,24", True), ('+CMT: "+4670",,"26/11/23,12:00:00+04"', True), ("+CBM: 88", True),
    ("+CDS: 25", True), ("+CDS: 6,4,\"+4670\",145,\"26/11/23\",\"26/11/23\",0", False), ('+CMTI: "SM",1', False),
])
def test_two_line_urcs(line: str, body: bool) -> None:
    assert urc_has_body(*parse_info(line)) is body


def test_response_helpers_and_errors() -> None:
    ok = AtResponse("AT+CMGL=4", ("+CMGL: 1,0,,23", "0011", "+CMGL: 2,1,,20", "0022"), parse_final("OK"))
    assert ok.info("+CMGL") == [["1", "0", "", "23"], ["2", "1", "", "20"]]
    assert ok.first("+CMGL") == ["1", "0", "", "23"]
    assert ok.raise_for_error() is ok
    with pytest.raises(AtParseError):
        ok.first("+CSQ")
    with pytest.raises(CmsError) as err:
        AtResponse("AT+CMGS=9", (), parse_final("+CMS ERROR: 322")).raise_for_error()
    assert err.value.code == 322
    with pytest.raises(CmeError):
        AtResponse("AT+CPIN?", (), parse_final("+CME ERROR: 10")).raise_for_error()
    with pytest.raises(AtCommandError):
        AtResponse("ATD1", (), parse_final("BUSY")).raise_for_error()


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=20)))
def test_parser_fuzz_raises_only_at_errors(line: str, pending: str | None) -> None:
    for func in (lambda: parse_final(line), lambda: parse_info(line), lambda: classify(line, pending),
                 lambda: command_prefix(line), lambda: urc_has_body(*parse_info(line))):
        try:
            func()
        except AtError:
            pass
