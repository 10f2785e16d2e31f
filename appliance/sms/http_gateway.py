"""SMS out through an HTTP(S) SMS gateway (C10): one request per SMS, the body made from a template.

The gateway is configured in [sms] gateway_* (appliance.config). The template names {to}, {text} and
{sender}; each value is escaped for the body's content type (JSON string, form field, or as is), so a
quote or an ampersand in a text cannot change the request's shape. A 2xx answer means the gateway took
the SMS; 4xx (except 408 and 429) means it never will, so the row fails at once; the rest is retried.
"""
from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

import aiohttp

from appliance.sms.errors import SmsError

NAME = "http-gateway"          # what the outbox row shows as the device that sent it
TIMEOUT_S = 30.0
PLACEHOLDERS = ("{to}", "{text}", "{sender}")
RETRYABLE_4XX = (408, 425, 429)
ANSWER_SHOWN = 300             # characters of a gateway's error answer kept on the row
ID_MAX = 150                   # SmsOutbox.gateway_id


class GatewayError(SmsError):
    """The gateway did not take the SMS; `permanent` when trying again cannot help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class GatewayConfig:
    """Where and how to send: URL, method, content type, body template, one auth header, TLS trust."""

    url: str
    method: str = "POST"
    content_type: str = "application/json"
    template: str = '{"to": "{to}", "text": "{text}", "from": "{sender}"}'
    auth_header: str = "Authorization"
    auth_value: str = ""
    cafile: str = ""
    id_field: str = "id"
    report_map: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, cfg: dict) -> "GatewayConfig | None":
        """The gateway of an [sms] section, or None when gateway_url is empty."""
        url = str(cfg.get("gateway_url", "") or "").strip()
        if not url:
            return None
        return cls(url=url, method=str(cfg.get("gateway_method", "POST")).upper(),
                   content_type=str(cfg.get("gateway_content_type", cls.content_type)),
                   template=str(cfg.get("gateway_body", cls.template)),
                   auth_header=str(cfg.get("gateway_auth_header", cls.auth_header)),
                   auth_value=str(cfg.get("gateway_auth_value", "")),
                   cafile=str(cfg.get("gateway_cafile", "")), id_field=str(cfg.get("gateway_id_field", "id")),
                   report_map=parse_report_map(str(cfg.get("gateway_report_map", "") or "")))

    @property
    def host(self) -> str:
        """Only the host (and port) of the URL: what a page may show (never a credential or query)."""
        return urlsplit(self.url).netloc.rpartition("@")[2]


REPORT_STATES = ("delivered", "failed", "pending")


def parse_report_map(text: str) -> tuple[tuple[str, str], ...]:
    """WORD=state pairs of [sms] gateway_report_map (words compared without case)."""
    pairs = []
    for item in text.split(","):
        word, _, state = item.partition("=")
        if word.strip() and state.strip() in REPORT_STATES:
            pairs.append((word.strip().lower(), state.strip()))
    return tuple(pairs)


def report_state(gw: GatewayConfig, word: str) -> str | None:
    """delivered, failed or pending for a gateway's status word; None when it means none of them."""
    low = word.strip().lower()
    if low in REPORT_STATES:
        return low
    return dict(gw.report_map).get(low)


def answer_id(answer: str, field: str) -> str | None:
    """The gateway's message id in its JSON answer (`field`, dotted for a nested one); None without one."""
    try:
        value = json.loads(answer)
    except ValueError:
        return None
    for name in (field or "id").split("."):
        if isinstance(value, list) and value:
            value = value[0]  # a batch answer of one SMS
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        return None
    return str(value).strip()[:ID_MAX]


def _escape(value: str, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if kind == "application/x-www-form-urlencoded":
        return quote_plus(value)
    return value


def render(template: str, content_type: str, to: str, text: str, sender: str) -> str:
    """The request body: each placeholder replaced in one pass, so a value containing "{to}" stays as it is."""
    values = {"{to}": to, "{text}": text, "{sender}": sender}
    out, i = [], 0
    while i < len(template):
        hit = next((p for p in PLACEHOLDERS if template.startswith(p, i)), None)
        if hit is None:
            out.append(template[i])
            i += 1
        else:
            out.append(_escape(values[hit], content_type))
            i += len(hit)
    return "".join(out)


def _ssl(cafile: str) -> ssl.SSLContext | bool:
    # A private CA file replaces the system trust store; otherwise the system's trust, always verified.
    return ssl.create_default_context(cafile=cafile) if cafile else True


async def send(gw: GatewayConfig, to: str, text: str, sender: str) -> str:
    """Hand one SMS to the gateway; returns its answer (trimmed), GatewayError when it did not take it."""
    return (await submit(gw, to, text, sender))[0]


async def submit(gw: GatewayConfig, to: str, text: str, sender: str) -> tuple[str, str | None]:
    """Hand one SMS to the gateway: (its answer trimmed, its message id or None); GatewayError when refused."""
    body = render(gw.template, gw.content_type, to, text, sender).encode("utf-8")
    headers = {"Content-Type": gw.content_type}
    if gw.auth_value:
        headers[gw.auth_header or "Authorization"] = gw.auth_value
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.request(gw.method, gw.url, data=body, headers=headers, ssl=_ssl(gw.cafile),
                                    allow_redirects=False) as resp:
                whole = await resp.text(errors="replace")
                answer, status = whole[:ANSWER_SHOWN], resp.status
    except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
        raise GatewayError(f"SMS gateway {gw.host} not reached: {exc!r}"[:ANSWER_SHOWN * 2], False) from None
    if 200 <= status < 300:
        return answer, answer_id(whole, gw.id_field)
    permanent = 400 <= status < 500 and status not in RETRYABLE_4XX
    raise GatewayError(f"SMS gateway answered HTTP {status}: {answer}", permanent)
