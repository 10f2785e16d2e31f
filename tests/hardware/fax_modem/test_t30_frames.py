"""T.30 frame, FIF and HDLC/DLE codecs: published values, efax's own frames, round trips, fuzzing."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.fax_modem.t30 import FCF, Capabilities, Frame, FrameError, Mode, Modulation, T30Error, negotiate
from hardware.fax_modem.t30.caps import decode_dcs, decode_dis, encode_dcs, encode_dis, fallback
from hardware.fax_modem.t30.errors import DleError
from hardware.fax_modem.t30.frames import decode_frame, decode_id, encode_frame, encode_id, id_frame
from hardware.fax_modem.t30.hdlc import DleDecoder, dle_decode, dle_encode, fcs, fcs_ok, strip_fcs

EFAX_FRAMES = {
    line.split("|")[0].strip(): bytes.fromhex(line.split("|")[1].strip())
    for line in (Path(__file__).parents[2] / "data/fax/efax_class1_frames.txt").read_text().splitlines()
    if line and not line.startswith("#")
}


def test_crc16_x25_check_value():
    # ISO/IEC 13239 FCS = CRC-16/X.25; its published check value over "123456789" is 0x906E.
    assert fcs(b"123456789") == bytes((0x6E, 0x90))
    assert fcs_ok(b"123456789" + fcs(b"123456789"))
    assert not fcs_ok(b"123456789\x00\x00")


def test_strip_fcs_only_when_valid():
    frame = encode_frame(Frame(FCF.MCF))
    assert strip_fcs(frame + fcs(frame)) == frame
    assert strip_fcs(frame) == frame


def test_dis_goes_on_the_wire_bit_reversed():
    # T.30 §5.3.6.1: DIS is "0000 0001" first bit leftmost; octets go LSB first, so 0x80 crosses the port.
    assert encode_frame(Frame(FCF.DIS, encode_dis(Capabilities())))[:3] == b"\xff\x13\x80"
    assert encode_frame(Frame(FCF.CSI, encode_id("x"), final=False))[:3] == b"\xff\x03\x40"
    assert encode_frame(Frame(FCF.DCN, x=True)) == b"\xff\x13\xfb"


def test_efax_frames_decode_as_efax_meant_them():
    assert decode_frame(EFAX_FRAMES["MPS"]) == Frame(FCF.MPS, x=True)
    assert decode_frame(EFAX_FRAMES["EOP"]).fcf is FCF.EOP
    assert decode_frame(EFAX_FRAMES["MCF"]) == Frame(FCF.MCF)
    assert decode_frame(EFAX_FRAMES["DCN"]).fcf is FCF.DCN
    tsi = decode_frame(EFAX_FRAMES["TSI"])
    assert (tsi.fcf, tsi.final, tsi.x, decode_id(tsi.fif)) == (FCF.TSI, False, True, "EFAX SENDER")
    assert decode_id(decode_frame(EFAX_FRAMES["CSI"]).fif) == "EFAX RECV"
    dcs = decode_frame(EFAX_FRAMES["DCS"])
    # efax printed: session 196lpi 14.4kbps 8.5"/215mm any 1D - - 0ms
    assert decode_dcs(dcs.fif) == Mode(14400, Modulation.V17, fine=True, two_d=False, width=1728,
                                       length="unlimited", min_scan_ms=0)


def test_our_frames_match_efax_bytes():
    assert encode_frame(id_frame(FCF.TSI, "EFAX SENDER", x=True)) == EFAX_FRAMES["TSI"]
    assert encode_frame(id_frame(FCF.CSI, "EFAX RECV")) == EFAX_FRAMES["CSI"]
    mode = Mode(14400, Modulation.V17, fine=True, two_d=False, length="unlimited", min_scan_ms=0)
    ours = encode_frame(Frame(FCF.DCS, encode_dcs(mode), x=True))
    # efax sends a 3-octet FIF; ours has a fourth (bit 24 "extend" set, ECM bits clear): same mode.
    assert ours[:5] == EFAX_FRAMES["DCS"][:5] and ours[5] == EFAX_FRAMES["DCS"][5] | 0x80
    assert decode_dcs(decode_frame(ours).fif) == decode_dcs(decode_frame(EFAX_FRAMES["DCS"]).fif)


@pytest.mark.parametrize("rate,mod", [(2400, Modulation.V27TER), (4800, Modulation.V27TER), (7200, Modulation.V29),
                                      (9600, Modulation.V29), (7200, Modulation.V17), (9600, Modulation.V17),
                                      (12000, Modulation.V17), (14400, Modulation.V17)])
@pytest.mark.parametrize("width", [1728, 2048, 2432])
def test_dcs_round_trip(rate, mod, width):
    mode = Mode(rate, mod, fine=False, two_d=True, width=width, length="B4", min_scan_ms=10)
    assert decode_dcs(encode_dcs(mode)) == mode


def test_dis_round_trip_and_id_reversal():
    caps = Capabilities(modulations=(Modulation.V27TER, Modulation.V29), fine=False, two_d=False, max_width=2048,
                        length="B4", min_scan_ms=(20, 10))
    assert decode_dis(encode_dis(caps)) == caps
    assert encode_id("+49 30 1234")[:4] == b"4321"
    assert decode_id(encode_id("A" * 30)) == "A" * 20


def test_negotiation_picks_best_common_mode_and_falls_back():
    ours = Capabilities()
    v29_only = Capabilities(modulations=(Modulation.V27TER, Modulation.V29), fine=False, two_d=False,
                            min_scan_ms=(10, 5))
    mode = negotiate(ours, v29_only)
    assert (mode.bit_rate, mode.modulation, mode.fine, mode.two_d, mode.min_scan_ms) == (
        9600, Modulation.V29, False, False, 10)
    steps = [mode.bit_rate]
    while (mode := fallback(mode, v29_only, ours)) is not None:
        steps.append(mode.bit_rate)
    assert steps == [9600, 7200, 4800, 2400]
    assert negotiate(ours, ours).bit_rate == 14400


def test_bad_frames_raise_frame_error():
    for data in (b"", b"\xff\x13", b"\x00\x13\x80", b"\xff\x55\x80", b"\xff\x13\x00", b"\xff\x13\x80\x00"):
        with pytest.raises(FrameError):
            decode_frame(data)


def test_dle_coding():
    data = bytes(range(256)) * 2
    assert dle_decode(dle_encode(data) + b"\x10\x03") == data
    decoder = DleDecoder()
    out = decoder.feed(b"ab\x10") + decoder.feed(b"\x10c\x10\x1a\x10\x03OK\r\n")
    assert (out, decoder.done, decoder.tail) == (b"ab\x10c\x10\x10", True, b"OK\r\n")
    with pytest.raises(DleError):
        dle_decode(b"no end")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_frame_decoders_raise_only_declared_errors(data):
    for decode in (decode_frame, decode_dis, decode_dcs, dle_decode):
        try:
            decode(data)
        except T30Error:
            pass
    DleDecoder().feed(data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(FCF)), st.binary(max_size=40), st.booleans(), st.booleans())
def test_frame_round_trip(fcf, fif, final, x):
    fif = fif.ljust(3, b"\0") if fcf in (FCF.DIS, FCF.DTC, FCF.DCS) else fif
    if fcf in (FCF.CSI, FCF.TSI, FCF.CIG) and not fif:
        fif = b" "
    frame = decode_frame(encode_frame(Frame(fcf, fif, final, x)))
    assert (frame.fcf, frame.fif, frame.final) == (fcf, fif, final)
