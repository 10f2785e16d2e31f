"""SLA escalation mail (F8): a `notify_lead` and a `notify_owner` step each queue one mail through the outbox,
which the running appliance relays to a real SMTP server; a second scheduler pass sends nothing more; nobody
to mail is audited; the mail rows are written in the step's transaction or not at all."""
from __future__ import annotations

import datetime as dt
import json
from email import message_from_bytes, policy
from typing import Any, AsyncIterator, Iterator
from zoneinfo import ZoneInfo

import pytest

from appliance.db import Database
from appliance.mail.escalation import KIND
from appliance.mail.models import MailOutbox
from appliance.models import (AuditEntry, Mailbox, Message, ServiceAddress, SlaPolicy, Team, TeamMember, Tenant,
                              Ticket, User)
from appliance.models.access.ticket_jobs import escalate_due
from appliance.models.auth import utcnow
from tests.appliance.mail.servers import SmtpSink
from tests.appliance.sms.conftest import until, until_true

PUBLIC_URL = "https://desk.esc.example:8443/"


@pytest.fixture
async def app(first_boot, app_env, smtp_sink: SmtpSink) -> AsyncIterator:
    """The appliance relaying to the SMTP sink, with a public URL for the links in its mails."""
    from appliance import config
    from appliance.runtime import Appliance
    env = {**app_env, "APPLIANCE_MAIL_SMTP_PORT": "0", "APPLIANCE_MAIL_SMTP_HOST": "127.0.0.1",
           "APPLIANCE_MAIL_RELAY_URL": f"starttls://relay:relay-pw@localhost:{smtp_sink.port}",
           "APPLIANCE_MAIL_RELAY_CA_FILE": str(smtp_sink.cert), "APPLIANCE_WEB_PUBLIC_URL": PUBLIC_URL}
    appliance = Appliance(config.load(first_boot.root, env))
    await appliance.start()
    yield appliance
    await appliance.stop()


STEPS = json.dumps([{"at_percent": 50, "action": "notify_lead"}, {"at_percent": 80, "action": "notify_owner"}])


def make_org(name: str, lead_email: str = "lena@esc.example", with_lead: bool = True,
             supervisor_email: str = "") -> dict[str, Any]:
    """A tenant with a support mailbox, a team with lead Lena (German) and agent Otto, and a 60-minute SLA
    ticket of that team owned by Otto, created two hours ago (every step is due)."""
    tenant = Tenant.create(name=name, timezone="Europe/Berlin")
    box = Mailbox.create(tenant=tenant, name="Support")
    ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=f"support@{name.lower()}.example")
    team = Team.create(tenant=tenant, name="Billing")
    lead = User.create(username=f"lena-{name}", password_hash="-", tenant=tenant, role="team_lead",
                       email=lead_email, language="de")
    if with_lead:
        TeamMember.create(tenant=tenant, team=team, user=lead, lead=True)
    owner = User.create(username=f"otto-{name}", password_hash="-", tenant=tenant, role="agent",
                        email="otto@esc.example", language="en")
    TeamMember.create(tenant=tenant, team=team, user=owner)
    if supervisor_email:
        User.create(username=f"sue-{name}", password_hash="-", tenant=tenant, role="supervisor",
                    email=supervisor_email)
    sla = SlaPolicy.create(tenant=tenant, name="Gold", response_minutes=10, resolve_minutes=60, escalations=STEPS)
    now = utcnow().replace(microsecond=0)
    ticket = Ticket.create(tenant=tenant, subject="Rechnung doppelt\nabgebucht", team=team, mailbox=box,
                           owner=owner, sla=sla, created_at=now - dt.timedelta(hours=2),
                           due_at=now - dt.timedelta(hours=1))
    return {"tenant_id": tenant.id, "ticket_id": ticket.id, "due_at": ticket.due_at}


def escalation_rows(ticket_id: int) -> list[MailOutbox]:
    return list(MailOutbox.select().where((MailOutbox.kind == KIND) & (MailOutbox.ticket == ticket_id))
                .order_by(MailOutbox.id))


def text(mail: Any) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def to_of(raw: bytes) -> str:
    return raw.split(b"\r\n", 2)[1].decode().removeprefix("X-Envelope-To: ")


async def test_notify_steps_mail_the_lead_and_the_owner_once(app, smtp_sink: SmtpSink) -> None:
    org = await app.db.call(make_org, "Esc")
    ticket_id = org["ticket_id"]
    before = len(smtp_sink.received())  # the sink lives for the module: both databases' runs write to it
    scheduler = app.supervisor.service("scheduler")
    await scheduler._ticket_jobs()  # one real pass of the scheduler's minute job
    assert scheduler.last_job_error == ""

    def mine() -> list[bytes]:
        return [r for r in smtp_sink.received()[before:] if f"#{ticket_id} ".encode() in r]

    assert await until_true(lambda: len(mine()) == 2, timeout=30)
    got = {to_of(r): message_from_bytes(r.split(b"\r\n", 2)[2], policy=policy.default) for r in mine()}
    assert set(got) == {"lena@esc.example", "otto@esc.example"}
    lead, owner = got["lena@esc.example"], got["otto@esc.example"]
    # Due one hour ago, in the tenant's zone (Berlin), as the mail names it.
    due = org["due_at"].replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo("Europe/Berlin"))
    due_text = f"{due:%Y-%m-%d %H:%M} Europe/Berlin"
    assert lead["Subject"] == (f"SLA 50 % erreicht: Ticket #{ticket_id} \u201eRechnung doppelt abgebucht\u201c, "
                               f"fällig {due_text}")
    assert owner["Subject"] == (f"SLA 80 % reached: ticket #{ticket_id} \u201cRechnung doppelt abgebucht\u201d, "
                                f"due {due_text}")
    for mail in (lead, owner):
        assert mail["From"] == "support@esc.example"
        assert mail["Auto-Submitted"] == "auto-generated"
        link = f"https://desk.esc.example:8443/desk/tickets/{ticket_id}"
        assert any(line.endswith(f": {link}") for line in text(mail).splitlines())
    assert "Ihres Teams Billing" in text(lead) and "A ticket you own" in text(owner)

    # Both rows sent; a second pass, now and later, queues nothing more.
    assert await until(app, lambda: all(r.state == "sent" for r in escalation_rows(ticket_id)) or None)
    await scheduler._ticket_jobs()
    assert await app.db.call(escalate_due, utcnow() + dt.timedelta(hours=5)) == []
    assert len(await app.db.call(escalation_rows, ticket_id)) == 2
    notes = await app.db.call(lambda: [m.body for m in Message.select().where(Message.ticket == ticket_id)
                                       .order_by(Message.id)])
    assert notes == ["SLA escalation 1: notify_lead at 50 %; mailed to lena@esc.example",
                     "SLA escalation 2: notify_owner at 80 %; mailed to otto@esc.example"]
    assert len(mine()) == 2


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database, connected for the test's thread."""
    database = Database(database_url)
    database.migrate()
    with database.peewee.connection_context():
        yield database
    database.close()


def test_a_lead_without_address_is_audited_and_the_owner_still_mailed(db) -> None:
    org = make_org("Nolead", lead_email="")
    with db.peewee.atomic():
        done = escalate_due()
    assert [(level, step) for _, level, step in done] == [(1, "notify_lead"), (2, "notify_owner")]
    rows = escalation_rows(org["ticket_id"])
    assert [json.loads(r.rcpt_to) for r in rows] == [["otto@esc.example"]]
    unmailed = [json.loads(e.detail) for e in AuditEntry.select().where(
        (AuditEntry.object_id == org["ticket_id"]) & (AuditEntry.action == "sla.escalation.unmailed"))]
    assert unmailed == [{"level": 1, "step": "notify_lead", "reason": "no e-mail address for lena-Nolead"}]
    assert Ticket.get_by_id(org["ticket_id"]).escalation_level == 2


def test_without_a_team_lead_the_supervisors_are_mailed(db) -> None:
    org = make_org("Sup", with_lead=False, supervisor_email="Sue@Sup.Example")
    with db.peewee.atomic():
        escalate_due()
    assert [json.loads(r.rcpt_to) for r in escalation_rows(org["ticket_id"])] == [
        ["sue@sup.example"], ["otto@esc.example"]]


def test_the_mail_is_written_with_the_step_or_not_at_all(db) -> None:
    org = make_org("Crash")

    class Crash(Exception):
        pass

    # A crash after the step was applied, before the transaction commits: neither the level nor a mail remains.
    with pytest.raises(Crash), db.peewee.atomic():
        assert len(escalate_due()) == 2 and len(escalation_rows(org["ticket_id"])) == 2
        raise Crash
    assert escalation_rows(org["ticket_id"]) == [] and Ticket.get_by_id(org["ticket_id"]).escalation_level == 0
    with db.peewee.atomic():
        assert len(escalate_due()) == 2
    with db.peewee.atomic():
        assert escalate_due() == []
    assert len(escalation_rows(org["ticket_id"])) == 2


def test_public_url_must_be_a_web_address(first_boot, app_env) -> None:
    from appliance import config
    from appliance.errors import ConfigError
    for bad in ("desk.example.com", "ftp://desk.example.com", "https://", "https://[::1", "https://d.example/?x=1"):
        with pytest.raises(ConfigError, match="(?i)public_url"):
            config.load(first_boot.root, {**app_env, "APPLIANCE_WEB_PUBLIC_URL": bad})
    assert config.load(first_boot.root, app_env).get("web", "public_url") == ""


def test_no_owner_and_a_disabled_owner_are_named(db) -> None:
    org = make_org("Gone")
    ticket = Ticket.get_by_id(org["ticket_id"])
    User.update(active=False).where(User.id == ticket.owner_id).execute()
    other = make_org("Nobody")
    Ticket.update(owner=None).where(Ticket.id == other["ticket_id"]).execute()
    with db.peewee.atomic():
        escalate_due()
    reasons = {e.object_id: json.loads(e.detail)["reason"] for e in AuditEntry.select().where(
        AuditEntry.action == "sla.escalation.unmailed")}
    assert reasons == {org["ticket_id"]: "the ticket's owner is disabled",
                       other["ticket_id"]: "the ticket has no owner"}
    assert [json.loads(r.rcpt_to) for r in escalation_rows(org["ticket_id"])] == [["lena@esc.example"]]
