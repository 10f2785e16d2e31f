"""What automatic mails get from the access layer (E4): only the tenant's own pictures, each read from the document
store once however many mails show it, and none that is gone from the store."""
from __future__ import annotations

from pathlib import Path

from appliance.models.access.mail_content import MailContent, known_pictures, read_pictures
from appliance.models.content import ContentImage
from tests.appliance.intake.helpers import make_org, make_store, open_db


class CountingStore:
    """The document store, counting reads per digest."""

    def __init__(self, store) -> None:
        self.store, self.reads = store, {}

    def get(self, digest: str) -> bytes:
        self.reads[digest] = self.reads.get(digest, 0) + 1
        return self.store.get(digest)


def _img(digest: str, alt: str = "") -> str:
    return f'<p><img src="/images/{digest}" alt="{alt}"></p>'


def test_pictures_of_the_tenant_read_once_and_gone_ones_left_out(database_url: str, tmp_path: Path) -> None:
    store = make_store(tmp_path)
    logo = b"\x89PNG not really, the store does not care"
    digest, gone, foreign = store.put(logo), "e" * 64, "f" * 64
    db = open_db(database_url)
    try:
        acme = make_org(db, "Acme", ["support@acme.example"])
        other = make_org(db, "Other", ["help@other.example"])

        def setup() -> None:
            for tenant, name, dig in ((acme.tenant_id, "logo", digest), (acme.tenant_id, "stamp", gone),
                                      (other.tenant_id, "logo", foreign)):
                ContentImage.create(tenant=tenant, name=name, digest=dig, mime="image/png", size=1, width=1,
                                    height=1, alt=name)
        with db.peewee.connection_context(), db.peewee.atomic():
            setup()
            html = _img(digest, "Acme") + _img(gone) + _img(foreign)
            counting = CountingStore(store)
            content = MailContent(counting)
            first = content.pictures(acme.tenant_id, html)
            second = content.pictures(acme.tenant_id, html)
            known = known_pictures(acme.tenant_id, html)
    finally:
        db.close()
    assert set(first) == set(second) == {digest}
    assert first[digest].data == logo and first[digest].mime == "image/png"
    assert counting.reads == {digest: 1, gone: 2}  # a missing picture is asked for again, a found one is kept
    assert known == {digest: ("image/png", "logo"), gone: ("image/png", "stamp")}  # alt: the registry's
    assert set(read_pictures(known, store)) == {digest}
