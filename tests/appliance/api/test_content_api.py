"""Text blocks and reply templates over the API: variables checked at save time, visibility personal / team /
tenant, rendering for a real ticket, templates inherited down the mailbox tree, the reply editor's options."""
from __future__ import annotations

import datetime

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client


async def _office(first_boot, http):
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    team = await acme.post("/teams", {"name": "Billing"})
    lead, lead_api = await user_client(acme, "lena", role="team_lead", team_ids=[team["id"]], display_name="Lena Lead")
    agent, agent_api = await user_client(acme, "agnes", display_name="Agnes Åström", team_ids=[team["id"]])
    other, other_api = await user_client(acme, "otto")
    parent = await acme.post("/mailboxes", {"name": "Support", "addresses": ["support@acme.example"]})
    child = await acme.post("/mailboxes", {"name": "Billing", "parent_id": parent["id"]})
    customer = await acme.post("/customers", {"name": "Zbigniew Łukasiewicz", "number": "K-1001",
                                              "emails": ["zbigniew@example.pl"], "language": "de"})
    ticket = await acme.post("/tickets", {"subject": "Rechnung fehlt", "customer_id": customer["id"],
                                          "mailbox_id": child["id"], "channel": "mail", "body": "Wo?",
                                          "sender": "zbigniew@example.pl"})
    return {"acme": acme, "team": team, "lead": lead_api, "agent": agent_api, "agent_user": agent, "other": other_api,
            "parent": parent, "child": child, "customer": customer, "ticket": ticket}


async def test_unknown_variables_are_refused_when_saved_and_blocks_render_for_a_ticket(first_boot, http) -> None:
    o = await _office(first_boot, http)
    acme = o["acme"]
    status, body = await acme.call("POST", "/text-blocks", {"shortcut": "bad", "title": "Bad",
                                                            "body_text": "Hello {{ customer.nmae }}"})
    assert status == 400 and "customer.nmae" in body["fields"]["body_text"]
    status, body = await acme.call("POST", "/text-blocks", {"shortcut": "loop", "title": "Loop",
                                                            "body_text": "{% for x in y %}{% endfor %}"})
    assert status == 400 and "not allowed" in body["fields"]["body_text"]
    status, body = await acme.call("POST", "/text-blocks", {"shortcut": "has space", "title": "x", "body_text": "x"})
    assert status == 400 and "shortcut" in body["fields"]
    block = await acme.post("/text-blocks", {
        "shortcut": "thanks", "title": "Thanks", "category": "Billing", "language": "DE",
        "body_text": "Danke, {{ customer.name }}! Ticket {{ ticket.number }}, {{ agent.name }}, {{ mailbox.address }}",
        "body_html": '<p>Danke, <b>{{ customer.name }}</b></p><script>alert(1)</script>'})
    assert block["visibility"] == "tenant" and block["language"] == "de" and "<script" not in block["body_html"]
    status, body = await acme.call("POST", "/text-blocks", {"shortcut": "thanks", "title": "Again", "body_text": "x"})
    assert status == 400 and "already taken" in body["fields"]["shortcut"]
    out = await o["agent"].post(f"/text-blocks/{block['id']}/render", {"ticket_id": o["ticket"]["id"]})
    # The child mailbox has no address of its own: it answers from its parent's.
    assert out["text"] == (f"Danke, Zbigniew Łukasiewicz! Ticket {o['ticket']['id']}, Agnes Åström, "
                           "support@acme.example")
    assert out["html"] == "<p>Danke, <b>Zbigniew Łukasiewicz</b></p>"
    sample = await acme.post(f"/text-blocks/{block['id']}/render", {})
    assert sample["text"].startswith("Danke, Zbigniew Łukasiewicz! Ticket 4711")
    prev = await acme.post("/text-blocks/preview", {"body_text": "{{ today }} {{ customer.name | upper }}",
                                                   "ticket_id": o["ticket"]["id"]})
    assert prev["text"].endswith("ZBIGNIEW ŁUKASIEWICZ") and prev["text"][:4].isdigit()
    assert datetime.date.fromisoformat(prev["text"][:10])
    status, body = await acme.call("POST", "/text-blocks/preview", {"signature": "{{ agent.phone }}"})
    assert status == 400 and "agent.phone" in body["fields"]["signature"]


async def test_visibility_personal_team_tenant(first_boot, http) -> None:
    o = await _office(first_boot, http)
    agent, lead, other = o["agent"], o["lead"], o["other"]
    mine = await agent.post("/text-blocks", {"shortcut": "hi", "title": "My hello", "body_text": "Hi!"})
    assert mine["visibility"] == "personal"
    status, _ = await agent.call("POST", "/text-blocks", {"shortcut": "x", "title": "x", "body_text": "x",
                                                          "visibility": "tenant"})
    assert status == 403
    status, _ = await agent.call("POST", "/text-blocks", {"shortcut": "x", "title": "x", "body_text": "x",
                                                          "visibility": "team", "team_id": o["team"]["id"]})
    assert status == 403  # agents keep personal blocks; the team lead keeps the team's
    team_block = await lead.post("/text-blocks", {"shortcut": "hi", "title": "Team hello", "body_text": "Hallo",
                                                  "visibility": "team", "team_id": o["team"]["id"]})
    assert {b["id"] for b in (await agent.get("/text-blocks"))["items"]} == {mine["id"], team_block["id"]}
    assert (await other.get("/text-blocks"))["items"] == []
    for method, path, body in (("GET", f"/text-blocks/{mine['id']}", None),
                               ("PATCH", f"/text-blocks/{mine['id']}", {"title": "taken"}),
                               ("DELETE", f"/text-blocks/{mine['id']}", None),
                               ("POST", f"/text-blocks/{mine['id']}/render", {})):
        status, _ = await other.call(method, path, body)
        assert status == 404, (method, path)
    status, _ = await agent.call("PATCH", f"/text-blocks/{team_block['id']}", {"title": "mine now"})
    assert status == 403
    # The nearest block answers the shortcut: the agent's own over the team's.
    opts = await agent.get(f"/tickets/{o['ticket']['id']}/reply-options")
    assert opts["shortcuts"]["hi"] == mine["id"]
    await agent.call("DELETE", f"/text-blocks/{mine['id']}", expect=204)
    opts = await agent.get(f"/tickets/{o['ticket']['id']}/reply-options")
    assert opts["shortcuts"]["hi"] == team_block["id"]
    # E3: a block tied to a skill is offered to those who hold the skill.
    skill = await o["acme"].post("/skills", {"name": "Mahnwesen"})
    dunning = await o["acme"].post("/text-blocks", {"shortcut": "mahnung", "title": "Mahnung", "body_text": "x",
                                                    "skill_id": skill["id"]})
    opts = await agent.get(f"/tickets/{o['ticket']['id']}/reply-options")
    assert "mahnung" not in opts["shortcuts"]
    await o["acme"].patch(f"/users/{o['agent_user']['id']}", {"skills": {str(skill["id"]): 2}})
    opts = await agent.get(f"/tickets/{o['ticket']['id']}/reply-options")
    assert opts["shortcuts"]["mahnung"] == dunning["id"]


async def test_templates_inherit_down_the_mailbox_tree_by_language(first_boot, http) -> None:
    o = await _office(first_boot, http)
    acme, agent = o["acme"], o["agent"]
    await acme.post("/reply-templates", {"name": "Everywhere", "body_text": "Generic", "is_default": True})
    english = await acme.post("/reply-templates", {
        "name": "Support EN", "mailbox_id": o["parent"]["id"], "language": "en", "is_default": True,
        "salutation": "Dear {{ customer.name }},", "body_text": "Thanks.", "signature": "{{ agent.name }}"})
    german = await acme.post("/reply-templates", {
        "name": "Support DE", "mailbox_id": o["parent"]["id"], "language": "de", "is_default": True,
        "salutation": "Guten Tag {{ customer.name }},", "body_text": "Danke für Ihre Nachricht zu "
        "„{{ ticket.subject }}“.", "signature": "{{ agent.name }}\n{{ mailbox.name }}"})
    status, body = await acme.call("POST", "/reply-templates", {"name": "Broken", "salutation": "{{ custmer.name }}"})
    assert status == 400 and "salutation" in body["fields"]
    opts = await agent.get(f"/tickets/{o['ticket']['id']}/reply-options")
    assert opts["language"] == "de"  # the customer's language: the English template is not offered
    assert [t["name"] for t in opts["templates"]] == ["Support DE", "Everywhere"]
    default = opts["default_template"]
    assert default["id"] == german["id"]
    assert default["salutation"] == "Guten Tag Zbigniew Łukasiewicz,"
    assert default["text"] == "Danke für Ihre Nachricht zu „Rechnung fehlt“."
    assert default["signature"] == "Agnes Åström\nBilling"
    out = await agent.post(f"/reply-templates/{english['id']}/render", {"ticket_id": o["ticket"]["id"]})
    assert out["salutation"] == "Dear Zbigniew Łukasiewicz,"
    # A second default for the same mailbox and language replaces the first.
    newer = await acme.post("/reply-templates", {"name": "Support DE 2", "mailbox_id": o["parent"]["id"],
                                                 "language": "de", "is_default": True, "body_text": "Neu"})
    assert not (await acme.get(f"/reply-templates/{german['id']}"))["is_default"]
    opts = await agent.get(f"/tickets/{o['ticket']['id']}/reply-options")
    assert opts["default_template"]["id"] == newer["id"]
    status, body = await agent.call("POST", "/reply-templates", {"name": "Mine", "body_text": "x",
                                                                 "is_default": True})
    assert status == 400 and "is_default" in body["fields"]
