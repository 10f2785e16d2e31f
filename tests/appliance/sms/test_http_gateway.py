"""SMS out through an HTTP(S) gateway: the request a real aiohttp HTTPS server receives, the escaping of
the template's values, and which answers are retried."""
from __future__ import annotations

import json
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import parse_qs

import pytest

from appliance.sms import http_gateway
from appliance.sms.http_gateway import GatewayConfig, GatewayError, render
from tests.appliance.sms.gateway_server import FakeGateway


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway().start(tmp_path)
    yield gw
    await gw.stop()


async def test_json_post_with_token_over_tls(gateway: FakeGateway) -> None:
    cfg = GatewayConfig(url=gateway.url, auth_value="Bearer s3cret", cafile=gateway.cafile)
    text = 'He said "hi" & left\nline 2 {to} \\ 😀'
    answer = await http_gateway.send(cfg, "+491701234567", text, "+46700000100")
    assert answer == '{"id": "gw-1"}'
    (req,) = gateway.requests
    assert req["method"] == "POST" and req["headers"]["Authorization"] == "Bearer s3cret"
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == {"to": "+491701234567", "text": text, "from": "+46700000100"}


async def test_form_body_and_custom_header(gateway: FakeGateway) -> None:
    cfg = GatewayConfig(url=gateway.url, method="PUT", content_type="application/x-www-form-urlencoded",
                        template="dst={to}&msg={text}&src={sender}", auth_header="X-Api-Key", auth_value="k1",
                        cafile=gateway.cafile)
    await http_gateway.send(cfg, "+491701234567", "a=1&b=2 ü", "ACME")
    (req,) = gateway.requests
    assert req["method"] == "PUT" and req["headers"]["X-Api-Key"] == "k1" and "Authorization" not in req["headers"]
    assert parse_qs(req["body"].decode()) == {"dst": ["+491701234567"], "msg": ["a=1&b=2 ü"], "src": ["ACME"]}


async def test_no_auth_header_when_no_value(gateway: FakeGateway) -> None:
    await http_gateway.send(GatewayConfig(url=gateway.url, cafile=gateway.cafile), "+1", "x", "")
    assert "Authorization" not in gateway.requests[0]["headers"]


@pytest.mark.parametrize("status,permanent", [(400, True), (401, True), (429, False), (500, False), (503, False)])
async def test_error_answers(gateway: FakeGateway, status: int, permanent: bool) -> None:
    gateway.status = status
    with pytest.raises(GatewayError) as err:
        await http_gateway.send(GatewayConfig(url=gateway.url, cafile=gateway.cafile), "+1", "x", "")
    assert err.value.permanent is permanent
    assert f"HTTP {status}" in str(err.value) and "quota exceeded" in str(err.value)


async def test_untrusted_certificate_is_refused_and_retried_later(gateway: FakeGateway) -> None:
    with pytest.raises(GatewayError) as err:  # no cafile: the system's CAs do not know the test's certificate
        await http_gateway.send(GatewayConfig(url=gateway.url), "+1", "x", "")
    assert not err.value.permanent and "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    assert gateway.requests == []


async def test_unreachable_gateway_is_temporary() -> None:
    with pytest.raises(GatewayError) as err:
        await http_gateway.send(GatewayConfig(url="http://127.0.0.1:9/send"), "+1", "x", "")
    assert not err.value.permanent and "not reached" in str(err.value)


def test_render_replaces_in_one_pass() -> None:
    assert render("{to}|{text}|{sender}", "text/plain", "+1", "{sender}", "S") == "+1|{sender}|S"
    assert render('{"t": "{text}"}', "application/json; charset=utf-8", "", 'a"b', "") == '{"t": "a\\"b"}'


def test_from_config() -> None:
    assert GatewayConfig.from_config({"gateway_url": ""}) is None
    cfg = GatewayConfig.from_config({"gateway_url": "https://gw/x", "gateway_method": "put"})
    assert cfg is not None and cfg.method == "PUT" and "{text}" in cfg.template
