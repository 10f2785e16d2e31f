"""Documents in customers' records and on tickets (D2) through HTTP: multipart upload into the encrypted
store, lists, history, download with type and file name; size limit, tenant and ownership refused."""
from __future__ import annotations

from typing import Any

import aiohttp

from tests.appliance.api.client import API, ApiClient, admin_client, tenant_with_admin, user_client

PDF = b"%PDF-1.4\n% a contract\n" + bytes(range(256)) * 40


async def upload(client: ApiClient, path: str, data: bytes, filename: str = "contract.pdf",
                 content_type: str = "application/pdf", **params: Any) -> tuple[int, Any]:
    """POST one file as multipart/form-data, like a browser or curl -F does."""
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    async with client.http.post(API + path, data=form, params=params,
                                headers={"Authorization": f"Bearer {client.token}"}) as resp:
        return resp.status, await resp.json()


async def download(client: ApiClient, path: str) -> tuple[int, bytes, Any]:
    async with client.http.get(path, headers={"Authorization": f"Bearer {client.token}"}) as resp:
        return resp.status, await resp.read(), resp.headers


def _stored_files(appliance) -> set:
    return {p for p in appliance.store.root.rglob("*") if p.is_file()}


async def test_documents_upload_list_history_download(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    _, globex = await tenant_with_admin(admin, "Globex")
    team = await acme.post("/teams", {"name": "Key accounts"})
    _, alice = await user_client(acme, "alice", team_ids=[team["id"]])
    _, bob = await user_client(acme, "bob")
    initech = await alice.post("/customers", {"name": "Initech AG", "kind": "company"})
    secret = await alice.post("/customers", {"name": "Alice's lead", "ownership": "private"})
    ticket = await alice.post("/tickets", {"subject": "Contract", "customer_id": initech["id"], "body": "see file"})

    status, doc = await upload(alice, f"/customers/{initech['id']}/documents", PDF, "Vertrag März.pdf")
    assert status == 201 and doc["filename"] == "Vertrag März.pdf" and doc["mime"] == "application/pdf"
    assert doc["size"] == len(PDF) and doc["customer_id"] == initech["id"] and doc["ticket_id"] is None
    # Stored encrypted: no file in the store holds the plaintext.
    assert not any(PDF[:200] in p.read_bytes() for p in _stored_files(appliance))

    status, body, headers = await download(bob, doc["download"])
    assert status == 200 and body == PDF and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;") and "Vertrag%20M%C3%A4rz.pdf" in \
        headers["Content-Disposition"]

    # On a ticket: listed there and, the ticket being Initech's, in Initech's record and history.
    status, on_ticket = await upload(bob, f"/tickets/{ticket['id']}/documents", b"<h1>hi</h1>", "../../x.html",
                                     "text/html")
    assert status == 201 and on_ticket["filename"] == "x.html" and on_ticket["customer_id"] == initech["id"]
    assert [d["id"] for d in (await bob.get(f"/tickets/{ticket['id']}/documents"))["items"]] == [on_ticket["id"]]
    listed = await bob.get(f"/customers/{initech['id']}/documents")
    assert [d["id"] for d in listed["items"]] == [doc["id"], on_ticket["id"]]
    status, _, headers = await download(bob, on_ticket["download"])
    assert headers["Content-Type"].startswith("text/html") and headers["Content-Disposition"].startswith("attachment")
    history = await alice.get(f"/customers/{initech['id']}/history")
    kinds = [(e["type"], e["id"]) for e in history["items"]]
    assert ("document", doc["id"]) in kinds and ("document", on_ticket["id"]) in kinds
    assert any(t == "message" for t, _ in kinds)
    assert all(e["download"] == f"/api/v1/documents/{e['id']}/content" for e in history["items"] if e["type"] == "document")
    # Paging the merged history one entry at a time gives every entry exactly once.
    seen, cursor = [], None
    while True:
        page = await alice.get(f"/customers/{initech['id']}/history", limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [(e["type"], e["id"]) for e in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == kinds
    status, answer = await bob.call("GET", f"/customers/{initech['id']}/history", cursor="x")
    assert status == 400 and "cursor" in answer["fields"]

    # ?ticket_id files it on one of the customer's own tickets only.
    other = await alice.post("/tickets", {"subject": "Other", "customer_id": secret["id"]})
    status, answer = await upload(alice, f"/customers/{initech['id']}/documents", b"x", ticket_id=other["id"])
    assert status == 400 and "ticket_id" in answer["fields"]

    # Bad input: a JSON body, no file part, an empty file, a file over the limit.
    status, answer = await alice.call("POST", f"/customers/{initech['id']}/documents", {"digest": "0" * 64})
    assert status == 415 and "multipart" in answer["fields"]["file"]
    async with http.post(API + f"/customers/{initech['id']}/documents", data=aiohttp.FormData({"note": "x"}, default_to_multipart=True),
                         headers={"Authorization": f"Bearer {alice.token}"}) as resp:
        assert resp.status == 400 and "file" in (await resp.json())["fields"]
    assert (await upload(alice, f"/customers/{initech['id']}/documents", b""))[1]["fields"]["file"] == "is empty"
    before = _stored_files(appliance)
    status, answer = await upload(alice, f"/customers/{initech['id']}/documents", b"\0" * (20 * 1024 * 1024 + 1))
    assert status == 413 and "20 MB" in answer["fields"]["file"] and _stored_files(appliance) == before

    # Ownership: Alice's private customer's documents are hers alone, even for the tenant's admin.
    status, private_doc = await upload(alice, f"/customers/{secret['id']}/documents", b"private", "lead.txt",
                                       "text/plain")
    assert status == 201
    for client in (bob, acme):
        assert (await download(client, private_doc["download"]))[0] == 404
        assert (await upload(client, f"/customers/{secret['id']}/documents", b"x"))[0] == 404
        assert (await client.call("GET", f"/customers/{secret['id']}/documents"))[0] == 404
    # A file on a ticket of that customer is in her record too, so the ticket's other readers do not get it.
    status, on_private_ticket = await upload(alice, f"/tickets/{other['id']}/documents", b"private 2", "b.txt", "text/plain")
    assert status == 201 and on_private_ticket["customer_id"] == secret["id"]
    assert (await bob.get(f"/tickets/{other['id']}/documents"))["items"] == []
    assert (await download(bob, on_private_ticket["download"]))[0] == 404
    assert (await download(alice, on_private_ticket["download"]))[1] == b"private 2"

    # Another tenant: nothing to see, nothing stored.
    before = _stored_files(appliance)
    for path in (doc["download"], on_ticket["download"]):
        status, body, _ = await download(globex, path)
        assert status == 404 and PDF[:20] not in body
    assert (await upload(globex, f"/customers/{initech['id']}/documents", b"intruder"))[0] == 404
    assert (await upload(globex, f"/tickets/{ticket['id']}/documents", b"intruder"))[0] == 404
    assert _stored_files(appliance) == before

    # The OpenAPI document describes the uploads as multipart.
    described = (await alice.get("/openapi.json"))["paths"]["/api/v1/customers/{id}/documents"]["post"]
    assert "multipart/form-data" in described["requestBody"]["content"]


async def test_admin_customer_page_uploads_and_lists_documents(appliance, first_boot, http) -> None:
    from tests.appliance.api.client import ADMIN_PASSWORD
    from tests.appliance.webui.helpers import csrf_from, login
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    customer = await acme.post("/customers", {"name": "Initech AG", "kind": "company"})
    await login(http, "admin", ADMIN_PASSWORD)
    page = f"/admin/org/customers/{customer['id']}"
    token = await csrf_from(http, page)
    async with http.get(page) as resp:
        assert "No documents in this customer's record yet." in await resp.text()

    def form(data: bytes | None, with_token: bool = True) -> aiohttp.FormData:
        out = aiohttp.FormData(default_to_multipart=True)
        if with_token:
            out.add_field("csrf_token", token)
        if data is not None:
            out.add_field("file", data, filename="offer.pdf", content_type="application/pdf")
        return out
    async with http.post(page + "/documents", data=form(b"%PDF offer"), allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == page + "?uploaded=1"
    async with http.get(page + "?uploaded=1") as resp:
        text = await resp.text()
        assert "Uploaded." in text and ">offer.pdf</a>" in text
    link = text.split('href="/api/v1/documents/')[1].split('"')[0]
    async with http.get("/api/v1/documents/" + link) as resp:
        assert resp.status == 200 and await resp.read() == b"%PDF offer"
    async with http.post(page + "/documents", data=form(None)) as resp:
        assert resp.status == 400 and 'id="upload-error">Choose a file to upload.<' in await resp.text()
    async with http.post(page + "/documents", data=form(b"\0" * (20 * 1024 * 1024 + 1))) as resp:
        assert resp.status == 400 and "larger than 20 MB" in await resp.text()
    async with http.post(page + "/documents", data=form(b"x", with_token=False)) as resp:
        assert resp.status == 403
    async with http.post("/admin/org/customers/999999/documents", data=form(b"x")) as resp:
        assert resp.status == 404
    assert len((await acme.get(f"/customers/{customer['id']}/documents"))["items"]) == 1
