"""UI languages: the German catalogue covers every message of the translated screens, the language pick
follows the user's choice then the browser, and translations render with Unicode intact."""
from __future__ import annotations

from hypothesis import given, strategies as st

from appliance.webui import locale


def test_german_catalogue_covers_every_message() -> None:
    assert locale.missing("de") == []


def test_every_placeholder_survives_translation() -> None:
    import re
    with locale.po_path("de").open("rb") as fh:
        from babel.messages.pofile import read_po
        catalog = read_po(fh)
    for message in catalog:
        if message.id:
            assert sorted(re.findall(r"%\(\w+\)s", message.id)) == sorted(re.findall(r"%\(\w+\)s", message.string)), \
                message.id


def test_pick_language() -> None:
    assert locale.pick_language("de", "en-GB") == "de"
    assert locale.pick_language(None, "fr-FR,de;q=0.8,en;q=0.5") == "de"
    assert locale.pick_language("", "en;q=0.2,de-AT;q=0.9") == "de"
    assert locale.pick_language("zh", "pl,sv") == "en"
    assert locale.pick_language(None, "") == "en"
    assert locale.pick_language("DE-ch", "") == "de"


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=20)))
def test_pick_language_never_fails(accept: str, chosen: str | None) -> None:
    assert locale.pick_language(chosen, accept) in locale.LANGUAGES


def test_translations_per_task() -> None:
    locale.use_language("de")
    assert locale.gettext("Take next") == "Nächstes nehmen"
    assert locale.strings(["Ready", "Not in the catalogue: 李"]) == {"Ready": "Bereit",
                                                                     "Not in the catalogue: 李": "Not in the catalogue: 李"}
    locale.use_language("en")
    assert locale.gettext("Take next") == "Take next"
