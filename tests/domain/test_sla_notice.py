"""The SLA escalation mail's text (F8): the recipient's language, one-line subject, local due time."""
from __future__ import annotations

import datetime as dt

import pytest

from appliance.domain.sla_notice import escalation_notice, language_of, local_due


def test_language_falls_back_to_english() -> None:
    assert [language_of(c) for c in ("de", "de-AT", "DE_ch", "sv", "", None)] == ["de", "de", "de", "en", "en", "en"]


def test_due_time_is_the_tenants_wall_clock() -> None:
    winter, summer = dt.datetime(2025, 1, 15, 12, 0), dt.datetime(2025, 7, 15, 12, 0)
    assert local_due(winter, "Europe/Berlin") == "2025-01-15 13:00 Europe/Berlin"
    assert local_due(summer, "Europe/Berlin") == "2025-07-15 14:00 Europe/Berlin"
    assert local_due(winter, "Mars/Olympus") == "2025-01-15 12:00 UTC"


def test_subject_is_one_line_and_names_what_matters() -> None:
    notice = escalation_notice("de", "notify_lead", number=42, subject="Drucker\r\nbrennt {x}", percent=80,
                               level=1, due="2025-01-15 13:00 Europe/Berlin", link="/desk/tickets/42",
                               policy="Gold", team="Technik")
    assert notice.subject == "SLA 80 % erreicht: Ticket #42 \u201eDrucker brennt {x}\u201c, fällig 2025-01-15 13:00 Europe/Berlin"
    assert "Ihres Teams Technik" in notice.body and "/desk/tickets/42" in notice.body
    owner = escalation_notice("en", "notify_owner", number=7, subject="", percent=100, level=2, due="d", link="l",
                              policy="P")
    assert owner.subject.startswith("SLA 100 % reached: ticket #7 \u201c(no subject)\u201d")
    with pytest.raises(ValueError):
        escalation_notice("en", "raise_priority", number=1, subject="", percent=1, level=1, due="", link="", policy="")
