"""peewee models of the appliance. Tables are created by versioned migrations in migrations/."""
from __future__ import annotations

import peewee

database_proxy = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    """All models live in the one configured database."""

    class Meta:
        database = database_proxy
        legacy_table_names = False


from appliance.models.auth import ApiToken, User  # noqa: E402  (after BaseModel, which they use)
from appliance.models.org import (Category, Mailbox, Profile, ServiceAddress, Skill,  # noqa: E402
                                  StaffEntry, Team, TeamMember, Tenant, UserSkill)
from appliance.models.customers import Activity, Address, Customer, CustomerIdentifier, Document  # noqa: E402
from appliance.models.tickets import AuditEntry, Message, SlaPolicy, Ticket, TicketStep  # noqa: E402

__all__ = ["BaseModel", "database_proxy", "User", "ApiToken", "Tenant", "Profile", "Team", "TeamMember",
           "Skill", "UserSkill", "Mailbox", "ServiceAddress", "Category", "StaffEntry", "Customer",
           "CustomerIdentifier", "Address", "Activity", "Document", "SlaPolicy", "Ticket", "Message",
           "TicketStep", "AuditEntry"]
