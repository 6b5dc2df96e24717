#!/bin/sh
# Haven's browser tests: Debian chromium and firefox-esr through puppeteer-core.
# HAVEN_BIN (default ../../target/debug/haven) is the server under test; build it first with
# `cargo build -p haven` (and `cargo build -p haven-tests --bin tap` for e2ee-blind.test.js).
# Screenshots and server logs land in artifacts/.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 --test-timeout=600000 "$@" tests/*.test.js
