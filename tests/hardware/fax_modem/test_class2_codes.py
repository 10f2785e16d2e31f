"""The Class 2 / 2.0 report codec: parameter lists, page status, hang-up codes, ids, and the page-data reader."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.fax_modem.t30.caps import Capabilities, Modulation
from hardware.fax_modem.t30.class2_codes import (
    COMMANDS, HANGUP_CAUSES, Dialect, T30Params, caps_of_params, hangup_text, mode_of_params, params_of_caps,
    params_of_mode, parse_hangup, parse_page_status, parse_params, parse_station_id,
)
from hardware.fax_modem.t30.dle_page import PageDataReader
from hardware.fax_modem.t30.errors import ParamError
from hardware.fax_modem.t30.hdlc import dle_encode, reverse_octets
from hardware.fax_modem.t30.pagedata import PageStatus
from hardware.fax_modem.t30.session import PostPage

params = st.builds(T30Params, vr=st.integers(0, 1), br=st.integers(0, 5), wd=st.integers(0, 2), ln=st.integers(0, 2),
                   df=st.integers(0, 3), ec=st.integers(0, 3), bf=st.integers(0, 1), st=st.integers(0, 7))


def test_report_lines_as_efax_and_mgetty_see_them():
    # What efax logs from a Class 2 modem and what mgetty's faxlib parses (+FDCS with and without a space).
    p = parse_params("+FDCS:1,5,0,2,0,0,0,0")
    assert p == T30Params(1, 5, 0, 2, 0, 0, 0, 0)
    assert parse_params("+FCS: 0,3,0,0,1,0,0,5", hexadecimal=True) == T30Params(0, 3, 0, 0, 1, 0, 0, 5)
    assert parse_params("1,5,0,2,0,0,0,0") == p  # a bare +FDIS? answer
    mode = mode_of_params(p)
    assert (mode.bit_rate, mode.modulation, mode.fine, mode.width, mode.two_d) == (14400, Modulation.V17, True, 1728,
                                                                                   False)
    assert mode_of_params(parse_params("0,3,1,0,1,0,0,0")).modulation is Modulation.V29
    assert parse_station_id('+FCSI: "         EFAX RECV"') == "EFAX RECV"
    assert parse_station_id("+FTI:4930123") == "4930123"
    assert parse_hangup("+FHNG:00") == 0 and parse_hangup("+FHS: 25") == 25
    assert parse_page_status("+FPTS:1,2200,0,0,0") == (PageStatus.MCF, (2200, 0, 0, 0))
    assert parse_page_status("+FPS:2,898,A", hexadecimal=True) == (PageStatus.RTN, (0x898, 0xA))


def test_partial_lists_change_only_the_given_fields():
    base = T30Params()
    assert base.merged("0,,2") == T30Params(vr=0, wd=2)
    assert base.merged("0,3", hexadecimal=True) == T30Params(vr=0, br=3)
    with pytest.raises(ParamError):
        base.merged("1,D", hexadecimal=True)  # BR 13 is a V.34 rate: not in our ranges
    with pytest.raises(ParamError):
        base.merged("1,9")
    with pytest.raises(ParamError):
        parse_params("1,5")
    with pytest.raises(ParamError):
        parse_params("1,x,0,0")


def test_dialect_names_follow_t32_renaming():
    assert (COMMANDS[Dialect.CLASS2].session, COMMANDS[Dialect.CLASS20].session) == ("+FDIS", "+FIS")
    assert (COMMANDS[Dialect.CLASS2].hangup, COMMANDS[Dialect.CLASS20].hangup) == ("+FHNG", "+FHS")
    assert (COMMANDS[Dialect.CLASS2].local_id, COMMANDS[Dialect.CLASS20].local_id) == ("+FLID", "+FLI")


def test_hangup_table():
    assert HANGUP_CAUSES[0] == "normal end of connection"
    assert HANGUP_CAUSES[25] == "DCS sent three times without response"
    assert hangup_text(29) == "unspecified transmit phase B error"  # no own entry: its decade says the phase
    assert hangup_text(200).startswith("reserved")
    assert all(hangup_text(code) for code in range(256))


def test_capabilities_and_dis_parameters():
    caps = caps_of_params(T30Params(vr=0, br=3, wd=1, ln=0, df=1, st=4))
    assert (caps.fine, caps.max_rate, caps.max_width, caps.length, caps.two_d, caps.min_scan_ms) == (
        False, 9600, 2048, "A4", True, (20, 10))
    assert Modulation.V17 not in caps.modulations
    assert params_of_caps(Capabilities()) == T30Params(vr=1, br=5, wd=0, ln=2, df=1)


@given(params, st.booleans())
def test_parameter_lists_round_trip(p, hexadecimal):
    assert parse_params(p.format(hexadecimal=hexadecimal), hexadecimal=hexadecimal) == p


@given(st.builds(T30Params, vr=st.integers(0, 1), br=st.integers(0, 5), wd=st.integers(0, 2), ln=st.integers(0, 2),
                 df=st.integers(0, 1), st=st.sampled_from([0, 1, 3, 5, 7])))
def test_modes_round_trip(p):
    assert params_of_mode(mode_of_params(p)) == p


@given(st.text(max_size=40), st.booleans())
def test_garbage_reports_raise_only_param_error(text, hexadecimal):
    for parse in (lambda t: parse_params(t, hexadecimal=hexadecimal), parse_hangup,
                  lambda t: parse_page_status(t, hexadecimal=hexadecimal)):
        try:
            parse(text)
        except ParamError:
            pass
    assert isinstance(parse_station_id(text), str)


@given(st.binary(max_size=300), st.lists(st.integers(1, 50), max_size=8), st.sampled_from([0x03, 0x2C, 0x3B, 0x2E]),
       st.booleans())
def test_page_data_reader_undoes_dle_coding_in_any_chunking(data, cuts, end, reverse):
    stream = dle_encode(data) + bytes((0x10, end)) + b"\r\nAT+FET=2\r"
    reader, out, pos = PageDataReader(reverse), bytearray(), 0
    for size in cuts + [len(stream)]:
        if reader.done:
            break
        out += reader.feed(stream[pos:pos + size])
        pos += size
    assert reader.done
    assert bytes(out) == (reverse_octets(data) if reverse else data)
    assert reader.ppm == {0x03: None, 0x2C: PostPage.MPS, 0x3B: PostPage.EOM, 0x2E: PostPage.EOP}[end]
    assert reader.tail + stream[pos:] == b"\r\nAT+FET=2\r"
