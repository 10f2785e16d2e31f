"""B11 caller-number routing, B20 extensions, B19 masking, skills validation."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain.acd import (AcdConfigError, Agent, CallerRouter, CallerRule, InvalidExtension, QueueConfig,
                                  mask_number, validate_extension)
from tests.domain.acd.helpers import agent, engine_with, new_call, offer_of

SE_RULES = [CallerRule("08", queue_id="stockholm"), CallerRule("+4631", queue_id="gothenburg"),
            CallerRule("07", skill="mobile", level=3), CallerRule("0047", language="no")]


@pytest.mark.parametrize("number,queue", [
    ("08-123 456 78", "stockholm"), ("+46 8 12345678", "stockholm"), ("0046812345678", "stockholm"),
    ("031-123456", "gothenburg"), ("+4740000000", None), ("", None), ("anonymous", None), ("+861012345678", None),
])
def test_swedish_prefixes_match_however_the_number_is_written(number: str, queue: str | None) -> None:
    target = CallerRouter(SE_RULES, "SE").resolve(number)
    assert (target.rule.queue_id if target else None) == queue


def test_chinese_area_codes_and_mobile_ranges() -> None:
    router = CallerRouter([CallerRule("010", queue_id="beijing"), CallerRule("021", queue_id="shanghai"),
                           CallerRule("138", skill="mobile")], "CN")
    assert router.resolve("010-12345678").rule.queue_id == "beijing"
    assert router.resolve("+86 21 1234 5678").rule.queue_id == "shanghai"
    assert router.resolve("13812345678").rule.skill == "mobile"


def test_longest_prefix_wins_and_rules_steer_the_engine() -> None:
    router = CallerRouter([CallerRule("+46", queue_id="se"), CallerRule("07", skill="mobile", level=3)], "SE")
    engine = engine_with([QueueConfig("se"), QueueConfig("default")],
                         [agent("desk", "1"), agent("mob", "2", skills={"mobile": 4})], {"desk": 0.0, "mob": 5.0})
    call = new_call("c1", caller="070-123 45 67")
    queue_id, target = router.apply(call, "default")
    assert queue_id == "default" and target is not None and target.matched_prefix == "+467"
    engine.enqueue(call, queue_id, 10.0)
    assert offer_of(engine.route(10.0), "c1").agent_ids == ("mob",)  # desk has been idle longer, lacks the skill


def test_caller_rules_are_checked() -> None:
    with pytest.raises(AcdConfigError):
        CallerRule("08")
    with pytest.raises(AcdConfigError):
        CallerRouter([CallerRule("08", queue_id="a"), CallerRule("+468", queue_id="b")], "SE")
    with pytest.raises(AcdConfigError):
        CallerRouter([CallerRule("08x", queue_id="a")], "SE")
    with pytest.raises(AcdConfigError):
        CallerRouter([], "XX")


@given(st.text(max_size=20))
def test_resolving_garbage_never_raises(number: str) -> None:
    target = CallerRouter(SE_RULES, "SE").resolve(number)
    assert target is None or target.number.startswith(target.matched_prefix)


@pytest.mark.parametrize("ext", ["1", "42", "123456", "000"])
def test_extensions_of_one_to_six_digits(ext: str) -> None:
    assert validate_extension(ext) == ext
    assert Agent("a", ext).extension == ext


@pytest.mark.parametrize("ext", ["", "1234567", "12a", " 12", "١٢", "+46", "12\n"])
def test_other_extensions_are_refused(ext: str) -> None:
    with pytest.raises(InvalidExtension):
        validate_extension(ext)


@given(st.text(max_size=10))
def test_extension_rule_is_exactly_one_to_six_ascii_digits(ext: str) -> None:
    ok = 1 <= len(ext) <= 6 and all(c in "0123456789" for c in ext)
    try:
        validate_extension(ext)
        assert ok
    except InvalidExtension:
        assert not ok


def test_skill_levels_must_be_one_to_ten() -> None:
    for bad in [{"sv": 0}, {"sv": 11}, {"sv": True}, {"": 3}, {"sv": 2.5}]:
        with pytest.raises(AcdConfigError):
            Agent("a", "1", skills=bad)  # type: ignore[arg-type]
        with pytest.raises(AcdConfigError):
            QueueConfig("q", skills=bad)  # type: ignore[arg-type]


def test_masking_keeps_separators_and_the_chosen_tail() -> None:
    assert mask_number("+46 70-123 45 67", 2) == "+** **-*** ** 67"
    assert mask_number("0701234567") == "**********"
    assert mask_number("") == ""
