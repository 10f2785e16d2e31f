"""Domain core: tenants, organisation, customers, tickets, SLA, audit; users get tenant, profile, contact.
Frozen copies of the models, independent of later model changes."""
import datetime

import peewee


def up(migrator, db):
    class User(peewee.Model):
        class Meta:
            database = db
            table_name = "user"

    class Tenant(peewee.Model):
        name = peewee.CharField(max_length=150, unique=True)
        region = peewee.CharField(max_length=2, default="DE")  # default country for national phone numbers
        timezone = peewee.CharField(max_length=64, default="Europe/Berlin")
        lookup_url = peewee.CharField(max_length=500, default="")  # external identification hook (D3)
        lookup_timeout_ms = peewee.IntegerField(default=1500)
        active = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "tenant"

    class Profile(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="profiles", on_delete="CASCADE")
        parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
        name = peewee.CharField(max_length=100)
        rights = peewee.TextField(default="")  # comma-separated permission names
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "profile"
            indexes = ((("tenant", "name"), True),)

    class Team(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="teams", on_delete="CASCADE")
        parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
        name = peewee.CharField(max_length=100)
        kind = peewee.CharField(max_length=16, default="hierarchical")
        settings = peewee.TextField(default="{}")  # JSON: text blocks, forward targets … (F3)
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "team"
            indexes = ((("tenant", "name"), True),)

    class TeamMember(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        team = peewee.ForeignKeyField(Team, backref="members", on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
        lead = peewee.BooleanField(default=False)

        class Meta:
            database = db
            table_name = "team_member"
            indexes = ((("team", "user"), True),)

    class Skill(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="skills", on_delete="CASCADE")
        name = peewee.CharField(max_length=100)
        kind = peewee.CharField(max_length=16, default="skill")
        code = peewee.CharField(max_length=16, default="")
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "skill"
            indexes = ((("tenant", "name"), True),)

    class UserSkill(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, backref="skills", on_delete="CASCADE")
        skill = peewee.ForeignKeyField(Skill, backref="holders", on_delete="CASCADE")
        level = peewee.IntegerField(default=1)

        class Meta:
            database = db
            table_name = "user_skill"
            indexes = ((("user", "skill"), True),)

    class Mailbox(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="mailboxes", on_delete="CASCADE")
        parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
        name = peewee.CharField(max_length=100)
        settings = peewee.TextField(default="{}")
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "mailbox"
            indexes = ((("tenant", "name"), True),)

    class ServiceAddress(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        mailbox = peewee.ForeignKeyField(Mailbox, backref="addresses", on_delete="CASCADE")
        kind = peewee.CharField(max_length=16)  # email, phone, fax, sms
        value = peewee.CharField(max_length=254)  # normalised: lower-case e-mail, E.164 number

        class Meta:
            database = db
            table_name = "service_address"
            indexes = ((("kind", "value"), True),)

    class Category(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="categories", on_delete="CASCADE")
        parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
        name = peewee.CharField(max_length=100)
        depth = peewee.IntegerField(default=1)
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "category"

    class StaffEntry(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="staff", on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        name = peewee.CharField(max_length=200)
        department = peewee.CharField(max_length=100, default="")
        title = peewee.CharField(max_length=100, default="")
        phone = peewee.CharField(max_length=32, default="")
        email = peewee.CharField(max_length=254, default="")
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "staff_entry"

    class Customer(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, backref="customers", on_delete="CASCADE")
        kind = peewee.CharField(max_length=16, default="person")  # person, company
        name = peewee.CharField(max_length=200)
        number = peewee.CharField(max_length=64, null=True)  # customer number, normalised
        company = peewee.ForeignKeyField("self", null=True, backref="contacts", on_delete="SET NULL")
        language = peewee.CharField(max_length=16, default="")
        # D4/H4: private (owner only), group (owner's team), enterprise (the whole tenant).
        ownership = peewee.CharField(max_length=16, default="enterprise")
        owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        owner_team = peewee.ForeignKeyField(Team, null=True, on_delete="SET NULL")
        active = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        updated_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "customer"
            indexes = ((("tenant", "number"), True), (("tenant", "name"), False))

    class CustomerIdentifier(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        customer = peewee.ForeignKeyField(Customer, backref="identifiers", on_delete="CASCADE")
        kind = peewee.CharField(max_length=16)
        value = peewee.CharField(max_length=254)

        class Meta:
            database = db
            table_name = "customer_identifier"
            indexes = ((("tenant", "kind", "value"), True),)

    class Address(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        customer = peewee.ForeignKeyField(Customer, backref="addresses", on_delete="CASCADE")
        kind = peewee.CharField(max_length=16, default="postal")
        street = peewee.CharField(max_length=200, default="")
        postcode = peewee.CharField(max_length=16, default="")
        city = peewee.CharField(max_length=100, default="")
        country = peewee.CharField(max_length=2, default="")

        class Meta:
            database = db
            table_name = "address"

    class Activity(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        customer = peewee.ForeignKeyField(Customer, backref="activities", on_delete="CASCADE")
        ticket_id = peewee.IntegerField(null=True)
        kind = peewee.CharField(max_length=16)  # note, task, appointment
        text = peewee.TextField(default="")
        due_at = peewee.DateTimeField(null=True)
        ends_at = peewee.DateTimeField(null=True)
        done = peewee.BooleanField(default=False)
        author = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        assignee = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="assigned_activities")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "activity"

    class Document(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        customer = peewee.ForeignKeyField(Customer, null=True, backref="documents", on_delete="CASCADE")
        ticket_id = peewee.IntegerField(null=True)
        digest = peewee.CharField(max_length=64)  # SHA-256 name in the DocumentStore
        filename = peewee.CharField(max_length=255, default="")
        mime = peewee.CharField(max_length=100, default="application/octet-stream")
        size = peewee.IntegerField(default=0)
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "document"

    class SlaPolicy(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        name = peewee.CharField(max_length=100)
        response_minutes = peewee.IntegerField(default=240)
        resolve_minutes = peewee.IntegerField(default=2400)
        calendar = peewee.TextField(default="{}")  # JSON: {"hours": {"mon": ["08:00","18:00"], …}, "holidays": […]}
        escalations = peewee.TextField(default="[]")  # JSON: [{"at_percent": 80, "action": "notify_lead"}, …]
        active = peewee.BooleanField(default=True)

        class Meta:
            database = db
            table_name = "sla_policy"
            indexes = ((("tenant", "name"), True),)

    class Ticket(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        subject = peewee.CharField(max_length=300, default="")
        channel = peewee.CharField(max_length=16, default="internal")
        state = peewee.CharField(max_length=16, default="open")
        priority = peewee.IntegerField(default=3)  # 1 most urgent … 5 least
        owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        team = peewee.ForeignKeyField(Team, null=True, on_delete="SET NULL")
        mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="SET NULL")
        category = peewee.ForeignKeyField(Category, null=True, on_delete="SET NULL")
        customer = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL")
        sla = peewee.ForeignKeyField(SlaPolicy, null=True, on_delete="SET NULL")
        skill = peewee.ForeignKeyField(Skill, null=True, on_delete="SET NULL")
        min_level = peewee.IntegerField(default=1)
        language = peewee.CharField(max_length=16, default="")  # '' = any language
        due_at = peewee.DateTimeField()  # resolution due; always set so the work queue orders on an index
        response_due_at = peewee.DateTimeField(null=True)
        resubmit_at = peewee.DateTimeField(null=True)
        escalation_level = peewee.IntegerField(default=0)
        master = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="created_tickets")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        updated_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        closed_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "ticket"
            indexes = (
                # The universal work queue (F15): equality on the first five, then the order it picks in.
                (("tenant", "state", "owner", "skill", "language", "priority", "due_at", "id"), False),
                (("tenant", "customer"), False),
                (("master",), False),
            )

    class Message(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        ticket = peewee.ForeignKeyField(Ticket, backref="messages", on_delete="CASCADE")
        channel = peewee.CharField(max_length=16)
        direction = peewee.CharField(max_length=16, default="in")  # in, out, internal
        kind = peewee.CharField(max_length=16, default="message")
        sender = peewee.CharField(max_length=254, default="")
        recipient = peewee.CharField(max_length=254, default="")
        subject = peewee.CharField(max_length=300, default="")
        body = peewee.TextField(default="")
        source_ref = peewee.CharField(max_length=300, default="")  # spool entry, Message-ID, fax job …
        idempotency_key = peewee.CharField(max_length=200, null=True)
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "message"
            indexes = ((("tenant", "idempotency_key"), True), (("ticket", "created_at"), False))

    class TicketStep(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        ticket = peewee.ForeignKeyField(Ticket, backref="steps", on_delete="CASCADE")
        position = peewee.IntegerField()
        name = peewee.CharField(max_length=200)
        team = peewee.ForeignKeyField(Team, null=True, on_delete="SET NULL")
        done_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        done_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "ticket_step"

    class AuditEntry(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        username = peewee.CharField(max_length=150, default="")
        at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        action = peewee.CharField(max_length=64)
        object_type = peewee.CharField(max_length=32)
        object_id = peewee.IntegerField(null=True)
        detail = peewee.TextField(default="{}")
        remote = peewee.CharField(max_length=64, default="")

        class Meta:
            database = db
            table_name = "audit_entry"
            indexes = ((("tenant", "at"), False),)

    db.create_tables([Tenant, Profile, Team, TeamMember, Skill, UserSkill, Mailbox, ServiceAddress, Category, StaffEntry, Customer, CustomerIdentifier, Address, Activity, Document, SlaPolicy, Ticket, Message, TicketStep, AuditEntry])
    migrator.migrate(
        migrator.add_column("user", "tenant_id",
                            peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE", field=Tenant.id)),
        migrator.add_column("user", "profile_id",
                            peewee.ForeignKeyField(Profile, null=True, on_delete="SET NULL", field=Profile.id)),
        migrator.add_column("user", "email", peewee.CharField(max_length=254, default="")),
        migrator.add_column("user", "phone", peewee.CharField(max_length=32, default="")),
        migrator.add_column("user", "department", peewee.CharField(max_length=100, default="")),
    )


def down(migrator, db):
    migrator.migrate(*[migrator.drop_column("user", c) for c in ("tenant_id", "profile_id", "email", "phone", "department")])
    for table in ['audit_entry', 'ticket_step', 'message', 'ticket', 'sla_policy', 'document', 'activity', 'address', 'customer_identifier', 'customer', 'staff_entry', 'category', 'service_address', 'mailbox', 'user_skill', 'skill', 'team_member', 'team', 'profile', 'tenant']:
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
