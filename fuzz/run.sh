#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through libfuzzer-sys) of protocol decoding, the room
# state machine and SDP through the media worker's own calls, on the stable toolchain: the instrumentation cargo-fuzz would add is
# passed directly, without a sanitizer.
#   fuzz/run.sh            each target for 60 s
#   fuzz/run.sh 600        each target for 10 minutes
# Crashes, out-of-memory and hang inputs are written to fuzz/artifacts/<target>/ (and fail the
# run, as does the fuzzer's own failure); the corpus grows in fuzz/corpus/<target>/, started
# from fuzz/seeds/<target>/ where there is one.
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
status=0
for target in protocol room sdp; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "== fuzzing $target for ${seconds}s"
  # SDP is long text: room for a browser's whole offer. Seeds (committed) start the corpus.
  max_len=4096; [ "$target" = sdp ] && max_len=16384
  seeds=(); [ -d "seeds/$target" ] && seeds=("seeds/$target")
  set +e
  "$CARGO_TARGET_DIR/$host/release/$target" "corpus/$target" "${seeds[@]}" \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" >"artifacts/$target.log" 2>&1
  fuzzer_status=$?
  set -e
  grep -E "^(stat::number_of_executed_units|stat::peak_rss|#[0-9]+ +DONE)|panicked|ERROR|SUMMARY" "artifacts/$target.log" || true
  # A crash, an out-of-memory, a hang (timeout) or a leak each leave an artifact; the fuzzer
  # also exits non-zero for them.
  found=$(ls "artifacts/$target" | grep -E "^(crash|oom|timeout|leak|slow-unit)-" | grep -v "^slow-unit-" || true)
  if [ -n "$found" ] || [ "$fuzzer_status" -ne 0 ]; then
    echo "fuzz: $target failed (exit $fuzzer_status): ${found:-no artifact}; see fuzz/artifacts/$target.log" >&2
    status=1
  fi
done
exit "$status"
