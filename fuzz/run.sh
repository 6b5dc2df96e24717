#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through libfuzzer-sys) of protocol decoding and the
# room state machine, on the stable toolchain: the instrumentation cargo-fuzz would add is
# passed directly, without a sanitizer.
#   fuzz/run.sh            each target for 60 s
#   fuzz/run.sh 600        each target for 10 minutes
# Crashes are written to fuzz/artifacts/<target>/; the corpus grows in fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation out of build scripts and proc macros.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --locked --bins --target "$host"
for target in protocol room; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "== fuzzing $target for ${seconds}s"
  "$CARGO_TARGET_DIR/$host/release/$target" "corpus/$target" \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|#[0-9]+ +DONE)|panicked|ERROR|SUMMARY" || true
  if ls "artifacts/$target"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $target found a crash: $(ls artifacts/$target/crash-*)" >&2
    exit 1
  fi
done
