// What a person does on the meeting page, and what the tests observe there.

import path from 'node:path';
import { ARTIFACTS } from './server.js';

export const CONNECT_TIMEOUT = 20_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens the meeting link, types a name, switches mic/camera as asked, ticks "I agree" to the
 * group's guidelines when `agree` (a room with guidelines asks), and joins.
 */
export async function joinMeeting(page, url, name, { audio = true, video = true, agree = false } = {}) {
  // Headless Chromium's browser process dies when a background tab opens fake devices
  // (seen with Debian chromium 156), so act in the front tab.
  await page.bringToFront();
  // The page's requests, kept to say which never finished if the join screen does not show
  // (seen twice in CI: a loaded page that never started, its body only "Haven").
  const requests = new Map();
  const sent = (r) => requests.set(r, 'pending');
  const failed = (r) => requests.set(r, `failed (${r.failure()?.errorText ?? '?'})`);
  const done = (r) => requests.set(r, `${r.response()?.status() ?? '?'}`);
  page.on('request', sent);
  page.on('requestfailed', failed);
  page.on('requestfinished', done);
  try {
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
  } catch (e) {
    const seen = await page
      .evaluate(() => ({ state: window.haven?.state ?? null, screen: document.body?.dataset.screen ?? null, visible: document.visibilityState, text: document.body?.innerText.slice(0, 300) }))
      .catch((err) => String(err));
    const unfinished = [...requests].filter(([, how]) => !/^\d+$/.test(how) || Number(how) >= 400).map(([r, how]) => `${new URL(r.url()).pathname} ${how}`);
    const lines = (page.consoleLines ?? []).slice(-10);
    throw new Error(
      `${e.message}; the page shows ${JSON.stringify(seen)}; ${requests.size} requests, not finished or failed: ${JSON.stringify(unfinished)}; console: ${JSON.stringify(lines)}`,
    );
  } finally {
    page.off('request', sent);
    page.off('requestfailed', failed);
    page.off('requestfinished', done);
  }
  await page.type('#name-input', name);
  if (audio) await page.click('#screen-join [data-toggle="audio"]');
  if (video) await page.click('#screen-join [data-toggle="video"]');
  if (agree) await page.click('#agree-input');
  await page.evaluate(() => window.haven.settled());
  const media = await page.evaluate(() => window.haven.media);
  if (media.audio !== audio || media.video !== video) {
    const said = await page.$$eval('#announcer p', (lines) => lines.map((l) => l.textContent));
    throw new Error(
      `${name}: mic/camera did not switch as asked: ${JSON.stringify(media)}; said: ${JSON.stringify(said)}; ` +
        `console: ${JSON.stringify((page.consoleLines ?? []).slice(-20))}`,
    );
  }
  await page.click('#join-button');
  try {
    await page.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT });
  } catch (err) {
    const seen = await page.evaluate(() => ({
      state: window.haven.state,
      problem: document.querySelector('#problem-heading')?.textContent,
      trace: window.haven.trace,
    }));
    err.message += `\n${name} did not get in: ${JSON.stringify(seen)}\nconsole: ${JSON.stringify((page.consoleLines ?? []).slice(-20))}`;
    throw err;
  }
  return page.evaluate(() => window.haven.you);
}

/**
 * The server's end of the ICE candidate pair the page's media uses ({ protocol, port }), or
 * null before there is one. Chromium names it as the transport's selected pair (a succeeded
 * pair's `nominated` flag can lag behind media already flowing); Firefox has no transport
 * report and marks the pair `selected`.
 */
export async function selectedServerCandidate(page) {
  return page.evaluate(async () => {
    const reports = new Map();
    (await window.haven.pc.getStats()).forEach((s) => reports.set(s.id, s));
    const all = [...reports.values()];
    const pairId = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId)?.selectedCandidatePairId;
    const pair = pairId
      ? reports.get(pairId)
      : all.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && (s.selected || s.nominated));
    const remote = pair && reports.get(pair.remoteCandidateId);
    return remote ? { protocol: remote.protocol, port: remote.port } : null;
  });
}

/**
 * The page's inbound-rtp reports, each attributed to the publisher whose stream the track
 * belongs to (`from`, a participant id; null when it cannot be told).
 */
export async function inbound(page) {
  return page.evaluate(async () => {
    const pc = window.haven.pc;
    if (!pc) return [];
    const owner = new Map();
    for (const stream of window.haven.streams) {
      for (const track of stream.tracks) owner.set(track.id, stream.id);
    }
    // Firefox may omit trackIdentifier; fall back to the transceiver with the report's mid.
    const byMid = new Map();
    for (const t of pc.getTransceivers()) {
      if (t.mid != null) byMid.set(t.mid, t.receiver.track?.id);
    }
    const reports = [];
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const trackId = s.trackIdentifier ?? byMid.get(s.mid);
      reports.push({
        kind: s.kind ?? s.mediaType,
        // The payload's codec as the browser names it ("audio/opus", "audio/red").
        codec: stats.get(s.codecId)?.mimeType ?? null,
        ssrc: s.ssrc,
        mid: s.mid ?? null,
        from: owner.get(trackId) ?? null,
        packetsReceived: s.packetsReceived ?? 0,
        bytesReceived: s.bytesReceived ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        frameWidth: s.frameWidth ?? null,
        frameHeight: s.frameHeight ?? null,
      });
    });
    return reports;
  });
}

function pick(reports, from, kind) {
  const mine = reports.filter((r) => r.kind === kind && r.from === from);
  if (mine.length) return mine;
  // When nothing can be attributed but there is only one publisher, take what there is.
  return reports.filter((r) => r.kind === kind && r.from === null);
}

/** What a failure message needs to tell why media did not come: the page's peer connection,
 * its remote streams and its signaling trace. */
export async function describePeer(page) {
  return page.evaluate(() => ({
    state: window.haven.state,
    pc: window.haven.pc && {
      connection: window.haven.pc.connectionState,
      ice: window.haven.pc.iceConnectionState,
      signaling: window.haven.pc.signalingState,
      transceivers: window.haven.pc.getTransceivers().map((t) => ({
        mid: t.mid,
        direction: t.direction,
        current: t.currentDirection,
        kind: t.receiver.track?.kind,
      })),
    },
    streams: window.haven.streams,
    trace: window.haven.trace,
  }));
}

/**
 * Waits until `page` decodes video and receives audio from participant `from`, both rising
 * over one second, within `timeout`. Returns the two samples of that second.
 *
 * A second without new frames is measured again until the deadline: right after a join the
 * member's downlink estimate can back off for a moment on a busy machine (228 kbit/s on
 * loopback, seen in CI), and the allocator then pauses a video until the estimate holds again
 * (tested for itself in weak-link and simulcast). Sound must rise in every second measured.
 */
export async function expectMediaFrom(page, from, label, timeout = CONNECT_TIMEOUT) {
  // A background tab shows no video, and Haven's client then asks the server for none (it
  // reports its tiles hidden): look at the page as its user would, in front.
  await page.bringToFront();
  const total = (reports, kind, field) => pick(reports, from, kind).reduce((n, r) => n + r[field], 0);
  const deadline = Date.now() + timeout;
  let first;
  for (;;) {
    first = await inbound(page);
    if (total(first, 'video', 'framesDecoded') > 0 && total(first, 'audio', 'packetsReceived') > 0) break;
    if (Date.now() > deadline) {
      const diag = await describePeer(page);
      throw new Error(
        `${label}: no media from ${from} within ${timeout} ms.\ninbound: ${JSON.stringify(first)}\npage: ${JSON.stringify(diag, null, 1)}`,
      );
    }
    await sleep(250);
  }
  for (;;) {
    await sleep(1000);
    const second = await inbound(page);
    const frames = [total(first, 'video', 'framesDecoded'), total(second, 'video', 'framesDecoded')];
    const packets = [total(first, 'audio', 'packetsReceived'), total(second, 'audio', 'packetsReceived')];
    if (!(packets[1] > packets[0])) {
      throw new Error(`${label}: audio packets from ${from} stopped rising: ${packets.join(' → ')}`);
    }
    if (frames[1] > frames[0]) return { frames, packets };
    if (Date.now() > deadline) {
      throw new Error(`${label}: video frames from ${from} stopped rising: ${frames.join(' → ')}`);
    }
    first = second;
  }
}

/** The names on the page's tiles, by participant id. */
export async function tileNames(page) {
  return page.$$eval('#grid .tile', (tiles) =>
    Object.fromEntries(
      tiles.map((t) => [t.dataset.participantId, t.querySelector('.tile-name')?.textContent ?? '']),
    ),
  );
}

export async function waitForTile(page, id, name, timeout = CONNECT_TIMEOUT) {
  await page.waitForFunction(
    (id, name) => {
      const tile = document.querySelector(`#grid .tile[data-participant-id="${CSS.escape(id)}"]`);
      return tile?.querySelector('.tile-name')?.textContent === name;
    },
    // Timer polling: background tabs get no animation frames, so rAF polling could stall.
    { timeout, polling: 200 },
    id,
    name,
  );
}

/** Presses Leave and answers "Leave the meeting?" with Leave; resolves on the "You left" screen. */
export async function leaveMeeting(page) {
  await page.bringToFront();
  await page.click('#leave-button');
  await page.waitForSelector('#confirm-dialog[open]', { timeout: CONNECT_TIMEOUT });
  await page.click('#confirm-ok');
  await page.waitForFunction(() => window.haven.state === 'left', { timeout: CONNECT_TIMEOUT, polling: 100 });
}

export async function screenshot(page, name, { fullPage = true } = {}) {
  // A background tab never paints, and capturing it would wait for a frame forever.
  await page.bringToFront();
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

/** Fails with the page's own errors, if it had any. */
export function assertNoPageErrors(page, label) {
  if (page.errors.length) {
    throw new Error(`${label}: uncaught errors in the page:\n${page.errors.join('\n')}`);
  }
}

/** The page's outbound-rtp reports: what it sends, and how often it was asked for a keyframe. */
export async function outbound(page) {
  return page.evaluate(async () => {
    const pc = window.haven.pc;
    if (!pc) return [];
    const reports = [];
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'outbound-rtp') return;
      reports.push({
        kind: s.kind ?? s.mediaType,
        packetsSent: s.packetsSent,
        framesEncoded: s.framesEncoded,
        keyFramesEncoded: s.keyFramesEncoded,
        pliCount: s.pliCount,
        firCount: s.firCount,
        nackCount: s.nackCount,
      });
    });
    return reports;
  });
}

/**
 * Runs `body` with fresh browsers (one page each, from `launchers`); on failure, screenshots
 * every page as `<server name>-failure-page<i>` and adds the pages' consoles and the server
 * log's tail to the error.
 */
export async function withBrowsers(server, launchers, body) {
  const browsers = [];
  const pages = [];
  try {
    for (const launch of launchers) browsers.push(await launch());
    for (const b of browsers) pages.push(await b.newPage());
    await body(pages);
  } catch (err) {
    for (const [i, page] of pages.entries()) {
      await screenshot(page, `${server.name}-failure-page${i}`).catch(() => {});
    }
    const consoles = pages
      .map((p, i) => `--- page ${i} console ---\n${p.consoleLines.slice(-40).join('\n')}`)
      .join('\n');
    err.message += `\n${consoles}\n--- server log (tail) ---\n${server.log().split('\n').slice(-60).join('\n')}`;
    throw err;
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
  }
}
