#!/usr/bin/env node
// The Chromium join-time figure of the benchmark (/work/shared/BENCHMARK.md): page load →
// first remote video frame decoded, in a real Chromium against the real Haven binary.
//
//   node bench/browser-join.mjs [runs=7]          (from the repository root)
//
// One Haven server for all runs (the release binary unless HAVEN_BIN says otherwise), a fresh
// room per run. Per run:
//   1. a publisher Chromium (own temporary profile) joins the room with fake camera and
//      microphone on, and the script waits until it is sending video;
//   2. a second, fresh Chromium (new temporary profile) is launched and left idle, then the
//      measured join starts: t0 = Date.now() just before `page.goto(meetingUrl)`, made by the
//      browser tests' own `joinMeeting()` (load, type the name, switch mic and camera on, click
//      Join, as a person would);
//   3. t1 = the first remote video frame, seen in the page by `requestVideoFrameCallback` on
//      the <video> playing a received track (its `presentationTime`: the decoded frame handed
//      to the compositor). Cross-check and fallback: the video receiver's inbound-rtp
//      `framesDecoded > 0`, polled in the page every 10 ms (BENCH_STATS_POLL=0 turns it off).
//
// Everything measured inside the page uses the page's own clock (performance.now(), whose zero
// is performance.timeOrigin = that document's navigation start), recorded by a script
// installed with evaluateOnNewDocument before any page script runs: join click (capture-phase
// click listener on #join-button), WebSocket open (WebSocket subclass), RTCPeerConnection
// created / connected and the remote video track (RTCPeerConnection subclass).
//
// Reported per run and as p50/p90/min/max (p90 by linear interpolation between order
// statistics, as numpy's default): nav_to_first_frame (t0 → t1), nav_start_to_first_frame
// (page's timeOrigin → t1, page clock only), join_screen (t0 → Join click),
// join_click_to_first_frame, ws_open_to_first_frame. The last line on stdout is one JSON object.
//
// Environment: HAVEN_BIN (server, default target/release/haven), CHROMIUM_BIN, HAVEN_LOG
// (default haven=info here), BENCH_WARMUP (discarded warm-up runs first, default 1),
// BENCH_STATS_POLL (default 1), BENCH_FORCE_STATS=1 (no frame callback: test the fallback),
// BENCH_SIGNAL_DELAY_MS (one-way delay added to the page's HTTP and WebSocket traffic by a
// TCP proxy in front of the server, as over a long network path; media stays direct, default
// 0 = no proxy), BENCH_WEB_DIR (serve the web client from this directory instead of web/, to
// compare two clients against one server binary), BENCH_SETTLE_MS (idle time after launching the measured
// Chromium, default 1000), BENCH_E2EE=1 (each run's room is end-to-end encrypted, `POST /api/rooms`
// with `"e2ee": true`, and both pages open its link with a fresh `#e2ee=` key made here by the
// client's own web/js/e2ee/meeting-key.js: issue 23's cost), BENCH_CPU_MS (after the first frame,
// both browsers' CPU over this many ms, in % of one core: every process of each browser, the
// renderer and its encryption worker included; default 0 = not measured). Needs
// tests/browser/node_modules (cd tests/browser && npm ci).

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

// The helpers read HAVEN_BIN and HAVEN_LOG when they are loaded or called, so set the
// benchmark's defaults first and import them afterwards.
process.env.HAVEN_BIN ||= path.join(repo, 'target/release/haven');
process.env.HAVEN_LOG ||= 'haven=info';
if (!existsSync(path.join(repo, 'tests/browser/node_modules/puppeteer-core'))) {
  console.error('puppeteer-core is missing: run `cd tests/browser && npm ci` first');
  process.exit(2);
}
if (!existsSync(process.env.HAVEN_BIN)) {
  console.error(`no server binary at ${process.env.HAVEN_BIN} (set HAVEN_BIN)`);
  process.exit(2);
}
const { startServer } = await import('../tests/browser/lib/server.js');
const { launchChromium } = await import('../tests/browser/lib/browsers.js');
const { startRelay } = await import('../tests/browser/lib/proxy.js');
const { joinMeeting, outbound, CONNECT_TIMEOUT } = await import('../tests/browser/lib/meeting.js');

const runs = Number.parseInt(process.argv[2] ?? '7', 10);
if (!(runs > 0)) {
  console.error('usage: node bench/browser-join.mjs [runs=7]');
  process.exit(2);
}
const WARMUP = Number.parseInt(process.env.BENCH_WARMUP ?? '1', 10);
const STATS_POLL = process.env.BENCH_STATS_POLL !== '0';
const FORCE_STATS = process.env.BENCH_FORCE_STATS === '1';
const SETTLE_MS = Number.parseInt(process.env.BENCH_SETTLE_MS ?? '1000', 10);
const SIGNAL_DELAY_MS = Number.parseInt(process.env.BENCH_SIGNAL_DELAY_MS ?? '0', 10);
const MAX_FAILURES = Math.max(3, runs);
const E2EE = process.env.BENCH_E2EE === '1';
const CPU_MS = Number.parseInt(process.env.BENCH_CPU_MS ?? '0', 10);
const { MeetingKey, linkWithKey } = await import('../web/js/e2ee/meeting-key.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(...a);

// ---------------------------------------------------------------------------------------
// In the measured page, before any of its own scripts (serialised by evaluateOnNewDocument).

function instrument(statsPoll, forceStats) {
  const B = {
    marks: {},
    firstFrame: null, // from requestVideoFrameCallback
    statsFirstDecoded: null, // from getStats polling
    rvfc: !forceStats && 'requestVideoFrameCallback' in HTMLVideoElement.prototype,
  };
  Object.defineProperty(window, '__bench', { value: B });
  const mark = (k, t = performance.now()) => {
    if (B.marks[k] === undefined) B.marks[k] = t;
  };
  const remoteVideoTracks = new Set();

  document.addEventListener(
    'click',
    (e) => {
      if (e.target instanceof Element && e.target.closest('#join-button')) mark('joinClick');
    },
    true,
  );

  document.addEventListener(
    'input',
    (e) => {
      if (e.target?.id !== 'name-input') return;
      mark('nameFirstInput');
      B.marks.nameLastInput = performance.now();
    },
    true,
  );

  // Camera and microphone opening on the join screen (each toggle opens its device).
  const md = navigator.mediaDevices;
  if (md?.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    B.gum = [];
    md.getUserMedia = async (constraints) => {
      const entry = { start: performance.now(), end: null };
      B.gum.push(entry);
      try {
        return await gum(constraints);
      } finally {
        entry.end = performance.now();
      }
    };
  }

  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      mark('wsCreate');
      this.addEventListener('open', () => mark('wsOpen'));
      this.addEventListener('message', () => mark('wsFirstMessage'), { once: true });
      // Each signaling message's type and time, in and out: where the join's round trips go.
      this.addEventListener('message', (e) => B.signals.push(['in', typeOf(e.data), performance.now()]));
    }

    send(data) {
      B.signals.push(['out', typeOf(data), performance.now()]);
      super.send(data);
    }
  };
  B.signals = [];
  function typeOf(data) {
    try {
      return JSON.parse(data).type;
    } catch {
      return '?';
    }
  }

  function pollStats(pc) {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      if (B.statsFirstDecoded || pc.connectionState === 'closed') {
        clearInterval(timer);
        return;
      }
      busy = true;
      try {
        for (const r of pc.getReceivers()) {
          if (r.track?.kind !== 'video') continue;
          (await r.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.framesDecoded > 0 && !B.statsFirstDecoded) {
              B.statsFirstDecoded = { t: performance.now(), framesDecoded: s.framesDecoded };
            }
          });
        }
      } catch {
        // the connection is going away
      } finally {
        busy = false;
      }
    }, 10);
  }

  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePC {
    constructor(...args) {
      super(...args);
      mark('pcCreate');
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') mark('pcConnected');
      });
      this.addEventListener('track', (e) => {
        if (e.track.kind !== 'video') return;
        remoteVideoTracks.add(e.track.id);
        mark('remoteVideoTrack');
      });
      if (statsPoll) pollStats(this);
    }

    // Each SDP step's start and end: how much of the join is the browser's own SDP work.
    setRemoteDescription(d) {
      return timed(`srd-${d?.type}`, super.setRemoteDescription(d));
    }

    createAnswer(...a) {
      return timed('answer', super.createAnswer(...a));
    }

    createOffer(...a) {
      return timed('offer', super.createOffer(...a));
    }

    setLocalDescription(d) {
      return timed(`sld-${d?.type ?? 'auto'}`, super.setLocalDescription(d));
    }
  };
  B.sdpSteps = [];
  function timed(step, promise) {
    const entry = [step, performance.now(), null];
    B.sdpSteps.push(entry);
    const done = () => {
      entry[2] = performance.now();
    };
    promise.then(done, done);
    return promise;
  }

  // Every <video> given a stream gets a frame callback; the first frame of a received track counts.
  const watched = new WeakSet();
  const onFrame = (video) => (now, meta) => {
    if (B.firstFrame) return;
    const track = video.srcObject?.getVideoTracks?.()[0];
    if (track && remoteVideoTracks.has(track.id)) {
      B.firstFrame = {
        t: meta.presentationTime, // frame submitted for composition (decoded)
        callbackTime: now,
        receiveTime: meta.receiveTime ?? null, // last packet of that frame arrived
        processingDurationMs: meta.processingDuration != null ? meta.processingDuration * 1000 : null,
        width: meta.width,
        height: meta.height,
      };
      return;
    }
    if (video.isConnected || video.srcObject) video.requestVideoFrameCallback(onFrame(video));
  };
  const srcObject = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    ...srcObject,
    set(value) {
      srcObject.set.call(this, value);
      if (value && B.rvfc && this instanceof HTMLVideoElement && !watched.has(this)) {
        watched.add(this);
        this.requestVideoFrameCallback(onFrame(this));
      }
    },
  });
}

// ---------------------------------------------------------------------------------------

async function waitPublishing(page, timeout = CONNECT_TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const video = (await outbound(page)).filter((r) => r.kind === 'video');
    if (video.some((r) => r.framesEncoded > 0 && r.packetsSent > 0)) return;
    if (Date.now() > deadline) throw new Error(`publisher sends no video: ${JSON.stringify(video)}`);
    await sleep(100);
  }
}

/** The page's address through the delaying relay, when there is one. */
let proxy = null;
function delayedUrl(url) {
  if (!proxy) return url;
  const u = new URL(url);
  u.port = new URL(proxy.url).port;
  return u.toString();
}

// Browsers alive right now, for the interrupt handler.
const live = new Set();
async function launch() {
  const b = await launchChromium();
  live.add(b);
  return b;
}

/** A room, encrypted with BENCH_E2EE (then its member link carries a new key). */
async function makeRoom(server) {
  if (!E2EE) {
    const room = await server.createRoom();
    return { room, url: delayedUrl(room.join_url) };
  }
  const res = await fetch(`${server.url}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ e2ee: true }),
  });
  const room = await res.json();
  if (res.status !== 201 || room.room?.e2ee === false) throw new Error(`POST /api/rooms: ${res.status} ${JSON.stringify(room)}`);
  return { room, url: linkWithKey(delayedUrl(room.join_url), await MeetingKey.generate()) };
}

/** CPU seconds (user + system) of `root` and every process under it, from /proc. */
function treeCpuSeconds(root) {
  const parent = new Map();
  const ticks = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(pid), Number(f[1]));
      ticks.set(Number(pid), Number(f[11]) + Number(f[12]));
    } catch {}
  }
  let total = 0;
  for (const [pid, t] of ticks) {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) {
      if (p === root) {
        total += t;
        break;
      }
    }
  }
  return total / 100; // USER_HZ
}

async function oneRun(server, label) {
  const browsers = [];
  try {
    const { url } = await makeRoom(server);

    // Publisher.
    const pub = await launch();
    browsers.push(pub);
    const pubPage = await pub.newPage();
    const publisher = await joinMeeting(pubPage, url, 'Publisher', { audio: true, video: true });
    await waitPublishing(pubPage);

    // Measured newcomer: launched and idle before t0.
    const sub = await launch();
    browsers.push(sub);
    const page = await sub.newPage();
    await page.evaluateOnNewDocument(instrument, STATS_POLL || FORCE_STATS, FORCE_STATS);
    await page.bringToFront();
    await sleep(SETTLE_MS);

    let t0 = null;
    const goto = page.goto.bind(page);
    page.goto = (...args) => {
      if (t0 === null) t0 = Date.now();
      return goto(...args);
    };
    const loadAvg = os.loadavg();
    await joinMeeting(page, url, 'Measured', { audio: true, video: true });
    const tJoinedNode = Date.now();

    // Wait for the frame callback (and up to 0.5 s more for the getStats cross-check); after a
    // stats-detected decode without any frame callback, give it 3 s more, then fall back.
    await page.waitForFunction(
      (statsPoll) => {
        const b = window.__bench;
        if (b.firstFrame) return !statsPoll || !!b.statsFirstDecoded || performance.now() - b.firstFrame.t > 500;
        if (b.statsFirstDecoded) return !b.rvfc || performance.now() - b.statsFirstDecoded.t > 3000;
        return false;
      },
      { timeout: CONNECT_TIMEOUT, polling: 20 },
      STATS_POLL,
    );
    const tSeenNode = Date.now();
    const b = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        ...window.__bench,
        timeOrigin: performance.timeOrigin,
        domContentLoaded: nav?.domContentLoadedEventEnd ?? null,
        loadEnd: nav?.loadEventEnd ?? null,
        streams: window.haven.streams,
        nowWall: performance.timeOrigin + performance.now(),
        pmarks: performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]),
      };
    });
    const nodeNow = Date.now();

    // Both browsers' CPU while they send and receive, once the call is up.
    let cpu = null;
    if (CPU_MS > 0) {
      const pids = browsers.map((br) => br.browser.process().pid);
      const before = pids.map(treeCpuSeconds);
      const t = performance.now();
      await sleep(CPU_MS);
      const secs = (performance.now() - t) / 1000;
      const pct = pids.map((pid, i) => Math.round(((treeCpuSeconds(pid) - before[i]) / secs) * 1000) / 10);
      cpu = { publisher_pct: pct[0], measured_pct: pct[1] };
      const encrypted = await page.evaluate(() => !!window.haven.e2ee?.on);
      if (encrypted !== E2EE) throw new Error(`the measured page ${encrypted ? 'encrypts' : 'does not encrypt'}, BENCH_E2EE=${E2EE ? 1 : 0}`);
    }

    const fromPublisher = b.streams.some((s) => s.id === publisher.id && s.tracks.some((t) => t.kind === 'video'));
    if (!fromPublisher) throw new Error(`no video stream from the publisher: ${JSON.stringify(b.streams)}`);
    const source = b.firstFrame ? 'rvfc' : 'getStats';
    const tFrame = b.firstFrame ? b.firstFrame.t : b.statsFirstDecoded.t; // page clock
    if (b.marks.joinClick === undefined) throw new Error('the Join click was not seen in the page');
    const navGap = b.timeOrigin - t0; // t0 (node) → page navigation start
    const r = (x) => (x == null ? null : Math.round(x * 10) / 10);
    return {
      label,
      source,
      nav_to_first_frame_ms: r(navGap + tFrame),
      nav_start_to_first_frame_ms: r(tFrame),
      join_screen_ms: r(navGap + b.marks.joinClick),
      join_click_to_first_frame_ms: r(tFrame - b.marks.joinClick),
      ws_open_to_first_frame_ms: b.marks.wsOpen != null ? r(tFrame - b.marks.wsOpen) : null,
      cpu,
      detail: {
        goto_to_nav_start_ms: r(navGap),
        dom_content_loaded_ms: r(b.domContentLoaded),
        load_end_ms: r(b.loadEnd),
        name_typed_ms: r(b.marks.nameFirstInput) == null ? null : [r(b.marks.nameFirstInput), r(b.marks.nameLastInput)],
        get_user_media_ms: (b.gum ?? []).map((g) => [r(g.start), r(g.end)]),
        join_click_ms: r(b.marks.joinClick),
        ws_open_ms: r(b.marks.wsOpen),
        ws_first_message_ms: r(b.marks.wsFirstMessage),
        pc_create_ms: r(b.marks.pcCreate),
        signals: (b.signals ?? []).map(([dir, type, t]) => `${dir === 'in' ? '<' : '>'}${type}@${r(t)}`).join(' '),
        sdp_steps: (b.sdpSteps ?? []).map(([step, start, end]) => `${step}@${r(start)}–${r(end)}`).join(' '),
        remote_video_track_ms: r(b.marks.remoteVideoTrack),
        pc_connected_ms: r(b.marks.pcConnected),
        first_frame_receive_ms: r(b.firstFrame?.receiveTime),
        first_frame_ms: r(tFrame),
        frame_processing_ms: r(b.firstFrame?.processingDurationMs),
        frame_size: b.firstFrame ? `${b.firstFrame.width}x${b.firstFrame.height}` : null,
        stats_first_decoded_ms: r(b.statsFirstDecoded?.t),
        node_joined_ms: r(tJoinedNode - t0),
        node_seen_ms: r(tSeenNode - t0),
        // page wall clock minus node's, ± the evaluate round trip; near 0 when t0-based figures are sound
        clock_skew_ms: r(b.nowWall - nodeNow),
        load1: r(loadAvg[0]),
        pmarks: (b.pmarks ?? []).map(([n, t]) => `${n}@${r(t)}`).join(' '),
      },
    };
  } finally {
    for (const br of browsers.reverse()) {
      await br.close().catch((err) => log(`close: ${err.message}`));
      live.delete(br);
    }
  }
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summary(values) {
  const v = values.filter((x) => x != null).sort((a, b) => a - b);
  if (!v.length) return null;
  const r = (x) => Math.round(x * 10) / 10;
  return { p50: r(quantile(v, 0.5)), p90: r(quantile(v, 0.9)), min: r(v[0]), max: r(v[v.length - 1]) };
}

// ---------------------------------------------------------------------------------------

let server = null;

// On SIGINT puppeteer's own handler (registered after this one) kills its browsers and exits at
// once, so this cleanup is synchronous: kill our browsers, remove their profiles, stop our server.
function interrupted(signal, code) {
  log(`${signal}: cleaning up`);
  for (const b of live) {
    const proc = b.browser.process();
    try {
      proc?.kill('SIGKILL');
    } catch {}
    const dir = proc?.spawnargs.find((a) => a.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  // Our own haven child (startServer does not expose its pid).
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && stat.includes('(haven)')) process.kill(Number(pid), 'SIGTERM');
    } catch {}
  }
  process.exit(code);
}
process.on('SIGINT', () => interrupted('SIGINT', 130));
process.on('SIGTERM', () => interrupted('SIGTERM', 143));

const loadStart = os.loadavg();
let chromiumVersion = null;
{
  const b = await launch();
  try {
    chromiumVersion = await b.browser.version();
  } finally {
    await b.close();
    live.delete(b);
  }
}
log(`# ${chromiumVersion}; server ${process.env.HAVEN_BIN}; ${runs} runs + ${WARMUP} warm-up; ` +
  `first frame by ${FORCE_STATS ? "getStats only" : "requestVideoFrameCallback"}, stats poll ${STATS_POLL || FORCE_STATS ? "on" : "off"}; load ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);

server = await startServer('bench-browser-join', process.env.BENCH_WEB_DIR ? { webDir: process.env.BENCH_WEB_DIR } : {});
if (SIGNAL_DELAY_MS > 0) {
  proxy = await startRelay(server.url, { delayMs: SIGNAL_DELAY_MS });
  log(`# signaling through a proxy adding ${SIGNAL_DELAY_MS} ms each way`);
}
const results = [];
const failures = [];
try {
  let i = 0;
  while (results.length < runs) {
    const warm = i < WARMUP;
    const label = warm ? `warmup${i + 1}` : `run${results.length + 1}`;
    i += 1;
    try {
      const res = await oneRun(server, label);
      const d = res.detail;
      log(
        `${label.padEnd(8)} nav→frame ${res.nav_to_first_frame_ms} ms (join screen ${res.join_screen_ms}, ` +
          `click→frame ${res.join_click_to_first_frame_ms}, ws open→frame ${res.ws_open_to_first_frame_ms}) ` +
          `[${res.source}; load ${d.load_end_ms}, name ${d.name_typed_ms?.join('–')}, ` +
          `gUM ${d.get_user_media_ms.map((g) => g.join('–')).join(' ')}, click ${d.join_click_ms}, ws ${d.ws_open_ms}, pc ${d.pc_create_ms}, ` +
          `track ${d.remote_video_track_ms}, connected ${d.pc_connected_ms}, rx ${d.first_frame_receive_ms}, ` +
          `frame ${d.first_frame_ms}, stats ${d.stats_first_decoded_ms}, skew ${d.clock_skew_ms}, load1 ${d.load1}]`,
      );
      console.log(JSON.stringify(res));
      if (!warm) results.push(res);
    } catch (err) {
      log(`${label} FAILED: ${err.stack ?? err}`);
      log(`--- server log (tail) ---\n${server.log().split('\n').slice(-20).join('\n')}`);
      failures.push({ label, error: String(err.message ?? err).split('\n')[0] });
      if (failures.length >= MAX_FAILURES) throw new Error(`${failures.length} failed runs, giving up`);
    }
  }
} catch (err) {
  log(err.message);
  process.exitCode = 1;
} finally {
  await proxy?.close();
  await server.stop();
}
if (process.exitCode) process.exit();

const loadEnd = os.loadavg();
const pick = (k) => results.map((r) => r[k]);
console.log(
  JSON.stringify({
    runs: results.length,
    signal_delay_ms: SIGNAL_DELAY_MS,
    e2ee: E2EE,
    publisher_cpu_pct: CPU_MS > 0 ? summary(results.map((r) => r.cpu?.publisher_pct)) : null,
    measured_cpu_pct: CPU_MS > 0 ? summary(results.map((r) => r.cpu?.measured_pct)) : null,
    cpu_window_ms: CPU_MS,
    nav_to_first_frame_ms: summary(pick('nav_to_first_frame_ms')),
    join_click_to_first_frame_ms: summary(pick('join_click_to_first_frame_ms')),
    ws_open_to_first_frame_ms: summary(pick('ws_open_to_first_frame_ms')),
    join_screen_ms: summary(pick('join_screen_ms')),
    nav_start_to_first_frame_ms: summary(pick('nav_start_to_first_frame_ms')),
    chromium: chromiumVersion,
    first_frame_source: [...new Set(pick('source'))].join(','),
    stats_poll: STATS_POLL || FORCE_STATS,
    warmup_runs: WARMUP,
    failed_runs: failures.length,
    server: 'one Haven for all runs, fresh room and fresh Chromium profiles per run',
    loadavg_start: loadStart.map((x) => Math.round(x * 100) / 100),
    loadavg_end: loadEnd.map((x) => Math.round(x * 100) / 100),
    cores: os.cpus().length,
  }),
);
