"""The signed bundle: good ones pass; bad signature, old version, damage and tricks are refused."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from appliance.update.bundle import (MANIFEST, SIGNATURE, load_public_key, parse_version, verify_and_extract,
                                     write_bundle)
from appliance.update.errors import BundleRejected
from tests.appliance.update.keys import key_pair, payload


@pytest.fixture
def keys(tmp_path: Path):
    private, pub = key_pair(tmp_path)
    return private, load_public_key(pub)


@pytest.fixture
def good(tmp_path: Path, keys) -> Path:
    return write_bundle(payload(tmp_path / "p", "#!/bin/sh\necho v2\n"), "0.2.0", keys[0], tmp_path / "b.update")


def test_good_bundle_unpacks_exactly_what_was_signed(good: Path, keys, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    manifest = verify_and_extract(good, keys[1], "0.1.0", staging)
    assert manifest.version == "0.2.0"
    assert (staging / "appliance").read_text() == "#!/bin/sh\necho v2\n"
    assert (staging / "appliance").stat().st_mode & 0o111
    assert (staging / "lib" / "alias.txt").is_symlink()
    assert verify_and_extract(good, keys[1], "0.1.9", None).version == "0.2.0"  # check only


def test_signature_from_another_key_is_refused(good: Path, tmp_path: Path) -> None:
    _, other = key_pair(tmp_path / "o" if (tmp_path / "o").mkdir() is None else tmp_path)
    with pytest.raises(BundleRejected, match="bad signature"):
        verify_and_extract(good, load_public_key(other), "0.1.0", None)


@pytest.mark.parametrize("current", ["0.2.0", "0.10.0", "1.0.0"])
def test_older_or_equal_version_is_refused(good: Path, keys, current: str) -> None:
    with pytest.raises(BundleRejected, match="not newer"):
        verify_and_extract(good, keys[1], current, None)


def test_versions_compare_numerically() -> None:
    assert parse_version("0.10.0") > parse_version("0.9.9")
    for bad in ("1.2", "v1.2.3", "1.2.3-rc1", ""):
        with pytest.raises(BundleRejected):
            parse_version(bad)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_is_refused(good: Path, keys, tmp_path: Path, keep: float) -> None:
    cut = tmp_path / "cut.update"
    data = good.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(BundleRejected):
        verify_and_extract(cut, keys[1], "0.1.0", tmp_path / "s" if (tmp_path / "s").mkdir() is None else None)


def rebuild(good: Path, target: Path, change) -> Path:
    """Copy a bundle member by member, letting `change(name, data)` alter, drop or add members."""
    with tarfile.open(good) as src, tarfile.open(target, "w:gz") as dst:
        members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src]
        for member, data in change(members):
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return target


def test_altered_payload_file_is_refused(good: Path, keys, tmp_path: Path) -> None:
    def alter(members):
        for m, data in members:
            if m.name == "payload/appliance":
                data = b"#!/bin/sh\nrm -rf /\n"[: m.size].ljust(m.size, b"#")
            yield m, data
    with pytest.raises(BundleRejected, match="does not match its signed hash"):
        verify_and_extract(rebuild(good, tmp_path / "x.update", alter), keys[1], "0.1.0", None)


def test_extra_file_is_refused(good: Path, keys, tmp_path: Path) -> None:
    def add(members):
        yield from members
        info = tarfile.TarInfo("payload/evil.sh")
        info.size = 4
        yield info, b"evil"
    with pytest.raises(BundleRejected, match="not in its signed manifest"):
        verify_and_extract(rebuild(good, tmp_path / "x.update", add), keys[1], "0.1.0", None)


def test_missing_file_is_refused(good: Path, keys, tmp_path: Path) -> None:
    def drop(members):
        return [(m, d) for m, d in members if m.name != "payload/lib/data.txt"]
    with pytest.raises(BundleRejected, match="incomplete"):
        verify_and_extract(rebuild(good, tmp_path / "x.update", drop), keys[1], "0.1.0", None)


def test_signed_manifest_with_escaping_paths_is_still_refused(keys, tmp_path: Path) -> None:
    # Even the holder of the key cannot make the appliance write outside the version directory.
    for files in ({"../etc/passwd": {"sha256": "0" * 64, "size": 0, "mode": 420}},
                  {"lib/x": {"link": "../../../etc"}}):
        manifest = json.dumps({"format": 1, "version": "0.2.0", "files": files}).encode()
        bundle = tmp_path / "evil.update"
        with tarfile.open(bundle, "w:gz") as tar:
            for name, data in ((MANIFEST, manifest), (SIGNATURE, keys[0].sign(manifest))):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            name = next(iter(files))
            info = tarfile.TarInfo(f"payload/{name}")
            if "link" in files[name]:
                info.type, info.linkname = tarfile.SYMTYPE, files[name]["link"]
            tar.addfile(info, io.BytesIO(b""))
        staging = tmp_path / "st"
        staging.mkdir(exist_ok=True)
        with pytest.raises(BundleRejected, match="outside"):
            verify_and_extract(bundle, keys[1], "0.1.0", staging)
        assert not (tmp_path / "etc").exists()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4000))
def test_garbage_is_refused_with_the_declared_error_only(keys, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "garbage.update"
    path.write_bytes(data)
    with pytest.raises(BundleRejected):
        verify_and_extract(path, keys[1], "0.1.0", None)
