"""Received faxes into tickets: the called number (a service address of kind fax) picks tenant and mailbox,
the sender's station id (CSI/TSI, usually its number) identifies the customer; the fax is kept as TIFF,
PDF and a first-page preview in the document store (C5, C11)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from hardware.fax_modem.errors import FaxError
from hardware.fax_modem.t4_page import Page
from hardware.fax_modem.tiff import TiffError, read_tiff

from appliance.domain.identifiers import normalise_phone
from appliance.fax.models import FaxRecord
from appliance.intake.errors import RejectedInput
from appliance.intake.sink import InboundMessage, TicketSink
from appliance.intake.spool import SpoolEntry
from appliance.models import ServiceAddress, Tenant

CHANNEL = "fax"


@dataclass
class PreparedFax:
    """A spooled fax, decoded and rendered: what commit needs."""

    pages: list[Page]
    pdf: bytes
    preview: bytes
    damaged: str = ""


def fax_number(called: str) -> ServiceAddress | None:
    """The fax service address of the modem's own number (national numbers read in each tenant's region)."""
    candidates = {called}
    for region in {t.region for t in Tenant.select(Tenant.region)}:
        try:
            candidates.add(normalise_phone(called, region))
        except ValueError:
            pass
    return ServiceAddress.select().where((ServiceAddress.kind == "fax") & (ServiceAddress.value.in_(candidates))) \
        .first()


def fax_key(entry: SpoolEntry) -> str:
    """The call id when the line gave one (the finished call and its replayed pages share it), else the digest."""
    call_id = str(entry.meta.get("call_id") or "")
    return f"fax-call:{call_id}" if call_id else "fax:" + hashlib.sha256(entry.raw).hexdigest()


class FaxProcessor:
    """The intake pipeline's processor for faxes (prepare off the database thread, commit inside it)."""

    def __init__(self, sink: TicketSink, store: Any) -> None:
        self.sink, self.store = sink, store

    def prepare(self, entry: SpoolEntry) -> PreparedFax:
        """Decode the spooled TIFF; a damaged file keeps its good pages (the reason goes on the message)."""
        damaged = ""
        try:
            decoded = read_tiff(entry.raw)
        except TiffError as exc:
            decoded = list(exc.pages or [])
            damaged = str(exc)
            if not decoded:
                raise RejectedInput(f"fax TIFF unreadable: {exc}") from None
        pages = [d.page for d in decoded]
        # Imported here: pdfium and Pillow cost a third of a second at start-up, and only faxes need them.
        from hardware.fax_modem.pages import page_to_png, pages_to_pdf
        try:
            return PreparedFax(pages, pages_to_pdf(pages), page_to_png(pages[0], max_width=800), damaged)
        except FaxError as exc:
            raise RejectedInput(f"fax pages could not be rendered: {exc}") from None

    def commit(self, entry: SpoolEntry, prepared: PreparedFax) -> dict[str, Any]:
        """File the fax on a ticket; the TIFF's digest is the idempotency key."""
        meta = entry.meta
        called = meta.get("called", "")
        address = fax_number(called)
        if address is None:
            raise RejectedInput(f"no mailbox serves the fax number {called!r} (add a service address of kind fax)")
        region = address.tenant.region
        remote = (meta.get("remote_id") or "").strip()
        try:
            sender = normalise_phone(remote, region) if remote else ""
        except ValueError:
            sender = ""  # a station id that is a name, not a number: shown, not used to identify
        tiff, pdf, preview = (self.store.put(b) for b in (entry.raw, prepared.pdf, prepared.preview))
        statuses = meta.get("page_status", [])
        partial = bool(meta.get("partial"))
        lines = [f"{'Partial fax' if partial else 'Fax'} from {remote or 'an unknown station'} to {called}: "
                 f"{len(prepared.pages)} page(s).", f"Page status: {', '.join(statuses) or 'n/a'}."]
        if meta.get("reason") and not meta.get("ok", True):
            lines.append(f"The call ended early: {meta['reason']}; the pages that arrived are kept.")
        if prepared.damaged:
            lines.append(f"The received file was damaged ({prepared.damaged}); the readable pages are kept.")
        lines.append(f"Documents: TIFF {tiff}, PDF {pdf}.")
        subject = (f"Partial fax from {remote or 'unknown'}, {len(prepared.pages)} page(s)" if partial
                   else f"Fax from {remote or 'unknown'}")
        delivery = self.sink.deliver(InboundMessage(
            tenant_id=address.tenant_id, channel=CHANNEL, idempotency_key=fax_key(entry),
            source_ref=f"{meta.get('modem')}", sender=sender, sender_name=remote, recipient=called, subject=subject,
            body="\n".join(lines), mailbox_id=address.mailbox_id, kind="fax"))
        if not delivery.duplicate:
            FaxRecord.create(tenant_id=address.tenant_id, message_id=delivery.message_id,
                             ticket_id=delivery.ticket_id, modem=meta.get("modem", ""), called=called,
                             remote_id=remote, pages=len(prepared.pages), page_status=json.dumps(statuses),
                             tiff=tiff, pdf=pdf, preview=preview,
                             complete=bool(meta.get("ok", True)) and not prepared.damaged)
        return {"ticket_id": delivery.ticket_id, "message_id": delivery.message_id, "pages": len(prepared.pages),
                "duplicate": delivery.duplicate}
