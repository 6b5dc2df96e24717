#!/usr/bin/env bash
# Where a release Haven's CPU goes per egress packet in S1 (everyone on camera), by `perf`
# (issue 25): Haven pinned to core 0 with estimation off, the load generator and perf on
# core 1, 15 s of `perf record --call-graph dwarf` inside the generator's 20 s window, then
# bench/perf_table.py's table (each sample is 1 ms of the media thread: µs per egress packet
# = samples × 1000 / packets sent in the 15 s).
#
#   bash bench/perf-s1.sh BINARY OUTDIR [PARTICIPANTS]     (after bench/run.sh, whose config it uses)
#   python3 bench/perf_table.py before=OUTDIR1 after=OUTDIR2,OUTDIR3
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1; OUT=$2; N=${3:-25}
WORK=/tmp/haven-bench
[ -f "$WORK/haven.toml" ] || { echo "run bench/run.sh once first: it writes $WORK/haven.toml" >&2; exit 1; }
mkdir -p "$OUT"
env HAVEN_BANDWIDTH_ESTIMATION=false HAVEN_METRICS=true RUST_LOG=warn taskset -c 0 "$BIN" --config "$WORK/haven.toml" >"$OUT/haven.log" 2>&1 &
PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8090) 2>/dev/null && break; sleep 0.1; done
sleep 1
taskset -c 1 bench/loadgen/target/release/haven-loadgen --sfu haven --url ws://127.0.0.1:8090/ws --room bench \
  --sfu-pid "$PID" --participants "$N" --video "$N" --audio "$N" --measured 4 --label S1 --warmup 10 --measure 20 \
  >"$OUT/loadgen.json" &
LG=$!
sleep 12 # joins and warm-up: the 15 s recorded lie inside the measured window
taskset -c 1 perf record -e cpu-clock -F 1000 --call-graph dwarf,8192 -p "$PID" -o "$OUT/perf.data" -- sleep 15 \
  2>"$OUT/perf-record.log"
wait "$LG" || true
curl -s http://127.0.0.1:8090/metrics | grep -E '^haven_(fast_path|queued)_copies' >"$OUT/metrics.txt" || true
kill "$PID"; wait "$PID" 2>/dev/null || true
perf script -i "$OUT/perf.data" -F comm,tid,period,ip,sym,dso --no-inline 2>/dev/null >"$OUT/script.txt"
cat "$OUT/loadgen.json"
