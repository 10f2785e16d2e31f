"""Tenant isolation of the ACD, call history and fax endpoints: a team lead of tenant B sees none of
tenant A's calls, queues, scripts, calendars, prompts or faxes (404, or an empty list)."""
from __future__ import annotations

import json

from tests.appliance.webui.helpers import login


async def test_team_lead_of_another_tenant_sees_nothing_of_tenant_a(appliance, first_boot, http) -> None:
    from appliance.fax.models import FaxOutbox, FaxRecord
    from appliance.models import Tenant, User
    from appliance.models.acd import AcdQueue, CallRecord, Prompt, QueueScriptVersion
    from appliance.models.auth import utcnow
    from appliance.security.passwords import hash_password

    def setup():
        a, b = Tenant.create(name="A"), Tenant.create(name="B")
        queue = AcdQueue.create(tenant=a, key="a-support", name="A support",
                                calendar=json.dumps({"timezone": "UTC"}))
        QueueScriptVersion.create(queue=queue, version=1, text="queue\n", active=True)
        CallRecord.create(tenant=a, call_id="a-call", caller="+4940111", outcome="answered", arrived_at=utcnow())
        prompt = Prompt.create(tenant=a, name="a-welcome", digest="0" * 64, content_type="audio/wav")
        FaxRecord.create(tenant_id=a.id, message_id=4242, ticket_id=1, modem="fax-a", tiff="0" * 64, pdf="0" * 64)
        job = FaxOutbox.create(tenant_id=a.id, number="+4940", document="0" * 64)
        User.create(username="lead-b", role="team_lead", tenant=b, password_hash=hash_password("Lead-B-Pass-1"))
        return prompt.id, job.id

    prompt_id, job_id = await appliance.db.call(setup)
    await login(http, "lead-b", "Lead-B-Pass-1")
    async with http.get("/api/v1/calls") as r:
        assert r.status == 200 and (await r.json())["items"] == []
    async with http.get("/api/v1/calls.csv") as r:
        assert "a-call" not in await r.text()
    for path in ("/api/v1/acd/queues/a-support/script", "/api/v1/acd/queues/a-support/calendar",
                 f"/api/v1/acd/prompts/{prompt_id}/audio", "/api/v1/fax/received/4242/pdf",
                 f"/api/v1/fax/outbox/{job_id}"):
        async with http.get(path) as r:
            assert r.status == 404, path
    async with http.get("/api/v1/acd/prompts") as r:
        assert all(p["name"] != "a-welcome" for p in (await r.json())["items"])
    async with http.get("/api/v1/acd/snapshot") as r:
        assert all(q["id"] != "a-support" for q in (await r.json())["queues"])
