"""The external lookup after intake (D3, B2), end to end: a mail from an address only the CRM knows reaches the
appliance by SMTP and ends on the right customer, through a real HTTP hook server and through the SQLite SQL
hook; a hook that never answers leaves the ticket unassigned and does not hold intake; SMS and fax tickets are
found by the sweep, and after a restart nothing is looked up or attached twice."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp import web

from appliance.db import Database
from appliance.intake import customer_lookup
from appliance.intake.sink import InboundMessage
from appliance.intake.tickets import ModelTicketSink
from appliance.lookup import hooks
from appliance.lookup.after_intake import IntakeLookup
from appliance.models import AuditEntry, Customer, CustomerIdentifier, Mailbox, ServiceAddress, Tenant, Ticket
from tests.appliance.mail.corpus import mail
from tests.pg import free_port

CRM_QUERY = "SELECT kdnr, full_name FROM kunden WHERE mail = :email OR tel = :number"
CRM_MAP = {"kdnr": "number", "full_name": "name"}


class CrmServer:
    """A CRM answering GET /lookup?email=… with the customer number it knows; /hang never answers."""

    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []
        self.answered = 0
        self.released = asyncio.Event()
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def lookup(self, request: web.Request) -> web.Response:
        self.asked.append(dict(request.query))
        self.answered += 1
        if request.query.get("email") == "peter@crm.example":
            return web.json_response({"number": "K-1001", "name": "Peter Gibbons"})
        return web.json_response({}, status=404)

    async def hang(self, request: web.Request) -> web.Response:
        self.asked.append(dict(request.query))
        await self.released.wait()
        self.answered += 1
        return web.json_response({"number": "K-1001"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/lookup", self.lookup)
        app.router.add_get("/hang", self.hang)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def crm() -> AsyncIterator[CrmServer]:
    server = CrmServer()
    await server.start()
    yield server
    server.released.set()
    assert server.runner is not None
    await server.runner.cleanup()


@pytest.fixture
def crm_file(tmp_path: Path) -> Path:
    """Another system's customer database, a real SQLite file."""
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kunden (kdnr TEXT, full_name TEXT, tel TEXT, mail TEXT)")
        conn.execute("INSERT INTO kunden VALUES ('K-1001', 'Peter Gibbons', '+4940123456', 'peter@crm.example')")
    conn.close()
    return path


def make_org(address: str, **hook: object) -> tuple[int, int]:
    """A tenant with a mailbox on `address`, the hook settings given, and customer K-1001 known by number only."""
    tenant = Tenant.create(name=f"T-{address}", **hook)
    box = Mailbox.create(tenant=tenant, name="Support")
    ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=address)
    customer = Customer.create(tenant=tenant, name="Peter Gibbons", number="K-1001")
    CustomerIdentifier.create(tenant=tenant, customer=customer, kind="number", value="K-1001")
    return tenant.id, customer.id


def send(app, raw: bytes, sender: str, to: str) -> None:
    import smtplib
    import ssl
    port = app.supervisor.service("mail").smtp_port
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=str(app.data.cert)))
        client.sendmail(sender, [to], raw)


async def until(db, fn, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await db.call(fn)
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


def outcome(ticket_id: int) -> dict | None:
    entry = AuditEntry.get_or_none((AuditEntry.action == customer_lookup.ACTION) & (AuditEntry.object_id == ticket_id))
    return {**json.loads(entry.detail), "by": entry.username, "user": entry.user_id} if entry else None


def ticket_from(tenant_id: int) -> Ticket | None:
    return Ticket.get_or_none(Ticket.tenant == tenant_id)


async def mailed_ticket(appliance, tenant_id: int, sender: str, to: str) -> Ticket:
    raw = mail(sender=sender, to=to, message_id=f"<{sender}-{tenant_id}@crm.example>")
    await asyncio.get_running_loop().run_in_executor(None, send, appliance, raw, sender, to)
    ticket = await until(appliance.db, lambda: ticket_from(tenant_id))
    assert ticket is not None, "the mail never became a ticket"
    return ticket


async def test_mail_from_an_address_the_http_crm_knows_ends_on_its_customer(appliance, crm) -> None:
    tenant_id, customer_id = await appliance.db.call(make_org, "support@acme.example", lookup_url=crm.url("/lookup"))
    ticket = await mailed_ticket(appliance, tenant_id, "Peter@CRM.example", "support@acme.example")
    done = await until(appliance.db, lambda: outcome(ticket.id))
    assert done and done["outcome"] == "attached" and done["by"] == customer_lookup.ACTOR and done["user"] is None
    assert done["hook"] == "http" and done["via"] == "external"
    assert (await appliance.db.call(Ticket.get_by_id, ticket.id)).customer_id == customer_id
    assert crm.asked == [{"email": "peter@crm.example"}]  # asked once, with the normalised address


async def test_mail_through_the_sqlite_sql_hook_ends_on_its_customer(appliance, crm_file) -> None:
    tenant_id, customer_id = await appliance.db.call(
        make_org, "help@beta.example", lookup_sql_dsn=f"sqlite:///{crm_file}", lookup_sql_query=CRM_QUERY,
        lookup_sql_map=json.dumps(CRM_MAP))
    ticket = await mailed_ticket(appliance, tenant_id, "peter@crm.example", "help@beta.example")
    done = await until(appliance.db, lambda: outcome(ticket.id))
    assert done and done["outcome"] == "attached" and done["hook"] == "sql"
    assert (await appliance.db.call(Ticket.get_by_id, ticket.id)).customer_id == customer_id


async def test_a_hook_that_never_answers_leaves_the_ticket_unassigned_and_intake_unheld(appliance, crm) -> None:
    tenant_id, _ = await appliance.db.call(make_org, "desk@gamma.example", lookup_url=crm.url("/hang"),
                                           lookup_timeout_ms=500)
    ticket = await mailed_ticket(appliance, tenant_id, "peter@crm.example", "desk@gamma.example")
    # The mail was accepted and is a ticket while the CRM still holds its question unanswered.
    await until(appliance.db, lambda: bool(crm.asked))
    assert crm.asked and crm.answered == 0 and ticket.customer_id is None
    done = await until(appliance.db, lambda: outcome(ticket.id))
    assert done and done["outcome"].startswith("failed: timeout")
    assert (await appliance.db.call(Ticket.get_by_id, ticket.id)).customer_id is None
    assert "timeout" in hooks.LAST_FAILURE[tenant_id][1]
    assert crm.answered == 0


@pytest.fixture
def db(database_url: str):
    """A migrated database."""
    database = Database(database_url)
    database.migrate()
    yield database
    database.close()


def deliver(tenant_id: int, channel: str, sender: str, key: str, state: str = "open") -> int:
    return ModelTicketSink().deliver(InboundMessage(tenant_id=tenant_id, channel=channel, idempotency_key=key,
                                                    sender=sender, body="hello", new_ticket_state=state)).ticket_id


async def test_sms_and_fax_are_swept_once_and_a_restart_attaches_nothing_twice(db, crm_file) -> None:
    tenant_id, customer_id = await db.call(make_org, "x@delta.example", region="DE",
                                           lookup_sql_dsn=f"sqlite:///{crm_file}", lookup_sql_query=CRM_QUERY,
                                           lookup_sql_map=json.dumps(CRM_MAP))
    sms = await db.call(deliver, tenant_id, "sms", "+4940123456", "sms-1")
    fax = await db.call(deliver, tenant_id, "fax", "040 123456", "fax-1")
    stranger = await db.call(deliver, tenant_id, "sms", "+4930999999", "sms-2")
    taken = await db.call(deliver, tenant_id, "sms", "+4940123456", "sms-3")
    spam = await db.call(deliver, tenant_id, "mail", "peter@crm.example", "spam-1", "spam")  # never asked about
    other = await db.call(lambda: Customer.create(tenant=tenant_id, name="Chosen by a person").id)
    # A person set the customer of this one between the sweep and the answer: it is not overwritten.
    candidates = await db.call(customer_lookup.pending, [tenant_id])
    assert sorted(c.ticket_id for c in candidates) == sorted([sms, fax, stranger, taken])
    await db.call(lambda: Ticket.update(customer=other).where(Ticket.id == taken).execute())
    late = next(c for c in candidates if c.ticket_id == taken)
    assert not await db.call(customer_lookup.record, late, customer_id, {"outcome": "attached"})

    worker = IntakeLookup(db)
    assert await worker.sweep() == 3
    await worker.settle()
    got = await db.call(lambda: {t.id: t.customer_id for t in Ticket.select()})
    assert got[sms] == customer_id and got[fax] == customer_id  # the fax's national number read in DE
    assert got[stranger] is None and got[taken] == other and got[spam] is None
    assert (await db.call(outcome, stranger))["outcome"] == "not found"

    # After a restart: every ticket has its one outcome, nothing is asked again.
    again = IntakeLookup(db)
    assert await again.sweep() == 0
    assert await db.call(lambda: AuditEntry.select().where(AuditEntry.action == customer_lookup.ACTION).count()) == 4
    # A ticket whose lookup was cut off by a crash (no outcome) is looked up by the next start.
    crashed = await db.call(deliver, tenant_id, "mail", "peter@crm.example", "mail-1")
    assert await again.sweep() == 1
    await again.settle()
    assert (await db.call(Ticket.get_by_id, crashed)).customer_id == customer_id
