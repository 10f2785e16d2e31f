"""`make bench`: one JSON object per line, {"name", "value", "unit"} (+ "baseline", "ratio").

Each module `bench/bench_<area>.py` exposes `figures() -> Iterable[dict]`. Figures that compare
against a baseline measure both in the same run, because these machines are noisy.
Run one area with `python -m bench <area> [<area> …]`.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import traceback

import bench


def main(argv: list[str]) -> int:
    """Run every bench module (or the ones named) and print their figures."""
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    wanted = {f"bench_{a}" for a in argv}
    failed = 0
    for name in names:
        if wanted and name not in wanted:
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
            for figure in module.figures():
                print(json.dumps(figure), flush=True)
        except Exception:  # one broken bench must not hide the others' figures
            failed += 1
            print(f"bench {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
