"""Mail bytes to a ParsedMail, with the standard `email` package (policy.default). Pure: no I/O.

The parser is lenient on purpose: a mail with broken MIME, a wrong charset or raw 8-bit headers is
still a customer writing to us, so we keep what can be read and record defects. Only input that is
not a mail at all (or exceeds the limits) raises MailParseError, and the caller quarantines it.
"""
from __future__ import annotations

import email.errors
import email.header
import email.utils
import functools
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

import nh3

from appliance.mail.errors import MailParseError

MAX_BYTES = 64 * 1024 * 1024
MAX_PARTS = 1000
MAX_DEPTH = 30
MAX_HEADER_CHARS = 2000  # per header we keep; RFC 5322 §2.1.1 says 998 per line, folded ones can be longer

MEMO_HEADERS = 4096          # parsed header objects kept for reuse
MEMO_MAX_CHARS = 1000        # longer values are parsed each time (rare, and they would bloat the memo)


class MemoHeaderRegistry(HeaderRegistry):
    """policy.default's header factory, remembering what it parsed.

    Parsing a header into its object is a pure function of (name, value), and the costliest part of
    policy.default: the feed parser asks for each part's Content-Type several times while it splits
    the parts (every ask parses the value again), and mail reuses a few Content-Type values endlessly.
    The objects are immutable, so one object can serve every message that has the same header.
    """

    def __init__(self) -> None:
        super().__init__()
        self._memo = functools.lru_cache(maxsize=MEMO_HEADERS)(super().__call__)

    def __call__(self, name: str, value: str) -> Any:
        if len(value) > MEMO_MAX_CHARS:
            return super().__call__(name, value)
        return self._memo(name, value)


# policy.default with the memo: the same parse, the same objects, less work (bench: mail intake).
POLICY = policy.default.clone(header_factory=MemoHeaderRegistry())
_PARSER = BytesParser(policy=POLICY)


@dataclass
class Attachment:
    """A part that is not the body: a file, an inline image, a forwarded mail, a TNEF blob."""

    filename: str
    mime: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    """What intake needs from a mail."""

    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_addr: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: str = ""
    date: str = ""
    text: str = ""
    html: str = ""           # the original HTML body, unsanitised (kept, never displayed as is)
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name → first value, cleaned
    content_type: str = ""
    defects: list[str] = field(default_factory=list)

    @property
    def safe_html(self) -> str:
        """The HTML body sanitised for display (nh3 allow-list); empty without HTML."""
        return sanitise_html(self.html) if self.html else ""


def clean_text(value: str) -> str:
    """Text safe for the database: raw 8-bit bytes read as UTF-8 (else replaced), no NULs."""
    if not value:
        return ""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Undecodable 8-bit header bytes arrive as surrogate escapes; most senders meant UTF-8.
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def sanitise_html(html: str) -> str:
    """HTML from outside made safe for display: scripts, handlers and foreign schemes removed."""
    return nh3.clean(clean_text(html), url_schemes={"http", "https", "mailto", "cid"},
                     link_rel="noopener noreferrer nofollow")


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    # raw_items() skips the structured header parser: cheaper (policy.default builds an object per
    # header access) and it cannot raise on odd values.
    out: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        out.setdefault(name.lower(), []).append(value if isinstance(value, str) else str(value))
    return out


def decode_words(value: str) -> str:
    """A raw header value with RFC 2047 encoded words decoded, unfolded, cleaned."""
    if "=?" in value:
        try:
            value = str(email.header.make_header(email.header.decode_header(value)))
        except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
            pass  # keep it as it came: a wrong charset name must not lose the header
    return clean_text(" ".join(value.split()))


def message_ids(value: str) -> list[str]:
    """The <ids> of a Message-ID, In-Reply-To or References header, in order (RFC 5322 §3.6.4)."""
    out, pos = [], 0
    while True:
        start = value.find("<", pos)
        end = value.find(">", start + 1)
        if start < 0 or end < 0:
            break
        mid = value[start + 1:end].strip()
        if mid and " " not in mid and len(mid) <= 500:
            out.append(mid)
        pos = end + 1
    return out


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(name, lower-case address) pairs of raw address headers; names decoded after splitting, so an
    encoded comma inside a name cannot split an address; bad entries dropped."""
    out = []
    for name, addr in email.utils.getaddresses([clean_text(v)[:MAX_HEADER_CHARS * 4] for v in values]):
        addr = addr.strip().lower()
        if "@" in addr and len(addr) <= 254 and " " not in addr:
            out.append((decode_words(name), addr))
    return out


# The walker reads Content-Type/-Disposition from the raw values: policy.default re-parses a header
# into an object on every access, which made this walk cost more than the parse itself. Only the
# media type, the charset and the disposition type are needed here (RFC 2045 §5.1, RFC 2183 §2);
# file names still go through the full parser for RFC 2231 encodings.
_TOKEN = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_CHARSET = re.compile(r"""charset\s*=\s*"?([^";\s]+)""", re.IGNORECASE)


def _part_headers(part: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in part.raw_items():
        out.setdefault(name.lower(), value if isinstance(value, str) else str(value))
    return out


def _content_type(part: Message, raw: str) -> str:
    ctype = raw.split(";", 1)[0].strip().lower()
    # RFC 2045 §5.2: a missing or invalid Content-Type means the default (text/plain, or message/rfc822
    # inside multipart/digest, which the parser already recorded as the part's default type).
    return ctype if _TOKEN.match(ctype) else part.get_default_type()


def _decoded(part: Message, content_type: str) -> str:
    data = part.get_payload(decode=True) or b""
    if not isinstance(data, bytes):
        data = str(data).encode("utf-8", "surrogateescape")
    match = _CHARSET.search(content_type)
    charset = match.group(1).strip("'").lower() if match else "us-ascii"
    for candidate in (charset, "utf-8"):
        try:
            return clean_text(data.decode(candidate))
        except (LookupError, UnicodeDecodeError, ValueError):
            continue  # unknown, malformed or lying charset: try UTF-8, then Latin-1, which decodes anything
    return clean_text(data.decode("latin-1"))


def _flatten(msg: Any) -> bytes:
    """Bytes of a parsed (sub)message; never raises: a broken tree is kept as well as it can be."""
    if not isinstance(msg, Message):
        return str(msg).encode("utf-8", "surrogateescape")
    for pol in (policy.SMTP, policy.compat32):
        try:
            return msg.as_bytes(policy=pol)
        except Exception:  # noqa: BLE001 - the generator trips over many kinds of broken input
            continue
    try:
        return msg.as_string(policy=policy.compat32).encode("utf-8", "replace")
    except Exception:  # noqa: BLE001
        return b""


def _bytes_of(part: Message, ctype: str) -> bytes:
    if not (ctype.startswith("message/") or part.is_multipart()):
        data = part.get_payload(decode=True)  # decode=True never applies the (possibly bogus) charset
        return data if isinstance(data, bytes) else b""
    try:
        payload = part.get_payload()
    except (ValueError, LookupError, UnicodeError):  # a charset name with a NUL or worse
        return _flatten(part)
    if ctype == "message/delivery-status" and isinstance(payload, list):
        # The parser splits a DSN's field groups into header-only messages (RFC 3464 §2.1); rejoin them.
        return b"".join(_flatten(block) for block in payload if isinstance(block, Message))
    inner = payload[0] if isinstance(payload, list) and payload else payload
    return _flatten(inner if inner != [] else part)


def _filename(part: Message, index: int, ctype: str) -> str:
    try:
        name = part.get_filename() or ""
    except (TypeError, ValueError, LookupError, UnicodeError, AttributeError):
        name = ""
    name = clean_text(name).replace("/", "_").replace("\\", "_").strip()[:200]
    if name:
        return name
    ext = {"message/rfc822": "eml", "application/ms-tnef": "dat", "text/plain": "txt",
           "text/html": "html"}.get(ctype, ctype.split("/")[-1][:10] or "bin")
    return f"part-{index}.{ext}"


class _Walker:
    """Depth-first over the MIME tree picking the first text and HTML bodies; the rest are attachments."""

    def __init__(self, result: ParsedMail) -> None:
        self.result, self.parts = result, 0

    def walk(self, part: Message, depth: int, related_root: bool = False) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise MailParseError(f"more than {MAX_PARTS} MIME parts")
        if depth > MAX_DEPTH:
            raise MailParseError(f"MIME nesting deeper than {MAX_DEPTH}")
        heads = _part_headers(part)
        ctype = _content_type(part, heads.get("content-type", ""))
        if part.is_multipart() and ctype not in ("message/rfc822", "message/delivery-status"):
            children = part.get_payload()
            children = children if isinstance(children, list) else []
            for i, child in enumerate(children):
                if isinstance(child, Message):
                    self.walk(child, depth + 1, related_root=ctype == "multipart/related" and i > 0)
            return
        disposition = heads.get("content-disposition", "").split(";", 1)[0].strip().lower()
        is_body_candidate = disposition != "attachment" and not related_root
        if is_body_candidate and ctype == "text/plain" and not self.result.text:
            self.result.text = _decoded(part, heads.get("content-type", ""))
            return
        if is_body_candidate and ctype == "text/html" and not self.result.html:
            self.result.html = _decoded(part, heads.get("content-type", ""))
            return
        cid = "".join(message_ids(heads.get("content-id", ""))[:1])
        self.result.attachments.append(Attachment(
            filename=_filename(part, self.parts, ctype), mime=ctype, data=_bytes_of(part, ctype), content_id=cid,
            inline=disposition == "inline" or bool(cid)))


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw mail bytes; raises MailParseError only for input that is not a usable mail."""
    if not raw or not raw.strip():
        raise MailParseError("empty input")
    if len(raw) > MAX_BYTES:
        raise MailParseError(f"mail of {len(raw)} bytes exceeds the {MAX_BYTES}-byte limit")
    try:
        msg: EmailMessage = _PARSER.parsebytes(raw)
    except (RecursionError, MemoryError) as exc:
        raise MailParseError(f"MIME structure too deep or too large: {type(exc).__name__}") from None
    if not msg.keys():
        raise MailParseError("no header fields: not an RFC 5322 message")
    result = ParsedMail()
    raw = _raw_headers(msg)

    def ids(name: str) -> list[str]:
        return message_ids(clean_text(" ".join(raw.get(name, [])))[:MAX_HEADER_CHARS * 4])
    result.headers = {k: decode_words(v[0])[:MAX_HEADER_CHARS] for k, v in raw.items()}
    result.message_id = "".join(ids("message-id")[:1])
    result.in_reply_to = ids("in-reply-to")
    result.references = ids("references")
    result.subject = result.headers.get("subject", "")
    sender = addresses(raw.get("from", [])) or addresses(raw.get("sender", []))
    if sender:
        result.from_name, result.from_addr = sender[0]
    result.to = [a for _, a in addresses(raw.get("to", []))]
    result.cc = [a for _, a in addresses(raw.get("cc", []))]
    result.reply_to = "".join(a for _, a in addresses(raw.get("reply-to", []))[:1])
    result.date = result.headers.get("date", "")
    result.content_type = msg.get_content_type()
    result.defects = [type(d).__name__ for d in msg.defects][:50]
    try:
        _Walker(result).walk(msg, 0)
    except RecursionError:
        raise MailParseError("MIME structure too deep") from None
    if not (result.from_addr or result.message_id or result.subject or result.text or result.html
            or result.attachments):
        raise MailParseError("no sender, no Message-ID, no subject and no content: not a mail")
    return result
