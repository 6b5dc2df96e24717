#!/usr/bin/env bash
# The vendored str0m's own unit tests (its `src/` #[cfg(test)] modules, Haven's patches'
# tests among them). vendor/str0m is not a workspace member and its published manifest names
# optional crates (other crypto back-ends, `drv`) and dev-dependencies Haven does not use, so
# the tests run on a copy whose manifest drops those, resolved against the workspace's
# Cargo.lock. Two tests read `docs/chrome-sdp.json`, which the crate does not publish: skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
cp -r vendor/str0m/. "$copy"
cp Cargo.lock "$copy/"
python3 - "$copy/Cargo.toml" <<'PY'
import re, sys
path = sys.argv[1]
s = open(path).read()
unused = ['str0m-openssl', 'str0m-rust-crypto', 'drv']
parts = re.split(r'(?m)^(?=\[)', s)
parts = [p for p in parts
         if not p.startswith('[dev-dependencies')
         and not p.startswith('[target.')
         and not any(p.startswith(f'[dependencies.{c}]') for c in unused)]
s = ''.join(parts)
# Features that name the dropped crates become empty.
for feature in ['openssl', 'openssl-dimpl', 'vendored', 'rust-crypto', 'drv', 'apple-crypto',
                'wincrypto', 'wincrypto-dimpl', 'examples']:
    s = re.sub(r'(?ms)^%s = (\[[^\]]*\]|"[^"]*")' % re.escape(feature), f'{feature} = []', s)
s += '\n[dev-dependencies]\nserde_json = "1"\ntracing-subscriber = { version = "0.3", features = ["env-filter", "std"] }\n'
open(path, 'w').write(s)
PY
# One test imports `Duration` through a dev-dependency not kept here: std's is the same type.
sed -i 's/use systemstat::Duration;/use std::time::Duration;/' "$copy/src/bwe/loss_controller.rs"
mkdir -p "$copy/docs" && echo '{}' > "$copy/docs/chrome-sdp.json"
cd "$copy"
CARGO_TARGET_DIR="$root/target/vendored-str0m" cargo test --lib --offline -- \
  --skip sdp::data::test::fast_and_easy_parse_agree \
  --skip sdp::data::test::invalid_sdp_keeps_the_detailed_error
