"""Image variables and personal signatures over HTTP (E4): the tenant admin uploads a logo, the agent sets a
signature, a signature image and an informal German salutation on the profile page; a template rendered for a
ticket carries them; the HTML mail sends both pictures as inline parts referenced by cid:, plain text gets their
alt text; another tenant sees none of the pictures, and foreign or oversized pictures are refused."""
from __future__ import annotations

import io
import re
from email import message_from_bytes, policy

import aiohttp
from PIL import Image

from appliance.mail.models import MailOutbox
from appliance.models import Customer
from tests.appliance.api.client import tenant_with_admin
from tests.appliance.webui.helpers import csrf_from, login
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup


def _picture(kind: str = "PNG", size: tuple[int, int] = (30, 12), colour: tuple = (200, 0, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def _form(token: str, data: bytes, mime: str = "image/png", **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename="x.png", content_type=mime)
    return form


async def test_logo_and_signature_image_reach_the_mail_inline(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, ticket = office["acme"], office["ticket"]
    logo, sign = _picture(), _picture("JPEG", (40, 20), (0, 0, 200))

    await login(http, "acme-admin", "Tenant-Acme-Pass-1")
    token = await csrf_from(http, "/admin/images")
    async with http.post("/admin/images", data=_form(token, b"GIF89a", name="logo")) as r:
        assert r.status == 400 and "not a readable PNG or JPEG" in await r.text()
    async with http.post("/admin/images", data=_form(token, logo, name="Logo!")) as r:
        assert r.status == 400 and 'id="e-name"' in await r.text()
    async with http.post("/admin/images", data=_form(token, logo, name="logo", alt="ACME Logo"),
                         allow_redirects=False) as r:
        assert r.status == 302, await r.text()
    async with http.get("/admin/images") as r:
        page = await r.text()
    assert "{{ image.logo }}" in page and "ACME Logo" in page
    digest = re.search(r'src="/images/([0-9a-f]{64})"', page).group(1)
    async with http.get(f"/images/{digest}") as r:
        assert r.status == 200 and r.content_type == "image/png" and await r.read() == logo

    http.cookie_jar.clear()
    await login(http, "agnes", AGENT_PASSWORD)
    token = await csrf_from(http, "/profile")
    async with http.post("/profile", data={"signature": "forged"}) as r:
        assert r.status == 403  # no CSRF token
    async with http.post("/profile", data={"csrf_token": token, "signature": "Agnes Åström\nKundenservice",
                                           "salutation_de": "informal", "salutation_en": "casual"}) as r:
        assert r.status == 400 and 'aria-invalid="true"' in await r.text()
    async with http.post("/profile", data={"csrf_token": token, "signature": "Agnes Åström\nKundenservice",
                                           "salutation_de": "informal"}, allow_redirects=False) as r:
        assert r.status == 302
    async with http.post("/profile/image", data=_form(token, sign, "image/jpeg", alt="Unterschrift"),
                         allow_redirects=False) as r:
        assert r.status == 302
    async with http.get("/profile") as r:
        page = await r.text()
    assert "Kundenservice" in page and 'alt="Unterschrift"' in page

    await appliance.db.call(lambda: Customer.update(language="de")
                            .where(Customer.id == office["customer"]["id"]).execute())
    tpl = await acme.post("/reply-templates", {
        "name": "Mit Logo", "salutation": "{{ salutation }}", "signature": "{{ agent.signature }}\n{{ agent.signature_image }}",
        "body_html": "<p>{{ image.logo }}</p><p>Ihre Rechnung kommt.</p>",
        "body_text": "[{{ image.logo }}] Ihre Rechnung kommt."})
    token = await csrf_from(http, "/desk")
    h = {"X-CSRF-Token": token}
    async with http.post(f"/api/v1/reply-templates/{tpl['id']}/render", headers=h,
                         json={"ticket_id": ticket["id"]}) as r:
        rendered = await r.json()
        assert r.status == 200, rendered
    assert rendered["salutation"] == "Hallo Zbigniew Łukasiewicz 王小明,"
    assert rendered["signature"] == "Agnes Åström\nKundenservice\nUnterschrift"
    assert rendered["text"] == "[ACME Logo] Ihre Rechnung kommt."
    assert re.findall(r'src="/images/([0-9a-f]{64})"', rendered["html"]) == [digest]
    assert "Kundenservice<br>" in rendered["signature_html"] and 'alt="Unterschrift"' in rendered["signature_html"]

    # A picture not of this tenant's store is refused rather than sent.
    body = {"channel": "mail", "recipient": "zbigniew@example.pl", "html": True, "salutation": rendered["salutation"],
            "signature": rendered["signature"], "signature_html": rendered["signature_html"]}
    async with http.post(f"/desk/tickets/{ticket['id']}/reply", headers=h,
                         json={**body, "text": f'<img src="/images/{"0" * 64}" alt="x">'}) as r:
        assert r.status == 400 and "not one of this tenant's images" in (await r.json())["fields"]["text"]
    async with http.post(f"/desk/tickets/{ticket['id']}/reply", headers=h,
                         json={**body, "text": rendered["html"]}) as r:
        assert r.status == 200, await r.text()

    [row] = await appliance.db.call(lambda: list(MailOutbox.select().where(MailOutbox.ticket == ticket["id"],
                                                                             MailOutbox.kind == "reply")))
    sent = message_from_bytes(bytes(row.raw), policy=policy.default)
    assert sent.get_content_type() == "multipart/alternative"
    plain, related = sent.get_payload()
    assert plain.get_content_type() == "text/plain" and "ACME Logo" in plain.get_content()
    assert related.get_content_type() == "multipart/related"
    html_part, *pictures = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    assert "/images/" not in html and re.search(r'class="signature">-- <br>Agnes Åström<br>\s*Kundenservice<br>\s*'
                                                r'<img src="cid:', html)
    by_cid = {p["Content-ID"].strip("<>"): p for p in pictures}
    assert re.findall(r'src="cid:([^"]+)"', html) == list(by_cid)
    assert [(p.get_content_type(), p.get_content()) for p in pictures] == [("image/png", logo), ("image/jpeg", sign)]
    assert all(p.get_content_disposition() == "inline" for p in pictures)

    # A fax from the ticket: the cover's variables are filled, the logo is drawn on the sheet.
    from appliance.fax.models import FaxOutbox
    from hardware.fax_modem.pages import image_of, pages_from_pdf
    fax = aiohttp.FormData()
    fax.add_field("number", "+49 40 999 000")
    fax.add_field("cover", "{{ image.nosuch }}\n{{ customer.nmae }}")
    async with http.post(f"/desk/tickets/{ticket['id']}/faxes", headers=h, data=fax) as r:
        answer = await r.json()
        assert r.status == 400 and answer["field"] == "cover" and "customer.nmae" in answer["message"]
    fax = aiohttp.FormData()
    fax.add_field("number", "+49 40 999 000")
    fax.add_field("cover", "{{ image.logo }}\n{{ salutation }}\n{{ image.nosuch }}")
    async with http.post(f"/desk/tickets/{ticket['id']}/faxes", headers=h, data=fax) as r:
        job = await r.json()
        assert r.status == 201, job
    document = await appliance.db.call(lambda: FaxOutbox.get_by_id(job["id"]).document)
    [page] = pages_from_pdf(appliance.store.get(document))
    sheet = image_of(page).convert("L")
    # The 30×12 logo at 96 dpi is about 62×25 pixels on the 200-dpi cover, where the text starts (y 320), before
    # the salutation's line.
    band = sheet.crop((0, round(300 * page.height / 2339), page.width, round(345 * page.height / 2339)))
    left, top, right, bottom = band.point(lambda v: 255 - v).getbbox()
    assert 55 <= right - left <= 75 and 20 <= bottom - top <= 30

    # Another tenant's agent cannot fetch the pictures.
    _, globex = await tenant_with_admin(office["admin"], "Globex")
    await globex.post("/users", {"username": "gustav", "role": "agent", "password": "gustav-Pass-123"})
    http.cookie_jar.clear()
    await login(http, "gustav", "gustav-Pass-123")
    async with http.get(f"/images/{digest}") as r:
        assert r.status == 404
    async with http.get("/admin/images") as r:
        assert r.status == 403

    # Another tenant's admin neither lists, fetches nor deletes them.
    from appliance.models.content import ContentImage
    image_id = await appliance.db.call(lambda: ContentImage.get(ContentImage.digest == digest).id)
    http.cookie_jar.clear()
    await login(http, "globex-admin", "Tenant-Globex-Pass-1")
    token = await csrf_from(http, "/admin/images")
    async with http.get("/admin/images") as r:
        page = await r.text()
    assert digest not in page and "No images yet" in page
    async with http.get(f"/images/{digest}") as r:
        assert r.status == 404
    async with http.post(f"/admin/images/{image_id}/delete", data={"csrf_token": token}) as r:
        assert r.status == 404
    assert await appliance.db.call(lambda: ContentImage.select().where(ContentImage.id == image_id).exists())
