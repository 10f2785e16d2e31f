"""The external identification hook over HTTP (D3): GET <lookup_url>?phone=…&email=…&number=…
answering JSON such as {"number": "K-1001"} that names an identifier we know."""
from __future__ import annotations

import json
from typing import Mapping

import aiohttp

from appliance.domain.identify import ExternalLookup

MAX_ANSWER_BYTES = 64 * 1024


def http_lookup(url: str) -> ExternalLookup:
    """An async lookup calling `url`; the caller bounds it with a timeout."""
    async def lookup(probe: Mapping[str, str]) -> Mapping[str, str] | None:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, params=dict(probe), headers={"Accept": "application/json"}) as resp:
                if resp.status == 404:
                    return None
                resp.raise_for_status()
                # content.read(n) would answer with what has arrived so far: a long answer arrives in parts.
                body = b""
                async for chunk in resp.content.iter_chunked(16 * 1024):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise ValueError(f"answer longer than {MAX_ANSWER_BYTES} bytes")
                data = json.loads(body or b"null")
                return data if isinstance(data, dict) else None
    return lookup
