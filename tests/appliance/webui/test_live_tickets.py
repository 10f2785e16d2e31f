"""The ticket-hint filter of the desk socket (issue 6) without a server: who gets the full hint, who a bare queue
nudge, who nothing."""
from __future__ import annotations

import asyncio
import json

from appliance.bus import Event, EventKind
from appliance.domain.worknext import WorkLimits
from appliance.webui.live_tickets import Desk, Facts, TicketHints

ACME, BETA = 1, 2
AGNES, CARL, DORA, BERT = 10, 11, 12, 20
SUPPORT, BILLING = 100, 101


def _hints() -> tuple[TicketHints, dict[str, asyncio.Queue]]:
    hints = TicketHints(None, None, {})
    queues = {}
    for name, user, tenant, limits in (("agnes", AGNES, ACME, WorkLimits(frozenset({SUPPORT}))),
                                       ("carl", CARL, ACME, WorkLimits()),
                                       ("dora", DORA, ACME, WorkLimits(frozenset({BILLING}))),
                                       ("bert", BERT, BETA, WorkLimits())):
        queue: asyncio.Queue = asyncio.Queue()
        hints.desks[queue] = Desk(user, tenant, limits)
        hints.by_tenant.setdefault(tenant, set()).add(queue)
        queues[name] = queue
    return hints, queues


def _sent(hints: TicketHints, queues, kind: EventKind, ticket_id: int, facts: Facts, tenant: int = ACME,
          **data) -> dict[str, dict]:
    out = hints.targets(Event(kind, {"ticket_id": ticket_id, **data}, tenant), facts)
    names = {q: n for n, q in queues.items()}
    return {names[q]: json.loads(text)["data"] for q, text in out.items()}


def test_own_ticket_goes_to_its_owner_only_and_never_across_tenants() -> None:
    hints, queues = _hints()
    got = _sent(hints, queues, EventKind.MESSAGE_RECEIVED, 5, Facts(AGNES, SUPPORT, "kunde@example.pl"),
                message_id=9, body="never passed on")
    assert set(got) == {"agnes"}
    assert got["agnes"] == {"kind": "message.received", "ticket_id": 5, "message_id": 9, "mine": True,
                            "queue": False, "from": "kunde@example.pl"}
    # Beta's agent owns a ticket with the same id in Beta: Acme's event does not reach him.
    hints.desks[queues["bert"]].listed = frozenset({5})
    assert "bert" not in _sent(hints, queues, EventKind.TICKET_UPDATED, 5, Facts(BERT, None, ""))


def test_queue_tickets_nudge_only_desks_whose_teams_may_take_them() -> None:
    hints, queues = _hints()
    got = _sent(hints, queues, EventKind.TICKET_CREATED, 6, Facts(None, BILLING, "x@example.com"))
    assert set(got) == {"carl", "dora"}  # agnes's team takes from Support only; bert is in another tenant
    assert got["carl"] == {"kind": "ticket.created", "queue": True}  # no id, no sender: only "recount"
    # Taken by Dora: it leaves the queue once (a nudge), then her own changes wake nobody else.
    got = _sent(hints, queues, EventKind.TICKET_UPDATED, 6, Facts(DORA, BILLING, "", "open"))
    assert set(got) == {"carl", "dora"} and got["dora"]["mine"] is True and got["carl"] == {
        "kind": "ticket.updated", "queue": True}
    assert set(_sent(hints, queues, EventKind.TICKET_UPDATED, 6, Facts(DORA, BILLING, "", "open"))) == {"dora"}


def test_a_listed_or_shown_ticket_keeps_its_desk_informed_after_it_moved() -> None:
    hints, queues = _hints()
    hints.desks[queues["agnes"]].listed = frozenset({7})
    hints.watching[queues["carl"]] = (ACME, 7)
    got = _sent(hints, queues, EventKind.TICKET_UPDATED, 7, Facts(DORA, BILLING, "", "open"), reason="escalation",
                escalation_level=2, step="reassign_team")
    assert set(got) == {"agnes", "carl", "dora"}
    assert got["agnes"]["mine"] is False and got["agnes"]["reason"] == "escalation"
    assert got["agnes"]["escalation_level"] == 2 and "step" not in got["agnes"]
    assert got["dora"]["mine"] is True


def test_the_actor_is_told_it_was_their_own_doing() -> None:
    hints, queues = _hints()
    hints.desks[queues["carl"]].listed = frozenset({8})
    got = _sent(hints, queues, EventKind.TICKET_CREATED, 8, Facts(AGNES, SUPPORT, ""), by_user_id=AGNES)
    assert got["agnes"]["own_doing"] is True and "own_doing" not in got["carl"]
    assert "by_user_id" not in got["agnes"]  # who acted is not passed on
