// Simulcast end to end (issue #19, items 3 and 4), for a Chromium and a Firefox ESR sender
// each seen by a Chromium and a Firefox listener: the sender's own getStats shows which
// layers (rids q/h/f of web/js/peer.js) it really encodes; the listener's inbound video
// follows its tile: the sender's top layer while the tile is large, the q layer once the
// tile reports ≤ 160×90 device pixels, the top again when it grows, and no video bytes at
// all while the tab is hidden (the sound goes on). Across every switch the picture keeps
// moving (framesDecoded sampled every 100 ms) and the renumbered stream stays one stream
// (no loss counted, no keyframe asked for by the listener's decoder).
//
// One server for the file; each pairing gets its own two browsers, a small sender window and
// a room. Figures are printed as `simulcast:` lines and kept in artifacts/simulcast.txt.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { CONNECT_TIMEOUT, describePeer, joinMeeting, waitForTile } from '../lib/meeting.js';
import { ARTIFACTS, startServer } from '../lib/server.js';

const SKIP_FIREFOX = process.env.HAVEN_SKIP_FIREFOX === '1';
const LAUNCHERS = { chromium: launchChromium, firefox: launchFirefox };
const PAIRINGS = [
  ['chromium', 'chromium'],
  ['chromium', 'firefox'],
  ['firefox', 'chromium'],
  ['firefox', 'firefox'],
];
/** How long a layer switch (report → new height decoded) may take. */
const SWITCH_MS = 10_000;
/** The longest the picture may stand still at a switch (a 20–24 fps camera: ~50 ms a frame). */
const MAX_STILL_MS = 700;
/**
 * How soon a tab shown again is back at the top layer. The member's downlink estimate is held
 * while they choose no video (media/downlink.rs): without that it sank with the sound alone
 * and the video came back on q, or paused "for the link", 4–13 s long on loopback.
 */
const RESUME_TOP_MS = 5000;
/** A hidden tab's video may still bring the packets in flight; after that, nothing. */
const HIDDEN_SLACK_BYTES = 2000;
/**
 * Tiles 120 px wide (90 lines at 4:3): the q layer's size. The layout never makes a tile this
 * small at one device pixel per CSS pixel (tile-fit.js keeps them ≥ 140 px wide), so the rule
 * goes into the page's own stylesheet (CSSOM: the page's CSP refuses inline styles).
 */
const SMALL_TILES = '#grid { grid-template-columns: repeat(2, 120px) !important; }';
const smallTiles = (page, on) =>
  page.evaluate((rule, on) => {
    const sheet = [...document.styleSheets].find((s) => s.href?.endsWith('style.css'));
    if (on) sheet.insertRule(rule, sheet.cssRules.length);
    else sheet.deleteRule(sheet.cssRules.length - 1);
  }, SMALL_TILES, on);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const FIGURES = path.join(ARTIFACTS, 'simulcast.txt');
function report(line = '') {
  console.log(line);
  appendFileSync(FIGURES, `${line}\n`);
}

let server;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(FIGURES, `simulcast figures, ${new Date().toISOString()}\n`);
  server = await startServer('simulcast');
});
after(async () => {
  await server?.stop();
});

/** The sender's video outbound-rtp per rid: frames encoded, bytes, the size it encodes. */
function outboundLayers(page) {
  return page.evaluate(async () => {
    const layers = {};
    (await window.haven.pc.getStats()).forEach((s) => {
      if (s.type !== 'outbound-rtp' || (s.kind ?? s.mediaType) !== 'video') return;
      layers[s.rid ?? '-'] = {
        frames: s.framesEncoded ?? 0,
        bytes: s.bytesSent ?? 0,
        width: s.frameWidth ?? 0,
        height: s.frameHeight ?? 0,
        fps: s.framesPerSecond ?? 0,
      };
    });
    const track = window.haven.pc.getSenders().find((x) => x.track?.kind === 'video')?.track;
    const { width, height, frameRate } = track?.getSettings() ?? {};
    return { layers, camera: { width, height, frameRate } };
  });
}

/**
 * The listener's inbound video and audio from `from`, summed over reports (a renegotiation
 * may add one), with the size of the last decoded frame and what the tile's <video> shows.
 */
function inboundFrom(page, from) {
  return page.evaluate(async (from) => {
    const pc = window.haven.pc;
    const owner = new Map();
    for (const s of window.haven.streams) for (const t of s.tracks) owner.set(t.id, s.id);
    const byMid = new Map();
    for (const t of pc.getTransceivers()) if (t.mid != null) byMid.set(t.mid, t.receiver.track?.id);
    const v = { bytes: 0, frames: 0, keyFrames: 0, dropped: 0, freezes: 0, lost: 0, nacks: 0, plis: 0, height: 0, width: 0, jitter: 0 };
    let audioPackets = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || owner.get(s.trackIdentifier ?? byMid.get(s.mid)) !== from) return;
      if ((s.kind ?? s.mediaType) === 'audio') {
        audioPackets += s.packetsReceived ?? 0;
        return;
      }
      v.bytes += s.bytesReceived ?? 0;
      v.frames += s.framesDecoded ?? 0;
      v.keyFrames += s.keyFramesDecoded ?? 0;
      v.dropped += s.framesDropped ?? 0;
      v.freezes += s.freezeCount ?? 0;
      v.lost += s.packetsLost ?? 0;
      v.nacks += s.nackCount ?? 0;
      v.plis += s.pliCount ?? 0;
      v.jitter = Math.max(v.jitter, s.jitter ?? 0);
      if (s.frameHeight) [v.width, v.height] = [s.frameWidth, s.frameHeight];
    });
    const video = document.querySelector(`#grid .tile[data-participant-id="${CSS.escape(from)}"] video`);
    return { t: Date.now(), ...v, audioPackets, shown: video ? [video.videoWidth, video.videoHeight] : null };
  }, from);
}

/** The last tile report the page sent for `id` ({width, height, visible}), or null. */
const lastTile = (page, id) =>
  page.evaluate((id) => {
    const sent = window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive' && m.tiles);
    return sent.at(-1)?.tiles.find((t) => t.id === id) ?? null;
  }, id);

/** Waits until `page`'s last report for `id` satisfies `check`; returns it. */
async function waitForReport(page, id, check, what) {
  const deadline = Date.now() + CONNECT_TIMEOUT;
  for (;;) {
    const tile = await lastTile(page, id);
    if (tile && check(tile)) return tile;
    if (Date.now() > deadline) throw new Error(`no tile report ${what}: last was ${JSON.stringify(tile)}`);
    await sleep(50);
  }
}

/**
 * Samples `from`'s inbound video every 100 ms until `done(sample)` (then 1 s more, to see
 * the picture go on) or `ms`: the samples (after `first`, a sample taken before the change,
 * when given), and when `done` first held.
 */
async function watch(page, from, done, ms, first = null) {
  const samples = first ? [first] : [];
  const start = Date.now();
  let doneAt = null;
  while (Date.now() - start < ms) {
    const s = await inboundFrom(page, from);
    samples.push(s);
    if (doneAt === null && done(s)) doneAt = s.t;
    if (doneAt !== null && s.t - doneAt >= 1000) break;
    await sleep(100);
  }
  return { samples, doneAt };
}

/** The longest time in `samples` over which framesDecoded did not rise. */
function longestStill(samples) {
  let longest = 0;
  let since = samples[0].t;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].frames > samples[i - 1].frames) since = samples[i].t;
    longest = Math.max(longest, samples[i].t - since);
  }
  return longest;
}

async function launch(kind, size) {
  const browser = await LAUNCHERS[kind](size);
  return browser;
}

for (const [senderKind, listenerKind] of PAIRINGS) {
  const skip = SKIP_FIREFOX && (senderKind === 'firefox' || listenerKind === 'firefox');
  const label = `${senderKind} → ${listenerKind}`;

  test(`${label}: the sender's layers follow the listener's tile, hidden tab gets none, one continuous stream`, { skip, timeout: 120_000 }, async () => {
    const browsers = [];
    let listener;
    let sender;
    try {
      const room = await server.createRoom();
      const senderBrowser = await launch(senderKind, { width: 480, height: 360 });
      browsers.push(senderBrowser);
      sender = await senderBrowser.newPage();
      const sam = await joinMeeting(sender, room.join_url, 'Sam');
      // Two tiles side by side in 640×480: Sam's is 312×234, taller than any layer but f.
      const listenerBrowser = await launch(listenerKind, { width: 640, height: 480 });
      browsers.push(listenerBrowser);
      listener = await listenerBrowser.newPage();
      await joinMeeting(listener, room.join_url, 'Lee', { audio: false, video: false });
      await waitForTile(listener, sam.id, 'Sam');
      const big = await waitForReport(listener, sam.id, (t) => t.visible && t.height > 180, 'of a large shown tile');

      // --- What the sender really sends: layers whose frames and bytes rise over 2 s.
      const o1 = await outboundLayers(sender);
      await sleep(2000);
      const o2 = await outboundLayers(sender);
      const sent = Object.entries(o2.layers)
        .filter(([rid, l]) => l.frames > (o1.layers[rid]?.frames ?? 0) && l.bytes > (o1.layers[rid]?.bytes ?? 0))
        .map(([rid, l]) => ({ rid, ...l, kbps: ((l.bytes - o1.layers[rid].bytes) * 8) / 2 / 1000 }))
        .sort((a, b) => a.height - b.height);
      const idle = Object.keys(o2.layers).filter((rid) => !sent.some((l) => l.rid === rid));
      report(`\nsimulcast: ${label}: ${senderKind} camera ${o2.camera.width}×${o2.camera.height} at ${o2.camera.frameRate} fps; rids offered ${Object.keys(o2.layers).sort().join(',')}`);
      report(`simulcast: ${label}: sending ${sent.map((l) => `${l.rid} ${l.width}×${l.height} ${l.fps} fps ${l.kbps.toFixed(0)} kbit/s`).join('; ')}${idle.length ? `; not sending ${idle.join(',')}` : ''}`);
      assert.ok(sent.length >= 2, `${senderKind} sends ${sent.length} layer(s): ${JSON.stringify(o2.layers)}`);
      assert.ok(sent.every((l) => ['q', 'h', 'f'].includes(l.rid)), `rids: ${sent.map((l) => l.rid)}`);
      const low = sent[0];
      const top = sent.at(-1);
      assert.ok(low.height < top.height, `the layers differ in height: ${low.height} vs ${top.height}`);
      assert.equal(low.rid, 'q', 'the smallest layer is q');
      assert.ok(low.height <= 90, `q is at most 90 lines: ${low.height}`);

      // --- A large tile: the top layer the sender sends.
      const first = await watch(listener, sam.id, (s) => s.height === top.height && s.frames > 0, CONNECT_TIMEOUT);
      const atStart = first.samples.at(-1);
      if (first.doneAt === null) {
        throw new Error(`a ${big.width}×${big.height} tile never got ${top.rid} (${top.height} lines): ${JSON.stringify(atStart)}\n${JSON.stringify(await describePeer(listener))}`);
      }
      report(`simulcast: ${label}: large tile ${big.width}×${big.height} → ${atStart.width}×${atStart.height} (${top.rid}; <video> ${atStart.shown?.join('×')})`);

      // --- The tile becomes small: down to q, the picture moving throughout.
      await listener.bringToFront();
      const beforeDown = await inboundFrom(listener, sam.id);
      await smallTiles(listener, true);
      const small = await waitForReport(listener, sam.id, (t) => t.visible && t.height <= 90 && t.width <= 160, 'of a small tile');
      const reportedSmall = Date.now();
      const down = await watch(listener, sam.id, (s) => s.height === low.height, SWITCH_MS, beforeDown);
      const downStill = longestStill(down.samples);
      const [d0, d1] = [down.samples[0], down.samples.at(-1)];
      report(`simulcast: ${label}: small tile ${small.width}×${small.height} → ${d1.width}×${d1.height} in ${down.doneAt === null ? 'never' : `${down.doneAt - reportedSmall} ms`}; frames ${d0.frames} → ${d1.frames}, longest still ${downStill} ms`);
      assert.notEqual(down.doneAt, null, `no switch down to ${low.height} lines: ${JSON.stringify(d1)}`);
      assert.notEqual(atStart.height, d1.height, 'the frame height differs between a large and a small tile');
      assert.ok(d1.frames > d0.frames, `frames stopped across the switch down: ${d0.frames} → ${d1.frames}`);
      assert.ok(downStill <= MAX_STILL_MS, `the picture stood still ${downStill} ms at the switch down`);
      assert.ok(d1.keyFrames > d0.keyFrames, `the new layer did not start at a keyframe: ${d0.keyFrames} → ${d1.keyFrames}`);

      // --- The tile grows again: back to the top layer.
      const beforeUp = await inboundFrom(listener, sam.id);
      await smallTiles(listener, false);
      await waitForReport(listener, sam.id, (t) => t.visible && t.height > 180, 'of a large tile again');
      const reportedBig = Date.now();
      const up = await watch(listener, sam.id, (s) => s.height === top.height, SWITCH_MS, beforeUp);
      const upStill = longestStill(up.samples);
      const [u0, u1] = [up.samples[0], up.samples.at(-1)];
      report(`simulcast: ${label}: large again → ${u1.width}×${u1.height} in ${up.doneAt === null ? 'never' : `${up.doneAt - reportedBig} ms`}; frames ${u0.frames} → ${u1.frames}, longest still ${upStill} ms`);
      assert.notEqual(up.doneAt, null, `no switch back up to ${top.height} lines: ${JSON.stringify(u1)}`);
      assert.ok(u1.frames > u0.frames, `frames stopped across the switch up: ${u0.frames} → ${u1.frames}`);
      assert.ok(upStill <= MAX_STILL_MS, `the picture stood still ${upStill} ms at the switch up`);
      assert.ok(u1.keyFrames > u0.keyFrames, `the new layer did not start at a keyframe: ${u0.keyFrames} → ${u1.keyFrames}`);

      // --- A hidden tab: no video bytes, the sound goes on; shown again, video resumes.
      const cover = await listenerBrowser.newPage();
      await cover.goto('about:blank');
      await cover.bringToFront();
      await waitForReport(listener, sam.id, (t) => !t.visible, 'with the tab hidden');
      await sleep(1500); // packets already in flight
      const h0 = await inboundFrom(listener, sam.id);
      await sleep(3000);
      const h1 = await inboundFrom(listener, sam.id);
      report(`simulcast: ${label}: tab hidden 3 s: video bytes +${h1.bytes - h0.bytes}, frames +${h1.frames - h0.frames}; audio packets +${h1.audioPackets - h0.audioPackets}`);
      assert.ok(h1.bytes - h0.bytes <= HIDDEN_SLACK_BYTES, `a hidden tab got video: ${h0.bytes} → ${h1.bytes} bytes`);
      assert.ok(h1.audioPackets - h0.audioPackets >= 50, `a hidden tab lost the sound: ${h0.audioPackets} → ${h1.audioPackets} packets`);
      await listener.bringToFront();
      await waitForReport(listener, sam.id, (t) => t.visible, 'with the tab shown');
      const shownAt = Date.now();
      const back = await watch(listener, sam.id, (s) => s.frames > h1.frames + 5 && s.height === top.height, RESUME_TOP_MS);
      const b1 = back.samples.at(-1);
      const firstFrame = back.samples.find((s) => s.frames > h1.frames);
      const heights = [...new Set(back.samples.filter((s) => s.frames > h1.frames).map((s) => s.height))];
      report(
        `simulcast: ${label}: shown again → first frame in ${firstFrame ? `${firstFrame.t - shownAt} ms` : 'never'}, ` +
          `heights ${heights.join(' → ')}, ${top.height} lines in ${back.doneAt === null ? 'never' : `${back.doneAt - shownAt} ms`}`,
      );
      assert.ok(firstFrame && firstFrame.t - shownAt <= SWITCH_MS, `video did not come back to the shown tab: ${JSON.stringify(b1)}`);
      assert.notEqual(back.doneAt, null, `the top layer (${top.height} lines) did not come back within ${RESUME_TOP_MS} ms: ${JSON.stringify(b1)}`);
      await cover.close();

      // --- One continuous stream: the renumbering left no hole and no undecodable frame.
      const end = b1;
      report(
        `simulcast: ${label}: whole run: frames ${end.frames}, keyframes ${end.keyFrames}, dropped ${end.dropped}, freezes ${end.freezes}, ` +
          `lost ${end.lost}, NACKs ${end.nacks}, PLIs from the listener ${end.plis}, jitter ${(end.jitter * 1000).toFixed(1)} ms`,
      );
      assert.ok(end.lost <= 5, `packets counted lost (a hole in the renumbering?): ${end.lost}`);
      assert.ok(end.jitter < 0.1, `jitter ${end.jitter} s (a timestamp jump?)`);
      // Keyframes: the first, one per switch (down, up, resume) and a few more the SFU asked
      // for; a decoder that lost its reference would ask itself (PLI) and drop frames.
      assert.ok(end.keyFrames >= 3, `keyframes decoded: ${end.keyFrames}`);
      assert.ok(end.plis <= 2, `the listener's decoder asked for keyframes ${end.plis} times`);
      assert.ok(end.dropped <= 10, `frames dropped: ${end.dropped}`);
      assert.ok(end.freezes <= 2, `freezes: ${end.freezes}`);
      assert.deepEqual(listener.errors, [], 'errors in the listener page');
      assert.deepEqual(sender.errors, [], 'errors in the sender page');
    } catch (err) {
      const consoles = [sender, listener]
        .filter(Boolean)
        .map((p, i) => `--- ${i ? 'listener' : 'sender'} console ---\n${p.consoleLines.slice(-30).join('\n')}`)
        .join('\n');
      err.message += `\n${consoles}\n--- server log (tail) ---\n${server.log().split('\n').slice(-40).join('\n')}`;
      throw err;
    } finally {
      for (const b of browsers) await b.close().catch(() => {});
    }
  });
}

/** The `camera_layers` messages `page` has received, oldest first, with when the test saw each. */
const cameraLayers = (page) =>
  page.evaluate(() => window.haven.trace.filter((m) => m.dir === 'in' && m.type === 'camera_layers').map((m) => m.active));

/** Waits until `page`'s last `camera_layers` satisfies `check`; returns it and the time waited. */
async function waitForLayers(page, check, ms, what) {
  const start = Date.now();
  for (;;) {
    const last = (await cameraLayers(page)).at(-1) ?? null;
    if (last && check(last)) return { active: last, ms: Date.now() - start };
    if (Date.now() - start > ms) throw new Error(`no camera_layers ${what} in ${ms} ms: last was ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

/** The camera sender's encodings as the page set them: rid → active. */
const encodingsActive = (page) =>
  page.evaluate(() => {
    const sender = window.haven.pc.getSenders().find((s) => s.track?.kind === 'video');
    return Object.fromEntries((sender?.getParameters().encodings ?? []).map((e) => [e.rid ?? '-', e.active !== false]));
  });

// A layer nobody receives is switched off at its sender (server: media/camera_layers.rs;
// client: PeerSession.setCameraLayers), and back on at once when a tile wants it. The
// listener's tile is kept at q's size from the start, so only q is wanted.
for (const senderKind of ['chromium', 'firefox']) {
  const skip = SKIP_FIREFOX && senderKind === 'firefox';
  test(`${senderKind} sender: a layer nobody receives is switched off at the sender, and comes back when a tile wants it`, { skip, timeout: 120_000 }, async () => {
    const browsers = [];
    let sender;
    let listener;
    try {
      const room = await server.createRoom();
      const senderBrowser = await launch(senderKind, { width: 480, height: 360 });
      browsers.push(senderBrowser);
      sender = await senderBrowser.newPage();
      const sam = await joinMeeting(sender, room.join_url, 'Sam');
      const joinedAt = Date.now();
      const listenerBrowser = await launch('chromium', { width: 640, height: 480 });
      browsers.push(listenerBrowser);
      listener = await listenerBrowser.newPage();
      await joinMeeting(listener, room.join_url, 'Lee', { audio: false, video: false });
      await waitForTile(listener, sam.id, 'Sam');
      await smallTiles(listener, true);
      await waitForReport(listener, sam.id, (t) => t.visible && t.height <= 90 && t.width <= 160, 'of a small tile');
      const smallAt = Date.now();

      // --- Only q is wanted: the others go off after the server's 10 s wait (from the camera's
      // start, or from the last time the listener got more than q), not before.
      const early = await cameraLayers(sender);
      if (Date.now() - joinedAt < 9000) assert.deepEqual(early, [], `told before the wait: ${JSON.stringify(early)}`);
      const off = await waitForLayers(sender, (a) => a.length === 1, 25_000, 'naming q alone');
      const offMs = Date.now() - smallAt;
      assert.deepEqual(off.active, ['q']);
      await sleep(1500); // the encoder's last frames of the switched-off layers
      const o1 = await outboundLayers(sender);
      const before = await inboundFrom(listener, sam.id);
      await sleep(2000);
      const o2 = await outboundLayers(sender);
      const during = await inboundFrom(listener, sam.id);
      const grew = (rid) => (o2.layers[rid]?.bytes ?? 0) - (o1.layers[rid]?.bytes ?? 0);
      const active = await encodingsActive(sender);
      report(
        `\nsimulcast: ${senderKind} sender, small tile: told ${JSON.stringify(off.active)} ${offMs} ms after the report; encodings ${JSON.stringify(active)}; ` +
          `2 s of bytes q +${grew('q')}, h +${grew('h')}, f +${grew('f')}; listener frames +${during.frames - before.frames} at ${during.height} lines`,
      );
      assert.ok(Date.now() - joinedAt >= 10_000, `switched off ${Date.now() - joinedAt} ms after the sender joined: before the 10 s wait`);
      assert.deepEqual(active, { q: true, h: false, f: false }, 'the sender switched its encodings');
      assert.ok(grew('q') > 5000, `q stopped: +${grew('q')} bytes`);
      assert.ok(grew('h') === 0 && grew('f') === 0, `a switched-off layer still sends: h +${grew('h')}, f +${grew('f')}`);
      assert.ok(during.frames > before.frames + 10, `the listener's picture stopped: ${before.frames} → ${during.frames}`);

      // --- The tile grows: the layers it can use back at once (those the sender ever sent:
      // Chromium encodes no f from a 640×360 camera), the listener on a larger one soon after.
      await smallTiles(listener, false);
      await waitForReport(listener, sam.id, (t) => t.visible && t.height > 180, 'of a large tile');
      const bigAt = Date.now();
      const on = await waitForLayers(sender, (a) => a.includes('h'), 5000, 'naming h again');
      const up = await watch(listener, sam.id, (s) => s.height > 90, SWITCH_MS, during);
      const u1 = up.samples.at(-1);
      const o3 = await outboundLayers(sender);
      await sleep(1000);
      const o4 = await outboundLayers(sender);
      const sending = Object.keys(o4.layers).filter((rid) => o4.layers[rid].bytes > (o3.layers[rid]?.bytes ?? 0)).sort();
      report(
        `simulcast: ${senderKind} sender, large tile: told ${JSON.stringify(on.active)} in ${on.ms} ms; listener at ${u1.height} lines ${up.doneAt === null ? 'never' : `${up.doneAt - bigAt} ms`} after the report; ` +
          `longest still ${longestStill(up.samples)} ms; sending ${sending.join(',')}`,
      );
      const activeNow = await encodingsActive(sender);
      assert.deepEqual(activeNow, Object.fromEntries(Object.keys(activeNow).map((rid) => [rid, on.active.includes(rid)])), 'the encodings follow the message');
      assert.notEqual(up.doneAt, null, `the listener never got a larger layer: ${JSON.stringify(u1)}`);
      assert.ok(up.doneAt - bigAt <= 3000, `a larger layer took ${up.doneAt - bigAt} ms`);
      assert.ok(sending.includes('h'), `h does not flow again: ${sending}`);
      assert.ok(longestStill(up.samples) <= MAX_STILL_MS, 'the picture stood still at the switch up');
      assert.deepEqual(listener.errors, [], 'errors in the listener page');
      assert.deepEqual(sender.errors, [], 'errors in the sender page');
    } catch (err) {
      err.message += `\n--- server log (tail) ---\n${server.log().split('\n').slice(-30).join('\n')}`;
      throw err;
    } finally {
      for (const b of browsers) await b.close().catch(() => {});
    }
  });
}

// A camera that gives less than the client asks for (640×360): its layers are smaller than
// the sizes the server assumes (90, 180 and 360 lines), and the server must go by the real
// heights, which it reads from each layer's keyframes. A Firefox sender whose camera gives
// 320×180 sends 45, 90 and 180 lines; a 135-line tile is covered by f (180), not h (90
// lines, which the assumed 180 would have picked, enlarged and blurred in the tile).
test('a camera that gives less than asked: the tile gets the layer whose real height covers it', { skip: SKIP_FIREFOX, timeout: 120_000 }, async () => {
  const browsers = [];
  let listener;
  try {
    const room = await server.createRoom();
    const senderBrowser = await launch('firefox', { width: 480, height: 360 });
    browsers.push(senderBrowser);
    const sender = await senderBrowser.newPage();
    await sender.evaluateOnNewDocument(() => {
      const devices = navigator.mediaDevices;
      const open = devices.getUserMedia.bind(devices);
      devices.getUserMedia = (wanted) =>
        open(wanted?.video ? { ...wanted, video: { ...wanted.video, width: { exact: 320 }, height: { exact: 180 } } } : wanted);
    });
    const sam = await joinMeeting(sender, room.join_url, 'Sam');
    const listenerBrowser = await launch('chromium', { width: 1280, height: 720 });
    browsers.push(listenerBrowser);
    listener = await listenerBrowser.newPage();
    await joinMeeting(listener, room.join_url, 'Lee', { audio: false, video: false });
    await waitForTile(listener, sam.id, 'Sam');
    await listener.evaluate((rule) => {
      const sheet = [...document.styleSheets].find((s) => s.href?.endsWith('style.css'));
      sheet.insertRule(rule, sheet.cssRules.length);
    }, '#grid { grid-template-columns: repeat(2, 240px) !important; }');
    const tile = await waitForReport(listener, sam.id, (t) => t.visible && t.height > 90 && t.height <= 180, 'between 90 and 180 lines');
    const o = await outboundLayers(sender);
    const heights = Object.fromEntries(Object.entries(o.layers).map(([rid, l]) => [rid, l.height]));
    const got = await watch(listener, sam.id, (s) => s.height === 180, SWITCH_MS);
    const last = got.samples.at(-1);
    // Reaching f's 180 lines shows the cap; the link's estimate may move it down after.
    const seen = [...new Set(got.samples.map((x) => x.height).filter(Boolean))].join(' → ');
    report(`\nsimulcast: a 320×180 camera (${o.camera.width}×${o.camera.height}, layers ${JSON.stringify(heights)}): tile ${tile.width}×${tile.height} → lines ${seen}`);
    assert.equal(`${o.camera.width}×${o.camera.height}`, '320×180', 'the sender camera gives 320×180');
    assert.equal(heights.h, 90, 'h is 90 lines from it');
    assert.notEqual(got.doneAt, null, `the ${tile.height}-line tile stayed on ${last.height} lines, not f's 180`);
    assert.deepEqual(listener.errors, [], 'errors in the listener page');
  } catch (err) {
    err.message += `\n--- server log (tail) ---\n${server.log().split('\n').slice(-30).join('\n')}`;
    throw err;
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
  }
});
