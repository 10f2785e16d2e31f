"""The shape of one bench figure."""
from __future__ import annotations


def figure(name: str, value: float, unit: str, baseline: float | None = None, **extra: object) -> dict:
    """One JSON-able figure; with a baseline, ratio = value / baseline."""
    out: dict = {"name": name, "value": round(value, 4), "unit": unit}
    if baseline is not None:
        out["baseline"] = round(baseline, 4)
        out["ratio"] = round(value / baseline, 4) if baseline else None
    out.update(extra)
    return out
