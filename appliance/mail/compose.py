"""Outgoing mail: replies with quoting, signature, text + HTML alternative, threading headers. Pure."""
from __future__ import annotations

import html as html_mod
import email.utils
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email import policy

from appliance.domain import images
from appliance.mail.parse import Attachment

QUOTE_MAX_LINES = 200
REFERENCES_KEEP = 20  # RFC 5322 §3.6.4 allows trimming the middle of long References


@dataclass
class Quoted:
    """The mail being answered, as much as the reply needs."""

    message_id: str = ""
    references: list[str] = field(default_factory=list)
    sender: str = ""
    date: str = ""
    text: str = ""


@dataclass(frozen=True)
class InlineImage:
    """One of our images an HTML body shows (`/images/<digest>`), sent as a related part (E4)."""

    digest: str
    mime: str
    data: bytes


def quote_text(text: str, sender: str, date: str) -> str:
    """The answered text prefixed with '> ' under an attribution line."""
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")[:QUOTE_MAX_LINES]
    head = f"On {date}, {sender} wrote:" if date else f"{sender} wrote:"
    return head + "\n" + "\n".join(("> " + ln) if ln else ">" for ln in lines)


def text_to_html(text: str) -> str:
    """Plain text as simple HTML, quoted lines in a blockquote."""
    out, in_quote = [], False
    for line in text.split("\n"):
        quoted = line.startswith(">")
        if quoted != in_quote:
            out.append("<blockquote>" if quoted else "</blockquote>")
            in_quote = quoted
        body = line[1:].lstrip(" ") if quoted else line
        out.append(html_mod.escape(body) + "<br>")
    if in_quote:
        out.append("</blockquote>")
    return '<!doctype html><html><body><div>' + "\n".join(out) + "</div></body></html>"


def html_document(body_html: str, salutation: str = "", signature: str = "", quoted: Quoted | None = None,
                  signature_html: str | None = None) -> str:
    """The HTML part around an (already sanitised) HTML body: salutation, signature and quote as in the text.

    `signature_html` (sanitised) stands for the signature when given: it may show pictures.
    """
    def lines(text: str) -> str:
        return "<br>".join(html_mod.escape(ln) for ln in text.replace("\r\n", "\n").split("\n"))
    out = [f"<p>{lines(salutation)}</p>"] if salutation else []
    out.append(body_html)
    if signature_html:
        out.append(f'<div class="signature">-- <br>{signature_html}</div>')
    elif signature:
        out.append(f'<p class="signature">-- <br>{lines(signature)}</p>')
    if quoted and quoted.text:
        head = f"On {quoted.date}, {quoted.sender} wrote:" if quoted.date else f"{quoted.sender} wrote:"
        text = "\n".join(quoted.text.replace("\r\n", "\n").rstrip("\n").split("\n")[:QUOTE_MAX_LINES])
        out.append(f"<p>{html_mod.escape(head)}</p><blockquote>{lines(text)}</blockquote>")
    return '<!doctype html><html><body><div>' + "\n".join(out) + "</div></body></html>"


def _address(addr: str, name: str = "") -> str:
    return str(Address(display_name=name, addr_spec=addr)) if name else addr


def build_reply(*, from_addr: str, to: list[str], subject: str, text: str, from_name: str = "",
                cc: list[str] | None = None, salutation: str = "", signature: str = "",
                quoted: Quoted | None = None, html: str | None = None,
                attachments: list[Attachment] | None = None, auto: bool = False,
                message_id: str | None = None, inline: list[InlineImage] | None = None,
                signature_html: str | None = None) -> EmailMessage:
    """A complete reply: threading headers, text and HTML alternative, attachments.

    `html`, when given, is the body's sanitised HTML; the HTML part wraps it like the text part wraps `text`.
    `inline` are the images the HTML shows: the HTML part becomes multipart/related with one part per image,
    referenced by `cid:` (RFC 2387, RFC 2392). `signature_html` is the signature in the HTML part.
    """
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _address(from_addr, from_name)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    domain = from_addr.rsplit("@", 1)[-1] or "appliance.invalid"
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain=domain)
    if quoted and quoted.message_id:
        # RFC 5322 §3.6.4: In-Reply-To is the parent; References is the parent's References plus the parent.
        refs = (quoted.references + [quoted.message_id])[-REFERENCES_KEEP:]
        msg["In-Reply-To"] = f"<{quoted.message_id}>"
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    if auto:
        msg["Auto-Submitted"] = "auto-replied"      # RFC 3834 §5
        msg["X-Auto-Response-Suppress"] = "All"     # keeps Exchange from answering our answer
    parts = [p for p in (salutation, text) if p]
    body = "\n\n".join(parts)
    if signature:
        body += "\n\n-- \n" + signature  # RFC 3676 §4.3 signature separator
    if quoted and quoted.text:
        body += "\n\n" + quote_text(quoted.text, quoted.sender, quoted.date)
    msg.set_content(body + "\n")
    html_body = text_to_html(body) if html is None else html_document(html, salutation, signature, quoted,
                                                                        signature_html)
    shown = [img for img in inline or [] if html is not None and img.digest in images.sources_in(html_body)]
    cids = {img.digest: email.utils.make_msgid(idstring="img", domain=domain)[1:-1] for img in shown}
    msg.add_alternative(images.to_cid(html_body, cids), subtype="html")
    if shown:
        html_part = msg.get_payload()[1]
        for img in shown:
            maintype, _, subtype = img.mime.partition("/")
            html_part.add_related(img.data, maintype=maintype, subtype=subtype, cid=f"<{cids[img.digest]}>",
                                  disposition="inline")
    for att in attachments or []:
        maintype, _, subtype = att.mime.partition("/")
        msg.add_attachment(att.data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                           filename=att.filename)
    return msg
