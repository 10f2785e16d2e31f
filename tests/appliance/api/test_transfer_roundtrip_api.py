"""Import and export (G10) and request bodies, through HTTP: exported tickets imported as CSV into another tenant
come back with their state and creation time (a finished case stays out of the work queue); bad history
fields are named per row with nothing written; a large JSON body is read whole; bad filters and formats are named."""
from __future__ import annotations

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client

SAME = ("subject", "channel", "state", "priority", "language", "due_at", "created_at")


async def csv_of(http, client, kind: str) -> str:
    async with http.get(f"/api/v1/export/{kind}", params={"format": "csv"},
                        headers={"Authorization": f"Bearer {client.token}"}) as resp:
        assert resp.status == 200
        return await resp.text()


async def test_tickets_round_trip_bad_rows_and_large_bodies(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    _, globex = await tenant_with_admin(admin, "Globex")
    finished = await acme.post("/tickets", {"subject": "old case", "channel": "mail", "priority": 2,
                                            "body": "My invoice is wrong.", "idempotency_key": "mid-1"})
    await acme.post(f"/tickets/{finished['id']}/messages", {"body": "Credited, sorry.", "direction": "out",
                                                            "recipient": "anne@example.org"})
    await acme.post(f"/tickets/{finished['id']}/actions", {"action": "done"})
    await acme.post("/tickets", {"subject": "waiting", "channel": "letter", "due_at": "2031-05-01T08:00:00Z"})
    exported = (await acme.get("/export/tickets"))["items"]
    assert {t["state"] for t in exported} == {"done", "open"}

    async with http.post("/api/v1/import/tickets", data=(await csv_of(http, acme, "tickets")).encode(),
                         headers={"Authorization": f"Bearer {globex.token}", "Content-Type": "text/csv"}) as resp:
        assert resp.status == 201, await resp.text()
    again = (await globex.get("/export/tickets"))["items"]
    assert [{k: t[k] for k in SAME} for t in again] == [{k: t[k] for k in SAME} for t in exported]
    # Their messages follow, each onto the imported ticket (ids differ between tenants), dates kept.
    new_id = {t["subject"]: t["id"] for t in again}
    old_subject = {t["id"]: t["subject"] for t in exported}
    messages = (await acme.get("/export/messages"))["items"]
    assert [m["body"] for m in messages] == ["My invoice is wrong.", "Credited, sorry."]
    moved = [{**{k: v for k, v in m.items() if k not in ("id", "ticket_id")},
              "ticket_id": new_id[old_subject[m["ticket_id"]]]} for m in messages]
    status, body = await globex.call("POST", "/import/messages", [moved[0], {**moved[1], "ticket_id": finished["id"]}])
    assert status == 400 and set(body["fields"]) == {"rows[1].ticket_id"}  # Acme's ticket, unknown to Globex
    assert (await globex.get("/export/messages"))["items"] == []
    await globex.post("/import/messages", moved)
    copied = (await globex.get("/export/messages"))["items"]
    same = ("channel", "direction", "kind", "sender", "recipient", "body", "idempotency_key", "created_at")
    assert [{k: m[k] for k in same} for m in copied] == [{k: m[k] for k in same} for m in messages]
    await globex.post("/import/messages", moved[:1])  # the same key again: nothing twice
    assert len((await globex.get("/export/messages"))["items"]) == 2

    _, agent = await user_client(globex, "gina")
    taken = await agent.post("/tickets/next", {})
    assert taken["subject"] == "waiting"  # the finished case did not come back as new work
    assert (await agent.call("POST", "/tickets/next"))[0] == 204

    # Bad history fields are named by row; the import is all or nothing.
    status, body = await globex.call("POST", "/import/tickets", [{"subject": "a", "state": "open"},
                                                                 {"subject": "b", "state": "deleted"},
                                                                 {"subject": "c", "created_at": "yesterday"}])
    assert status == 400 and set(body["fields"]) == {"rows[1].state"}
    status, body = await globex.call("POST", "/import/tickets", [{"subject": "c", "created_at": "yesterday"}])
    assert status == 400 and "rows[0].created_at" in body["fields"]
    assert len((await globex.get("/export/tickets"))["items"]) == 2

    # A JSON body of a megabyte arrives in many parts and is read whole.
    text = "line of a long scanned letter\n" * 30_000
    big = await acme.post("/tickets", {"subject": "long letter", "channel": "letter", "body": text})
    messages = (await acme.get(f"/tickets/{big['id']}/messages"))["items"]
    assert messages[0]["body"] == text.strip()  # strings are trimmed, nothing else is lost

    status, body = await acme.call("GET", "/audit", object_id="x")
    assert status == 400 and "object_id" in body["fields"]
    status, body = await acme.call("GET", "/export/tickets", format="xml")
    assert status == 400 and "format" in body["fields"]
    for name, value in (("state", "closed"), ("channel", "pigeon")):
        status, body = await acme.call("GET", "/tickets", **{name: value})
        assert status == 400 and name in body["fields"]
    assert len((await acme.get("/tickets", state="done"))["items"]) == 1
