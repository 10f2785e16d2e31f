"""Identifier normalisation (E.164, e-mail, customer numbers) and the identification order (D3, B2)."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, strategies as st

from appliance.domain import identifiers as ids
from appliance.domain.errors import ValidationError
from appliance.domain.identify import Probe, identify


@pytest.mark.parametrize("raw,region,e164", [
    ("030 1234567", "DE", "+49301234567"), ("+49 (30) 123 45 67", "DE", "+49301234567"),
    ("0049 30 1234567", "AT", "+49301234567"), ("01 234567", "AT", "+431234567"),
    ("(212) 555-0100", "US", "+12125550100"), ("+33 1 23 45 67 89", "DE", "+33123456789"),
])
def test_phone_numbers_become_e164(raw: str, region: str, e164: str) -> None:
    assert ids.normalise_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "abc", "+1 2", "1" * 41, "+49"])
def test_bad_phone_numbers(raw: str) -> None:
    with pytest.raises(ValueError):
        ids.normalise_phone(raw)


def test_emails_and_customer_numbers() -> None:
    assert ids.normalise_email(" <Anna.Schmidt@Example.DE> ") == "anna.schmidt@example.de"
    for bad in ("anna", "a@b", "a b@c.de", "a@-b.de", "x" * 65 + "@a.de"):
        with pytest.raises(ValueError):
            ids.normalise_email(bad)
    assert ids.normalise_customer_number(" k 100-2 ") == "K100-2"
    with pytest.raises(ValueError):
        ids.normalise_customer_number("K#1")


def test_normalise_all_names_each_bad_entry() -> None:
    with pytest.raises(ValidationError) as info:
        ids.normalise_all({"email": ["ok@x.de", "bad"], "phone": ["nope"]}, "DE")
    assert set(info.value.fields) == {"emails[1]", "phones[0]"}
    assert ids.normalise_all({"email": ["A@x.de", "a@X.de"]}, "DE") == [("email", "a@x.de")]


@given(st.text(max_size=60), st.sampled_from(["phone", "email", "number", "external", "fax"]),
       st.sampled_from(["DE", "US", "", "ZZ"]))
def test_garbage_raises_only_value_error(raw: str, kind: str, region: str) -> None:
    try:
        out = ids.normalise(kind, raw, region)
    except ValueError:
        return
    assert out == ids.normalise(kind, out, region)  # idempotent


def test_identification_order_and_external_hook_with_timeout() -> None:
    known = {("number", "K1"): [1], ("phone", "+49301234567"): [2], ("email", "x@y.de"): [3, 4],
             ("number", "EXT9"): [9]}

    async def local(kind: str, value: str) -> list[int]:
        return known.get((kind, value), [])

    async def crm(probe):
        return {"number": "ext9"}

    async def slow(probe):
        await asyncio.sleep(5)

    async def broken(probe):
        raise ConnectionError("refused")

    async def scenario() -> None:
        r = await identify(Probe(phone="030 1234567", number="k1"), "DE", local)
        assert (r.customer_ids, r.via) == ([1], "number")
        r = await identify(Probe(phone="030 1234567", email="x@y.de"), "DE", local)
        assert (r.customer_ids, r.via) == ([2], "phone")
        r = await identify(Probe(email="X@Y.de"), "DE", local)
        assert r.ambiguous and r.via == "email"
        r = await identify(Probe(email="new@y.de"), "DE", local, crm)
        assert (r.customer_ids, r.via) == ([9], "external")
        r = await identify(Probe(email="new@y.de"), "DE", local, slow, timeout_s=0.05)
        assert r.customer_ids == [] and "timeout" in r.external_error
        r = await identify(Probe(email="new@y.de", phone="garbage"), "DE", local, broken)
        assert "ConnectionError" in r.external_error and "phone" in r.invalid
    asyncio.run(scenario())
