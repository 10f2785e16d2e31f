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


def _js_calls(script: str, name: str) -> set[str]:
    """The string literals a page script passes to its translation function (`S("…")`, `T("…")`)."""
    import re
    from pathlib import Path
    text = (Path(locale.__file__).parents[1] / "static" / script).read_text(encoding="utf-8")
    return set(re.findall(rf'\b{name}\("([^"\\]+)"\)', text))


def test_script_strings_come_translated_from_the_page() -> None:
    """Every string the desk's and the wallboard's scripts translate is rendered into their page's data attribute
    (so it reaches the catalogue, which the first test holds complete); the wallboard's states too."""
    import re
    from pathlib import Path
    from appliance.webui.routes_desk import JS_STRINGS
    from appliance.webui.routes_live import WALLBOARD_STRINGS
    wallboard = _js_calls("wallboard.js", "T")
    assert {"Today", "No agent is logged in.", "reconnecting…"} <= wallboard
    assert wallboard <= set(WALLBOARD_STRINGS)
    source = (Path(locale.__file__).parents[1] / "static" / "wallboard.js").read_text(encoding="utf-8")
    words = re.search(r"const stateWord = \{([^}]*)\}", source).group(1)
    assert set(re.findall(r'"([^"]+)"', words)) <= set(WALLBOARD_STRINGS)
    assert _js_calls("desk.js", "S") <= set(JS_STRINGS)
    locale.use_language("de")
    try:
        assert locale.strings(["Today", "nobody waiting"]) == {"Today": "Heute", "nobody waiting": "niemand wartet"}
    finally:
        locale.use_language("en")


def test_admin_script_strings_are_rendered_translated_by_their_page() -> None:
    """admin.js and fax.js take their words from a JSON attribute their page renders with `_()`: every string they
    look up is there (and so in the catalogue)."""
    import re
    from pathlib import Path
    templates = Path(locale.__file__).parents[1] / "templates"
    for script, template in (("admin.js", "admin/services.html"), ("fax.js", "admin/fax.html")):
        page = (templates / template).read_text(encoding="utf-8")
        looked_up = _js_calls(script, "T")
        assert looked_up, script
        for text in looked_up:
            assert re.search(rf'"{re.escape(text)}":\s*_\("{re.escape(text)}"', page), (script, text)
