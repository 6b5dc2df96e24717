#!/usr/bin/env bash
# Haven against Janus VideoRoom (and the raw UDP relay as the ceiling), side by side in one run.
#
#   bash bench/run.sh [SHAPES] [REPEATS]      e.g. bash bench/run.sh "S1 S2 S3 S4" 3
#
# RESULTS=FILE writes elsewhere; STEPS="10 20" overrides every shape's steps.
# RELAY=1 adds the raw UDP relay (bench/relay.c) to S1 as the ceiling.
# BASELINE_HAVEN=BINARY adds another Haven build (`"variant":"haven-base"`) to every step, to
# measure a change against the build before it in the same run (not named HAVEN_*: Haven
# refuses unknown HAVEN_ variables).
# NO_JANUS=1 leaves Janus out, not even installed (with BASELINE_HAVEN: a quicker A/B of two
# Haven builds; alone: sizing a machine, docs/deploy.md).
# MEDIA_WORKERS=W runs Haven with W media workers (all on core 0 like the rest of it).
# BENCH_HAVEN_ENV="HAVEN_X=v ..." passes these variables to the Haven under test only (not to
# BASELINE_HAVEN, which may not know them), e.g. HAVEN_BANDWIDTH_ESTIMATION=false.
# SIMULCAST=1: the generator's Haven participants publish the camera as three simulcast layers
# (q, h, f; `--simulcast`); TILE=WxH: each reports every other's tile at that size (`--tile`,
# 160x90 = everyone on the low layer). The Haven under test only: Janus, the relay and
# BASELINE_HAVEN get one stream as before.
# VARIANTS="name|generator flags|HAVEN_X=v ...;name|...": several Haven runs per step (not named
# HAVEN_*: Haven refuses unknown HAVEN_ variables)
# instead of one, alternated (the order reverses every repeat), each with its own generator
# flags and environment (after BENCH_HAVEN_ENV); result lines say `"variant":"haven:name"`. E.g.
#   VARIANTS="single||;sim-q|--simulcast --tile 160x90|;sim-f|--simulcast --tile 640x360|"
# LOGS=DIR keeps each Haven run's log as DIR/SHAPE-N-REP-VARIANT.log (with
# BENCH_HAVEN_ENV="HAVEN_LOG=haven=info,haven::media::run_loop::bandwidth=debug" it has every
# downlink plan change: bench/plan_log.py summarizes them).
# MEASURED=K: only K participants (spread over the join order) decrypt and measure what they
# receive, the others count packets (the generator then costs much less than the SFU, so
# capacity can be found).
# Each step starts the SFU afresh pinned to core 0 (taskset -c 0) and runs the load generator
# pinned to core 1; Haven and Janus alternate (which goes first flips every repeat). One JSON
# line per run goes to bench/results/results.jsonl; bench/report.py turns them into the table
# and plot in BENCHMARKS.md. Janus is installed from Debian by bench/janus/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPES=${1:-"S1 S2 S3 S4"}
REPEATS=${2:-3}
JANUS_LOOPS=${JANUS_LOOPS:-default}
OUT=bench/results
WORK=/tmp/haven-bench
mkdir -p "$OUT" "$WORK"
RESULTS=${RESULTS:-$OUT/results.jsonl}

cargo build --release --locked -p haven
cargo build --release --locked --manifest-path bench/loadgen/Cargo.toml
LOADGEN=bench/loadgen/target/release/haven-loadgen
[ "${NO_JANUS:-0}" = 1 ] || bash bench/janus/setup.sh "$WORK/janus" "$JANUS_LOOPS" >/dev/null
cc -O2 -o "$WORK/relay" bench/relay.c

# Haven: a declared room with media on from the start, and limits raised for one address.
cat > "$WORK/haven.toml" <<TOML
[server]
http_addr = "127.0.0.1:8090"
[media]
udp_addr = "127.0.0.1:10090"
ice_tcp = false
workers = ${MEDIA_WORKERS:-1}
[rooms]
max_participants = 1000
[limits]
max_connections_per_address = 1000
joins_per_address_per_minute = 100000
messages_per_second = 1000
[[room]]
id = "bench"
facilitator_key_sha256 = "$(printf %s bench | sha256sum | cut -d' ' -f1)"
mute_on_entry = false
camera_off_on_entry = false
TOML
for m in $(seq 0 7); do # rooms of the many-meetings shape (M3)
  printf '[[room]]\nid = "bench-%s"\nmute_on_entry = false\ncamera_off_on_entry = false\n' "$m" >>"$WORK/haven.toml"
done

wait_port() { # tcp port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 never opened" >&2; return 1
}

# Haven variants: names, generator flags and environments (see VARIANTS above).
declare -A VARIANT_ARGS VARIANT_ENV
HAVEN_NAMES="haven"
VARIANT_ARGS[haven]="${TILE:+--tile $TILE}"
if [ "${SIMULCAST:-0}" = 1 ]; then VARIANT_ARGS[haven]="--simulcast ${VARIANT_ARGS[haven]}"; fi
if [ -n "${VARIANTS:-}" ]; then
  HAVEN_NAMES=""
  IFS=';' read -r -a specs <<<"$VARIANTS"
  for spec in "${specs[@]}"; do
    IFS='|' read -r name flags envs <<<"$spec"
    name=$(echo "$name" | tr -d ' ')
    [ -n "$name" ] || continue
    HAVEN_NAMES="$HAVEN_NAMES haven:$name"
    VARIANT_ARGS[haven:$name]=$flags
    VARIANT_ENV[haven:$name]=$envs
  done
fi

start_sfu() { # haven[:variant]|haven-base|janus|relay → sets SFU_PID, SFU_URL, SFU_ROOM
  case $1 in
    haven | haven:* | haven-base)
      local bin=target/release/haven
      [ "$1" = haven-base ] && bin=$BASELINE_HAVEN
      local extra=() more=()
      [ "$1" != haven-base ] && [ -n "${BENCH_HAVEN_ENV:-}" ] && read -r -a extra <<<"$BENCH_HAVEN_ENV"
      if [ -n "${VARIANT_ENV[$1]:-}" ]; then read -r -a more <<<"${VARIANT_ENV[$1]}"; extra+=("${more[@]}"); fi
      env "${extra[@]}" RUST_LOG=warn taskset -c 0 "$bin" --config "$WORK/haven.toml" >"$WORK/haven.log" 2>&1 &
      SFU_PID=$!; SFU_URL=ws://127.0.0.1:8090/ws; SFU_ROOM=bench; wait_port 8090 ;;
    janus)
      LD_PRELOAD=$WORK/janus/noloopback.so taskset -c 0 janus -C "$WORK/janus/janus.jcfg" -F "$WORK/janus" \
        >"$WORK/janus.log" 2>&1 &
      SFU_PID=$!; SFU_URL=ws://127.0.0.1:8188; SFU_ROOM=1234; wait_port 8188 ;;
    relay)
      taskset -c 0 "$WORK/relay" 127.0.0.1 40000 >"$WORK/relay.log" 2>&1 &
      SFU_PID=$!; SFU_URL=127.0.0.1:40000; SFU_ROOM=-; sleep 0.2 ;;
  esac
  sleep 1 # idle memory settles
}

stop_sfu() {
  kill "$SFU_PID" 2>/dev/null || true
  # Janus once hung on SIGTERM after a loaded run (S2, N = 30): the run goes on without it.
  for _ in $(seq 100); do kill -0 "$SFU_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SFU_PID" 2>/dev/null || true
  wait "$SFU_PID" 2>/dev/null || true
}

# shape N → "participants video audio [meetings]" (per meeting)
load() {
  case $1 in
    M3) echo "50 6 3 $2" ;;         # N support groups (S3) at once
    S1) echo "$2 $2 $2" ;;          # video meeting: everyone publishes both
    S2) echo "$2 0 $2" ;;           # audio meeting: everyone unmuted
    S2x3) echo "$2 0 3" ;;          # audio meeting, three speakers
    S3) echo "50 6 3" ;;            # support group: 50 people, 6 cameras, 3 speaking
    S4) echo "$(($2 + 1)) 1 1" ;;   # one publisher to N subscribers
  esac
}
steps() {
  if [ -n "${STEPS:-}" ]; then echo "$STEPS"; return; fi
  case $1 in
    S1) echo "5 10 15 20 25 30" ;;
    S2 | S2x3) echo "10 20 30 40 50" ;;
    S3) echo "50" ;;
    M3) echo "1 2 3 4" ;;
    S4) echo "10 20 50 100 200 300 400" ;;
  esac
}

for shape in $SHAPES; do
  for n in $(steps "$shape"); do
    read -r participants video audio meetings <<<"$(load "$shape" "$n")"
    for rep in $(seq "$REPEATS"); do
      havens=$HAVEN_NAMES
      [ $((rep % 2)) = 0 ] && havens=$(echo $HAVEN_NAMES | tr ' ' '\n' | tac | tr '\n' ' ')
      order="$havens janus"; [ $((rep % 2)) = 0 ] && order="janus $havens"
      [ "${NO_JANUS:-0}" = 1 ] && order="$havens"
      # The relay fans out to every sender: only the everyone-publishes shape fits it.
      [ "${RELAY:-0}" = 1 ] && [ "$shape" = S1 ] && order="$order relay"
      if [ -n "${BASELINE_HAVEN:-}" ]; then
        if [ $((rep % 2)) = 0 ]; then order="$order haven-base"; else order="haven-base $order"; fi
      fi
      for sfu in $order; do
        start_sfu "$sfu"
        echo "== $shape N=$n rep $rep: $sfu" >&2
        read -r -a vflags <<<"${VARIANT_ARGS[$sfu]:-}"
        sfu_kind=${sfu%-base}; sfu_kind=${sfu_kind%%:*}
        taskset -c 1 "$LOADGEN" --sfu "$sfu_kind" --url "$SFU_URL" --room "$SFU_ROOM" --sfu-pid "$SFU_PID" \
          --participants "$participants" --video "$video" --audio "$audio" --meetings "${meetings:-1}" --label "$shape" \
          ${WARMUP:+--warmup $WARMUP} ${MEASURE:+--measure $MEASURE} ${MEASURED:+--measured $MEASURED} \
          ${vflags[@]+"${vflags[@]}"} \
          | sed "s/}\$/,\"step\":$n,\"rep\":$rep,\"janus_loops\":\"$JANUS_LOOPS\",\"variant\":\"$sfu\"}/" | tee -a "$RESULTS" || true
        stop_sfu
        if [ -n "${LOGS:-}" ] && [ "${sfu%%:*}" = haven ]; then
          mkdir -p "$LOGS"; cp "$WORK/haven.log" "$LOGS/$shape-$n-$rep-${sfu//:/-}.log"
        fi
      done
    done
  done
done
