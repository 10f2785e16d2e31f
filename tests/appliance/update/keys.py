"""Each test run makes its own signing key pair: the release key never enters the repository."""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def key_pair(folder: Path) -> tuple[Ed25519PrivateKey, Path]:
    """A private key and the path of its public key (PEM)."""
    private = Ed25519PrivateKey.generate()
    pub = folder / "update_key.pub"
    pub.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, pub


def payload(folder: Path, script: str) -> Path:
    """A bundle payload whose `appliance` executable is `script`."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "appliance"
    exe.write_text(script)
    exe.chmod(0o755)
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "data.txt").write_text("payload data\n")
    (folder / "lib" / "alias.txt").symlink_to("data.txt")
    return folder
