"""Organisation through the API: tenants, users, profiles, teams, skills, mailboxes, categories, SLA
policies, staff directory, audit; paging; bad input answered 400 naming the field, nothing half-written."""
from __future__ import annotations

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client


async def test_organisation_end_to_end(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    # Tenants: the system admin manages them; a tenant admin sees only their own and cannot create any.
    assert [t["name"] for t in (await acme.get("/tenants"))["items"]] == ["Acme"]
    assert (await acme.call("POST", "/tenants", {"name": "Evil"}))[0] == 403
    status, body = await admin.call("POST", "/tenants", {"name": "Acme"})
    assert status == 400 and "already taken" in body["fields"]["name"]
    status, body = await admin.call("POST", "/tenants", {"name": "Tz", "timezone": "Mars/Olympus"})
    assert status == 400 and "timezone" in body["fields"]

    # Users: created in the creator's tenant; the system admin must name one; unknown tenants refused.
    status, body = await admin.call("POST", "/users", {"username": "x", "password": "Long-Enough-Pass-1"})
    assert status == 400 and "tenant_id" in body["fields"]
    status, body = await admin.call("POST", "/users", {"username": "x", "tenant_id": 999999,
                                                       "password": "Long-Enough-Pass-1"})
    assert status == 400 and "unknown tenant" in body["fields"]["tenant_id"]
    status, body = await acme.call("POST", "/users", {"username": "y", "tenant_id": tenant["id"] + 1000})
    assert status == 400 and "tenant_id" in body["fields"]

    # Skills and language skills; teams with members; user skills with levels.
    billing = await acme.post("/skills", {"name": "Billing"})
    german = await acme.post("/skills", {"name": "German", "kind": "language", "code": "DE"})
    assert german["code"] == "de"
    status, body = await acme.call("POST", "/skills", {"name": "French", "kind": "language"})
    assert status == 400 and "code" in body["fields"]
    anna, _ = await user_client(acme, "anna", skills={str(billing["id"]): 4, str(german["id"]): 5},
                                email=" Anna@Acme.Example ", phone="030 1234567")
    assert anna["email"] == "anna@acme.example" and anna["phone"] == "+49301234567"
    assert anna["skills"] == {str(billing["id"]): 4, str(german["id"]): 5} and anna["tenant_id"] == tenant["id"]
    status, body = await acme.call("PATCH", f"/users/{anna['id']}", {"skills": {str(billing["id"]): 9}})
    assert status == 400 and f"skills.{billing['id']}" in body["fields"]
    root = await acme.post("/teams", {"name": "Service", "member_ids": [anna["id"]]})
    child = await acme.post("/teams", {"name": "Service Berlin", "parent_id": root["id"]})
    grandchild = await acme.post("/teams", {"name": "Service Mitte", "parent_id": child["id"],
                                            "settings": {"forward_to": "backoffice"}})
    await acme.post("/teams", {"name": "Escalations", "kind": "functional"})
    status, body = await acme.call("PATCH", f"/teams/{root['id']}", {"parent_id": grandchild["id"]})
    assert status == 400 and "cyclic" in body["fields"]["parent_id"]
    status, body = await acme.call("PATCH", f"/teams/{root['id']}", {"parent_id": root["id"]})
    assert status == 400 and "parent_id" in body["fields"]
    assert (await acme.get(f"/teams/{root['id']}"))["parent_id"] is None  # nothing half-written
    assert (await acme.get(f"/users/{anna['id']}"))["team_ids"] == [root["id"]]

    # Mailboxes: addresses normalised and unique across tenants; settings inherited down the tree.
    info = await acme.post("/mailboxes", {"name": "Info", "tenant_id": tenant["id"],
                                          "addresses": ["Info@Acme.example", "+49 30 9999", "fax:030 8888"],
                                          "settings": {"signature": "Acme", "language": "de"}})
    assert info["addresses"] == ["email:info@acme.example", "phone:+49309999", "fax:+49308888"]
    sub = await acme.post("/mailboxes", {"name": "Billing", "parent_id": info["id"], "settings": {"language": "en"}})
    assert sub["effective_settings"] == {"signature": "Acme", "language": "en"}
    status, body = await acme.call("PATCH", f"/mailboxes/{info['id']}", {"parent_id": sub["id"]})
    assert status == 400 and "cyclic" in body["fields"]["parent_id"]
    _, globex = await tenant_with_admin(admin, "Globex")
    status, body = await globex.call("POST", "/mailboxes", {"name": "Info", "addresses": ["x@globex.example",
                                                                                          "INFO@acme.example"]})
    assert status == 400 and "addresses[1]" in body["fields"]
    assert (await globex.get("/mailboxes"))["items"] == []  # the failed create left nothing behind
    status, body = await acme.call("POST", "/mailboxes", {"name": "Bad", "addresses": ["not an address"]})
    assert status == 400 and "addresses[0]" in body["fields"]
    status, body = await acme.call("POST", "/mailboxes", {"name": "Twice", "addresses": ["a@acme.example",
                                                                                       "A@Acme.example"]})
    assert status == 400 and body["fields"] == {"addresses[1]": "a@acme.example is listed twice"}

    # Categories: ten levels allowed, the eleventh refused, also by moving a subtree under another.
    parent = None
    chain = []
    for level in range(10):
        cat = await acme.post("/categories", {"name": f"L{level + 1}", "parent_id": parent})
        assert cat["depth"] == level + 1
        chain.append(cat)
        parent = cat["id"]
    status, body = await acme.call("POST", "/categories", {"name": "L11", "parent_id": parent})
    assert status == 400 and "10 levels" in body["fields"]["parent_id"]
    other = await acme.post("/categories", {"name": "Other"})
    status, body = await acme.call("PATCH", f"/categories/{chain[0]['id']}", {"parent_id": other["id"]})
    assert status == 400 and "parent_id" in body["fields"]
    status, body = await acme.call("PATCH", f"/categories/{chain[2]['id']}", {"parent_id": other["id"]})
    assert status == 200 and body["depth"] == 2
    assert (await acme.get(f"/categories/{chain[9]['id']}"))["depth"] == 9

    # SLA policies and profiles.
    sla = await acme.post("/sla-policies", {"name": "Gold", "response_minutes": 60, "resolve_minutes": 480,
                                            "calendar": {"hours": {"mon": ["08:00", "18:00"]}},
                                            "escalations": [{"at_percent": 80, "action": "notify_lead"}]})
    assert sla["calendar"]["hours"]["mon"] == ["08:00", "18:00"]
    status, body = await acme.call("POST", "/sla-policies", {"name": "Bad", "calendar": {"hours": {"mon": ["9"]}}})
    assert status == 400 and any(k.startswith("calendar") for k in body["fields"])
    status, body = await acme.call("POST", "/sla-policies", {"name": "Bad2", "escalations": [{"at_percent": 0,
                                                                                             "action": "x"}]})
    assert status == 400 and any(k.startswith("escalations[0]") for k in body["fields"])
    top = await acme.post("/profiles", {"name": "Front office", "rights": "tickets.read,tickets.write,org.read"})
    low = await acme.post("/profiles", {"name": "Trainee", "parent_id": top["id"], "rights": "tickets.read,audit.read"})
    status, body = await acme.call("POST", "/profiles", {"name": "Bad", "rights": "everything"})
    assert status == 400 and "rights" in body["fields"]
    _, trainee = await user_client(acme, "trainee", role="admin", profile_id=low["id"])
    me = await trainee.get("/auth/me")
    assert me["permissions"] == ["tickets.read"]  # admin role, narrowed by the profile and its parent
    assert (await trainee.call("GET", "/audit"))[0] == 403

    # Staff directory, search and paging.
    for i in range(5):
        await acme.post("/staff", {"name": f"Person {i}", "department": "Sales" if i % 2 else "Support",
                                   "phone": f"030 55{i}0"})
    first = await acme.get("/staff", limit=2)
    assert len(first["items"]) == 2 and first["next"]
    second = await acme.get("/staff", limit=2, cursor=first["next"])
    third = await acme.get("/staff", limit=2, cursor=second["next"])
    assert third["next"] is None
    assert len({s["id"] for s in first["items"] + second["items"] + third["items"]}) == 5
    assert len((await acme.get("/staff", q="Sales"))["items"]) == 2  # q searches name, department, title
    assert len((await acme.get("/staff", department="Sales"))["items"]) == 2
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"cursor": "abc"}):
        status, body = await acme.call("GET", "/staff", **bad)
        assert status == 400 and set(body["fields"]) <= {"limit", "cursor"}, bad

    # Disable instead of delete; the audit trail names who did what from where.
    await acme.patch(f"/users/{anna['id']}", {"active": False})
    audit = await acme.get("/audit", object_type="user", object_id=anna["id"])
    actions = [e["action"] for e in audit["items"]]
    assert actions[0] == "create" and "update" in actions
    assert audit["items"][-1]["username"] == "acme-admin" and audit["items"][-1]["remote"]
    # One appliance start serves both scenarios (starting one costs seconds).
    await _bad_input_is_named_and_nothing_is_half_written(admin, http)


async def _bad_input_is_named_and_nothing_is_half_written(admin, http) -> None:
    _, acme = await tenant_with_admin(admin, "Initech")
    cases = [
        ("POST", "/teams", "{broken", "body"),
        ("POST", "/teams", [], "body"),
        ("POST", "/teams", {"name": 12}, "name"),
        ("POST", "/teams", {"name": "x" * 101}, "name"),
        ("POST", "/teams", {"name": "ok", "color": "red"}, "color"),
        ("POST", "/teams", {"name": "ok", "parent_id": "1"}, "parent_id"),
        ("POST", "/teams", {"name": "ok", "parent_id": 987654}, "parent_id"),
        ("POST", "/teams", {"name": "ok", "member_ids": [True]}, "member_ids"),
        ("POST", "/teams", {"name": "ok", "settings": {"x": "y" * 30000}}, "settings"),
        ("POST", "/customers", {"name": "ok", "emails": ["nope"]}, "emails[0]"),
        ("POST", "/customers", {"name": "ok", "phones": ["+1 2"]}, "phones[0]"),
        ("POST", "/tickets", {"subject": "s", "priority": 9}, "priority"),
        ("POST", "/tickets", {"subject": "s", "channel": "pigeon"}, "channel"),
        ("POST", "/tickets", {"subject": "s", "due_at": "tomorrow"}, "due_at"),
        ("POST", "/skills", {"name": "a\x00b"}, "name"),
    ]
    for method, path, body, field in cases:
        if isinstance(body, str):
            async with http.request(method, "/api/v1" + path, data=body.encode(),
                                    headers={"Authorization": f"Bearer {acme.token}",
                                             "Content-Type": "application/json"}) as resp:
                status, data = resp.status, await resp.json()
        else:
            status, data = await acme.call(method, path, body)
        assert status == 400, (path, body, status, data)
        assert field in data["fields"], (path, body, data)
    # A customer whose e-mail clashes with another's is refused whole: no row, no identifiers.
    await acme.post("/customers", {"name": "First", "emails": ["dup@example.org"], "number": "K1"})
    status, data = await acme.call("POST", "/customers", {"name": "Second", "emails": ["DUP@example.org"]})
    assert status == 400 and "emails" in data["fields"]
    status, data = await acme.call("POST", "/customers", {"name": "Third", "number": " k1 "})
    assert status == 400 and "number" in data["fields"]
    names = [c["name"] for c in (await acme.get("/customers"))["items"]]
    assert names == ["First"]
    # Oversize bodies are refused before parsing.
    status, data = await acme.call("POST", "/teams", {"name": "big", "settings": {"x": "y" * (5 * 1024 * 1024)}})
    assert status == 413
    assert [t["name"] for t in (await acme.get("/teams"))["items"]] == []
