"""In Chromium: an admin uploads a mailbox's PKCS #12 key and a partner certificate on the S/MIME page."""
from __future__ import annotations

from cryptography.hazmat.primitives import hashes

from appliance.models import Mailbox, ServiceAddress, Tenant
from tests.appliance.mail.pki import identity
from tests.browser.conftest import browser_login_admin, screenshot


async def test_admin_uploads_a_pkcs12_key_and_a_partner_certificate(appliance, first_boot, page) -> None:
    def org() -> None:
        tenant = Tenant.create(name="Acme")
        box = Mailbox.create(tenant=tenant, name="Support")
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value="support@acme.example")
    await appliance.db.call(org)
    me = identity("support@acme.example", name="Acme Support")
    partner = identity("bob@customer.example", days=20, name="Bob Customer")
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin/mail")
    await page.click("text=S/MIME keys and certificates")
    await page.wait_for_url("**/admin/mail/smime")
    assert "No S/MIME keys or certificates yet" in await page.locator("#smime-empty").inner_text()

    p12 = {"name": "support.p12", "mimeType": "application/x-pkcs12", "buffer": me.pkcs12("Pass-Phrase-7")}
    await page.set_input_files("#k-pkcs12", files=[p12])
    await page.fill("#k-pass", "wrong one")
    await page.press("#k-pass", "Enter")  # the keyboard submits the form
    await page.wait_for_selector("#k-pkcs12[aria-invalid=true]")
    assert "wrong passphrase" in await page.locator("#e-key-pkcs12").inner_text()

    await page.set_input_files("#k-pkcs12", files=[p12])
    await page.fill("#k-pass", "Pass-Phrase-7")
    await page.click("#key-form button[type=submit]")
    await page.wait_for_url("**/admin/mail/smime?done=key")
    row = page.locator("#smime tr", has_text="support@acme.example")
    text = await row.inner_text()
    assert "O=Test Org,CN=Acme Support" in text and "key sealed" in text
    assert me.cert.fingerprint(hashes.SHA256()).hex()[:16] in text

    await page.set_input_files("#p-cert", files=[{"name": "bob.pem", "mimeType": "application/x-pem-file",
                                                  "buffer": partner.cert_pem}])
    await page.click("#partner-form button[type=submit]")
    await page.wait_for_url("**/admin/mail/smime?done=partner")
    bob = page.locator("#smime tr", has_text="bob@customer.example")
    assert await bob.get_attribute("data-expiry") == "expiring"
    assert "expires in" in await bob.inner_text()
    await screenshot(page, "admin-smime")
