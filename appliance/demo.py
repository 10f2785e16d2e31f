"""The demo organisation for the emulated lines: one click (or `python -m appliance demo-setup`) and calls,
faxes and SMS on the built-in simulator and emulators land as tickets an agent can work in the desk.

It only adds what is missing: a tenant "Demo", a mailbox "Service desk" serving the emulated numbers
(phone, fax, SMS), and an agent "agent1" with extension 2001 and a one-time password. Nothing on a real
installation depends on it; delete the tenant to remove it all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from appliance.models import Mailbox, ServiceAddress, Tenant, User
from appliance.models.acd import AgentPhone
from appliance.security.passwords import generate_password, hash_password

DEMO_TENANT = "Demo"
DEMO_MAILBOX = "Service desk"
DEMO_AGENT = "agent1"
DEMO_EXTENSION = "2001"
# The numbers the emulators answer on by default: the simulator's two queues, the fax line, the GSM modem.
EMULATED_NUMBERS = (("phone", "+4940111000"), ("phone", "+4940111222"), ("fax", "+4940111333"),
                    ("sms", "+46700000100"))


@dataclass
class DemoSetup:
    """What was made (and the agent's one-time password, shown once)."""

    tenant_id: int
    mailbox_id: int
    addresses: list[str] = field(default_factory=list)
    agent_password: str | None = None


def set_up_demo() -> DemoSetup:
    """Create the demo organisation where missing (inside a transaction)."""
    tenant = Tenant.get_or_none(Tenant.name == DEMO_TENANT) or Tenant.create(name=DEMO_TENANT, region="DE")
    mailbox = (Mailbox.get_or_none((Mailbox.tenant == tenant) & (Mailbox.name == DEMO_MAILBOX))
               or Mailbox.create(tenant=tenant, name=DEMO_MAILBOX))
    result = DemoSetup(tenant.id, mailbox.id)
    for kind, value in EMULATED_NUMBERS:
        if not ServiceAddress.select().where((ServiceAddress.kind == kind) & (ServiceAddress.value == value)).exists():
            ServiceAddress.create(tenant=tenant, mailbox=mailbox, kind=kind, value=value)
            result.addresses.append(f"{kind}:{value}")
    if not User.select().where(User.username == DEMO_AGENT).exists():
        result.agent_password = generate_password()
        agent = User.create(username=DEMO_AGENT, display_name="Demo agent", role="agent", tenant=tenant,
                            password_hash=hash_password(result.agent_password), must_change_password=True)
        if not AgentPhone.select().where(AgentPhone.extension == DEMO_EXTENSION).exists():
            AgentPhone.create(user=agent, tenant=tenant, extension=DEMO_EXTENSION)
    return result
