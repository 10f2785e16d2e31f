"""When notifications fire: once per condition, again only after it ended."""
from __future__ import annotations

from appliance.snmp import const
from appliance.snmp.watch import ConditionWatch, Notice, ServiceWatch


def test_service_failed_once_per_outage_again_when_given_up_then_recovered() -> None:
    w = ServiceWatch()
    seen = [w.update("mail", s) for s in ("starting", "running", "backoff", "starting", "backoff",
                                           "failed", "failed", "starting", "running", "running")]
    assert [n for n in seen if n] == [Notice(const.SERVICE_FAILED, "mail"), Notice(const.SERVICE_FAILED, "mail"),
                                      Notice(const.SERVICE_RECOVERED, "mail")]


def test_a_service_that_was_never_reported_recovers_silently() -> None:
    w = ServiceWatch()
    assert w.update("fax", "running") is None and w.update("fax", "stopped") is None


def watch() -> ConditionWatch:
    return ConditionWatch(disk_low_mb=1000, quarantine_step=5, default_sl_target_pct=80)


def test_modem_lost_and_back_on_transitions_only() -> None:
    w = watch()
    assert w.update({}, {"gsm-a": {"state": "down"}}) == []  # first sight: no transition
    assert w.update({}, {"gsm-a": {"state": "up"}}) == []    # never reported lost: no "back"
    assert w.update({}, {"gsm-a": {"state": "busy"}}) == []
    assert w.update({}, {"gsm-a": {"state": "absent"}}) == [Notice(const.MODEM_LOST, "gsm-a")]
    assert w.update({}, {"gsm-a": {"state": "down"}}) == []
    assert w.update({}, {"gsm-a": {"state": "up"}}) == [Notice(const.MODEM_BACK, "gsm-a")]


def test_disk_low_is_edge_triggered() -> None:
    w = watch()
    fired = [w.update({"appliance.disk_free_gb": gb}, {}) for gb in (5, 0.9, 0.5, 2, 0.1, float("nan"))]
    assert [len(f) for f in fired] == [0, 1, 0, 0, 1, 0]


def test_quarantine_growing_per_step_per_channel() -> None:
    w = watch()
    counts = [3, 7, 8, 12, 13, 30]
    fired = [w.update({"intake.mail.quarantined": c, "intake.fax.quarantined": 0}, {}) for c in counts]
    assert [f for f in fired if f] == [[Notice(const.QUARANTINE_GROWING, "mail")]] * 3  # 3->8, 8->13, 13->30


def test_queue_service_level_low_rearms_when_back_at_target() -> None:
    w = watch()
    levels = [95, 79, 60, 85, 70]
    fired = [w.update({"queue.sales.service_level_pct": sl}, {}) for sl in levels]
    assert [len(f) for f in fired] == [0, 1, 0, 0, 1]
    # A queue's own target wins over the configured default.
    assert w.update({"queue.vip.service_level_pct": 85, "queue.vip.service_level_target_pct": 90}, {}) == \
        [Notice(const.QUEUE_SERVICE_LEVEL_LOW, "vip")]
