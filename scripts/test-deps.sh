#!/usr/bin/env bash
# The Debian tools the tests talk to (real peers, see DEVELOPERS.md "Standards").
# As root: install what is missing. Otherwise: name it. With CI=true a missing tool fails the run.
set -uo pipefail
# command -> Debian package
declare -A tools=(
  [efax]=efax
  [sendfax]=mgetty-fax
  [gammu]=gammu
  [snmpwalk]=snmp
  [snmptrapd]=snmptrapd
  [smilint]=smitools
  [/usr/sbin/dovecot]=dovecot-imapd
  [/usr/lib/dovecot/pop3]=dovecot-pop3d
  [chromium]=chromium
  [/usr/lib/postgresql/15/bin/initdb]=postgresql
  [openssl]=openssl
  [systemd-analyze]=systemd
  [tmux]=tmux
  [tiffinfo]=libtiff-tools
  [/usr/sbin/clamd]=clamav-daemon
  [clamscan]=clamav
  [/usr/sbin/spamd]=spamassassin
  [spamc]=spamc
  # Not a command: Chromium draws Chinese names with this font (else as empty boxes) in the desk's browser test.
  [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]=fonts-noto-cjk
)
missing_pkgs=()
missing_tools=()
have() { case "$1" in /*) [ -e "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 ;; esac; }
for t in "${!tools[@]}"; do
  have "$t" || { missing_tools+=("$t"); missing_pkgs+=("${tools[$t]}"); }
done
[ ${#missing_pkgs[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing_pkgs[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test tools: $pkgs"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null || {
    echo "apt-get could not install: $pkgs" >&2; exit 1; }
  exit 0
fi
echo "missing test tools: ${missing_tools[*]}" >&2
echo "install them with: sudo apt-get install $pkgs" >&2
if [ "${CI:-}" = true ]; then echo "CI=true: a missing tool fails the run" >&2; exit 1; fi
echo "tests that need them will be skipped (CI=true would fail instead)" >&2
exit 0
