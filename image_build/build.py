"""`make image`: the pyinstaller one-dir bundle, then a Debian package that installs it.

Outputs `dist/appliance/` (the bundle) and `dist/appliance_<version>_<arch>.deb`. The bundle is rebuilt
only when a source file changed (a digest of the tree is kept beside it), so a second `make image`
and the image test reuse it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "image_build"
DIST = REPO / "dist"
WORK = REPO / "build" / "image"
BUNDLE = DIST / "appliance"
STAMP = DIST / ".bundle-digest"
SOURCES = ("appliance", "hardware", "image_build", "requirements.txt")
INSTALL_ROOT = Path("opt/appliance")


def source_digest() -> str:
    """SHA-256 over every source file's path and content: the bundle is stale when it changes."""
    h = hashlib.sha256()
    for top in SOURCES:
        base = REPO / top
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def version() -> str:
    """The version the bundle reports."""
    sys.path.insert(0, str(REPO))
    from appliance.runtime import VERSION
    return VERSION


def build_bundle() -> None:
    """Run pyinstaller on the spec, unless the bundle is up to date."""
    digest = source_digest()
    if BUNDLE.joinpath("appliance").exists() and STAMP.exists() and STAMP.read_text() == digest:
        print(f"bundle up to date: {BUNDLE}")
        return
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(WORK / "pyinstaller"),
                    str(HERE / "appliance.spec")], check=True, cwd=REPO)
    STAMP.write_text(digest)
    print(f"bundle built in {time.monotonic() - started:.0f} s: {BUNDLE}")


def build_deb(ver: str) -> Path:
    """Lay out the package tree and run dpkg-deb --build."""
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    root = WORK / "deb"
    shutil.rmtree(root, ignore_errors=True)
    opt = root / INSTALL_ROOT
    # Updates install beside this one (versions/<v>) and move the `current` link (appliance.update).
    shutil.copytree(BUNDLE, opt / "versions" / ver, symlinks=True)
    (opt / "current").symlink_to(f"versions/{ver}")
    (opt / "appliance").symlink_to("current/appliance")
    shutil.copy2(HERE / "update_key.pub", opt / "update_key.pub")
    units = root / "lib" / "systemd" / "system"
    units.mkdir(parents=True)
    for unit in sorted([*(REPO / "systemd").glob("*.service"), *(REPO / "systemd").glob("*.path")]):
        shutil.copy2(unit, units / unit.name)
    for dropin in sorted((REPO / "systemd").glob("*.service.d")):
        shutil.copytree(dropin, root / "etc" / "systemd" / "system" / dropin.name)
    debian = root / "DEBIAN"
    debian.mkdir()
    control = (HERE / "debian" / "control.in").read_text().replace("@VERSION@", ver).replace("@ARCH@", arch)
    size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    (debian / "control").write_text(control.rstrip("\n") + f"\nInstalled-Size: {size_kb}\n")
    for script in ("postinst", "prerm", "postrm"):
        shutil.copy2(HERE / "debian" / script, debian / script)
        os.chmod(debian / script, 0o755)
    target = DIST / f"appliance_{ver}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "--build", str(root), str(target)],
                   check=True, capture_output=True)
    return target


def main() -> int:
    """Build the bundle and the package; print where they are."""
    DIST.mkdir(exist_ok=True)
    build_bundle()
    deb = build_deb(version())
    print(f"package: {deb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
