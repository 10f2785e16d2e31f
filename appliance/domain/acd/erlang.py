"""Analytic estimates for an M/M/c queue (Erlang C): probability of waiting, service level, ASA, staffing.

Erlang B is computed with its recurrence B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)), which stays between 0
and 1 at every step, so thousands of agents and hundreds of Erlangs cost no factorials and no overflow.
Erlang C follows from it: C = c·B / (c − A·(1 − B)).
"""
from __future__ import annotations

import math

from appliance.domain.acd.errors import InvalidValue

MAX_AGENTS = 100_000


def _check(servers: int, traffic: float) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise InvalidValue(f"servers must be an int >= 0, got {servers!r}")
    if not math.isfinite(traffic) or traffic < 0:
        raise InvalidValue(f"traffic must be a finite number of Erlangs >= 0, got {traffic!r}")


def offered_traffic(arrivals_per_s: float, handle_s: float) -> float:
    """Offered load A in Erlangs: arrival rate × mean handle time."""
    if arrivals_per_s < 0 or handle_s <= 0:
        raise InvalidValue("arrival rate must be >= 0 and handle time > 0")
    return arrivals_per_s * handle_s


def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability with `servers` lines and `traffic` Erlangs (no queue)."""
    _check(servers, traffic)
    b = 1.0
    for k in range(1, servers + 1):
        ab = traffic * b
        b = ab / (k + ab)
    return b


def _c_from_b(servers: int, traffic: float, b: float) -> float:
    if traffic >= servers:
        return 1.0
    return servers * b / (servers - traffic * (1.0 - b))


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arriving call waits (1.0 when the load reaches or exceeds the agents)."""
    _check(servers, traffic)
    if traffic == 0:
        return 0.0
    return _c_from_b(servers, traffic, erlang_b(servers, traffic))


def _sl(servers: int, traffic: float, c: float, handle_s: float, target_s: float) -> float:
    if traffic >= servers:
        return 0.0
    return max(0.0, 1.0 - c * math.exp(-(servers - traffic) * target_s / handle_s))


def service_level(servers: int, traffic: float, handle_s: float, target_s: float) -> float:
    """Fraction of calls answered within target_s: 1 − C·exp(−(c − A)·t / h)."""
    if handle_s <= 0 or target_s < 0:
        raise InvalidValue("handle time must be > 0 and the target >= 0")
    return _sl(servers, traffic, erlang_c(servers, traffic), handle_s, target_s)


def average_speed_of_answer(servers: int, traffic: float, handle_s: float) -> float:
    """Mean wait over all calls, C·h / (c − A); infinite when the load reaches the agents."""
    if handle_s <= 0:
        raise InvalidValue("handle time must be > 0")
    c = erlang_c(servers, traffic)
    if traffic >= servers:
        return math.inf
    return c * handle_s / (servers - traffic)


def occupancy(servers: int, traffic: float) -> float:
    """Share of agent time spent on calls, A / c (capped at 1)."""
    _check(servers, traffic)
    return min(1.0, traffic / servers) if servers else 1.0


def agents_needed(arrivals_per_s: float, handle_s: float, target_sl: float, target_s: float,
                  max_occupancy: float = 1.0) -> int:
    """The fewest agents giving at least `target_sl` answered within `target_s` (and occupancy ≤ the cap)."""
    if not 0.0 <= target_sl < 1.0:
        raise InvalidValue(f"target service level must be a fraction in [0, 1), got {target_sl!r}")
    if not 0.0 < max_occupancy <= 1.0:
        raise InvalidValue(f"max occupancy must be in (0, 1], got {max_occupancy!r}")
    traffic = offered_traffic(arrivals_per_s, handle_s)
    if traffic == 0:
        return 0
    # the recurrence is extended one agent at a time, so the search costs O(answer), not O(answer²)
    b = 1.0
    for n in range(1, MAX_AGENTS + 1):
        ab = traffic * b
        b = ab / (n + ab)
        if n <= traffic or traffic / n > max_occupancy:
            continue
        if _sl(n, traffic, _c_from_b(n, traffic, b), handle_s, target_s) >= target_sl:
            return n
    raise InvalidValue(f"more than {MAX_AGENTS} agents would be needed")
