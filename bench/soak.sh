#!/usr/bin/env bash
# The soak (issue 6): 20 participants join and leave in churn against a release build of Haven
# for SECONDS (default 600); prints one JSON line with the server's RSS and open file
# descriptors idle, at the start, at the peak, at the end under load, and after everyone left.
#
#   bash bench/soak.sh [SECONDS] [ROUNDS]
#
# With ROUNDS > 1 the same server takes several soaks in a row: memory that the allocator
# keeps for reuse levels off after the first round; a leak keeps growing.
#
# Each participant stays 20–90 s, leaves (a `leave` message), pauses 1–3 s and joins again as
# a new person; 4 of them publish video and audio, 8 audio only, all subscribe to everyone.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
ROUNDS=${2:-1}
WORK=/tmp/haven-soak
mkdir -p "$WORK" bench/results
cargo build --release --locked -p haven
cargo build --release --locked --manifest-path bench/loadgen/Cargo.toml

cat > "$WORK/haven.toml" <<TOML
[server]
http_addr = "127.0.0.1:8091"
[media]
udp_addr = "127.0.0.1:10091"
[limits]
joins_per_address_per_minute = 100000
[[room]]
id = "soak"
facilitator_key_sha256 = "$(printf %s soak | sha256sum | cut -d' ' -f1)"
mute_on_entry = false
camera_off_on_entry = false
TOML

RUST_LOG=warn target/release/haven --config "$WORK/haven.toml" >"$WORK/haven.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8091) 2>/dev/null && break; sleep 0.1; done
sleep 1
for round in $(seq "$ROUNDS"); do
  bench/loadgen/target/release/haven-loadgen --sfu haven --url ws://127.0.0.1:8091/ws --room soak \
    --sfu-pid "$PID" --participants 20 --video 4 --audio 12 --churn "$SECONDS_TO_RUN" \
    | sed "s/}\$/,\"round\":$round}/" | tee -a bench/results/soak.jsonl
done
kill -0 "$PID" || { echo "haven died during the soak" >&2; exit 1; }
if grep -q panicked "$WORK/haven.log"; then echo "haven panicked:" >&2; grep panicked "$WORK/haven.log" >&2; exit 1; fi
echo "no panic; server log: $WORK/haven.log" >&2
