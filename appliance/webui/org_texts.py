"""The organisation pages' generated texts, marked for the catalogue: the form labels and column headings made
from the schemas' field names (`display_name` → "Display name") and the schemas' hints. A test keeps this list
in step with the schemas."""
from __future__ import annotations

from appliance.webui.locale import N_

LABELS = (
    N_("Active"), N_("Addresses"), N_("Body"), N_("Calendar"), N_("Category"), N_("Channel"), N_("Code"),
    N_("Company"), N_("Customer"), N_("Department"), N_("Depth"), N_("Direction"), N_("Display name"), N_("Due at"),
    N_("Email"), N_("Emails"), N_("Escalations"), N_("Externals"), N_("Idempotency key"), N_("Kind"), N_("Language"),
    N_("Lookup sql dsn"), N_("Lookup sql map"), N_("Lookup sql query"), N_("Lookup timeout ms"), N_("Lookup url"),
    N_("Mailbox"), N_("Master"), N_("Members"), N_("Min level"), N_("Must change password"), N_("Name"), N_("Number"),
    N_("Owner"), N_("Owner team"), N_("Ownership"), N_("Parent"), N_("Password"), N_("Phone"), N_("Phones"),
    N_("Priority"), N_("Profile"), N_("Queue"), N_("Recipient"), N_("Region"), N_("Resolve minutes"),
    N_("Response minutes"), N_("Rights"), N_("Role"), N_("Sender"), N_("Settings"), N_("Skill"), N_("Skills"),
    N_("Sla"), N_("Source ref"), N_("State"), N_("Subject"), N_("Team"), N_("Teams"), N_("Tenant"), N_("Timezone"),
    N_("Title"), N_("User"), N_("Username"),
)
HINTS = (
    N_("ISO 639-1 code of a language skill"),
    N_("SQL hook instead of the URL: sqlite:////path or postgresql://…"),
    N_('[{"at_percent": 80, "action": "notify_lead"}]'),
    N_("comma-separated permissions"),
    N_("list of address objects"),
    N_("omit to get a one-time password back"),
    N_("one SELECT; parameters :number (phone, E.164), :email, :customer_no"),
    N_("only for this queue; empty: every queue of the tenant"),
    N_("only the system admin passes it; others create in their own tenant"),
    N_("private: owner only; group: owner team; enterprise: all (D4)"),
    N_('result column → customer field, e.g. {"kdnr": "number"}'),
    N_("service addresses: e-mail, phone number, or kind:value with kind email/phone/fax/sms"),
    N_("short key shown in reports and exports, unique in the tenant"),
    N_('text blocks, forwards …; next work: {"mailbox_ids": [1, 2], "max_open_tickets": 5}'),
    N_("unique per tenant; a repeat returns the first result"),
    N_("what agents see in the picker"),
    N_('{"<skill id>": level 1-5}'),
    N_('{"hours": {"mon": ["08:00","18:00"]}, "holidays": ["2025-12-25"]}'),
)
