#!/usr/bin/env bash
# Installs what the test suites need, from Debian's packages and npm, when missing.
# Safe to run repeatedly; CI runs it on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v firefox-esr >/dev/null || need_apt+=(firefox-esr)
command -v node >/dev/null || need_apt+=(nodejs npm)
# tests/tests/e2e/turn.rs relays media through a real coturn on loopback.
command -v turnserver >/dev/null || need_apt+=(coturn)
# tests/browser/tests/screen-share.test.js: headless Firefox has no screen to share; a
# Firefox sharer runs with a window on its own Xvfb display (lib/browsers.js).
command -v Xvfb >/dev/null || need_apt+=(xvfb)
# tests/browser/tests/deploy.test.js: network namespaces, NAT, TLS proxies, a test CA, and
# socat to reach Firefox's WebDriver BiDi port inside a namespace. (The nginx and caddy
# packages start their services where systemd runs; the test runs its own copies.)
# Some live in /usr/sbin, which a user's PATH may leave out.
have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }
have ip || need_apt+=(iproute2)
have nft || need_apt+=(nftables)
have nginx || need_apt+=(nginx)
have caddy || need_apt+=(caddy)
have socat || need_apt+=(socat)
have openssl || need_apt+=(openssl)
# tests/tests/e2e/standing.rs checks the calendar files with Debian's own python3 (a pyenv or
# venv `python3` earlier on PATH does not see Debian's packages): icalendar parses the whole
# file, python-dateutil expands the rules, zoneinfo gives the offsets.
/usr/bin/python3 -c 'import dateutil.rrule, zoneinfo' 2>/dev/null || need_apt+=(python3 python3-dateutil)
/usr/bin/python3 -c 'import icalendar' 2>/dev/null || need_apt+=(python3 python3-icalendar)
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} from Debian"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}"
fi

if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
  echo "setup: installing browser test packages (npm ci)"
  # puppeteer-core never downloads a browser; Debian's are used.
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
