// Server blindness, measured (issue 23, docs/e2ee.md "What the server forwards, measured"):
// a Chromium page (camera showing a known checkerboard, microphone playing a known tone) and
// a Firefox page (its fake camera and 1 kHz tone) publish in a clear meeting and in an
// encrypted one, and a webrtc-rs member with no key (the tap, tests/src/bin/tap.rs) records
// every frame the SFU forwards it. What the SFU forwarded is then judged with real decoders
// (WebCodecs' VP8 and Opus in a Chromium page): in the clear meeting the frames parse and
// decode to the checkerboard and the tone; in the encrypted one every frame carries an SFrame
// header with the meeting's key id and rising counters, nothing decodes to the picture or the
// tone, and no run of the plaintext is in any payload; and the test, with the key and the
// page's own SFrame code, decrypts the very frames the tap took back into the picture and the
// tone. (That pages send the key in no HTTP request or WebSocket message: e2ee.test.js.)
//
// E2EE_BLIND_SELF_CHECK=1 makes the "encrypted" meeting's pages join without the key (the
// transform skipped): the test must then fail, and says where.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { clearBytes, decodeOpusInPage, decodeVp8InPage, MARKER, markerY4m, tap, vp8Header } from '../lib/blind.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { expectMediaFrom, joinMeeting, leaveMeeting } from '../lib/meeting.js';
import { startServer, WEB_DIR } from '../lib/server.js';
import { toneWav } from '../lib/tone.js';

const load = async (name) => import(pathToFileURL(path.join(WEB_DIR, 'js/e2ee', name)).href);
const { MeetingKey } = await load('meeting-key.js');
const { FrameReceiver, TAG_BYTES } = await load('frame.js');
const { decodeHeader } = await load('header.js');

const SELF_CHECK = process.env.E2EE_BLIND_SELF_CHECK === '1';
const TAP_SECONDS = 12;
const MEDIA_TIMEOUT = 60_000;
/** The tone's pitches (lib/tone.js) and Firefox's fake microphone (`media.navigator.audio.fake_frequency`). */
const PITCHES = { chromium: [220, 330, 440, 550, 660, 880], firefox: [1000] };

let server;
let tone;
let picture;
before(async () => {
  // Every video to the tap, whatever the debug build's timing does to a delay-based
  // estimate: the test is about what is forwarded, not how much.
  server = await startServer('e2ee-blind', { env: { HAVEN_BANDWIDTH_ESTIMATION: 'false' } });
  tone = await toneWav(120);
  picture = await markerY4m();
});
after(async () => {
  await server?.stop();
});

async function createRoom(e2ee) {
  const res = await fetch(`${server.url}/api/rooms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ e2ee }) });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.equal(body.e2ee, e2ee);
  return body;
}

/** One meeting: both pages join (with `key`, if any), media flows, the tap records. */
async function meeting(pages, { e2ee }) {
  const room = await createRoom(e2ee && !SELF_CHECK);
  const key = randomBytes(32).toString('base64url');
  const link = e2ee && !SELF_CHECK ? `${room.join_url}#e2ee=${key}` : room.join_url;
  const [chromium, firefox] = pages;
  const ids = {};
  ids.chromium = (await joinMeeting(chromium, link, 'Ana', { audio: true, video: true })).id;
  ids.firefox = (await joinMeeting(firefox, link, 'Ben', { audio: true, video: true })).id;
  await expectMediaFrom(chromium, ids.firefox, 'Ana from Ben', MEDIA_TIMEOUT);
  await expectMediaFrom(firefox, ids.chromium, 'Ben from Ana', MEDIA_TIMEOUT);
  const taken = await tap(server.url, room.id, TAP_SECONDS);
  for (const page of pages) await leaveMeeting(page);
  return { room, key, ids, ...taken };
}

const b64 = (buffers) => buffers.map((b) => b.toString('base64'));

/** What WebCodecs makes of `frames` (Buffers of one stream) in the lab page. */
async function decode(lab, kind, frames) {
  if (kind === 'video') return lab.evaluate(decodeVp8InPage, b64(frames), MARKER);
  return lab.evaluate(decodeOpusInPage, b64(frames));
}

/**
 * Decoded audio packets that are the tone: a spectrum peaking within 15 Hz of one of
 * `pitches`, 20 dB over its median, with at least a tenth of the energy (a pure tone has a
 * third; garbage the decoder turns into sound often peaks somewhere, but is spread out), and
 * the packet before or after it peaking at the same pitch (each pitch of the tone lasts six
 * packets or more; garbage's peaks wander).
 */
const isTone = (r, pitches) => r && r.rms > 1e-3 && r.prominence > 100 && r.purity > 0.1 && pitches.some((p) => Math.abs(r.peak - p) <= 15);
const toneCount = (results, pitches) =>
  results.filter((r, i) => isTone(r, pitches) && [results[i - 1], results[i + 1]].some((n) => isTone(n, pitches) && Math.abs(n.peak - r.peak) <= 15)).length;
/** The median of `values` (null for none), to two places. */
const median = (values) => (values.length ? Math.round(100 * values.sort((a, b) => a - b)[values.length >> 1]) / 100 : null);

/** The judgement of one stream (publisher, kind) of one meeting: counts, for the report. */
async function judge(lab, kind, who, frames) {
  const s = { frames: frames.length };
  if (kind === 'video') {
    const headers = frames.map(vp8Header);
    s.keyframes = headers.filter((h) => h.key).length;
    s.parsed = headers.filter((h) => h.ok).length;
    s.sizes = [...new Set(headers.filter((h) => h.key).map((h) => `${h.width}x${h.height}`))];
    const { results, errors, errorCount } = await decode(lab, kind, frames);
    const tried = results.filter(Boolean);
    s.tried = tried.length;
    s.decoded = tried.filter((r) => r.decoded).length;
    s.marker = tried.filter((r) => r.marker).length;
    s.decoderErrors = errorCount;
    if (errors.length) s.firstError = errors[0];
    s.decodedSizeMatches = results.filter((r, i) => r?.decoded && headers[i].key && r.width === headers[i].width && r.height === headers[i].height).length;
  } else {
    // Opus TOC (RFC 6716 §3.1): the configurations used.
    s.configs = [...new Set(frames.map((f) => f[0] >> 3))];
    const { results, errors } = await decode(lab, kind, frames);
    s.decoded = results.filter(Boolean).length;
    s.decoderErrors = errors;
    s.tone = toneCount(results, PITCHES[who]);
    // What tells the tone from garbage: how much of the decoded sound's energy its peak holds.
    s.medianPurity = median(results.filter((r) => r && r.rms > 1e-3).map((r) => r.purity));
  }
  return s;
}

/** The SFrame headers of one stream's frames: key ids, counters rising per KID. */
function sframeHeaders(kind, frames, keyId) {
  const s = { headers: 0, ourKeyId: 0, kids: new Set(), rising: true, shortest: Infinity };
  const last = new Map();
  for (const f of frames) {
    const clear = clearBytes(kind, f);
    const h = decodeHeader(f, clear);
    if (!h) continue;
    s.headers++;
    const kid = Buffer.from(h.kid).toString('hex');
    s.kids.add(kid);
    if (((h.kid[0] << 8) | h.kid[1]) === keyId) s.ourKeyId++;
    if (last.has(kid) && h.ctr <= last.get(kid)) s.rising = false;
    last.set(kid, h.ctr);
    s.shortest = Math.min(s.shortest, f.length - clear - h.length - TAG_BYTES);
  }
  return s;
}

/** How many of `needles` occur anywhere in `haystack`. */
const found = (haystack, needles) => needles.filter((n) => haystack.indexOf(n) !== -1).length;

test('the_sfu_forwards_decodable_media_in_a_clear_meeting_and_only_ciphertext_in_an_encrypted_one', async (t) => {
  const chromium = await launchChromium({ args: [`--use-file-for-fake-audio-capture=${tone}`, `--use-file-for-fake-video-capture=${picture}`] });
  const firefox = await launchFirefox({ prefs: { 'media.navigator.audio.fake_frequency': PITCHES.firefox[0] } });
  try {
    const pages = [await chromium.newPage(), await firefox.newPage()];
    const clear = await meeting(pages, { e2ee: false });
    const sealed = await meeting(pages, { e2ee: true });
    const lab = await chromium.newPage();
    await lab.goto(`${server.url}/`);

    const streams = (arm, who, kind) => arm.frames.filter((f) => f.from === arm.ids[who] && f.kind === kind).map((f) => f.data);
    const report = {};
    for (const [name, arm] of [['clear', clear], ['encrypted', sealed]]) {
      for (const who of ['chromium', 'firefox']) {
        for (const kind of ['audio', 'video']) {
          const frames = streams(arm, who, kind);
          assert.ok(frames.length >= (kind === 'audio' ? 100 : 30), `${name}: the tap got ${frames.length} ${kind} frames from ${who}: ${JSON.stringify(arm.summary)}`);
          report[`${name} ${who} ${kind}`] = await judge(lab, kind, who, frames);
        }
      }
    }
    for (const [k, v] of Object.entries(report)) t.diagnostic(`${k}: ${JSON.stringify(v)}`);

    // Clear meeting: what the SFU forwarded is VP8 and Opus a decoder turns into the picture
    // and the tone.
    for (const who of ['chromium', 'firefox']) {
      const v = report[`clear ${who} video`];
      assert.ok(v.keyframes >= 2 && v.parsed === v.frames, `clear ${who} video parses: ${JSON.stringify(v)}`);
      assert.ok(v.decoded >= 0.95 * v.tried && v.decodedSizeMatches === v.keyframes, `clear ${who} video decodes: ${JSON.stringify(v)}`);
      const a = report[`clear ${who} audio`];
      assert.ok(a.decoded >= 0.95 * a.frames && a.tone >= 0.5 * a.frames, `clear ${who} audio carries the tone: ${JSON.stringify(a)}`);
    }
    const cv = report['clear chromium video'];
    assert.ok(cv.marker >= 0.9 * cv.decoded, `the clear meeting's Chromium pictures show the checkerboard: ${JSON.stringify(cv)}`);

    // Encrypted meeting, without the key (what the server can do): every frame is SFrame
    // under the meeting's key id, counters rising, and nothing decodes to the picture or the
    // tone. Every check is made and the failed ones listed together (E2EE_BLIND_SELF_CHECK).
    const failed = [];
    const expect = (ok, what) => ok || failed.push(what);
    const meetingKey = await MeetingKey.fromText(sealed.key);
    const everything = Buffer.concat(sealed.frames.map((f) => f.data));
    for (const who of ['chromium', 'firefox']) {
      for (const kind of ['audio', 'video']) {
        const frames = streams(sealed, who, kind);
        const h = sframeHeaders(kind, frames, meetingKey.keyId);
        const r = report[`encrypted ${who} ${kind}`];
        Object.assign(r, { sframe: h.headers, ourKeyId: h.ourKeyId, kids: h.kids.size, countersRising: h.rising });
        expect(h.ourKeyId === frames.length && h.rising && h.shortest >= 0, `encrypted ${who} ${kind}: every frame is SFrame under the meeting's key id: ${JSON.stringify(r)}`);
        if (kind === 'audio') {
          expect(r.tone <= 0.02 * r.frames, `encrypted ${who} audio: the tone is not in what the server forwards: ${JSON.stringify(r)}`);
        } else {
          // Firefox's fake camera shows no checkerboard: there the decoder getting no picture is the check.
          expect(r.marker === 0 && r.decoded <= 0.05 * r.tried, `encrypted ${who} video: (almost) no picture decodes, none with the checkerboard: ${JSON.stringify(r)}`);
        }

        // With the key, as a member's page does it: the very frames the tap took are the
        // ciphertext of real frames, which decode to the picture and the tone.
        const receiver = new FrameReceiver(sealed.ids[who], [meetingKey]);
        const opened = [];
        const failures = {};
        for (const f of frames) {
          const out = await receiver.decrypt(f, kind === 'audio' ? 'opus' : 'vp8');
          if (out.ok) opened.push(Buffer.from(out.data));
          else failures[out.code] = (failures[out.code] ?? 0) + 1;
        }
        const plain = await judge(lab, kind, who, opened);
        report[`decrypted ${who} ${kind}`] = { ...plain, failures };
        t.diagnostic(`decrypted ${who} ${kind}: ${JSON.stringify(report[`decrypted ${who} ${kind}`])}`);
        expect(opened.length === frames.length, `every encrypted ${who} ${kind} frame decrypts with the key: ${JSON.stringify(failures)}`);
        if (kind === 'audio') {
          expect(plain.tone >= 0.5 * plain.frames, `decrypted ${who} audio carries the tone: ${JSON.stringify(plain)}`);
        } else {
          expect(plain.parsed === plain.frames && plain.decoded >= 0.95 * plain.tried, `decrypted ${who} video parses and decodes: ${JSON.stringify(plain)}`);
          if (who === 'chromium') expect(plain.marker >= 0.9 * plain.decoded, `decrypted Chromium pictures show the checkerboard: ${JSON.stringify(plain)}`);
        }

        // The known plaintext: no 16-byte run of a decrypted frame (past its clear bytes) is
        // anywhere in what the server forwarded.
        const needles = [];
        for (const p of opened.filter((_, i) => i % 3 === 0)) {
          const from = clearBytes(kind, p);
          for (const at of [from, Math.floor((from + p.length) / 2) - 8, p.length - 16]) if (at >= from && at + 16 <= p.length) needles.push(p.subarray(at, at + 16));
        }
        const hits = found(everything, needles);
        report[`encrypted ${who} ${kind}`].plaintextRunsFound = `${hits}/${needles.length}`;
        expect(hits === 0, `encrypted ${who} ${kind}: ${hits} of ${needles.length} plaintext runs are in the forwarded payloads`);
      }
    }
    t.diagnostic(`tap: clear ${clear.frames.length} frames, encrypted ${sealed.frames.length}; ${JSON.stringify(report)}`);
    assert.deepEqual(failed, [], `${failed.length} checks of the encrypted meeting failed`);
  } finally {
    await chromium.close().catch(() => {});
    await firefox.close().catch(() => {});
  }
});
