"""SMS PDU codec throughput: decode of a mixed corpus, and split+encode of mixed texts.

No baseline: no other SMS PDU decoder is installed to compare against in the same run, and
bare hex parsing of the same bytes would not be a fair one.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from bench.figure import figure
from hardware.gsm.fields import Address
from hardware.gsm.pdu import DeliverPdu, StatusReportPdu, decode_pdu, encode_pdu, split_text

VECTORS = Path(__file__).resolve().parents[1] / "tests/data/gsm/vectors.json"
TEXTS = ["Hello, your ticket 4711 is resolved.", "Ваш заказ готов к выдаче 😀",
         "€ {x} [y] " * 30, "a" * 600, "Ж" * 200]
STAMP = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def corpus() -> list[tuple[bytes, bool]]:
    """Published vectors plus generated DELIVERs (GSM-7, concatenated, UCS-2) and status reports."""
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    items = [(bytes.fromhex(v["hex"]), v["smsc"]) for v in data["pdus"]]
    sender, smsc = Address.parse("+46708251358"), Address.parse("+46700000001")
    for text in TEXTS:
        for part in split_text(text, "+1", reference=9):
            pdu = DeliverPdu(sender=sender, timestamp=STAMP, text=part.text, dcs=part.dcs, udh=part.udh, smsc=smsc)
            items.append((encode_pdu(pdu), True))
    report = StatusReportPdu(reference=5, recipient=sender, timestamp=STAMP, discharge_time=STAMP, status=0, smsc=smsc)
    items.append((encode_pdu(report), True))
    return items


def _rate(run, seconds: float = 1.0) -> float:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += run()
    return done / elapsed


def figures() -> Iterable[dict]:
    """sms.pdu_decode_per_s and sms.text_encode_per_s."""
    items = corpus()

    def decode_all() -> int:
        for raw, smsc in items:
            decode_pdu(raw, smsc=smsc)
        return len(items)

    def encode_all() -> int:
        for text in TEXTS:
            for part in split_text(text, "+46708251358", reference=3):
                encode_pdu(part)
        return len(TEXTS)

    yield figure("sms.pdu_decode_per_s", _rate(decode_all), "PDU/s", corpus_size=len(items))
    yield figure("sms.text_encode_per_s", _rate(encode_all), "messages/s", corpus_size=len(TEXTS))
