"""One identification function for every channel (D3, B2): who is this caller, sender or writer?

Order: an entered customer number, then the phone number, then the e-mail address, then an external
lookup (CRM over HTTP, SQL …) with a timeout. The lookups are passed in, so this module does no I/O.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping

from appliance.domain.identifiers import normalise

LocalLookup = Callable[[str, str], Awaitable[list[int]]]  # (kind, normalised value) → customer ids
ExternalLookup = Callable[[Mapping[str, str]], Awaitable[Mapping[str, str] | None]]  # probe → identifiers


@dataclass(frozen=True)
class Probe:
    """What a channel knows about the other side; any field may be empty."""

    phone: str = ""
    email: str = ""
    number: str = ""


@dataclass
class Identification:
    """The outcome: the customers found, by which identifier, and what went wrong on the way."""

    customer_ids: list[int] = field(default_factory=list)
    via: str = "none"  # number, phone, email, external, none
    ambiguous: bool = False
    external_error: str = ""
    external_record: dict[str, str] = field(default_factory=dict)  # what the external system answered
    invalid: dict[str, str] = field(default_factory=dict)


def normalised_probe(probe: Probe, region: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The (kind, value) pairs to try in order, and the fields that did not parse."""
    pairs, invalid = [], {}
    for kind, raw in (("number", probe.number), ("phone", probe.phone), ("email", probe.email)):
        if not raw:
            continue
        try:
            pairs.append((kind, normalise(kind, raw, region)))
        except ValueError as exc:
            invalid[kind] = str(exc)
    return pairs, invalid


async def identify(probe: Probe, region: str, local: LocalLookup, external: ExternalLookup | None = None,
                   timeout_s: float = 1.5) -> Identification:
    """Find the customer(s) behind a probe; the external hook gets at most `timeout_s`."""
    pairs, invalid = normalised_probe(probe, region)
    result = Identification(invalid=invalid)
    for kind, value in pairs:
        ids = await local(kind, value)
        if ids:
            result.customer_ids, result.via, result.ambiguous = ids, kind, len(ids) > 1
            return result
    if external is None or not pairs:
        return result
    try:
        found = await asyncio.wait_for(external(dict(pairs)), timeout_s)
    except asyncio.TimeoutError:
        result.external_error = f"timeout after {timeout_s:g} s"
        return result
    except Exception as exc:  # noqa: BLE001 - any failure of a foreign system only costs the hook
        result.external_error = f"{type(exc).__name__}: {exc}"[:200]
        return result
    # The external system answers with identifiers we know (typically the customer number).
    if isinstance(found, Mapping):
        result.external_record = {str(k)[:32]: v[:254] for k, v in list(found.items())[:20] if isinstance(v, str)}
    for kind in ("number", "phone", "email", "external"):
        raw = (found or {}).get(kind)
        if not isinstance(raw, str) or not raw:
            continue
        try:
            ids = await local(kind, normalise(kind, raw, region))
        except ValueError:
            continue
        if ids:
            result.customer_ids, result.via, result.ambiguous = ids, "external", len(ids) > 1
            return result
    return result
