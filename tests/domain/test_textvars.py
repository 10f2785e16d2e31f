"""The variable syntax of text blocks and templates: what is refused at save time, what renders, and that
nothing from outside escapes the sandbox or the HTML sanitiser."""
from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings, strategies as st

from appliance.domain import textvars
from appliance.domain.errors import ValidationError

CTX = textvars.context({"customer.name": "Märta Lindqvist", "agent.name": "Agnes", "ticket.number": 7},
                       datetime.date(2026, 11, 23))


@pytest.mark.parametrize("source, rendered", [
    ("Hej {{ customer.name }}!", "Hej Märta Lindqvist!"),
    ("{{customer.name|upper}}", "MÄRTA LINDQVIST"),
    ('{{ customer.number | default("no number", true) }}', "no number"),
    ("{% if customer.name %}Dear {{ customer.name }}{% else %}Dear customer{% endif %},", "Dear Märta Lindqvist,"),
    ("Ticket {{ ticket.number }} of {{ today }}", "Ticket 7 of 2026-11-23"),
    ("No variables at all.", "No variables at all."),
    ("{{ mailbox.address }}", ""),  # known but unknown here: empty, not an error
])
def test_known_variables_render(source: str, rendered: str) -> None:
    assert textvars.problems(source) == []
    assert textvars.render(source, CTX) == rendered


@pytest.mark.parametrize("source, problem", [
    ("{{ customer.nmae }}", "unknown variable {{ customer.nmae }}"),
    ("{{ customer }}", "unknown variable {{ customer }}"),
    ("{{ customer.name.__class__ }}", "unknown variable {{ customer.name.__class__ }}"),
    ("{{ ''.__class__ }}", "unknown variable {{ … }}"),
    ("{% for x in customer %}{% endfor %}", "for is not allowed"),
    ("{% set x = 1 %}", "assign is not allowed"),
    ("{{ customer.name|attr('x') }}", "unknown filter 'attr'"),
    ("{{ range(10) }}", "call is not allowed"),
    ("{% include 'x' %}", "include is not allowed"),
    ("{{ customer.name ", "line 1: unexpected end of template"),
])
def test_everything_else_is_refused_with_a_reason(source: str, problem: str) -> None:
    found = textvars.problems(source)
    assert any(problem in p for p in found), found
    with pytest.raises(ValidationError) as exc:
        textvars.check({"body_text": source})
    assert list(exc.value.fields) == ["body_text"]
    with pytest.raises(ValidationError):
        textvars.render(source, CTX)


def test_html_escapes_values_and_sanitises_the_text() -> None:
    ctx = textvars.context({"customer.name": '<img src=x onerror="alert(1)">Eve'}, datetime.date(2026, 1, 1))
    out = textvars.render('<p onclick="x()">Hi <b>{{ customer.name }}</b></p><script>alert(2)</script>'
                          '<a href="javascript:alert(3)">x</a>', ctx, html=True)
    assert out == '<p>Hi <b>&lt;img src=x onerror="alert(1)"&gt;Eve</b></p><a rel="noopener noreferrer">x</a>'
    # In plain text the value is left as it is: the mail's text part is not HTML.
    assert textvars.render("{{ customer.name }}", ctx) == '<img src=x onerror="alert(1)">Eve'


def test_html_to_text_keeps_lines() -> None:
    assert textvars.html_to_text("<p>Hallo <b>Zbigniew</b>,</p><p>die Rechnung&nbsp;kommt.<br>Gruß</p>") == \
        "Hallo Zbigniew,\ndie Rechnung\xa0kommt.\nGruß"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_either_refused_or_rendered_never_a_crash(source: str) -> None:
    if textvars.problems(source):
        with pytest.raises(ValidationError):
            textvars.render(source, CTX)
    else:
        assert isinstance(textvars.render(source, CTX), str)
        assert isinstance(textvars.render(source, CTX, html=True), str)
