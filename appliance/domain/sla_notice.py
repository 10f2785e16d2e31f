"""The mail an SLA escalation step sends to a ticket's owner or its team's lead (F8), in English or German.

A small text table here rather than the web UI's gettext catalogues: the scheduler writes these mails, and the
domain must not reach up into the web layer (DESIGN.md). Pure: no database, no mail objects.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES = ("en", "de")
DEFAULT = "en"
NOTIFY_ACTIONS = ("notify_owner", "notify_lead")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "SLA {percent} % reached: ticket #{number} \u201c{subject}\u201d, due {due}",
        "notify_owner": "A ticket you own has used {percent} % of its SLA time ({policy}).",
        "notify_lead": "A ticket of your team {team} has used {percent} % of its SLA time ({policy}).",
        "body": ("Ticket: #{number}\nSubject: {subject}\nDue: {due}\nEscalation step: {level}\n\n"
                 "Open it on the desk: {link}\n\n"
                 "This message was sent automatically by the SLA escalation; replies are not read."),
        "no_subject": "(no subject)",
        "no_team": "(no team)",
    },
    "de": {
        "subject": "SLA {percent} % erreicht: Ticket #{number} \u201e{subject}\u201c, fällig {due}",
        "notify_owner": "Ein Ticket, das Ihnen gehört, hat {percent} % seiner SLA-Zeit verbraucht ({policy}).",
        "notify_lead": "Ein Ticket Ihres Teams {team} hat {percent} % seiner SLA-Zeit verbraucht ({policy}).",
        "body": ("Ticket: #{number}\nBetreff: {subject}\nFällig: {due}\nEskalationsstufe: {level}\n\n"
                 "Am Arbeitsplatz öffnen: {link}\n\n"
                 "Diese Nachricht hat die SLA-Eskalation automatisch gesendet; Antworten werden nicht gelesen."),
        "no_subject": "(kein Betreff)",
        "no_team": "(kein Team)",
    },
}


@dataclass(frozen=True)
class Notice:
    """What the mail says: its subject line and plain-text body."""

    subject: str
    body: str


def language_of(code: str | None) -> str:
    """A user's language ("de-AT" → "de") if we have texts for it, else English."""
    base = (code or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT


def local_due(due_utc: datetime.datetime, tz: str) -> str:
    """A naive-UTC due time as the tenant's wall clock, naming the zone (UTC if the zone is unknown)."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone, tz = ZoneInfo("UTC"), "UTC"
    local = due_utc.replace(tzinfo=datetime.timezone.utc).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {tz}"


def escalation_notice(language: str, action: str, *, number: int, subject: str, percent: int, level: int,
                      due: str, link: str, policy: str, team: str = "") -> Notice:
    """The escalation mail of one step (`notify_owner` or `notify_lead`) in `language`."""
    if action not in NOTIFY_ACTIONS:
        raise ValueError(f"{action!r} sends no mail")
    texts = TEXTS[language_of(language)]
    # One line in the subject: a ticket subject may carry newlines from a mail header or the API.
    plain_subject = " ".join(subject.split())[:120] or texts["no_subject"]
    values = {"number": number, "subject": plain_subject, "percent": percent, "level": level, "due": due,
              "link": link, "policy": policy, "team": team or texts["no_team"]}
    return Notice(texts["subject"].format(**values),
                  texts[action].format(**values) + "\n\n" + texts["body"].format(**values))
