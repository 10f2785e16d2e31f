"""S/MIME keys and account passwords through HTTP: uploads with CSRF, what the console shows, and that no
secret is stored or shown in the clear."""
from __future__ import annotations

import json

import aiohttp
from cryptography.hazmat.primitives import hashes

from appliance.mail.models import MailAccount, SmimeCredential
from appliance.models import Mailbox, ServiceAddress, Tenant
from tests.appliance.mail.pki import identity
from tests.appliance.webui.helpers import csrf_from

PAGE = "/admin/mail/smime"


async def make_box(app, address: str, name: str = "Support") -> tuple[int, int]:
    def work() -> tuple[int, int]:
        tenant = Tenant.create(name=f"T-{address}")
        box = Mailbox.create(tenant=tenant, name=name)
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=address)
        return tenant.id, box.id
    return await app.db.call(work)


def upload(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for k, v in fields.items():
        form.add_field(k, v)
    for k, (name, data) in files.items():
        form.add_field(k, data, filename=name, content_type="application/octet-stream")
    return form


async def test_pkcs12_upload_is_sealed_and_shown_with_its_facts(app, admin_http) -> None:
    tenant_id, box_id = await make_box(app, "support@acme.example")
    me = identity("support@acme.example", name="Acme Support")
    token = await csrf_from(admin_http, PAGE)
    async with admin_http.get(PAGE) as r:
        assert "No S/MIME keys or certificates yet" in await r.text()
    # No CSRF token: refused before anything is read.
    async with admin_http.post(PAGE + "/keys", data=upload({"mailbox_id": str(box_id), "passphrase": "pw-1"},
                                                           {"pkcs12": ("me.p12", me.pkcs12("pw-1"))})) as r:
        assert r.status == 403
    wrong = upload({"csrf_token": token, "mailbox_id": str(box_id), "passphrase": "guess"},
                   {"pkcs12": ("me.p12", me.pkcs12("pw-1"))})
    async with admin_http.post(PAGE + "/keys", data=wrong) as r:
        assert r.status == 400
        assert "wrong passphrase" in await r.text()
    good = upload({"csrf_token": token, "mailbox_id": str(box_id), "passphrase": "pw-1"},
                  {"pkcs12": ("me.p12", me.pkcs12("pw-1"))})
    async with admin_http.post(PAGE + "/keys", data=good, allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == PAGE + "?done=key"
    row = await app.db.call(lambda: SmimeCredential.get(SmimeCredential.mailbox == box_id))
    assert row.key_pem == "" and row.key_sealed.startswith("s1:") and row.email == "support@acme.example"
    assert b"PRIVATE" not in row.key_sealed.encode()
    async with admin_http.get(PAGE + "?done=key") as r:
        html = await r.text()
    sha = me.cert.fingerprint(hashes.SHA256()).hex()
    assert "O=Test Org,CN=Acme Support" in html and sha[:16] in html and "key sealed" in html
    assert "The key was added" in html and "PRIVATE KEY" not in html
    async with admin_http.get("/api/v1/mail/smime") as r:
        [item] = (await r.json())["items"]
    assert item["has_key"] and item["sha256"] == sha and item["expiry"] == "ok"
    assert not {"key_pem", "key_sealed"} & set(item)


async def test_partner_certificate_upload_warns_before_expiry_and_removal(app, admin_http) -> None:
    tenant_id, _ = await make_box(app, "help@acme.example")
    partner = identity("bob@customer.example", days=12)
    token = await csrf_from(admin_http, PAGE)
    form = upload({"csrf_token": token, "tenant_id": str(tenant_id)}, {"cert_pem": ("bob.pem", partner.cert_pem)})
    async with admin_http.post(PAGE + "/partners", data=form, allow_redirects=False) as r:
        assert r.status == 302
    async with admin_http.get(PAGE) as r:
        html = await r.text()
    assert "bob@customer.example" in html and "expires in 1" in html  # 11 or 12 days
    bad = upload({"csrf_token": token, "tenant_id": str(tenant_id)}, {"cert_pem": ("x.pem", b"not a cert")})
    async with admin_http.post(PAGE + "/partners", data=bad) as r:
        assert r.status == 400 and "not a PEM or DER certificate" in await r.text()
    row = await app.db.call(lambda: SmimeCredential.get(SmimeCredential.email == "bob@customer.example"))
    async with admin_http.post(f"{PAGE}/{row.id}/delete", data={"csrf_token": token}, allow_redirects=False) as r:
        assert r.status == 302
    assert await app.db.call(lambda: SmimeCredential.get_or_none(SmimeCredential.id == row.id)) is None
    async with admin_http.delete(f"/api/v1/mail/smime/{row.id}", headers={"X-CSRF-Token": token}) as r:
        assert r.status == 404


async def test_account_password_is_sealed_never_returned_and_legacy_rows_get_sealed(app, admin_http) -> None:
    tenant_id, box_id = await make_box(app, "box@acme.example")
    token = await csrf_from(admin_http, "/admin/mail")
    account = {"name": "Sealed box", "protocol": "imap", "security": "tls", "host": "127.0.0.1", "port": 1,
               "username": "box@acme.example", "password": "Very-Secret-Pw-9", "mailbox_id": box_id}
    async with admin_http.post("/api/v1/mail/accounts", json=account, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 201
        created = await r.json()
    row = await app.db.call(MailAccount.get_by_id, created["id"])
    assert row.password == "" and row.password_sealed.startswith("s1:")
    for path in ("/api/v1/mail/accounts", "/admin/mail"):
        async with admin_http.get(path) as r:
            assert "Very-Secret-Pw-9" not in await r.text() and "s1:" not in await r.text()
    # A row written before sealing existed (or straight into the database) is sealed by the service.
    legacy = await app.db.call(lambda: MailAccount.create(tenant=tenant_id, mailbox=box_id, name="legacy",
                                                          host="127.0.0.1", port=1, username="u",
                                                          password="Old-Plain-Pw-1").id)
    svc = app.supervisor.service("mail")
    loaded = await app.db.call(svc._load_accounts)  # the accounts loop does this every few seconds
    assert ("Old-Plain-Pw-1" in [pw for a, _, pw in loaded if a.id == legacy])
    row = await app.db.call(MailAccount.get_by_id, legacy)
    assert row.password == "" and row.password_sealed.startswith("s1:")
    assert json.dumps(created)


async def test_account_password_can_be_replaced_from_the_api_and_the_console(app, admin_http) -> None:
    from appliance.mail import credentials
    from appliance.security.secrets import SecretBox
    tenant_id, box_id = await make_box(app, "change@acme.example")
    token = await csrf_from(admin_http, "/admin/mail")
    account = {"name": "Changing", "protocol": "imap", "security": "tls", "host": "127.0.0.1", "port": 1,
               "username": "change@acme.example", "password": "First-Pw-1", "mailbox_id": box_id}
    async with admin_http.post("/api/v1/mail/accounts", json=account, headers={"X-CSRF-Token": token}) as r:
        account_id = (await r.json())["id"]
    box = SecretBox(app.data.read_key(app.data.store_key))

    async def stored() -> str:
        return credentials.password_of(box, await app.db.call(MailAccount.get_by_id, account_id))
    path = f"/api/v1/mail/accounts/{account_id}"
    async with admin_http.patch(path, json={"password": ""}, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 400 and "password" in (await r.json())["fields"]
    async with admin_http.patch(path, json={"password": "Second-Pw-2"}, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 200 and "Second-Pw-2" not in await r.text()
    assert await stored() == "Second-Pw-2"
    async with admin_http.patch("/api/v1/mail/accounts/999999", json={"password": "x"},
                                headers={"X-CSRF-Token": token}) as r:
        assert r.status == 404
    form = {"csrf_token": token, "password": "Third-Pw-3"}
    async with admin_http.post(f"/admin/mail/accounts/{account_id}/password", data=form,
                               allow_redirects=False) as r:
        assert r.status == 302
    assert await stored() == "Third-Pw-3"
    async with admin_http.post(f"/admin/mail/accounts/{account_id}/password", data={"password": "No-Csrf-4"}) as r:
        assert r.status == 403
    async with admin_http.get("/admin/mail") as r:
        html = await r.text()
    assert f'id="account-{account_id}"' in html and "Third-Pw-3" not in html
