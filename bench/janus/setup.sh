#!/bin/sh
# Installs Janus 1.1.2 from Debian and writes a benchmark configuration into $1 (default
# /tmp/janus-bench): WebSocket transport only, admin API and event handlers off, room bitrate 0
# (the stock room caps at 128 kbit/s), FIR/PLI period off, loopback candidates via
# noloopback.so. $2 picks the threading: "default" (one thread per session) or an event-loop
# count (1, 2). Start with:
#   LD_PRELOAD=$DIR/noloopback.so taskset -c 0 janus -C $DIR/janus.jcfg -F $DIR
set -eu
DIR=${1:-/tmp/janus-bench}
LOOPS=${2:-default}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v janus >/dev/null || { apt-get update && apt-get install -y janus; }
mkdir -p "$DIR"
cc -shared -fPIC -O2 -o "$DIR/noloopback.so" "$HERE/noloopback.c" -ldl
if [ "$LOOPS" = default ]; then LOOPLINE=""; else LOOPLINE="event_loops = $LOOPS"; fi
cat > "$DIR/janus.jcfg" <<JCFG
general: {
	configs_folder = "$DIR"
	plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"
	transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"
	events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
	loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
	debug_level = 2
	admin_secret = "unused"
	interface = "127.0.0.1"
	$LOOPLINE
}
media: {
	rtp_port_range = "20000-40000"
}
nat: {
	nice_debug = false
	ice_lite = true
	ice_tcp = false
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_echotest.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so,libjanus_duktape.so,libjanus_lua.so"
}
transports: {
	disable = "libjanus_http.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so"
}
events: {
	broadcast = false
	disable = "libjanus_sampleevh.so,libjanus_wsevh.so,libjanus_mqttevh.so,libjanus_rabbitmqevh.so,libjanus_nanomsgevh.so,libjanus_gelfevh.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
JCFG
cat > "$DIR/janus.transport.websockets.jcfg" <<JCFG
general: {
	json = "compact"
	ws = true
	ws_port = 8188
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
JCFG
# Room 1234, and 1235–1241 for the many-meetings shape (M3).
{
  echo "general: {"
  echo "}"
  for room in $(seq 1234 1241); do
    cat <<JCFG
room-$room: {
	description = "bench"
	publishers = 100
	bitrate = 0
	fir_freq = 0
	audiocodec = "opus"
	videocodec = "vp8"
}
JCFG
  done
} > "$DIR/janus.plugin.videoroom.jcfg"
echo "$DIR"
