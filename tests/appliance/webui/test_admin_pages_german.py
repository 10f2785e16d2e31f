"""The console pages that used to be English only (organisation, customers, audit, backups, update, the services
page's demo hint, the SMS emulator's hint, the mail page's virus-check details), rendered in German: no text on
them is a catalogue message left in English."""
from __future__ import annotations

from html.parser import HTMLParser

from babel.messages.pofile import read_po

from appliance.webui import locale
from tests.appliance.api.client import ADMIN_PASSWORD
from tests.appliance.webui.helpers import csrf_from, login
from tests.appliance.webui.test_desk import office_setup


class _Texts(HTMLParser):
    """The page's visible text pieces and the attribute texts a person reads (placeholders, labels, titles)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "code", "textarea", "option"):  # code, values and data, not our words
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "textarea", "option"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _english_left(page: str, english: set[str]) -> list[str]:
    parser = _Texts()
    parser.feed(page)
    found = []
    for text in parser.texts:
        for piece in [text, *text.split(": ")]:
            if piece in english or piece.rstrip(".:") in english:
                found.append(piece)
    return found


def _english_messages() -> set[str]:
    """The catalogue's English texts whose German differs (a word the same in both languages proves nothing, nor
    does one that is also a German translation: "Profile" is German for "Profiles")."""
    with locale.po_path("de").open("rb") as fh:
        catalog = read_po(fh)
    german = {m.string for m in catalog if m.id}
    return {m.id for m in catalog
            if m.id and m.string and m.string != m.id and "%(" not in m.id and len(m.id) > 2} - german


async def test_console_pages_render_in_german(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    admin = office["admin"]
    await office["acme"].post("/customers", {"name": "Łucja Wiśniewska", "number": "K-2002"})
    http.cookie_jar.clear()
    await login(http, "admin", ADMIN_PASSWORD)
    token = await csrf_from(http, "/admin/org")
    async with http.post("/account/language", data={"csrf_token": token, "language": "de", "next": "/"},
                         allow_redirects=False) as r:
        assert r.status == 302
    english = _english_messages()
    pages = ["/admin/org", "/admin/org/customers", f"/admin/org/customers/{office['customer']['id']}",
             "/admin/org/customers?q=niemand", f"/admin/org/tenants/{office['tenant']['id']}", "/admin/org/users/new",
             "/admin/org/tickets", "/admin/org/mailboxes", "/admin/audit", "/admin/backups", "/admin/update",
             "/admin", "/admin/sms", "/admin/mail"]
    seen = {}
    for path in pages:
        async with http.get(path) as r:
            page = await r.text()
            assert r.status == 200, (path, page[:300])
        seen[path] = page
        assert _english_left(page, english) == [], path
    assert "Mandanten" in seen["/admin/org"] and "Audit-Protokoll" in seen["/admin/org"]
    assert "Alle Bereiche" in seen["/admin/audit"] and "Wann (UTC)" in seen["/admin/audit"]
    assert "Noch keine Dokumente in der Akte dieses Kunden." in seen[f"/admin/org/customers/{office['customer']['id']}"]
    assert "Anzeigename" in seen["/admin/org/users/new"] and "Einmalpasswort" in seen["/admin/org/users/new"]
    assert "Nichts gefunden." in seen["/admin/org/customers?q=niemand"]
    assert "Alles als CSV exportieren" in seen["/admin/org/customers"]
    assert "Externe Abfrage" in seen[f"/admin/org/tenants/{office['tenant']['id']}"]
    assert "Jetzt sichern" in seen["/admin/backups"] and "<code>systemctl stop appliance</code>" in seen["/admin/backups"]
    assert "Prüfen und installieren" in seen["/admin/update"]
    assert "„Demo einrichten“ legt einen Mandanten <em>Demo</em> an" in seen["/admin"]
    assert "Die emulierten Modems von <code>make run</code>" in seen["/admin/sms"]
    assert "nicht eingerichtet: keine Virenprüfung" in seen["/admin/mail"]


def test_generated_labels_and_hints_are_all_in_the_catalogue_list() -> None:
    """Every form label, column heading and hint the organisation pages make from the schemas is listed in
    org_texts (and so, through the completeness test, translated): a new field needs its words there."""
    from appliance.webui import org_texts
    from appliance.webui.api.crud import all_resources
    from appliance.webui.routes_org import COLUMNS
    labels, hints = set(), set()
    for res in all_resources().values():
        for schema in (res.create_schema, res.update_schema):
            for spec in schema.fields:
                labels.add(spec.name.replace("_id", "").replace("_", " ").capitalize())
                if spec.help:
                    hints.add(spec.help)
    for columns in COLUMNS.values():
        labels.update(c.replace("_id", "").replace("_", " ").capitalize() for c in columns)
    assert labels - set(org_texts.LABELS) == set()
    assert hints - set(org_texts.HINTS) == set()


async def _german_admin(appliance, first_boot, http) -> tuple[dict, str]:
    office = await office_setup(appliance, first_boot, http)
    http.cookie_jar.clear()
    await login(http, "admin", ADMIN_PASSWORD)
    token = await csrf_from(http, "/admin/org")
    async with http.post("/account/language", data={"csrf_token": token, "language": "de", "next": "/"},
                         allow_redirects=False) as r:
        assert r.status == 302
    return office, await csrf_from(http, "/admin/org/users/new")


def _field_error(page: str, name: str) -> str:
    start = page.index(f'<p class="field-error" id="e-{name}">') + len(f'<p class="field-error" id="e-{name}">')
    return page[start:page.index("</p>", start)]


async def test_german_admin_sees_field_messages_in_german(appliance, first_boot, http) -> None:
    office, token = await _german_admin(appliance, first_boot, http)
    tenant = str(office["tenant"]["id"])
    async with http.post("/admin/org/users/new", data={"csrf_token": token, "tenant_id": tenant, "role": "agent",
                                                       "display_name": "Ohne Namen"}) as r:
        page = await r.text()
        assert r.status == 400
    assert _field_error(page, "username") == "ist erforderlich"
    assert '<option value="agent" selected>Agent</option>' in page
    async with http.post("/admin/org/users/new", data={"csrf_token": token, "tenant_id": tenant, "role": "agent",
                                                       "username": "olga", "password": "kurz"}) as r:
        page = await r.text()
        assert r.status == 400
    from appliance.security.passwords import MIN_PASSWORD_LENGTH
    assert _field_error(page, "password") == f"braucht mindestens {MIN_PASSWORD_LENGTH} Zeichen"
    team = await office["acme"].post("/teams", {"name": "Nord"})
    async with http.post(f"/admin/org/teams/{team['id']}", data={"csrf_token": token,
                                                                 "parent_id": str(team["id"])}) as r:
        page = await r.text()
        assert r.status == 400
    assert _field_error(page, "parent_id") == "würde einen Kreis in der Hierarchie bilden"
    parent, refused = "", None
    for level in range(1, 13):  # the form itself builds the chain until the depth limit refuses a level
        async with http.post("/admin/org/categories/new", data={"csrf_token": token, "tenant_id": tenant,
                                                                "name": f"Ebene {level}", "parent_id": parent},
                             allow_redirects=False) as r:
            if r.status == 400:
                refused = await r.text()
                break
            assert r.status == 302, await r.text()
            parent = r.headers["Location"].split("/")[-1].split("?")[0]
    assert refused is not None and level == 11
    assert _field_error(refused, "parent_id") == "wäre tiefer als 10 Ebenen"
    # The API keeps its English, machine-readable answer.
    _, answer = await office["acme"].call("POST", "/categories", {"name": "Ebene 11", "parent_id": int(parent)},
                                          expect=400)
    assert answer["fields"]["parent_id"] == "would be deeper than 10 levels"


async def test_german_choice_lists_show_labels_with_codes_as_values(appliance, first_boot, http) -> None:
    office, _ = await _german_admin(appliance, first_boot, http)
    async with http.get("/admin/org/users/new") as r:
        users = await r.text()
    for code, label in (("agent", "Agent"), ("team_lead", "Teamleitung"), ("it", "IT"),
                        ("admin", "Administrator"), ("controlling", "Controlling")):
        assert f'<option value="{code}" >{label}</option>' in users
    async with http.get("/admin/org/tickets/new") as r:
        tickets = await r.text()
    for code, label in (("mail", "E-Mail"), ("phone", "Anruf"), ("letter", "Brief"), ("internal", "Intern")):
        assert f'<option value="{code}" >{label}</option>' in tickets
    async with http.get("/admin/org/tickets") as r:
        listing = await r.text()
    assert "<td>E-Mail</td>" in listing and "<td>offen</td>" in listing


def test_every_org_choice_code_has_a_label() -> None:
    """A new code in an organisation schema's choice list needs its label in field_texts.CODES."""
    from appliance.webui.api.crud import all_resources
    from appliance.webui.field_texts import CODES
    lacking = {(spec.name, code) for res in all_resources().values()
               for schema in (res.create_schema, res.update_schema) for spec in schema.fields
               for code in spec.choices or () if code not in CODES.get(spec.name, {})}
    assert lacking == set()


def test_schema_messages_translate_with_their_numbers() -> None:
    """Messages made by the schemas themselves come out German with the numbers kept; unknown ones unchanged."""
    from appliance.domain.errors import ValidationError
    from appliance.domain.schema import Field, Schema
    from appliance.webui.field_texts import field_message
    schema = Schema("probe", (Field("name", required=True, max_length=5), Field("n", "int", minimum=2, maximum=9),
                              Field("kind", choices=("a", "b"))))
    try:
        schema.validate({"name": "sechsz", "n": 1, "kind": "c", "extra": 1})
    except ValidationError as exc:
        fields = exc.fields
    locale.use_language("de")
    try:
        german = {k: field_message(v) for k, v in fields.items()}
        assert german == {"name": "darf höchstens 5 Zeichen lang sein", "n": "muss mindestens 2 sein",
                          "kind": "muss einer dieser Werte sein: a, b", "extra": "unbekanntes Feld"}
        assert field_message("no pattern knows this") == "no pattern knows this"
    finally:
        locale.use_language("en")
    assert field_message(fields["name"]) == fields["name"]


async def test_last_update_report_in_german(appliance, first_boot, http) -> None:
    """The installer writes its report in English; the German update page shows it in German."""
    import json
    updates = first_boot.root / "updates"
    updates.mkdir(exist_ok=True)
    (updates / "last-result.json").write_text(json.dumps(
        {"ok": True, "at": "2026-11-23T20:00:00",
         "message": "updated 1.4.0 -> 1.5.0; data backed up first to pre-update-1.5.0.tar.gz"}))
    await _german_admin(appliance, first_boot, http)
    async with http.get("/admin/update") as r:
        page = await r.text()
    assert ("aktualisiert von 1.4.0 auf 1.5.0; die Daten wurden vorher in pre-update-1.5.0.tar.gz gesichert"
            in page)
    (updates / "last-result.json").write_text(json.dumps(
        {"ok": False, "at": "2026-11-23T20:05:00", "message": "update refused or rolled back: bad signature"}))
    async with http.get("/admin/update") as r:
        page = await r.text()
    assert "Aktualisierung abgelehnt oder zurückgenommen: bad signature" in page
