"""The update bundle: a tar with `manifest.json`, its Ed25519 signature `manifest.sig`, and `payload/…`.

The manifest names the version and every payload file with its SHA-256, size and mode (or a symlink's
target); the signature covers the manifest's exact bytes, so one signature check plus one hash per
file proves the whole payload. Verification extracts into a staging directory while hashing and
refuses at the first surprise (bad signature, older version, missing/extra/changed file, a path that
leaves the payload, a truncated archive); the caller deletes the staging directory, so nothing changes.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.update.errors import BundleRejected, UpdateError

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PAYLOAD = "payload"
MANIFEST_MAX = 8 * 1024 * 1024
VERSION_RE = re.compile(r"^(\d{1,6})\.(\d{1,6})\.(\d{1,6})$")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    """What a bundle claims to be."""

    version: str
    files: dict[str, dict[str, Any]]
    created: str = ""


def parse_version(text: str) -> tuple[int, int, int]:
    """`1.2.3` as a tuple that compares the way versions do."""
    match = VERSION_RE.match(text or "")
    if not match:
        raise BundleRejected(f"{text!r} is not a version of the form MAJOR.MINOR.PATCH")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key (PEM) that update signatures are checked against."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UpdateError(f"cannot read the update public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UpdateError(f"{path} is not an Ed25519 public key")
    return key


def _safe_relative(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or ".." in path.parts or name != str(path):
        raise BundleRejected(f"the bundle names a file outside its payload: {name!r}")
    return str(path)


def manifest_from_bytes(data: bytes) -> Manifest:
    """Parse and check the shape of a manifest."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BundleRejected("the manifest is not valid JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BundleRejected(f"unknown bundle format (expected format {FORMAT})")
    version, files = raw.get("version"), raw.get("files")
    if not isinstance(version, str) or not isinstance(files, dict) or not files:
        raise BundleRejected("the manifest has no version or no files")
    parse_version(version)
    for name, entry in files.items():
        _safe_relative(name)
        ok_file = isinstance(entry, dict) and isinstance(entry.get("sha256"), str) \
            and isinstance(entry.get("size"), int) and isinstance(entry.get("mode"), int)
        ok_link = isinstance(entry, dict) and isinstance(entry.get("link"), str)
        if not (ok_file or ok_link):
            raise BundleRejected(f"the manifest entry for {name!r} is malformed")
    return Manifest(version, files, str(raw.get("created", "")))


# --- making bundles (release side and tests) ---------------------------------------------------------
def describe_payload(payload: Path) -> dict[str, dict[str, Any]]:
    """The manifest's `files` for a directory: hashes, sizes and modes; symlinks by target."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(payload.rglob("*")):
        name = path.relative_to(payload).as_posix()
        if path.is_symlink():
            files[name] = {"link": os.readlink(path)}
        elif path.is_file():
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(CHUNK), b""):
                    h.update(chunk)
            files[name] = {"sha256": h.hexdigest(), "size": path.stat().st_size,
                           "mode": path.stat().st_mode & 0o755}
    return files


def write_bundle(payload: Path, version: str, private_key: Ed25519PrivateKey, target: Path,
                 created: str = "") -> Path:
    """Sign and write a bundle of `payload` as `version`."""
    parse_version(version)
    manifest = json.dumps({"format": FORMAT, "version": version, "created": created,
                           "files": describe_payload(payload)}, sort_keys=True, indent=1).encode()
    signature = private_key.sign(manifest)
    with tarfile.open(target, "w:gz") as tar:
        for name, data in ((MANIFEST, manifest), (SIGNATURE, signature)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for path in sorted(payload.rglob("*")):
            tar.add(path, f"{PAYLOAD}/{path.relative_to(payload).as_posix()}", recursive=False)
    return target


# --- checking and unpacking -----------------------------------------------------------------------------
def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    if not member.isfile() or member.size > limit:
        raise BundleRejected(f"{member.name} is not a small regular file")
    fh = tar.extractfile(member)
    assert fh is not None
    return fh.read()


def _extract_file(fh: IO[bytes], target: Path, entry: dict[str, Any], name: str) -> None:
    h = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != entry["size"] or h.hexdigest() != entry["sha256"]:
        raise BundleRejected(f"{name} does not match its signed hash: the bundle was altered")
    os.chmod(target, entry["mode"] & 0o755)


def verify_and_extract(bundle: Path, public_key: Ed25519PublicKey, current_version: str,
                       staging: Path | None) -> Manifest:
    """Check everything; with `staging`, unpack the payload there while hashing. Raises BundleRejected."""
    try:
        with tarfile.open(bundle, "r:*") as tar:
            manifest = _verify(tar, public_key, current_version, staging)
            # Read to the very end: gzip checks its CRC and length trailer (RFC 1952 §2.3.1) only
            # there, so a file cut short after the last member is caught too.
            while tar.fileobj.read(CHUNK):
                pass
            return manifest
    except (tarfile.TarError, EOFError, OSError, zlib_error()) as exc:
        raise BundleRejected(f"the file is truncated or not an update bundle ({exc})") from None


def zlib_error() -> type[Exception]:
    """gzip's own error type for damaged compressed data."""
    import zlib
    return zlib.error


def _verify(tar: tarfile.TarFile, public_key: Ed25519PublicKey, current_version: str,
            staging: Path | None) -> Manifest:
    first = tar.next()
    second = tar.next()
    if first is None or second is None or first.name != MANIFEST or second.name != SIGNATURE:
        raise BundleRejected("the bundle does not start with a manifest and its signature")
    manifest_bytes = _read_member(tar, first, MANIFEST_MAX)
    signature = _read_member(tar, second, 1024)
    try:
        public_key.verify(signature, manifest_bytes)
    except InvalidSignature:
        raise BundleRejected("bad signature: this bundle was not signed with this appliance's update key") \
            from None
    manifest = manifest_from_bytes(manifest_bytes)
    if parse_version(manifest.version) <= parse_version(current_version):
        raise BundleRejected(f"version {manifest.version} is not newer than the installed {current_version}")
    seen: set[str] = set()
    # tar.next() rather than iterating the TarFile, which would start again at the manifest.
    for member in iter(tar.next, None):
        if not member.name.startswith(PAYLOAD + "/"):
            raise BundleRejected(f"unexpected file in the bundle: {member.name!r}")
        name = _safe_relative(member.name[len(PAYLOAD) + 1:])
        if member.isdir():
            if staging:
                (staging / name).mkdir(parents=True, exist_ok=True)
            continue
        entry = manifest.files.get(name)
        if entry is None or name in seen:
            raise BundleRejected(f"{name} is in the bundle but not in its signed manifest")
        seen.add(name)
        if "link" in entry:
            if not member.issym() or member.linkname != entry["link"]:
                raise BundleRejected(f"{name} does not match its signed link target")
            _check_link(name, entry["link"])
            if staging:
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                os.symlink(entry["link"], staging / name)
            continue
        if not member.isfile():
            raise BundleRejected(f"{name} is not a regular file")
        fh = tar.extractfile(member)
        assert fh is not None
        if staging:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            _extract_file(fh, staging / name, entry, name)
        else:
            _hash_only(fh, entry, name)
    missing = set(manifest.files) - seen
    if missing:
        raise BundleRejected(f"the bundle is incomplete: {len(missing)} signed files are missing "
                             f"(e.g. {sorted(missing)[0]})")
    return manifest


def _hash_only(fh: IO[bytes], entry: dict[str, Any], name: str) -> None:
    h = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: fh.read(CHUNK), b""):
        h.update(chunk)
        size += len(chunk)
    if size != entry["size"] or h.hexdigest() != entry["sha256"]:
        raise BundleRejected(f"{name} does not match its signed hash: the bundle was altered")


def _check_link(name: str, target: str) -> None:
    # A symlink must stay inside the payload, or an update could point the bundle at /etc.
    resolved = PurePosixPath(name).parent / target
    depth = 0
    for part in resolved.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            raise BundleRejected(f"{name} links outside the payload")
    if PurePosixPath(target).is_absolute():
        raise BundleRejected(f"{name} links outside the payload")
