"""Request bodies of the routes other areas register through api(…, table=…) (ACD, calls, mail, S/MIME, SMS),
described for the OpenAPI document. Their handlers validate on their own; these schemas only describe."""
from __future__ import annotations

from appliance.domain.schema import Field, Schema

AGENT_ACTION = Schema("agent_action", (
    Field("mode", choices=("inbound", "outbound", "back_office"), help="login: how you take work"),
    Field("pause_reason", max_length=100, help="login: start paused with this reason"),
    Field("phone", max_length=40, help="login: an outside number in international format that offers ring "
                                       "instead of the extension (external phone mode)"),
    Field("reason", max_length=100, help="pause: one of the pause reasons of /acd/me")))
CALL_ACTION = Schema("call_action", (
    Field("queue", max_length=64, help="transfer: to this queue (or give number)"),
    Field("number", max_length=40, help="transfer: to this number"),
    Field("target", max_length=40, help="consult: an extension or a number")))
SCRIPT = Schema("queue_script", (Field("text", required=True, max_length=100_000, help="the script"),
                                 Field("activate", "bool", help="put it live now")))
CALENDAR = Schema("queue_calendar", (
    Field("timezone", max_length=64), Field("hours", "object", help='{"mon": [["08:00", "18:00"]], …}'),
    Field("holidays", "any", help='["2025-12-25", …]')))
HOT_PROMPT = Schema("hot_prompt", (Field("name", required=True, max_length=64), Field("on", "bool"),
                                   Field("language", max_length=8, help="only for callers of this language, "
                                                                        "e.g. de; none: every caller")))
CALLBACK = Schema("callback", (Field("queue", required=True, max_length=64), Field("number", required=True, max_length=40),
                               Field("region", max_length=2, help="for a national number; default DE")))
DIAL = Schema("dial", (Field("number", required=True, max_length=40),))
FAX_SEND_IN = Schema("fax_send_in", (Field("number", max_length=40), Field("text", max_length=2000)))
MAIL_ACCOUNT = Schema("mail_account", (
    Field("name", required=True, max_length=254), Field("mailbox_id", "id", required=True),
    Field("protocol", choices=("imap", "pop3")), Field("host", required=True, max_length=254),
    Field("port", "int", minimum=1, maximum=65535), Field("security", choices=("tls", "starttls")),
    Field("username", required=True, max_length=254), Field("password", required=True, max_length=500),
    Field("folder", max_length=500), Field("ca_file", max_length=500), Field("pin_sha256", max_length=500),
    Field("poll_s", "int", minimum=1, maximum=86400), Field("use_idle", "bool"),
    Field("kind", choices=("mail", "sms-gateway"), help="sms-gateway: each mail is an SMS from an SMS gateway"),
    Field("sms_number", max_length=40, help="sms-gateway: the service number (a mailbox's sms:+…) it is for"),
    Field("sms_sender_regex", max_length=200,
          help="sms-gateway: finds the sender in Subject, then From ((?P<number>…)); empty: the From local part")))
SMS_REPORT = Schema("sms_report", (
    Field("id", required=True, max_length=150, help="the gateway's message id from its answer to the send"),
    Field("status", required=True, max_length=40,
          help="delivered, failed or pending, or one of the words of sms.gateway_report_map"),
    Field("error", max_length=2000, help="why it failed, as the gateway says")))
SMIME = Schema("smime_credential", (
    Field("mailbox_id", "id", help="a mailbox key: with key_pem + cert_pem or pkcs12_base64"),
    Field("key_pem", max_length=20000), Field("cert_pem", max_length=20000), Field("pkcs12_base64", max_length=40000),
    Field("passphrase", max_length=500), Field("email", max_length=254),
    Field("trusted", "bool", help="a partner or CA certificate to trust")))
SMS_INJECT = Schema("sms_inject", (Field("from", required=True, max_length=40), Field("text", required=True,
                                                                                       max_length=2000)))
SMS_INBOUND = Schema("sms_inbound", (
    Field("from", required=True, max_length=40, help="the sender: a number (read in the tenant's region) or a name"),
    Field("to", required=True, max_length=40, help="your service number it was sent to (a mailbox's sms:+…)"),
    Field("text", required=True, max_length=20000),
    Field("id", required=True, max_length=150,
          help="the gateway's message id (string or integer): a repeat is ignored")))
