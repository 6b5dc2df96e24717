// ICE restart: when the media path breaks or the network changes, the page restarts ICE on
// its peer connection (docs/protocol.md, negotiation rule 4) instead of leaving and coming
// back. The person stays the same participant, is told what happens in plain words, and
// video keeps flowing both ways. Also: a restart that crosses a server offer (glare).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import {
  assertNoPageErrors,
  CONNECT_TIMEOUT,
  expectMediaFrom,
  inbound,
  joinMeeting,
  waitForTile,
  withBrowsers,
} from '../lib/meeting.js';
import { startServer } from '../lib/server.js';
import { mediaThroughRelay, startUdpRelay } from '../lib/udp-relay.js';

const INTERRUPTED = 'Sound and video were interrupted. Reconnecting…';
const NETWORK = 'Your network changed. Reconnecting sound and video…';
const BACK = 'Sound and video are back.';

let server;
before(async () => {
  server = await startServer('ice-restart');
});
after(async () => {
  await server?.stop();
});

const wait = (page, fn, timeout, ...args) =>
  page.waitForFunction(fn, { timeout: timeout ?? CONNECT_TIMEOUT, polling: 200 }, ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (page, selector) => page.$eval(selector, (el) => el.textContent);

/** The ICE ufrag of the page's current local and remote descriptions. */
function ufrags(page) {
  return page.evaluate(() => {
    const pc = window.haven.pc;
    const ufrag = (d) => /a=ice-ufrag:(\S+)/.exec(d?.sdp ?? '')?.[1] ?? null;
    return { local: ufrag(pc?.currentLocalDescription), remote: ufrag(pc?.currentRemoteDescription) };
  });
}

/** All video frames the page decoded from participant `from`. */
async function framesFrom(page, from) {
  const reports = await inbound(page);
  return reports.filter((r) => r.kind === 'video' && r.from === from).reduce((n, r) => n + r.framesDecoded, 0);
}

const outgoing = (trace, type) => trace.filter((m) => m.dir === 'out' && m.type === type).length;
const incoming = (trace, type) => trace.filter((m) => m.dir === 'in' && m.type === type).length;

/**
 * What the person on `page` should observe after a restart: still in the meeting as the
 * same participant (no rejoin, no resume), new ICE credentials on both sides, and both the
 * "reconnecting" and the "back" notices, in that order.
 */
async function assertRestartedInPlace(page, me, ufragsBefore, reconnectingWords, label) {
  assert.equal(await page.evaluate(() => window.haven.state), 'joined', `${label}: still in the meeting`);
  assert.equal((await page.evaluate(() => window.haven.you)).id, me.id, `${label}: the same participant`);
  const trace = await page.evaluate(() => window.haven.trace);
  assert.equal(outgoing(trace, 'join'), 1, `${label}: joined once`);
  assert.equal(outgoing(trace, 'resume'), 0, `${label}: never resumed`);
  assert.equal(incoming(trace, 'joined'), 1, `${label}: one joined, none resumed`);
  // The server made the first offer; every offer of the page is a restart on this connection.
  assert.ok(outgoing(trace, 'offer') >= 1, `${label}: offered on the same connection`);

  const now = await ufrags(page);
  assert.ok(now.local && now.remote, `${label}: descriptions in place`);
  assert.notEqual(now.local, ufragsBefore.local, `${label}: the page's ICE credentials changed`);
  assert.notEqual(now.remote, ufragsBefore.remote, `${label}: the server answered with new ICE credentials`);

  const said = await page.$$eval('#announcer p', (lines) => lines.map((l) => l.textContent));
  const reconnecting = said.lastIndexOf(reconnectingWords);
  assert.ok(reconnecting >= 0, `${label}: said "${reconnectingWords}"; said: ${JSON.stringify(said)}`);
  assert.ok(said.indexOf(BACK, reconnecting) > reconnecting, `${label}: then said "${BACK}"`);
}

/**
 * Waits until the video `page` decodes from participant `from` rises over one second. A
 * picture frozen by the outage counts only once a keyframe has got through again.
 */
async function framesRise(page, from, label, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let last = await framesFrom(page, from);
  for (;;) {
    await sleep(1000);
    const now = await framesFrom(page, from);
    if (now > last) return;
    if (Date.now() > deadline) throw new Error(`${label}: video frames from ${from} stopped rising: ${last} → ${now}`);
    last = now;
  }
}

/** After the restart each page keeps decoding the other's video (and gets their audio). */
async function videoKeepsFlowing(pageA, a, pageB, b, label) {
  await Promise.all([
    framesRise(pageA, b.id, `${label}: ${a.name}'s page after the restart`),
    framesRise(pageB, a.id, `${label}: ${b.name}'s page after the restart`),
  ]);
  await expectMediaFrom(pageA, b.id, `${label}: ${a.name}'s page after the restart`);
  await expectMediaFrom(pageB, a.id, `${label}: ${b.name}'s page after the restart`);
}

/** Two people who see each other; returns them and what each decoded so far. */
async function twoInAMeeting(pageA, pageB, room) {
  const a = await joinMeeting(pageA, room.join_url, 'Ada', { audio: true, video: true });
  const b = await joinMeeting(pageB, room.join_url, 'Bo', { audio: true, video: true });
  await Promise.all([waitForTile(pageA, b.id, 'Bo'), waitForTile(pageB, a.id, 'Ada')]);
  await expectMediaFrom(pageA, b.id, "Ada's page before the restart");
  await expectMediaFrom(pageB, a.id, "Bo's page before the restart");
  return { a, b };
}

async function networkChange(launchers, label) {
  await withBrowsers(server, launchers, async ([pageA, pageB]) => {
    const room = await server.createRoom();
    const { a, b } = await twoInAMeeting(pageA, pageB, room);
    const ufragsBefore = await ufrags(pageA);

    // The operating system says the network is back (after a switch of Wi-Fi, say).
    await pageA.evaluate(() => window.dispatchEvent(new Event('online')));
    await wait(pageA, (words) => document.getElementById('announcer').textContent.includes(words), 30_000, BACK);

    await assertRestartedInPlace(pageA, a, ufragsBefore, NETWORK, label);
    await videoKeepsFlowing(pageA, a, pageB, b, label);
    assert.equal((await pageB.evaluate(() => window.haven.participants)).length, 1, `${label}: Bo never saw Ada leave`);
    assert.ok(!(await pageB.evaluate(() => window.haven.trace)).some((m) => m.type === 'participant_left'));
    assertNoPageErrors(pageA, 'Ada');
    assertNoPageErrors(pageB, 'Bo');
  });
}

test('a_network_change_restarts_ice_in_place_and_video_keeps_flowing', { timeout: 120_000 }, async () => {
  await networkChange([launchChromium, launchChromium], 'two-chromium');
});

test('a_network_change_restarts_ice_in_place_in_firefox', {
  timeout: 120_000,
  skip: process.env.HAVEN_SKIP_FIREFOX === '1',
}, async () => {
  await networkChange([launchFirefox, launchChromium], 'firefox-chromium');
});

// A real outage of the media path: every UDP packet between Ada's browser and the server is
// dropped, then the path comes back from another address. Ada's page must notice by itself
// (ICE disconnected or failed), restart ICE, and get media flowing again.
test('a_lost_media_path_is_noticed_and_healed_by_an_ice_restart', { timeout: 120_000 }, async () => {
  const relay = await startUdpRelay(server.udpPort);
  try {
    await withBrowsers(server, [launchChromium, launchChromium], async ([pageA, pageB]) => {
      await pageA.evaluateOnNewDocument(mediaThroughRelay, server.udpPort, relay.port);
      const room = await server.createRoom();
      const { a, b } = await twoInAMeeting(pageA, pageB, room);
      assert.ok(relay.forwarded > 0, "Ada's media goes through the relay");
      const ufragsBefore = await ufrags(pageA);

      relay.cut();
      // Chromium says `disconnected` ~5 s into the outage, and the page restarts 1.5 s later:
      // within the server's 12 s silence limit, which keeps the peer.
      await wait(pageA, () => window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'offer').length >= 1, 11_000);
      assert.match(await text(pageA, '#announcer'), new RegExp(INTERRUPTED));
      relay.restore();
      await wait(pageA, (words) => document.getElementById('announcer').textContent.includes(words), 30_000, BACK);

      await assertRestartedInPlace(pageA, a, ufragsBefore, INTERRUPTED, 'outage');
      await videoKeepsFlowing(pageA, a, pageB, b, 'outage');
      assertNoPageErrors(pageA, 'Ada');
      assertNoPageErrors(pageB, 'Bo');
    });
  } finally {
    relay.close();
  }
});

/**
 * Runs in the page before its scripts: `window.glare.hold = true` keeps the next outgoing
 * `offer` back until a server `offer` arrives, then sends it just before the page sees the
 * server's: the two offers cross, as they do when both sides offer at the same moment.
 */
function crossNextOffer() {
  const Native = window.WebSocket;
  const glare = { hold: false, held: [] };
  window.glare = glare;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      // Registered before the page's own listener, so it runs first.
      this.addEventListener('message', (event) => {
        if (glare.held.length && /"type":"offer"/.test(event.data)) {
          for (const data of glare.held.splice(0)) Native.prototype.send.call(this, data);
        }
      });
    }

    send(data) {
      if (glare.hold && /"type":"offer"/.test(data)) {
        glare.hold = false;
        glare.held.push(data);
        return;
      }
      super.send(data);
    }
  };
}

test('an_ice_restart_that_crosses_a_server_offer_answers_it_then_restarts', { timeout: 120_000 }, async () => {
  await withBrowsers(server, [launchChromium, launchChromium], async ([pageA, pageB]) => {
    await pageA.evaluateOnNewDocument(crossNextOffer);
    const room = await server.createRoom();
    const a = await joinMeeting(pageA, room.join_url, 'Ada', { audio: true, video: true });
    await wait(pageA, () => ['connected', 'completed'].includes(window.haven.pc?.iceConnectionState));
    const ufragsBefore = await ufrags(pageA);

    // Ada's restart offer is on its way when Bo joins, and the server offers Bo's tracks.
    await pageA.evaluate(() => {
      window.glare.hold = true;
      window.dispatchEvent(new Event('online'));
    });
    await wait(pageA, () => window.glare.held.length === 1 && window.haven.pc.signalingState === 'have-local-offer');
    const b = await joinMeeting(pageB, room.join_url, 'Bo', { audio: true, video: true });
    await wait(pageA, (words) => document.getElementById('announcer').textContent.includes(words), 30_000, BACK);

    const trace = await pageA.evaluate(() => window.haven.trace);
    assert.ok(
      trace.some((m) => m.dir === 'in' && m.type === 'error' && m.code === 'negotiation_in_progress'),
      'the server refused the crossing offer',
    );
    // The restart rolled back, and the restart made again after answering.
    assert.ok(outgoing(trace, 'offer') >= 2, `offered again after the refusal: ${JSON.stringify(trace)}`);
    // The server's first offer, and the one with Bo's tracks that crossed the restart.
    assert.ok(outgoing(trace, 'answer') >= 2, "answered the server's offer");
    await assertRestartedInPlace(pageA, a, ufragsBefore, NETWORK, 'glare');
    // The refusal is handled, not shown to the person as an error.
    assert.doesNotMatch(await text(pageA, '#announcer'), /still being set up/);

    await Promise.all([waitForTile(pageA, b.id, 'Bo'), waitForTile(pageB, a.id, 'Ada')]);
    await videoKeepsFlowing(pageA, a, pageB, b, 'glare');
    assertNoPageErrors(pageA, 'Ada');
    assertNoPageErrors(pageB, 'Bo');
  });
});
