"""What the organisation pages show for the API's codes and field messages, in the page's language: the API
answers in English codes and English messages; these tables give each a catalogue entry, used at render time."""
from __future__ import annotations

import re

from appliance.webui.locale import N_, by_pattern, gettext

# Display label per choice code, by field name (a code the table lacks is shown as it is).
CODES: dict[str, dict[str, str]] = {
    "role": {"agent": N_("Agent"), "team_lead": N_("Team lead"), "supervisor": N_("Supervisor"),
             "it": N_("IT"), "controlling": N_("Controlling"), "admin": N_("Administrator")},
    "channel": {"mail": N_("E-mail"), "phone": N_("Phone call"), "fax": N_("Fax"), "letter": N_("Letter"),
                "sms": N_("SMS"), "chat": N_("Chat"), "internal": N_("Internal"), "web": N_("Web form")},
    "state": {"open": N_("open"), "pending": N_("pending"), "resubmission": N_("resubmission"), "done": N_("done"),
              "deleted": N_("deleted")},
    "ownership": {"private": N_("private"), "group": N_("group"), "enterprise": N_("enterprise")},
    "direction": {"in": N_("incoming"), "out": N_("outgoing"), "internal": N_("internal")},
    # "kind" means different things per resource, but no code is shared between them.
    "kind": {"person": N_("person"), "company": N_("company"), "skill": N_("skill"), "language": N_("language"),
             "hierarchical": N_("hierarchical"), "functional": N_("functional"), "message": N_("message"),
             "note": N_("note"), "reply": N_("reply"), "query": N_("query"), "forward": N_("forward"),
             "system": N_("system"), "postal": N_("postal"), "billing": N_("billing"),
             "delivery": N_("delivery")},
}

# The API's field messages as patterns with named parts -> a catalogue message id with the same parameters.
# The English text stays what the API answers (domain/schema.py, models/access/); first match wins.
_MESSAGES = (
    (r"is required", N_("is required")),
    (r"is required \(you act for no tenant\)", N_("is required (you act for no tenant)")),
    (r"must not be null", N_("must not be null")),
    (r"must be a string", N_("must be a string")),
    (r"must be at most (?P<n>\d+) characters", N_("must be at most %(n)s characters")),
    (r"must be at most (?P<n>\d+) characters as JSON", N_("must be at most %(n)s characters as JSON")),
    (r"entries must be at most (?P<n>\d+) characters", N_("entries must be at most %(n)s characters")),
    (r"must not contain NUL characters", N_("must not contain NUL characters")),
    (r"must not be empty", N_("must not be empty")),
    (r"must be one of (?P<choices>.+)", N_("must be one of %(choices)s")),
    (r"must be a whole number", N_("must be a whole number")),
    (r"must be an integer", N_("must be an integer")),
    (r"must be at least (?P<n>-?\d+)", N_("must be at least %(n)s")),
    (r"must be at most (?P<n>-?\d+)", N_("must be at most %(n)s")),
    (r"must be a positive id", N_("must be a positive id")),
    (r"must be true or false", N_("must be true or false")),
    (r"must be an ISO 8601 date-time string", N_("must be an ISO 8601 date-time string")),
    (r"must be an ISO 8601 date-time such as (?P<example>\S+)",
     N_("must be an ISO 8601 date-time such as %(example)s")),
    (r"must be a list of strings", N_("must be a list of strings")),
    (r"must have at most (?P<n>\d+) entries", N_("must have at most %(n)s entries")),
    (r"must be a list of ids", N_("must be a list of ids")),
    (r"must be a list of positive ids", N_("must be a list of positive ids")),
    (r"must be JSON", N_("must be JSON")),
    (r"must be a JSON object", N_("must be a JSON object")),
    (r"must be an object", N_("must be an object")),
    (r"unknown field", N_("unknown field")),
    (r"(?P<value>.+) is already taken", N_("%(value)s is already taken")),
    (r"(?P<name>.+) already exists at this level", N_("%(name)s already exists at this level")),
    (r"would make the hierarchy cyclic", N_("would make the hierarchy cyclic")),
    (r"would be deeper than (?P<n>\d+) levels", N_("would be deeper than %(n)s levels")),
    (r"unknown tenant (?P<id>.+)", N_("unknown tenant %(id)s")),
    (r"must be a two-letter country code", N_("must be a two-letter country code")),
    (r"must be an http\(s\) URL", N_("must be an http(s) URL")),
    (r"you cannot disable yourself", N_("you cannot disable yourself")),
    (r"must map a skill id to a level 1-5", N_("must map a skill id to a level 1-5")),
    (r"unknown permission\(s\): (?P<names>.+)", N_("unknown permission(s): %(names)s")),
    (r"a language skill needs its ISO 639 code \(e\.g\. de\)", N_("a language skill needs its ISO 639 code (e.g. de)")),
    (r"(?P<address>.+) is listed twice", N_("%(address)s is listed twice")),
    (r"(?P<address>.+) is already served by a mailbox", N_("%(address)s is already served by a mailbox")),
    (r"the SQL hook needs a query", N_("the SQL hook needs a query")),
    (r"needs at least (?P<n>\d+) characters", N_("needs at least %(n)s characters")),  # security/passwords.py
    (r"must differ from the user name", N_("must differ from the user name")),
    (r"too few different characters", N_("too few different characters")),
)
_COMPILED = tuple((re.compile(pattern + r"\Z", re.DOTALL), message) for pattern, message in _MESSAGES)


def code_label(field: str, code: object) -> str:
    """The label of a choice code in the page's language; an unknown code (or a non-code) as it is."""
    text = "" if code is None else str(code)
    label = CODES.get(field, {}).get(text)
    return gettext(label) if label else text


def field_message(message: str) -> str:
    """An API field message in the page's language; one no pattern knows stays as the API said it."""
    return by_pattern(message, _COMPILED)
