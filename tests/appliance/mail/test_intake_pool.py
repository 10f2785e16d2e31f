"""The parsing pool's workers are started by warm_pool, each with the parsing code imported."""
from __future__ import annotations

from appliance.mail.intake import intake_pool, warm_pool


def test_warm_pool_starts_every_worker() -> None:
    pool = intake_pool(2)
    try:
        assert len(pool._processes) == 0  # a fresh pool has started nobody yet
        warm_pool(pool, 2)
        assert len(pool._processes) == 2 and all(p.is_alive() for p in pool._processes.values())
    finally:
        pool.shutdown()
