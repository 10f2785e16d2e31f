"""Customers, identification (with an external HTTP hook), history, activities; tickets with
messages, workflows across channels, outage links, back-office steps, the work queue; import/export."""
from __future__ import annotations

import asyncio
import datetime
import hashlib

from aiohttp import web

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client


async def _crm_server(delay_s: float) -> tuple[web.AppRunner, str]:
    """A stand-in CRM answering identification lookups over HTTP."""
    async def lookup(request: web.Request) -> web.Response:
        if request.query.get("phone") == "+4940123456":
            await asyncio.sleep(delay_s)
        if request.query.get("email") == "known@crm.example":
            return web.json_response({"number": "k 7"})
        return web.json_response({}, status=404)
    app = web.Application()
    app.router.add_get("/lookup", lookup)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/lookup"


async def test_customers_identification_history_and_ownership(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    team = await acme.post("/teams", {"name": "Key accounts"})
    alice, as_alice = await user_client(acme, "alice", team_ids=[team["id"]])
    _, as_bob = await user_client(acme, "bob", team_ids=[team["id"]])
    _, as_carol = await user_client(acme, "carol")
    company = await as_alice.post("/customers", {"name": "Initech AG", "kind": "company", "number": "K-1000"})
    person = await as_alice.post("/customers", {
        "name": "Peter Gibbons", "company_id": company["id"], "number": "k 7", "phones": ["040 123456"],
        "emails": ["Known@CRM.example"], "addresses": [{"street": "Hauptstr. 1", "postcode": "20095",
                                                       "city": "Hamburg", "country": "DE"}]})
    assert person["number"] == "K7" and person["phones"] == ["+4940123456"] and person["owner_id"] == alice["id"]
    private = await as_alice.post("/customers", {"name": "Alice's secret lead", "ownership": "private"})
    group = await as_alice.post("/customers", {"name": "Team lead", "ownership": "group"})
    assert group["owner_team_id"] == team["id"]
    # D4/H4: private for the owner only, group for the owner's team, enterprise for all.
    for client, visible in ((as_alice, {private["id"], group["id"]}), (as_bob, {group["id"]}), (as_carol, set())):
        ids = {c["id"] for c in (await client.get("/customers"))["items"]}
        assert ids >= {company["id"], person["id"]} and ids & {private["id"], group["id"]} == visible
    assert (await as_carol.call("GET", f"/customers/{private['id']}"))[0] == 404
    assert (await as_bob.call("PATCH", f"/customers/{private['id']}", {"name": "x"}))[0] == 404
    assert (await acme.call("GET", f"/customers/{private['id']}"))[0] == 404  # not even the tenant admin
    # Search by name, number, phone in any notation, e-mail in any case.
    for q in ("Gibbons", "K7", "+49 40 123456", "040/123456", "KNOWN@crm.example"):
        assert [c["id"] for c in (await as_bob.get("/customers", q=q))["items"]] == [person["id"]], q

    # Identification: by number, phone, e-mail; then the external hook, bounded by its timeout.
    found = await as_bob.get("/customers/identify", phone="+49 (40) 123456")
    assert found["via"] == "phone" and [c["id"] for c in found["customers"]] == [person["id"]]
    found = await as_bob.get("/customers/identify", number="k-1000", email="nobody@x.org")
    assert found["via"] == "number" and found["customers"][0]["id"] == company["id"]
    assert (await as_bob.get("/customers/identify", phone="garbage"))["invalid"] == {"phone": "is not a phone number"}
    runner, url = await _crm_server(delay_s=2.0)
    try:
        await admin.patch(f"/tenants/{tenant['id']}", {"lookup_url": url, "lookup_timeout_ms": 300})
        await as_alice.patch(f"/customers/{person['id']}", {"emails": [], "phones": []})
        found = await as_bob.get("/customers/identify", email="known@crm.example")
        assert found["via"] == "external" and found["customers"][0]["id"] == person["id"]
        started = asyncio.get_running_loop().time()
        found = await as_bob.get("/customers/identify", phone="040 123456")
        assert found["customers"] == [] and "timeout" in found["external_error"]
        assert asyncio.get_running_loop().time() - started < 1.5
    finally:
        await runner.cleanup()

    # Notes, tasks, appointments; documents from the store; history across channels.
    task = await as_bob.post(f"/customers/{person['id']}/activities",
                             {"kind": "task", "text": "Call back", "due_at": "2030-01-02T10:00:00Z",
                              "assignee_id": alice["id"]})
    done = await as_alice.patch(f"/customers/{person['id']}/activities/{task['id']}", {"done": True})
    assert done["done"] and done["due_at"] == "2030-01-02T10:00:00Z"
    status, body = await as_bob.call("POST", f"/customers/{person['id']}/activities",
                                     {"kind": "appointment", "due_at": "2030-01-02T10:00:00Z",
                                      "ends_at": "2030-01-02T09:00:00Z"})
    assert status == 400 and "ends_at" in body["fields"]
    # Documents are uploaded files (multipart); a reference to bytes the uploader did not send is refused.
    status, body = await as_bob.call("POST", f"/customers/{person['id']}/documents",
                                     {"digest": hashlib.sha256(b"contract").hexdigest()})
    assert status == 415 and "multipart" in body["fields"]["file"]
    assert (await as_alice.get(f"/customers/{person['id']}/documents"))["items"] == []
    for channel in ("mail", "phone", "fax", "sms"):
        await as_bob.post("/tickets", {"subject": f"via {channel}", "channel": channel, "customer_id": person["id"],
                                       "body": f"hello by {channel}", "team_id": team["id"]})
    history = await as_alice.get(f"/customers/{person['id']}/history")
    assert [h["channel"] for h in history["items"]] == ["mail", "phone", "fax", "sms"]
    # An agent outside the team sees only the history of tickets they own or created (F1: history.own).
    assert (await as_carol.get(f"/customers/{person['id']}/history"))["items"] == []
    await _import_and_export(admin, http)  # one appliance start for both scenarios


async def test_tickets_workflows_outage_steps_and_work_queue(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    billing = await acme.post("/skills", {"name": "Billing"})
    french = await acme.post("/skills", {"name": "French", "kind": "language", "code": "fr"})
    backoffice = await acme.post("/teams", {"name": "Back office"})
    mailbox = await acme.post("/mailboxes", {"name": "Support", "addresses": ["support@acme.example"]})
    cat = await acme.post("/categories", {"name": "Invoices"})
    sla = await acme.post("/sla-policies", {"name": "24/7", "response_minutes": 30, "resolve_minutes": 120})
    eve, as_eve = await user_client(acme, "eve", skills={str(billing["id"]): 3, str(french["id"]): 2},
                                    team_ids=[backoffice["id"]])
    _, as_frank = await user_client(acme, "frank")
    customer = await acme.post("/customers", {"name": "Marie", "emails": ["marie@example.fr"], "phones": ["+33 1 23 45 67 89"]})

    # Create idempotently: a repeated key answers the first ticket.
    body = {"subject": "Invoice wrong", "channel": "letter", "customer_id": customer["id"], "sla_id": sla["id"],
            "body": "scanned letter", "source_ref": "scan/0001.tif", "idempotency_key": "scan-0001",
            "mailbox_id": mailbox["id"], "skill_id": billing["id"], "min_level": 2, "language": "FR",
            "priority": 2}
    status, ticket = await as_frank.call("POST", "/tickets", body)
    assert status == 201 and ticket["language"] == "fr" and ticket["response_due_at"]
    created = datetime.datetime.fromisoformat(ticket["created_at"][:-1])
    assert datetime.datetime.fromisoformat(ticket["due_at"][:-1]) - created == datetime.timedelta(minutes=120)
    status, again = await as_frank.call("POST", "/tickets", body)
    assert status == 200 and again["id"] == ticket["id"] and again["duplicate"]
    msgs = await as_frank.get(f"/tickets/{ticket['id']}/messages")
    assert [(m["channel"], m["source_ref"]) for m in msgs["items"]] == [("letter", "scan/0001.tif")]
    status, msg = await as_frank.call("POST", f"/tickets/{ticket['id']}/messages",
                                      {"body": "more", "idempotency_key": "scan-0001"})
    assert status == 200 and msg["id"] == msgs["items"][0]["id"]
    # Other tickets for the queue: one needing more skill, one in another language, one easy and urgent.
    hard = await as_frank.post("/tickets", {"subject": "hard", "skill_id": billing["id"], "min_level": 5,
                                            "priority": 1})
    german = await as_frank.post("/tickets", {"subject": "de", "language": "de", "priority": 1})
    easy = await as_frank.post("/tickets", {"subject": "easy", "priority": 3})
    # F15: eve gets the priority-2 French billing ticket first, then the easy one; never hard or German.
    got = [(await as_eve.post("/tickets/next", {}))["id"] for _ in range(2)]
    assert got == [ticket["id"], easy["id"]]
    assert (await as_eve.call("POST", "/tickets/next", {}))[0] == 204
    assert (await as_eve.get(f"/tickets/{ticket['id']}"))["owner_id"] == eve["id"]
    assert {hard["id"], german["id"]} <= {t["id"] for t in (await acme.get("/tickets", state="open"))["items"]}

    # F12 workflows across channels: forward a letter as e-mail, query externally, answers reopen work.
    t = ticket["id"]
    fwd = await as_eve.post(f"/tickets/{t}/actions", {"action": "forward_external", "channel": "mail",
                                                       "recipient": "lawyer@example.org", "text": "see scan"})
    assert fwd["channel"] == "letter"
    last = (await as_eve.get(f"/tickets/{t}/messages"))["items"][-1]
    assert (last["channel"], last["direction"], last["kind"]) == ("mail", "out", "forward")
    assert (await as_eve.post(f"/tickets/{t}/actions", {"action": "query_external", "recipient": "marie@example.fr",
                                                         "text": "Which invoice?"}))["state"] == "pending"
    await as_eve.post(f"/tickets/{t}/messages", {"channel": "mail", "body": "No. 42", "direction": "in"})
    assert (await as_eve.get(f"/tickets/{t}"))["state"] == "open"
    resub = await as_eve.post(f"/tickets/{t}/actions", {"action": "resubmit", "until": "2031-01-01T09:00:00Z"})
    assert resub["state"] == "resubmission" and resub["resubmit_at"] == "2031-01-01T09:00:00Z"
    status, body = await as_eve.call("POST", f"/tickets/{t}/actions", {"action": "resubmit",
                                                                        "until": "2001-01-01T00:00:00Z"})
    assert status == 400 and "until" in body["fields"]
    await as_eve.post(f"/tickets/{t}/actions", {"action": "note", "text": "internal remark"})
    red = await as_eve.post(f"/tickets/{t}/actions", {"action": "redirect", "team_id": backoffice["id"]})
    assert red["owner_id"] is None and red["team_id"] == backoffice["id"] and red["state"] == "open"
    status, body = await as_eve.call("POST", f"/tickets/{t}/actions", {"action": "assign", "user_id": eve["id"] + 99})
    assert status == 400 and "user_id" in body["fields"]
    assert (await as_frank.call("POST", f"/tickets/{t}/actions", {"action": "assign", "user_id": eve["id"]}))[0] == 403
    assert (await acme.post(f"/tickets/{t}/actions", {"action": "assign", "user_id": eve["id"]}))["owner_id"] == eve["id"]
    status, body = await as_eve.call("POST", f"/tickets/{t}/actions", {"action": "fly"})
    assert status == 400 and "action" in body["fields"]
    status, body = await as_eve.call("POST", f"/tickets/{t}/actions", {"action": "send", "text": "x"})
    assert status == 400 and "recipient" in body["fields"]

    # F9: back-office steps in order; the ticket cannot be done while one is open.
    s1 = await as_eve.post(f"/tickets/{t}/steps", {"name": "Check contract", "team_id": backoffice["id"]})
    s2 = await as_eve.post(f"/tickets/{t}/steps", {"name": "Approve credit"})
    assert (await as_eve.call("POST", f"/tickets/{t}/actions", {"action": "done"}))[0] == 409
    assert (await as_eve.call("POST", f"/tickets/{t}/steps/{s2['id']}/done"))[0] == 409
    assert (await as_frank.call("POST", f"/tickets/{t}/steps/{s1['id']}/done"))[0] == 403  # not in the team
    await as_eve.post(f"/tickets/{t}/steps/{s1['id']}/done", {})
    await as_eve.post(f"/tickets/{t}/steps/{s2['id']}/done", {})
    assert [s["done_by_id"] for s in (await as_eve.get(f"/tickets/{t}/steps"))["items"]] == [eve["id"]] * 2
    done = await as_eve.post(f"/tickets/{t}/actions", {"action": "send", "recipient": "marie@example.fr",
                                                        "text": "Credited.", "close": True})
    assert done["state"] == "done" and done["closed_at"]
    assert (await as_eve.call("POST", f"/tickets/{t}/actions", {"action": "redirect", "team_id": 1}))[0] == 409
    assert (await as_eve.post(f"/tickets/{t}/actions", {"action": "reopen"}))["state"] == "open"
    await as_eve.post(f"/tickets/{t}/actions", {"action": "done", "category_id": cat["id"]})
    assert (await as_eve.get(f"/tickets/{t}"))["category_id"] == cat["id"]
    assert (await as_frank.call("POST", f"/tickets/{easy['id']}/actions", {"action": "delete"}))[0] == 403

    # D13: an outage ticket with many customers' tickets; closing it closes them all, each told.
    outage = await acme.post("/tickets", {"subject": "Network outage Hamburg"})
    children = []
    for i in range(3):
        c = await acme.post("/customers", {"name": f"Customer {i}", "emails": [f"c{i}@example.org"]})
        child = await acme.post("/tickets", {"subject": f"no internet {i}", "channel": "mail", "customer_id": c["id"]})
        await acme.post(f"/tickets/{child['id']}/link", {"master_id": outage["id"]})
        children.append(child)
    status, body = await acme.call("POST", f"/tickets/{outage['id']}/link", {"master_id": children[0]["id"]})
    assert status == 400 and "master_id" in body["fields"]
    assert len((await acme.get("/tickets", master_id=outage["id"]))["items"]) == 3
    await acme.post(f"/tickets/{outage['id']}/actions", {"action": "done", "child_message": "Fixed, sorry!"})
    for i, child in enumerate(children):
        assert (await acme.get(f"/tickets/{child['id']}"))["state"] == "done"
        last = (await acme.get(f"/tickets/{child['id']}/messages"))["items"][-1]
        assert (last["direction"], last["recipient"], last["body"]) == ("out", f"c{i}@example.org", "Fixed, sorry!")

    # Filters and the audit trail of the ticket.
    assert {x["id"] for x in (await acme.get("/tickets", owner_id=eve["id"]))["items"]} == {t, easy["id"]}
    assert [x["subject"] for x in (await acme.get("/tickets", q="outage"))["items"]] == ["Network outage Hamburg"]
    trail = [e["action"] for e in (await acme.get("/audit", object_type="ticket", object_id=t))["items"]]
    assert trail[0] == "create" and "action.forward_external" in trail and "step.done" in trail


async def _import_and_export(admin, http) -> None:
    _, acme = await tenant_with_admin(admin, "Importer")
    csv_text = ("name,kind,number,phones,emails\n"
                "Anne,person,A-1,030 111111;030 222222,anne@example.org\n"
                "Bert GmbH,company,B-2,,info@bert.example\n")
    async with http.post("/api/v1/import/customers", data=csv_text.encode(),
                         headers={"Authorization": f"Bearer {acme.token}", "Content-Type": "text/csv"}) as r:
        assert r.status == 201 and (await r.json())["created"] == 2
    bad = "name,emails\nCarl,carl@example.org\nDora,not-mail\n"
    async with http.post("/api/v1/import/customers", data=bad.encode(),
                         headers={"Authorization": f"Bearer {acme.token}", "Content-Type": "text/csv"}) as r:
        assert r.status == 400 and "rows[1].emails[0]" in (await r.json())["fields"]
    assert len((await acme.get("/customers"))["items"]) == 2  # Carl was not half-imported
    async with http.get("/api/v1/export/customers", params={"format": "csv"},
                        headers={"Authorization": f"Bearer {acme.token}"}) as r:
        text = await r.text()
    assert r.status == 200 and text.splitlines()[0].startswith("id,kind,name,number")
    assert "+4930111111;+4930222222" in text and "B-2" in text
    exported = await acme.get("/export/customers")
    # Round trip: the export re-imported into another tenant gives the same customers.
    _, globex = await tenant_with_admin(admin, "Globex")
    await globex.post("/import/customers", [{k: v for k, v in row.items() if v not in (None, [])}
                                            for row in exported["items"]])
    again = await globex.get("/export/customers")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("id", "company_id")} for r in rows]  # noqa: E731
    assert strip(again["items"]) == strip(exported["items"])
    await acme.post("/import/users", [{"username": "imp1", "role": "agent", "password": "Imported-Pass-1"},
                                      {"username": "imp2", "role": "team_lead", "email": "imp2@acme.example"}])
    users = {u["username"] for u in (await acme.get("/export/users"))["items"]}
    assert {"imp1", "imp2", "importer-admin"} <= users
    status, body = await acme.call("POST", "/import/users", [{"username": "imp1"}])
    assert status == 400 and "rows[0].username" in body["fields"]
    await acme.post("/import/tickets", [{"subject": "imported", "channel": "mail", "priority": 2}])
    assert [t["subject"] for t in (await acme.get("/export/tickets"))["items"]] == ["imported"]
    assert (await acme.call("GET", "/export/passwords"))[0] == 404
