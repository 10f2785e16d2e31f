"""Tenant isolation: a user of tenant B gets 404/403 from every API endpoint for every object of tenant A.

The routes are enumerated from the running router, so a new endpoint is covered automatically; a route
with a path parameter this test does not know fails the test until someone teaches it.
"""
from __future__ import annotations

import re

import aiohttp

from appliance.webui.api import OPERATIONS
from appliance.webui.api.base import API as API_PREFIX
from appliance.webui.keys import SUPERVISOR
from tests.appliance.api.client import ApiClient, admin_client, tenant_with_admin, user_client

# Every route registered through `appliance.webui.api.base.api()` (and so described in the OpenAPI
# document) is walked with real objects of tenant A; other areas (ACD, calls, mail, quarantine, fax, SMS)
# register theirs with api(..., table=their routes). A route under /api/v1 registered any other way fails.
async def _sms(acme: ApiClient) -> int:
    return (await acme.post("/sms", {"to": "+49 151 23456789", "text": "secret"}, expect=(200, 202)))["id"]


# collection (the path segment after /api/v1/) → async fn(tenant A's admin client) → the id of one object
EXTRA_FACTORIES = {"sms": _sms}

# Bodies that pass validation, so the answer is about the object, not about the body.
BODIES = {
    ("POST", "/api/v1/tickets/{id}/actions"): {"action": "note", "text": "x"},
    ("POST", "/api/v1/tickets/{id}/link"): {"master_id": None},
    ("POST", "/api/v1/tickets/{id}/messages"): {"body": "x"},
    ("POST", "/api/v1/tickets/{id}/steps"): {"name": "x"},
    ("POST", "/api/v1/customers/{id}/activities"): {"kind": "note", "text": "x"},
    ("POST", "/api/v1/acd/queues/{key}/script"): {"text": "queue\n"},
    ("PUT", "/api/v1/acd/queues/{key}/calendar"): {"timezone": "UTC"},
}


async def _populate(acme: ApiClient) -> dict[str, int]:
    """One of everything in tenant A; returns ids by URL collection name."""
    ids: dict[str, int] = {}
    ids["teams"] = (await acme.post("/teams", {"name": "A-team"}))["id"]
    ids["skills"] = (await acme.post("/skills", {"name": "A-skill"}))["id"]
    ids["mailboxes"] = (await acme.post("/mailboxes", {"name": "A-box", "addresses": ["a@a.example"]}))["id"]
    ids["categories"] = (await acme.post("/categories", {"name": "A-cat"}))["id"]
    ids["sla-policies"] = (await acme.post("/sla-policies", {"name": "A-sla"}))["id"]
    ids["profiles"] = (await acme.post("/profiles", {"name": "A-profile", "rights": "tickets.read"}))["id"]
    ids["staff"] = (await acme.post("/staff", {"name": "A person"}))["id"]
    user, _ = await user_client(acme, "a-agent", team_ids=[ids["teams"]])
    ids["users"] = user["id"]
    ids["customers"] = (await acme.post("/customers", {"name": "A customer", "emails": ["c@a.example"],
                                                       "number": "A-1"}))["id"]
    ids["activities"] = (await acme.post(f"/customers/{ids['customers']}/activities",
                                         {"kind": "note", "text": "secret"}))["id"]
    form = aiohttp.FormData()
    form.add_field("file", b"secret contract", filename="contract.txt", content_type="text/plain")
    async with acme.http.post(f"/api/v1/customers/{ids['customers']}/documents", data=form,
                              headers={"Authorization": f"Bearer {acme.token}"}) as resp:
        assert resp.status == 201, await resp.text()
        ids["documents"] = (await resp.json())["id"]
    ticket = await acme.post("/tickets", {"subject": "A ticket", "customer_id": ids["customers"], "body": "secret",
                                          "idempotency_key": "a-key-1"})
    ids["tickets"] = ticket["id"]
    ids["steps"] = (await acme.post(f"/tickets/{ticket['id']}/steps", {"name": "A step"}))["id"]
    ids["tokens"] = (await acme.post("/tokens", {"name": "A token"}))["id"]
    ids["text-blocks"] = (await acme.post("/text-blocks", {"shortcut": "a", "title": "A", "body_text": "secret"}))["id"]
    ids["reply-templates"] = (await acme.post("/reply-templates", {"name": "A", "body_text": "secret"}))["id"]
    ids["wrap-up-codes"] = (await acme.post("/wrap-up-codes", {"code": "a-code", "name": "A secret code"}))["id"]
    ids["tenants"] = ticket["tenant_id"]
    return ids


async def _populate_acd(appliance, acme: ApiClient, ids: dict) -> None:
    """Tenant A's ACD media: a queue, a prompt with a rule, a voice message on A's ticket."""
    import aiohttp
    form = aiohttp.FormData()
    form.add_field("name", "a-secret-prompt")
    form.add_field("language", "en")
    form.add_field("file", b"ID3\x03\x00secret", filename="a.mp3", content_type="audio/mpeg")
    async with acme.http.post(API_PREFIX + "/acd/prompts", data=form,
                              headers={"Authorization": f"Bearer {acme.token}"}) as resp:
        assert resp.status == 201, await resp.text()
        ids["prompts"] = (await resp.json())["id"]
    ids["prompt-rules"] = (await acme.post(f"/acd/prompts/{ids['prompts']}/rules",
                                           {"kind": "holiday", "version": 1}))["id"]
    tenant, ticket = ids["tenants"], ids["tickets"]

    def make():
        from appliance.models import Message
        from appliance.models.acd import AcdQueue
        from appliance.models.acd_media import VoiceMessage
        from appliance.models.acd import CallRecord
        from appliance.models.auth import utcnow
        AcdQueue.create(tenant=tenant, key="a-queue", name="A queue")
        CallRecord.create(tenant=tenant, call_id="a-call", caller="+4940111", outcome="answered", arrived_at=utcnow(),
                          queue_key="a-queue", ticket_id=ticket)
        message = Message.get(Message.ticket == ticket)
        return VoiceMessage.create(tenant=tenant, call_id="a-call", to_address="a@a.example", digest="0" * 64,
                                   ticket_id=ticket, message_id=message.id).id
    ids["voice-messages"] = await appliance.db.call(make)
    ids["key"], ids["name"], ids["call_id"] = "a-queue", "a-secret-prompt", "a-call"


async def _populate_channels(appliance, ids: dict) -> None:
    """Tenant A's channel objects: a fax sent and received, a mail account, outbox mail, an S/MIME
    certificate, a quarantined input."""
    tenant, ticket = ids["tenants"], ids["tickets"]

    def make() -> dict:
        from appliance.fax.models import FaxOutbox, FaxRecord
        from appliance.intake.models import QuarantineEntry
        from appliance.mail.models import MailAccount, MailOutbox, SmimeCredential
        from appliance.models import Message
        message = Message.get(Message.ticket == ticket)
        FaxRecord.create(tenant_id=tenant, message_id=message.id, ticket_id=ticket, modem="fax-a", tiff="0" * 64,
                         pdf="0" * 64)
        # A failed job: a queued one would make the fax service look for its (absent) document.
        return {"fax/outbox": FaxOutbox.create(tenant_id=tenant, number="+4940", document="0" * 64,
                                               state="failed").id,
                "fax/received": message.id,
                "mail/accounts": MailAccount.create(tenant=tenant, mailbox=ids["mailboxes"], name="a-secret",
                                                    host="imap.a.example", port=993, username="a").id,
                "mail/outbox": MailOutbox.create(tenant=tenant, ticket=ticket, mail_from="a@a.example",
                                                 rcpt_to='["c@a.example"]', raw=b"secret", state="failed").id,
                "mail/smime": SmimeCredential.create(tenant=tenant, email="c@a.example", cert_pem="secret").id,
                "quarantine": QuarantineEntry.create(tenant=tenant, channel="mail", source="a", reason="secret",
                                                     digest="0" * 64).id}
    ids.update(await appliance.db.call(make))


# Path parameters that are not the collection's own id: where their value comes from.
PARAMETERS = {"activity_id": "activities", "step_id": "steps", "rule_id": "prompt-rules", "key": "key",
              "name": "name", "call_id": "call_id", "message_id": "fax/received"}
# Path parameters that name a verb or a format, not an object: one valid value each.
LITERALS = {"version": "1", "kind": "pdf"}
# Routes whose parameters name no object at all: they act on the caller's own agent.
NO_OBJECT = ("/api/v1/acd/me/{action}",)


def _fill(path: str, ids: dict) -> str | None:
    """The path with tenant A's ids; None for paths whose parameters are not objects (/export/{kind})."""
    if path.startswith(("/api/v1/export/", "/api/v1/import/")) or path in NO_OBJECT:
        return None
    if set(re.findall(r"\{(\w+)\}", path)) - {"id", "action", *LITERALS, *PARAMETERS}:
        raise LookupError(path)
    collection = path.split("/")[3]
    if collection == "acd":
        collection = path.split("/")[4]  # /acd/prompts/{id}/…
    elif collection in ("fax", "mail"):
        collection = "/".join(path.split("/")[3:5])  # /fax/outbox/{id}, /mail/accounts/{id} …

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name == "id":
            return str(ids[collection])
        if name == "action":
            return "hangup"  # call control: a call of tenant A's
        if name in LITERALS:
            return LITERALS[name]
        return str(ids[PARAMETERS[name]])
    return re.sub(r"\{(\w+)\}", one, path)


async def test_every_endpoint_refuses_another_tenants_objects(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    _, globex = await tenant_with_admin(admin, "Globex")
    _, globex_agent = await user_client(globex, "b-agent")
    ids = await _populate(acme)
    await _populate_acd(appliance, acme, ids)
    await _populate_channels(appliance, ids)
    globex_id = (await globex.get("/auth/me"))["tenant_id"]
    assert globex_id != ids["tenants"]
    app = appliance.supervisor.service("webui").runner.app
    assert app[SUPERVISOR] is appliance.supervisor
    object_routes = list_routes = 0
    described = {(op.method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", API_PREFIX + op.path)) for op in OPERATIONS}
    unwalked: list[str] = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if route.method == "HEAD" or not path or not path.startswith("/api/v1/"):
            continue
        collection = path.split("/")[3]
        if (route.method, path) not in described and collection not in EXTRA_FACTORIES:
            unwalked.append(f"{route.method} {path}")
            continue
        if "{" in path and collection in EXTRA_FACTORIES and collection not in ids:
            ids[collection] = await EXTRA_FACTORIES[collection](acme)
        if "{" not in path:
            if route.method == "GET" and path != "/api/v1/openapi.json":
                list_routes += 1
                for client in (globex, globex_agent):
                    status, body = await client.call("GET", path[len("/api/v1"):])
                    if status == 200 and isinstance(body, dict) and "items" in body:
                        for item in body["items"]:
                            assert item.get("tenant_id") in (None, globex_id), (path, item)
                            collection = path.split("/")[3]
                            # An item without an id (a routing decision of the tenant-less demo queues, which
                            # every user sees) is no other tenant's object: None == None is not a leak.
                            assert item.get("id") is None or item["id"] != ids.get(collection), (path, item)
                    elif status == 200:
                        assert _tenant_ids(body) <= {globex_id}, (path, body)
                    else:
                        assert status in (400, 403, 404), (path, status, body)  # 404: nothing of yours (no phone profile …)
            continue
        try:
            url = _fill(path, ids)
        except LookupError:
            assert (route.method, path) not in described, f"teach _fill the parameters of {path}"
            unwalked.append(f"{route.method} {path}")
            continue
        if url is None:
            continue
        object_routes += 1
        body = BODIES.get((route.method, path), {})
        for client in (globex, globex_agent):
            status, answer = await client.call(route.method, url[len("/api/v1"):], body)
            assert status in (403, 404), (route.method, path, status, answer)
            assert "secret" not in str(answer)
    assert object_routes >= 30 and list_routes >= 12
    # The served description has every registered operation (routes sharing a path are merged into one).
    served = (await globex.get("/openapi.json"))["paths"]
    assert {(m.upper(), p) for p, ops in served.items() for m in ops} == described
    # Every /api/v1 route is registered through api() now (other areas pass their own route table), so
    # none may escape the walk.
    assert not unwalked, "API routes not walked for tenant isolation (register them with api(..., table=routes)): " \
        + ", ".join(sorted(unwalked))
    # Tenant B's exports and identification never reveal tenant A's rows.
    for kind in ("customers", "users", "tickets"):
        rows = (await globex.get(f"/export/{kind}"))["items"]
        assert all(r["id"] not in (ids["customers"], ids["users"], ids["tickets"]) or kind == "x" for r in rows)
    found = await globex.get("/customers/identify", email="c@a.example", number="A-1")
    assert found["customers"] == []
    # The same idempotency key in another tenant is a different message, not A's ticket.
    mine = await globex.post("/tickets", {"subject": "B ticket", "body": "b", "idempotency_key": "a-key-1"})
    assert mine["id"] != ids["tickets"] and not mine.get("duplicate")
    # Referencing A's objects from B's writes is refused naming the field.
    for path, body, field in (("/tickets", {"subject": "x", "customer_id": ids["customers"]}, "customer_id"),
                              ("/tickets", {"subject": "x", "team_id": ids["teams"]}, "team_id"),
                              ("/tickets", {"subject": "x", "master_id": ids["tickets"]}, "master_id"),
                              ("/teams", {"name": "x", "member_ids": [ids["users"]]}, "member_ids[0]"),
                              ("/users", {"username": "zz", "profile_id": ids["profiles"]}, "profile_id"),
                              ("/customers", {"name": "x", "company_id": ids["customers"]}, "company_id"),
                              ("/categories", {"name": "x", "parent_id": ids["categories"]}, "parent_id")):
        status, answer = await globex.call("POST", path, body)
        assert status == 400 and field in answer["fields"], (path, answer)



def _tenant_ids(data: object) -> set:
    """Every tenant_id anywhere in a JSON answer."""
    if isinstance(data, dict):
        found = {data["tenant_id"]} if "tenant_id" in data else set()
        return found.union(*(_tenant_ids(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(_tenant_ids(v) for v in data))
    return set()
