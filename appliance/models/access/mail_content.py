"""What the mail package takes from this layer (E3, E4): a tenant's reply template rendered for a ticket, and the
tenant's pictures an HTML mail shows with their bytes. Mail sits below the access layer, so its callers hand it
these (appliance.mail.autoreply.ReplyContent) instead of mail importing them."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from appliance.domain import images
from appliance.errors import StoreError
from appliance.mail.compose import InlineImage
from appliance.models.access.content import render_auto_reply
from appliance.models.access.images import image_of_tenant

CACHED_PICTURES = 32   # logos and signature images: few, at most 512 KB each (domain.images.MAX_BYTES)


def known_pictures(tenant_id: int | None, html: str) -> dict[str, tuple[str, str]]:
    """(mime, alt) by digest of the tenant's pictures that `html` (sanitised) shows; any other digest is left out."""
    known = {}
    for digest in images.sources_in(html):
        found = image_of_tenant(tenant_id, digest)
        if found is not None:
            known[digest] = found
    return known


def read_pictures(known: dict[str, tuple[str, str]], store: Any) -> dict[str, InlineImage]:
    """The bytes of the known pictures from the document store; one gone from the store is left out. No database:
    a caller does this between its transactions."""
    read = {}
    for digest, (mime, _alt) in known.items():
        try:
            read[digest] = InlineImage(digest, mime, store.get(digest))
        except StoreError:
            continue
    return read


class MailContent:
    """appliance.mail.autoreply.ReplyContent for the automatic mails (auto-reply, interim reply).

    Those mails are composed inside the intake's or the scheduler's transaction; a picture's bytes are kept here
    by digest (content-addressed, so never stale), so the document store is read once per picture rather than
    for every mail while the transaction holds the write lock.
    """

    def __init__(self, store: Any, cached: int = CACHED_PICTURES) -> None:
        self.store, self.cached = store, cached
        self._bytes: OrderedDict[str, bytes] = OrderedDict()

    def render(self, tenant_id: int, template_id: Any, ticket_id: int) -> dict[str, str] | None:
        """The tenant-wide template rendered for the ticket (models.access.content.render_auto_reply)."""
        return render_auto_reply(tenant_id, template_id, ticket_id)

    def pictures(self, tenant_id: int, html: str) -> dict[str, InlineImage]:
        """The tenant's pictures `html` shows, by digest, with their bytes."""
        found = {}
        for digest, (mime, _alt) in known_pictures(tenant_id, html).items():
            data = self._read(digest)
            if data is not None:
                found[digest] = InlineImage(digest, mime, data)
        return found

    def _read(self, digest: str) -> bytes | None:
        if digest in self._bytes:
            self._bytes.move_to_end(digest)
            return self._bytes[digest]
        if self.store is None:
            return None
        try:
            data = self.store.get(digest)
        except StoreError:
            return None  # gone from the store: the mail shows the alt text; asked again next time
        self._bytes[digest] = data
        while len(self._bytes) > self.cached:
            self._bytes.popitem(last=False)
        return data
