"""PDU codec: published vectors, round-trip properties, decoder fuzzing, CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.gsm import gsm7
from hardware.gsm.errors import GsmError, PduError
from hardware.gsm.fields import Address, Alphabet, Dcs, Ton, UserDataHeader, ValidityPeriod
from hardware.gsm.pdu import (
    DeliverPdu, StatusReportPdu, SubmitPdu, cmgs_length, decode_hex, decode_pdu, encode_pdu, split_text,
)
from hardware.gsm.pdu_cli import describe

ROOT = Path(__file__).resolve().parents[3]
VECTORS = json.loads((ROOT / "tests/data/gsm/vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTORS["pdus"], ids=lambda v: v["name"])
def test_published_vector_decodes_to_stated_fields(vector: dict) -> None:
    msg = decode_hex(vector["hex"], smsc=vector["smsc"])
    view = describe(msg)
    for key, want in vector["expect"].items():
        if key == "validity_seconds":
            assert view["validity"]["relative_seconds"] == want
        elif key == "concat":
            assert [view["concat"][k] for k in ("reference", "total", "sequence")] == want
        elif key == "text_prefix":
            assert view["text"].startswith(want)
        elif key == "udh_count":
            assert len(view["udh"]) == want
        elif key == "dcs_alphabet":
            assert view["dcs"]["alphabet"] == want
        elif key == "dcs_class":
            assert view["dcs"]["class"] == want
        else:
            assert view[key] == want, key


@pytest.mark.parametrize("vector", [v for v in VECTORS["pdus"] if v["reencode"]], ids=lambda v: v["name"])
def test_published_vector_reencodes_to_same_bytes(vector: dict) -> None:
    msg = decode_hex(vector["hex"], smsc=vector["smsc"])
    assert encode_pdu(msg, smsc=vector["smsc"]).hex().upper() == vector["hex"].upper()


@pytest.mark.parametrize("vector", VECTORS["charsets"], ids=lambda v: v["name"])
def test_national_and_extension_tables(vector: dict) -> None:
    data = bytes.fromhex(vector["hex"])
    # These TPDUs carry no SMSC prefix and no UDH; the tables are chosen out of band, as in the source.
    udl = data[13]
    septets = gsm7.unpack(data[14:], udl)
    assert gsm7.decode(septets, vector["locking"], vector["single"]) == vector["text"]


def test_national_tables_selected_by_udh_round_trip() -> None:
    text = "Ğüzel bir gün: şimdi İstanbul'dayız ı"
    assert not gsm7.can_encode(text)
    [part] = split_text(text, "+905321234567", national=gsm7.Language.TURKISH)
    assert part.dcs.alphabet == Alphabet.GSM7
    # The single shift table alone carries ğ ş İ ı Ğ; the locking table is only added when needed.
    assert part.udh is not None and part.udh.single_shift == 1
    back = decode_pdu(encode_pdu(part))
    assert back.text == text


def test_concatenated_ucs2_vector_joins_to_whole_text() -> None:
    parts = [decode_hex(v["hex"]) for v in VECTORS["pdus"] if v["name"].startswith("ofono_assembly_")]
    parts.sort(key=lambda p: p.concat.sequence)
    text = "".join(p.text for p in parts)
    assert text.startswith("Итак, Александр") and text.endswith("был наг.")
    assert {p.concat.reference for p in parts} == {30}


def test_split_sizes_follow_the_153_and_67_limits() -> None:
    assert len(split_text("a" * 160, "+1")) == 1
    two = split_text("a" * 161, "+1", reference=9)
    assert [len(p.text) for p in two] == [153, 8]
    assert [p.concat.sequence for p in two] == [1, 2] and two[0].concat.total == 2
    assert two[0].concat.reference == 9
    assert len(split_text("Ж" * 70, "+1")) == 1
    assert [len(p.text) for p in split_text("Ж" * 71, "+1")] == [67, 4]
    wide = split_text("a" * 400, "+1", reference=0x1234, wide_reference=True)
    assert [len(p.text) for p in wide] == [152, 152, 96]
    assert wide[0].concat.wide and wide[0].concat.reference == 0x1234


def test_split_never_cuts_an_escape_or_a_surrogate_pair() -> None:
    parts = split_text("a" * 152 + "€" + "b" * 10, "+1")  # € takes 2 septets; 152 + 2 > 153
    assert parts[0].text == "a" * 152 and parts[1].text == "€" + "b" * 10
    emoji = split_text("Ж" * 66 + "😀" + "x" * 5, "+1")  # 66 + 2 UTF-16 units > 67
    assert emoji[0].text == "Ж" * 66 and emoji[1].text == "😀xxxxx"


def test_extension_chars_count_double_for_the_single_part_limit() -> None:
    assert len(split_text("€" * 80, "+1")) == 1
    assert len(split_text("€" * 81, "+1")) == 2


def test_cmgs_length_excludes_smsc_prefix() -> None:
    raw = bytes.fromhex("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    assert cmgs_length(raw) == len(raw) - 8
    assert cmgs_length(bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")) == 23


@pytest.mark.parametrize("hex_text, fragment", [
    ("", "empty PDU"),
    ("07917283010010", "SMSC address length 7"),
    ("0004", "address"),
    ("00040B9172830100", "truncated"),
    ("00000B917283010010F50000993092516195800AE832", "truncated"),
    ("00400B917283010010F50000993092516195800A0A000301020100AAAA", "UDH length 10"),
    ("00000B917283010010F5000099309251619580A1", "TP-UDL 161"),
    ("00000B917283010010F500089930925161958003AAAAAA", "odd length"),
    ("00000B917283010010F50000991332516195800100", "month"),
    ("zz", "not valid hex"),
])
def test_bad_input_raises_pdu_error_naming_the_problem(hex_text: str, fragment: str) -> None:
    with pytest.raises(PduError, match=fragment):
        decode_hex(hex_text)


def test_pdu_error_is_a_gsm_error() -> None:
    assert issubclass(PduError, GsmError)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_decoder_fuzz_raises_only_pdu_error(data: bytes, with_smsc: bool) -> None:
    try:
        msg = decode_pdu(data, smsc=with_smsc)
    except PduError:
        return
    assert isinstance(msg, (DeliverPdu, SubmitPdu, StatusReportPdu))
    describe(msg)  # the JSON view of anything decodable must work too


GSM_TEXT = st.text(alphabet=st.sampled_from(gsm7.DEFAULT_TABLE.replace("\x1b", "") + "€[]{}|^~\\\f"), max_size=500)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


def _round_trip(text: str, **options: object) -> list[SubmitPdu]:
    parts = split_text(text, "+46708251358", **options)
    decoded = [decode_pdu(encode_pdu(p)) for p in parts]
    assert all(isinstance(p, SubmitPdu) for p in decoded)
    joined = "".join(p.text for p in decoded)  # type: ignore[misc]
    if decoded[0].dcs.alphabet == Alphabet.UCS2:
        joined = joined.encode("utf-16-be", "surrogatepass").decode("utf-16-be")
    assert joined == text
    for raw in (encode_pdu(p) for p in parts):
        assert cmgs_length(raw) <= 13 + 140  # header of a SUBMIT with a 12-digit number + UD
    return parts


@settings(max_examples=150, deadline=None)
@given(GSM_TEXT)
def test_round_trip_gsm7_text_with_extension_chars(text: str) -> None:
    parts = _round_trip(text, reference=200)
    assert all(p.dcs.alphabet == Alphabet.GSM7 for p in parts)


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT)
def test_round_trip_any_text_including_emoji(text: str) -> None:
    _round_trip(text, reference=3)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.sampled_from("😀🎉👍€Жa"), min_size=60, max_size=300))
def test_round_trip_emoji_heavy_text_16bit_reference(text: str) -> None:
    _round_trip(text, reference=0xBEEF, wide_reference=True)


ADDRESSES = st.one_of(
    st.from_regex(r"\+[1-9][0-9]{3,14}", fullmatch=True).map(Address.parse),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True).map(Address.parse),
    st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "),
            min_size=1, max_size=11).filter(lambda s: s.strip() == s and not s.isdigit()).map(
        lambda s: Address(s, Ton.ALPHANUMERIC, 0)),
)
STAMPS = st.builds(
    lambda dt, q: dt.replace(tzinfo=timezone(timedelta(minutes=15 * q))),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2069, 12, 31)).map(
        lambda d: d.replace(microsecond=0)),
    st.integers(min_value=-79, max_value=79),
)


@settings(max_examples=150, deadline=None)
@given(ADDRESSES, STAMPS, GSM_TEXT.map(lambda t: t[:150]), st.booleans())
def test_round_trip_deliver(sender: Address, stamp: datetime, text: str, more: bool) -> None:
    msg = DeliverPdu(sender=sender, timestamp=stamp, text=text, smsc=Address.parse("+4670000000"),
                     more_messages=more)
    back = decode_pdu(encode_pdu(msg))
    assert back == msg
    assert back.timestamp.utcoffset() == stamp.utcoffset()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), STAMPS, STAMPS, st.integers(0, 255))
def test_round_trip_status_report(ref: int, scts: datetime, dt: datetime, status: int) -> None:
    msg = StatusReportPdu(reference=ref, recipient=Address.parse("+4915259911630"), timestamp=scts,
                          discharge_time=dt, status=status)
    assert decode_pdu(encode_pdu(msg)) == msg


@pytest.mark.parametrize("validity", [
    ValidityPeriod(relative=timedelta(minutes=5)),
    ValidityPeriod(relative=timedelta(hours=12, minutes=30)),
    ValidityPeriod(relative=timedelta(days=30)),
    ValidityPeriod(relative=timedelta(weeks=63)),
    ValidityPeriod(absolute=datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))),
    ValidityPeriod(relative=timedelta(seconds=90), enhanced=bytes([0x02, 90, 0, 0, 0, 0, 0])),
])
def test_validity_period_forms_round_trip(validity: ValidityPeriod) -> None:
    msg = SubmitPdu(to=Address.parse("+123"), text="vp", validity=validity, status_report_request=True)
    back = decode_pdu(encode_pdu(msg))
    assert back == msg


def test_relative_validity_rounds_up_to_next_step() -> None:
    msg = SubmitPdu(to=Address.parse("+1"), text="x", validity=ValidityPeriod(relative=timedelta(minutes=7)))
    back = decode_pdu(encode_pdu(msg))
    assert back.validity.relative == timedelta(minutes=10)


def test_eight_bit_payload_round_trip_with_udh() -> None:
    udh = UserDataHeader.build()
    msg = SubmitPdu(to=Address.parse("+1"), text=None, payload=bytes(range(130)), dcs=Dcs.for_alphabet(Alphabet.DATA8),
                    udh=udh)
    back = decode_pdu(encode_pdu(msg))
    assert back.payload == bytes(range(130)) and back.text is None


def test_encoder_rejects_what_it_cannot_carry() -> None:
    with pytest.raises(PduError, match="not in the GSM 7-bit alphabet"):
        encode_pdu(SubmitPdu(to=Address.parse("+1"), text="Ж"))
    with pytest.raises(PduError, match="septets"):
        encode_pdu(SubmitPdu(to=Address.parse("+1"), text="a" * 161))
    with pytest.raises(PduError, match="time zone"):
        encode_pdu(DeliverPdu(sender=Address.parse("+1"), timestamp=datetime(2020, 1, 1)))
    with pytest.raises(PduError, match="255"):
        split_text("a" * (153 * 256), "+1")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hardware.gsm.pdu", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_cli_decode_prints_json() -> None:
    out = _cli("decode", "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["sender"] == "27838890001" and view["text"] == "hellohello"
    assert view["timestamp"] == "1999-03-29T15:16:59+02:00" and view["smsc"] == "+27381000015"
    assert view["type"] == "SMS-DELIVER" and view["dcs"]["alphabet"] == "gsm7" and view["concat"] is None


def test_cli_encode_prints_parts_with_cmgs_length() -> None:
    out = _cli("encode", "--to", "+46708251358", "--smsc", "+27381000015", "x" * 200)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")[:-1]
    assert len(lines) == 2
    for line in lines:
        hex_pdu, length = line.split()
        raw = bytes.fromhex(hex_pdu)
        assert int(length) == cmgs_length(raw)
        assert decode_pdu(raw).smsc == Address.parse("+27381000015")


def test_cli_bad_input_exits_2_with_one_line() -> None:
    out = _cli("decode", "0004")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error:")
