#!/usr/bin/env bash
# Where Haven's time goes, in instructions (immune to noisy neighbours): release Haven under
# callgrind while the load generator runs N participants, all on video and audio.
#
#   bash bench/profile.sh [PARTICIPANTS] [SECONDS]      (after bench/run.sh, whose config it uses)
#   callgrind_annotate --inclusive=yes /tmp/haven-bench/callgrind.out | less
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-4}
SECONDS_MEASURED=${2:-15}
WORK=/tmp/haven-bench
[ -f "$WORK/haven.toml" ] || { echo "run bench/run.sh once first: it writes $WORK/haven.toml" >&2; exit 1; }
cargo build --release --locked -p haven
cargo build --release --locked --manifest-path bench/loadgen/Cargo.toml
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
  target/release/haven --config "$WORK/haven.toml" >"$WORK/callgrind-haven.log" 2>&1 &
VG=$!
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/8090) 2>/dev/null && break; sleep 0.2; done
bench/loadgen/target/release/haven-loadgen --sfu haven --url ws://127.0.0.1:8090/ws --room bench \
  --sfu-pid "$VG" --participants "$N" --video "$N" --audio "$N" --warmup 3 \
  --measure "$SECONDS_MEASURED" --join-gap-ms 300
kill -INT "$VG"
wait "$VG" || true
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" | grep -E "Rtc::poll_output|Rtc::handle_input|poll_datagram|protect_rtp|seal_scatter|StreamTx::poll_packet|handle_timeouts|memcpy|RtcConfig::build" | head -20
