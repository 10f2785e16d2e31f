"""The MIB view builder: values, ordering, lookups, and garbage-tolerance (hypothesis)."""
from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st
from pysnmp.proto import rfc1902

from appliance.snmp import const
from appliance.snmp.view import (IndexMap, Indices, Inputs, MibView, SystemInfo, build_view, counter,
                                 date_and_time, display, gauge, queue_rows, split_metric, ticks)
from appliance.supervisor import ServiceState

SYSTEM = SystemInfo("test appliance", "host-a", "noc", "rack 1")
SERVICES = [{"name": "scheduler", "state": "running", "restarts": 2, "uptime_s": 12.5, "last_error": ""},
            {"name": "fax", "state": "disabled", "restarts": 0, "uptime_s": 0.0, "last_error": "not built"},
            {"name": "mail", "state": "failed", "restarts": 6, "uptime_s": 0.0, "last_error": "boom ü"}]


def inputs(metrics=None, hardware=None, services=SERVICES) -> Inputs:
    return Inputs(SYSTEM, 3.0, "1.2.3", services, metrics or {}, hardware or {}, 500)


def test_service_states_of_the_supervisor_are_all_in_the_mib() -> None:
    assert {s.value for s in ServiceState} == set(const.SERVICE_STATES)


def test_system_group_and_scalars() -> None:
    view = build_view(inputs({"appliance.disk_free_gb": 12.3456, "appliance.db_mb": 1.5,
                              "appliance.load1": 0.42, "appliance.uptime_s": 61.0}), Indices())
    s = const.SYSTEM
    assert bytes(view.get(s + (1, 0))) == b"test appliance"
    assert tuple(view.get(s + (2, 0))) == const.PRODUCT
    assert int(view.get(s + (3, 0))) == 300
    assert bytes(view.get(s + (5, 0))) == b"host-a"
    a = const.APP_SYSTEM
    assert int(view.get(a + (const.APP_DISK_FREE, 0))) == 12345
    assert int(view.get(a + (const.APP_DB_SIZE, 0))) == 1500
    assert int(view.get(a + (const.APP_LOAD, 0))) == 42
    assert int(view.get(a + (const.APP_UPTIME, 0))) == 6100
    assert int(view.get(a + (const.APP_DEGRADED, 0))) == 1  # mail has failed
    assert view.get(a + (const.APP_LOOP_LAG, 0)) is None  # not published: absent, not zero


def test_services_table_in_start_order() -> None:
    view = build_view(inputs(), Indices())
    e = const.SERVICE_ENTRY
    assert [bytes(view.get(e + (2, i))) for i in (1, 2, 3)] == [b"scheduler", b"fax", b"mail"]
    assert [int(view.get(e + (3, i))) for i in (1, 2, 3)] == [3, 1, 5]
    assert int(view.get(e + (4, 3))) == 6
    assert int(view.get(e + (5, 1))) == 1250
    assert bytes(view.get(e + (6, 3))) == b"boom ?"  # DisplayString is ASCII


def test_queue_rows_from_our_names_and_from_the_acd_bridge() -> None:
    rows = queue_rows({"queue.sales.de.waiting": 3, "queue.sales.de.service_level_pct": 90,
                       "queue.hot.agents_free": 2, "queue.hot.agents_working": 5, "queue.hot.agents_logged_in": 7,
                       "queue.hot.service_level": 0.75, "queue.hot.bogus": 1, "queuex.y.waiting": 1})
    assert rows == {"sales.de": {"waiting": 3, "service_level_pct": 90},
                    "hot": {"agents_ready": 2, "agents_busy": 3, "agents_paused": 2, "service_level_pct": 75.0}}


def test_dynamic_rows_keep_their_index() -> None:
    indices = Indices()
    build_view(inputs({"queue.b.waiting": 1}), indices)
    view = build_view(inputs({"queue.a.waiting": 5, "queue.b.waiting": 2}), indices)
    e = const.QUEUE_ENTRY
    assert bytes(view.get(e + (2, 1))) == b"b" and int(view.get(e + (3, 1))) == 2
    assert bytes(view.get(e + (2, 2))) == b"a" and int(view.get(e + (3, 2))) == 5


def test_hardware_row_with_unknown_values_is_sparse() -> None:
    view = build_view(inputs(hardware={"gsm-a": {"type": "gsm_modem", "device": "emu://gsm-a", "state": "up",
                                                 "signal_dbm": -200, "last_activity": None},
                                       "x": {"type": "toaster", "state": "on fire"}}), Indices())
    e = const.HARDWARE_ENTRY
    assert int(view.get(e + (3, 1))) == 3 and int(view.get(e + (6, 1))) == -150  # clamped to the range
    assert view.get(e + (7, 1)) is None
    assert int(view.get(e + (3, 2))) == 1 and int(view.get(e + (5, 2))) == 1  # other, unknown


def test_intake_rows() -> None:
    view = build_view(inputs({"intake.mail.received": 5, "intake.mail.quarantined": 1}), Indices())
    e = const.INTAKE_ENTRY
    assert bytes(view.get(e + (2, 1))) == b"mail"
    assert [int(view.get(e + (c, 1))) for c in (3, 4, 5, 6)] == [5, 1, 0, 0]


def test_value_conversions() -> None:
    assert gauge(float("nan")) is None and int(gauge(-3)) == 0 and int(gauge(1e20)) == 2**32 - 1
    assert int(counter(2**32 + 5)) == 5  # Counter32 wraps (RFC 2578 §7.1.6)
    assert int(ticks(1.234)) == 123 and int(ticks(float("nan"))) == 0
    assert len(bytes(display("x" * 300))) == 255
    assert date_and_time(1e30) is None
    assert bytes(date_and_time(1_790_000_000.25)) == bytes([0x07, 0xEA, 9, 21, 14, 13, 20, 2, 43, 0, 0])
    assert split_metric("queue.a.b.waiting", "queue.", ("waiting",)) == ("a.b", "waiting")
    assert split_metric("queue..waiting", "queue.", ("waiting",)) is None


def test_lookups() -> None:
    view = MibView({(1, 3, 2): rfc1902.Integer32(2), (1, 3, 1, 5): rfc1902.Integer32(1)})
    assert view.next_after((1,)) == ((1, 3, 1, 5), rfc1902.Integer32(1))
    assert view.next_after((1, 3, 1, 5))[0] == (1, 3, 2)
    assert view.next_after((1, 3, 2)) is None
    assert view.has_prefix((1, 3, 1)) and not view.has_prefix((1, 3, 3))
    assert IndexMap().index("a") == 1


names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=False), st.integers(-2**70, 2**70))
metric_names = st.builds(lambda p, n, f: f"{p}{n}.{f}", st.sampled_from(["queue.", "intake.", "appliance.", "x."]),
                         names, st.sampled_from(const.QUEUE_FIELDS + const.INTAKE_FIELDS + const.ACD_QUEUE_FIELDS
                                                + ("uptime_s", "disk_free_gb", "junk")))
rows = st.dictionaries(st.sampled_from(["type", "device", "state", "signal_dbm", "last_activity"]),
                       st.one_of(names, numbers, st.none()), max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(metric_names, numbers, max_size=20), st.dictionaries(names, rows, max_size=4),
       st.lists(st.fixed_dictionaries({"name": names, "state": st.sampled_from(sorted(const.SERVICE_STATES)),
                                       "restarts": st.integers(0, 2**40), "uptime_s": numbers,
                                       "last_error": names}), max_size=5))
def test_any_published_values_build_a_walkable_view(metrics, hardware, services) -> None:
    metrics = {k: float(v) for k, v in metrics.items()}
    view = build_view(inputs(metrics, hardware, services), Indices())
    walked, oid = [], ()
    while (found := view.next_after(oid)) is not None:
        assert found[0] > oid
        oid = found[0]
        walked.append(oid)
    assert walked == [o for o, _ in view.items()]
    for _, value in view.items():
        value.prettyPrint()  # every value is a complete pyasn1 object
    assert not any(isinstance(v, float) and math.isnan(v) for _, v in view.items())
