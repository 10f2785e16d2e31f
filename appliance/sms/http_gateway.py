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
from urllib.parse import quote_plus

import aiohttp

from appliance.sms.errors import SmsError

NAME = "http-gateway"          # what the outbox row shows as the device that sent it
TIMEOUT_S = 30.0
PLACEHOLDERS = ("{to}", "{text}", "{sender}")
RETRYABLE_4XX = (408, 425, 429)
ANSWER_SHOWN = 300             # characters of a gateway's error answer kept on the row


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
                   cafile=str(cfg.get("gateway_cafile", "")))


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
    body = render(gw.template, gw.content_type, to, text, sender).encode("utf-8")
    headers = {"Content-Type": gw.content_type}
    if gw.auth_value:
        headers[gw.auth_header or "Authorization"] = gw.auth_value
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.request(gw.method, gw.url, data=body, headers=headers, ssl=_ssl(gw.cafile),
                                    allow_redirects=False) as resp:
                answer = (await resp.text(errors="replace"))[:ANSWER_SHOWN]
                status = resp.status
    except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
        raise GatewayError(f"SMS gateway {gw.url} not reached: {exc!r}"[:ANSWER_SHOWN * 2], False) from None
    if 200 <= status < 300:
        return answer
    permanent = 400 <= status < 500 and status not in RETRYABLE_4XX
    raise GatewayError(f"SMS gateway answered HTTP {status}: {answer}", permanent)
