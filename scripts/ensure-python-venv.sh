#!/usr/bin/env bash
# Debian 12 ships python3 without the venv module (package python3-venv).
# Install it when we are root; otherwise say exactly what is missing.
set -euo pipefail
py=${1:-python3}
if "$py" -c 'import venv, ensurepip' 2>/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
else
  echo "missing: the Debian package python3-venv (run: sudo apt-get install python3-venv)" >&2
  exit 1
fi
