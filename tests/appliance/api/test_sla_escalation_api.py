"""SLA escalation steps (F8) and due resubmissions (F12) as the scheduler's jobs apply them, seen through HTTP:
the ticket changes, a system message says why, and the audit trail names the job as the author."""
from __future__ import annotations

import datetime as dt

from appliance.models.access.ticket_jobs import escalate_due, wake_resubmissions
from tests.appliance.api.client import admin_client, tenant_with_admin, user_client


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", ""))


async def test_escalation_steps_and_resubmission_are_audited(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    eve, as_eve = await user_client(acme, "eve")
    policy = await acme.post("/sla-policies", {"name": "Gold", "response_minutes": 10, "resolve_minutes": 60,
                                               "escalations": [{"at_percent": 50, "action": "raise_priority"},
                                                               {"at_percent": 90, "action": "reassign_team"}]})
    ticket = await acme.post("/tickets", {"subject": "printer on fire", "sla_id": policy["id"], "priority": 3})
    assert (await as_eve.post("/tickets/next", {}))["id"] == ticket["id"]
    created = at(ticket["created_at"])

    assert await appliance.db.call(escalate_due, created + dt.timedelta(minutes=20)) == []
    assert await appliance.db.call(escalate_due, created + dt.timedelta(minutes=31)) == [
        (ticket["id"], 1, "raise_priority")]
    now = await acme.get(f"/tickets/{ticket['id']}")
    assert (now["priority"], now["owner_id"]) == (2, eve["id"])
    assert await appliance.db.call(escalate_due, created + dt.timedelta(minutes=55)) == [
        (ticket["id"], 2, "reassign_team")]
    now = await acme.get(f"/tickets/{ticket['id']}")
    assert (now["priority"], now["owner_id"]) == (2, None)  # back in the queue for the team
    assert await appliance.db.call(escalate_due, created + dt.timedelta(minutes=70)) == []  # each step once

    notes = [m["body"] for m in (await acme.get(f"/tickets/{ticket['id']}/messages"))["items"]]
    assert notes == ["SLA escalation 1: raise_priority at 50 %", "SLA escalation 2: reassign_team at 90 %"]
    trail = [e for e in (await acme.get("/audit", object_type="ticket", object_id=ticket["id"]))["items"]
             if e["action"] == "sla.escalation"]
    assert [(e["username"], e["user_id"], e["detail"]["level"], e["detail"]["step"]) for e in trail] == [
        ("SLA escalation", None, 1, "raise_priority"), ("SLA escalation", None, 2, "reassign_team")]
    assert trail[0]["detail"]["priority"] == [3, 2] and trail[1]["detail"]["owner_id"] == [eve["id"], None]

    later = await acme.post("/tickets", {"subject": "call back"})
    await acme.post(f"/tickets/{later['id']}/actions", {"action": "resubmit", "until": "2031-01-01T09:00:00Z"})
    assert await appliance.db.call(wake_resubmissions, dt.datetime(2031, 1, 1, 9, 1)) == [later["id"]]
    assert (await acme.get(f"/tickets/{later['id']}"))["state"] == "open"
    woke = [e for e in (await acme.get("/audit", object_type="ticket", object_id=later["id"]))["items"]
            if e["action"] == "resubmission.due"]
    assert len(woke) == 1 and woke[0]["username"] == "resubmission"
