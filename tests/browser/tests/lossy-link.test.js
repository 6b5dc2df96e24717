// Sound redundancy on a lossy link (issue #19, item 6; server/src/media/red.rs): two Chromium
// members speak (a speech-like tone, lib/tone.js), and two listeners share one namespace
// (lib/shaped.js) whose downlink drops 5 % of the UDP datagrams at random (nftables
// `numgen random`: the kernel has no netem): Chromium, which accepts RED, and Firefox, which
// does not. Each listener's concealment per sender is read from its own getStats()
// (lib/received.js) over the same 30 s window, once with `media.audio_red` on and once off.
// Figures are printed and kept in artifacts/lossy-link.txt. Needs root; skipped elsewhere
// unless CI is set.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import { CONNECT_TIMEOUT, inbound, joinMeeting, waitForTile } from '../lib/meeting.js';
import { chromiumIn, firefoxIn } from '../lib/netns.js';
import { measure, samplesSince, startSampler } from '../lib/received.js';
import { ARTIFACTS, startServer } from '../lib/server.js';
import { freeMediaPort, shapedLink, shapingUnavailable } from '../lib/shaped.js';
import { toneWav } from '../lib/tone.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const LOSS_PERCENT = 5;
// Fast enough that nothing queues: the loss is the rule's alone.
const LINK_KBIT = 20_000;
const WINDOW_MS = 30_000;
// RED goes on at a sound stream's second receiver report in a row showing loss (Chromium sends
// one every 2.5–7.5 s per stream; the server reads them every 2 s): within ~13 s of the loss.
const SETTLE_MS = 14_000;
// What a Chromium listener with RED must meet at 5 % random loss, per sender (measured 0.0–1.9 %
// on a machine not starved, BENCHMARKS.md; 6.4 % beside a parallel build). Without RED it
// conceals 3.4–4.9 %.
const MAX_CONCEALED_WITH_RED = 0.025;
// RED doubles the sound's bitrate (the previous packet rides along): received with RED over
// received without, at least this for Chromium and under it for Firefox.
const RED_RATIO = 1.6;
// The speakers' cameras reach the Chromium listener at this rate at least: the link has room.
const MIN_VIDEO_FPS = 10;

const why = await shapingUnavailable();
const skip = why && !process.env.CI ? `${why} (skipped; with CI set this fails)` : false;

const FIGURES = path.join(ARTIFACTS, 'lossy-link.txt');
function report(line = '') {
  console.log(line);
  appendFileSync(FIGURES, `${line}\n`);
}
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : 'n/a');

/** Waits until `page` receives sound from every one of `senders`. */
async function hearsEveryone(page, senders, label) {
  const deadline = Date.now() + CONNECT_TIMEOUT;
  for (;;) {
    const reports = await inbound(page);
    const heard = senders.map((s) => reports.some((r) => r.kind === 'audio' && r.from === s.id && r.packetsReceived > 0));
    if (heard.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`${label}: no sound from ${senders.filter((_, i) => !heard[i]).map((s) => s.name)}: ${JSON.stringify(reports)}`);
    await sleep(250);
  }
}

/**
 * The sound codecs `page` negotiated, in order: what it may receive (each audio receiver's)
 * and what it sends (its microphone sender's: the first is the one it uses).
 */
const negotiatedAudio = (page) =>
  page.evaluate(() => {
    const audio = window.haven.pc.getTransceivers().filter((t) => t.receiver.track?.kind === 'audio');
    const names = (params) => [...new Set(params.codecs.map((c) => c.mimeType.toLowerCase()))];
    return {
      receive: [...new Set(audio.flatMap((t) => names(t.receiver.getParameters())))],
      send: audio.filter((t) => t.sender.track).flatMap((t) => names(t.sender.getParameters())),
    };
  });

/** The codecs `page` receives each sender's sound in ({ name: ["audio/opus"] }). */
async function audioCodecs(page, senders) {
  const reports = await inbound(page);
  return Object.fromEntries(senders.map((s) => [s.name, [...new Set(reports.filter((r) => r.kind === 'audio' && r.from === s.id).map((r) => r.codec))]]));
}

describe('sound redundancy behind a lossy downlink (issue #19)', { skip }, () => {
  let dir;
  let link;
  let wav;
  /** What the current run started, closed last first when it ends (or fails). */
  const closers = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };

  before(async () => {
    if (why) throw new Error(`${why}: CI must run the lossy-link test (tests/run as root)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(FIGURES, `lossy-link figures, ${new Date().toISOString()}\n`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'haven-lossy-link-'));
    wav = await toneWav(10);
    link = await shapedLink({ name: 'll', kbit: LINK_KBIT, queue: 200 });
  });

  after(async () => {
    await closeAll();
    await link?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * One meeting on a server with `media.audio_red` = `red` (on: the default, not set): both
   * listeners, one window. The speakers' cameras are on, as in a meeting: redundancy goes on
   * only while no video is paused for room, so this also shows a lossy link with room to
   * spare is not taken for a congested one.
   */
  async function run(red) {
    const env = { HAVEN_UDP_ADDR: `${link.hostAddr}:${await freeMediaPort(link.hostAddr)}` };
    if (!red) env.HAVEN_AUDIO_RED = 'false';
    const server = await startServer(`lossy-link-red-${red ? 'on' : 'off'}`, { env });
    closers.push(() => server.stop());
    try {
      await link.forwardHttp(server.url);
      const room = await server.createRoom();
      const speakers = await launchChromium({ width: 640, height: 480, args: [`--use-file-for-fake-audio-capture=${wav}`] });
      closers.push(() => speakers.close());
      const senders = [];
      const senderPages = [];
      for (const name of ['Ana', 'Ben']) {
        const page = await speakers.newPage();
        senderPages.push(page);
        const you = await joinMeeting(page, room.join_url, name, { audio: true, video: true });
        senders.push({ id: you.id, name });
      }
      const listeners = [];
      for (const [kind, launching] of [
        ['chromium', () => chromiumIn(dir, link.ns)],
        ['firefox', () => firefoxIn(dir, link.ns)],
      ]) {
        const browser = await launching();
        closers.push(() => browser.close());
        const page = await browser.newPage();
        await joinMeeting(page, room.join_url, kind === 'chromium' ? 'Lee' : 'Max', { audio: false, video: false });
        await startSampler(page);
        for (const s of senders) await waitForTile(page, s.id, s.name);
        await hearsEveryone(page, senders, `the ${kind} listener`);
        listeners.push({ kind, page });
      }

      await link.setLoss(LOSS_PERCENT);
      await sleep(SETTLE_MS);
      const dropped0 = await link.lossCounter();
      const t0 = Date.now();
      await sleep(WINDOW_MS);
      const t1 = Date.now();
      const dropped1 = await link.lossCounter();
      await link.setLoss(0);

      const out = { red, dropped: dropped1.packets - dropped0.packets, listeners: {} };
      for (const { kind, page } of listeners) {
        out.listeners[kind] = {
          rows: measure(await samplesSince(page, t0 - 10_000), t0, t1, senders),
          codecs: await audioCodecs(page, senders),
          negotiated: await negotiatedAudio(page),
        };
      }
      out.sent = [];
      for (const page of senderPages) out.sent.push((await negotiatedAudio(page)).send[0]);
      return out;
    } finally {
      await closeAll();
    }
  }

  test('at_5_percent_loss_red_keeps_a_chromium_listeners_sound_whole_and_firefox_still_hears_opus', { timeout: 420_000 }, async () => {
    const runs = [await run(true), await run(false)];
    report(`\n${LOSS_PERCENT} % random loss toward both listeners (nftables in ${link.ns}), ${WINDOW_MS / 1000} s, senders Chromium with a tone and a camera`);
    report('| media.audio_red | listener | audio codec received | concealed per sender | audio kbit/s per sender | video fps per sender |');
    report('|---|---|---|---|---|---|');
    for (const r of runs) {
      for (const [kind, l] of Object.entries(r.listeners)) {
        const codecs = [...new Set(Object.values(l.codecs).flat())].join(', ');
        report(`| ${r.red} | ${kind} | ${codecs} (negotiated: ${l.negotiated.receive.join(' ')}) | ${l.rows.map((x) => `${x.name} ${pct(x.concealed)}`).join(', ')} | ${l.rows.map((x) => x.audioKbps.toFixed(1)).join(', ')} | ${l.rows.map((x) => (Number.isFinite(x.fps) ? x.fps.toFixed(1) : 'n/a')).join(', ')} |`);
      }
      report(`(${r.red ? 'with' : 'without'} RED: the rule dropped ${r.dropped} datagrams in the window; senders send ${[...new Set(r.sent)].join(', ')})`);
    }

    const [withRed, withoutRed] = runs;
    const problems = [];
    for (const r of runs) {
      if (!(r.dropped > 0)) problems.push(`audio_red=${r.red}: the loss rule dropped nothing`);
      // RED is listed after Opus: publishers keep sending plain Opus, no doubled uplink (a RED
      // one would be forwarded as its newest block, plain Opus: server/src/media/red.rs).
      if (r.sent.some((c) => c !== 'audio/opus')) problems.push(`audio_red=${r.red}: the senders send ${r.sent}`);
      // Firefox takes no RED: the SFU has no RED payload type to write to it.
      if (r.listeners.firefox.negotiated.receive.includes('audio/red')) problems.push(`audio_red=${r.red}: Firefox negotiated RED`);
      const chromiumRed = r.listeners.chromium.negotiated.receive.includes('audio/red');
      if (chromiumRed !== r.red) problems.push(`audio_red=${r.red}: Chromium negotiated ${r.listeners.chromium.negotiated.receive}`);
      const firefox = r.listeners.firefox;
      for (const [name, codecs] of Object.entries(firefox.codecs)) {
        if (codecs.length !== 1 || codecs[0] !== 'audio/opus') problems.push(`audio_red=${r.red}: Firefox got ${name}'s sound as ${codecs}`);
      }
      for (const row of firefox.rows) {
        if (!Number.isFinite(row.concealed)) problems.push(`audio_red=${r.red}: Firefox heard nothing from ${row.name}`);
      }
    }
    // Chromium names the primary codec (opus) for RED too: RED shows as the sound's bitrate,
    // each packet carrying the one before. Firefox's must not grow.
    for (const kind of ['chromium', 'firefox']) {
      withRed.listeners[kind].rows.forEach((row, i) => {
        const ratio = row.audioKbps / withoutRed.listeners[kind].rows[i].audioKbps;
        const red = kind === 'chromium';
        if (red ? !(ratio >= RED_RATIO) : !(ratio < RED_RATIO)) {
          problems.push(`${kind} got ${row.name}'s sound at ${ratio.toFixed(2)} × the bitrate without RED (RED ${red ? 'should' : 'must not'} double it)`);
        }
      });
    }
    for (const row of withRed.listeners.chromium.rows) {
      // The link has room: the videos play while RED is on (a video paused for room would
      // have turned it off, server/src/media/red.rs).
      if (!(row.fps >= MIN_VIDEO_FPS)) problems.push(`with RED, Chromium got ${row.name}'s video at ${row.fps?.toFixed(1)} fps (at least ${MIN_VIDEO_FPS}: the link has room)`);
      if (!(row.concealed <= MAX_CONCEALED_WITH_RED)) problems.push(`with RED, Chromium concealed ${pct(row.concealed)} of ${row.name} (at most ${pct(MAX_CONCEALED_WITH_RED)})`);
    }
    assert.equal(problems.length, 0, `\n  - ${problems.join('\n  - ')}`);
  });
});
