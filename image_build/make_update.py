"""Release side: sign the built bundle (dist/appliance) as an update file.

    .venv/bin/python image_build/make_update.py --key /path/outside/the/repo/update_key.pem

The private key never lives in the repository; the appliance checks against update_key.pub.
"""
from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from appliance.update.bundle import write_bundle  # noqa: E402


def main() -> int:
    """Write dist/appliance-<version>.update."""
    from appliance.runtime import VERSION
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--key", required=True, help="Ed25519 private key (PEM, PKCS#8)")
    p.add_argument("--version", default=VERSION)
    p.add_argument("--payload", default=str(REPO / "dist" / "appliance"))
    args = p.parse_args()
    key = serialization.load_pem_private_key(Path(args.key).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        sys.exit(f"{args.key} is not an Ed25519 private key")
    target = REPO / "dist" / f"appliance-{args.version}.update"
    write_bundle(Path(args.payload), args.version, key, target,
                 created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    print(f"update bundle: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
