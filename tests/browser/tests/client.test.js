// The meeting page's behaviour around the media: switching devices without renegotiating,
// leaving and rejoining, names as text, clear screens for errors, the landing page, and the
// phone layout. Chromium only; the real Haven binary.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import {
  assertNoPageErrors,
  CONNECT_TIMEOUT,
  describePeer,
  expectMediaFrom,
  inbound,
  joinMeeting,
  leaveMeeting,
  screenshot,
  waitForTile,
} from '../lib/meeting.js';
import { startServer } from '../lib/server.js';
import { toneWav } from '../lib/tone.js';

let server;
const open = [];
before(async () => {
  server = await startServer('client');
});
after(async () => {
  for (const b of open) await b.close().catch(() => {});
  await server?.stop();
});

async function newPage(options) {
  const browser = await launchChromium(options);
  open.push(browser);
  return browser.newPage();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tileSelector = (id) => `#grid .tile[data-participant-id="${id}"]`;
const visible = (page, selector) =>
  page.$eval(selector, (el) => !el.hidden && el.getClientRects().length > 0).catch(() => false);

test('switching_the_camera_on_after_joining_reaches_others_without_the_browser_offering', async () => {
  const room = await server.createRoom();
  const [pageA, pageB] = await Promise.all([newPage(), newPage()]);
  const alice = await joinMeeting(pageA, room.join_url, 'Alice', { audio: false, video: false });
  const bea = await joinMeeting(pageB, room.join_url, 'Bea', { audio: true, video: true });
  await waitForTile(pageB, alice.id, 'Alice');

  // Safe default seen by others: muted, camera off.
  const classes = await pageB.$eval(tileSelector(alice.id), (el) => [...el.classList]);
  assert.ok(classes.includes('is-muted') && classes.includes('is-camera-off'), classes.join(' '));

  await pageA.click('#screen-meeting [data-toggle="video"]');
  await pageA.click('#screen-meeting [data-toggle="audio"]');
  await pageA.evaluate(() => window.haven.settled());
  await expectMediaFrom(pageB, alice.id, "Bea's page");
  await pageB.waitForFunction(
    (sel) => !document.querySelector(sel).classList.contains('is-camera-off') &&
      !document.querySelector(sel).classList.contains('is-muted'),
    { timeout: CONNECT_TIMEOUT },
    tileSelector(alice.id),
  );

  // Off again: others see the placeholder; the camera is released.
  await pageA.click('#screen-meeting [data-toggle="video"]');
  await pageA.evaluate(() => window.haven.settled());
  await pageB.waitForFunction(
    (sel) => document.querySelector(sel).classList.contains('is-camera-off'),
    { timeout: CONNECT_TIMEOUT },
    tileSelector(alice.id),
  );
  const sending = await pageA.evaluate(() =>
    window.haven.pc.getSenders().map((s) => s.track && s.track.kind).filter(Boolean),
  );
  assert.deepEqual(sending, ['audio']);

  // The server offered right behind `joined` and Alice answered; switching devices needed
  // no negotiation at all.
  const signaling = (await pageA.evaluate(() => window.haven.trace))
    .filter((m) => ['joined', 'offer', 'answer'].includes(m.type))
    .map((m) => `${m.dir} ${m.type}`);
  assert.deepEqual(signaling.slice(0, 3), ['in joined', 'in offer', 'out answer'], signaling.join(', '));
  assert.ok(!signaling.includes('out offer'), `the browser never offers: ${signaling.join(', ')}`);
  assert.ok(bea.id);
  assertNoPageErrors(pageA, 'Alice');
  assertNoPageErrors(pageB, 'Bea');
});

test('leaving_shows_the_left_screen_and_removes_the_tile_for_others', async () => {
  const room = await server.createRoom();
  const [pageA, pageB] = await Promise.all([newPage(), newPage()]);
  const alice = await joinMeeting(pageA, room.join_url, 'Alice', { audio: false, video: false });
  const bea = await joinMeeting(pageB, room.join_url, 'Bea', { audio: false, video: true });
  await waitForTile(pageA, bea.id, 'Bea');

  await leaveMeeting(pageB);
  assert.equal(await pageB.evaluate(() => window.haven.state), 'left');
  assert.ok(await visible(pageB, '#screen-left'));
  assert.equal(await pageB.evaluate(() => window.haven.pc), null);
  await pageA.waitForFunction((sel) => !document.querySelector(sel), { timeout: CONNECT_TIMEOUT }, tileSelector(bea.id));
  assert.deepEqual(await pageA.evaluate(() => window.haven.participants), []);
  // Leaving switches the camera off for good: nothing is left capturing.
  assert.deepEqual(await pageB.evaluate(() => window.haven.media), { audio: false, video: false });

  // Rejoin: back to the join screen with the name kept.
  await pageB.click('#rejoin-button');
  assert.ok(await visible(pageB, '#screen-join'));
  assert.equal(await pageB.$eval('#name-input', (el) => el.value), 'Bea');
  await pageB.click('#join-button');
  await pageB.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT });
  const again = await pageB.evaluate(() => window.haven.you);
  await waitForTile(pageA, again.id, 'Bea');
  assert.ok(alice.id);
  assertNoPageErrors(pageB, 'Bea');
});

test('names_are_shown_as_text_never_as_html', async () => {
  const room = await server.createRoom();
  const [pageA, pageB] = await Promise.all([newPage(), newPage()]);
  const name = '<img src=x id=pwn><b>Bo</b>';
  await joinMeeting(pageA, room.join_url, 'Alice', { audio: false, video: false });
  const bo = await joinMeeting(pageB, room.join_url, name, { audio: false, video: false });
  await waitForTile(pageA, bo.id, name);
  assert.equal(await pageA.$$eval('#grid img, #grid b, #pwn', (els) => els.length), 0);
  const announced = await pageA.$eval('#announcer', (el) => el.textContent);
  assert.ok(announced.includes(`${name} joined.`), announced);
});

test('the_join_screen_explains_a_bad_name_and_does_not_connect', async () => {
  const room = await server.createRoom();
  const page = await newPage();
  await page.goto(room.join_url);
  await page.waitForSelector('#name-input', { visible: true });
  // Safe defaults: both devices off before anything is touched.
  assert.deepEqual(
    await page.$$eval('#screen-join [data-toggle]', (b) => b.map((x) => x.getAttribute('aria-pressed'))),
    ['false', 'false'],
  );

  await page.click('#join-button');
  assert.ok(await visible(page, '#name-error'));
  assert.equal(await page.$eval('#name-input', (el) => el.getAttribute('aria-invalid')), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'name-input');

  await page.type('#name-input', 'x'.repeat(33));
  await page.click('#join-button');
  assert.match(await page.$eval('#name-error', (el) => el.textContent), /32/);
  assert.equal(await page.evaluate(() => window.haven.state), 'join');
  assert.deepEqual(await page.evaluate(() => window.haven.trace), [], 'nothing was sent');
});

test('an_unknown_room_shows_the_not_found_page', async () => {
  const page = await newPage();
  const response = await page.goto(`${server.url}/m/no-such-room`);
  assert.equal(response.status(), 404);
  assert.match(await page.$eval('h1', (el) => el.textContent), /no meeting/i);
});

test('a_full_room_gets_a_clear_screen', async () => {
  // The smallest limit the server accepts is two.
  const small = await startServer('client-full', { env: { HAVEN_MAX_PARTICIPANTS: '2' } });
  try {
    const room = await small.createRoom();
    const [pageA, pageB, pageC] = await Promise.all([newPage(), newPage(), newPage()]);
    await joinMeeting(pageA, room.join_url, 'Alice', { audio: false, video: false });
    await joinMeeting(pageB, room.join_url, 'Bea', { audio: false, video: false });
    await pageC.goto(room.join_url);
    await pageC.type('#name-input', 'Cal');
    await pageC.click('#join-button');
    await pageC.waitForFunction(() => window.haven.state === 'problem', { timeout: CONNECT_TIMEOUT });
    assert.match(await pageC.$eval('#problem-heading', (el) => el.textContent), /full/i);
    assert.ok(await visible(pageC, '#retry-button'));
    assert.equal(await pageC.evaluate(() => document.activeElement.id), 'problem-heading');
    await screenshot(pageC, 'room-full');
  } finally {
    await small.stop();
  }
});

test('a_server_shutdown_is_explained_in_plain_words', async () => {
  const doomed = await startServer('client-shutdown');
  let stopped = false;
  try {
    const room = await doomed.createRoom();
    const page = await newPage();
    await joinMeeting(page, room.join_url, 'Alice', { audio: false, video: false });
    await doomed.stop();
    stopped = true;
    await page.waitForFunction(() => window.haven.state === 'problem', { timeout: CONNECT_TIMEOUT });
    const heading = await page.$eval('#problem-heading', (el) => el.textContent);
    assert.match(heading, /restarting|connection was lost/i);
    assert.equal(await page.evaluate(() => window.haven.pc), null);
  } finally {
    if (!stopped) await doomed.stop();
  }
});

test('the_landing_page_starts_a_meeting_and_hands_out_both_links', async () => {
  const page = await newPage();
  await page.goto(`${server.url}/`);
  await page.click('#start-button');
  await page.waitForSelector('#created', { visible: true, timeout: CONNECT_TIMEOUT });
  const joinUrl = await page.$eval('#join-url', (el) => el.value);
  const facilitatorUrl = await page.$eval('#facilitator-url', (el) => el.value);
  assert.match(joinUrl, /\/m\/[^/#]+$/);
  assert.ok(facilitatorUrl.startsWith(`${joinUrl}#key=`), facilitatorUrl);
  await screenshot(page, 'landing-created');

  // The facilitator link opens the meeting page, which knows it holds the key.
  await Promise.all([page.waitForNavigation(), page.click('#open-facilitator')]);
  await page.waitForSelector('#facilitator-note', { visible: true });
  await page.type('#name-input', 'Chair');
  await page.click('#join-button');
  await page.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT });
  assertNoPageErrors(page, 'landing');
});

test('the_meeting_fits_a_360_by_640_phone', async () => {
  const room = await server.createRoom();
  const phone = await newPage({ width: 360, height: 640 });
  const other = await newPage();
  await phone.goto(room.join_url);
  await phone.waitForSelector('#name-input', { visible: true });
  await screenshot(phone, 'phone-join');
  const me = await joinMeeting(phone, room.join_url, 'Pat', { audio: true, video: true });
  const dee = await joinMeeting(other, room.join_url, 'Dee', { audio: false, video: false });
  await waitForTile(phone, dee.id, 'Dee');
  await expectMediaFrom(other, me.id, "Dee's page").catch(() => {});
  await screenshot(phone, 'phone-meeting');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  for (const id of ['leave-button']) {
    const box = await (await phone.$(`#${id}`)).boundingBox();
    assert.ok(box.width >= 44 && box.height >= 44, `${id} is a comfortable target`);
  }
});

test('a_refused_camera_and_microphone_are_explained_and_the_meeting_works_without_them', async () => {
  const room = await server.createRoom();
  const [page, other] = [await newPage(), await newPage()];
  // As when the person clicks "Block" on the browser's permission prompt.
  await page.evaluateOnNewDocument(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  await page.bringToFront();
  await page.goto(room.join_url);
  await page.waitForSelector('#name-input', { visible: true });
  await page.type('#name-input', 'Dee');
  for (const [kind, device] of [['video', 'camera'], ['audio', 'microphone']]) {
    await page.click(`#screen-join [data-toggle="${kind}"]`);
    await page.evaluate(() => window.haven.settled());
    assert.equal(await page.evaluate((k) => window.haven.media[k], kind), false);
    assert.equal(await page.$eval(`#screen-join [data-toggle="${kind}"]`, (b) => b.getAttribute('aria-pressed')), 'false');
    assert.ok(await visible(page, '#notice'));
    assert.equal(
      await page.$eval('#notice', (el) => el.textContent),
      `Haven isn't allowed to use your ${device}. You can allow it in your browser's settings, or stay in the meeting without it.`,
    );
  }
  await page.click('#join-button');
  await page.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT });
  const dee = await page.evaluate(() => window.haven.you);
  // Still a full participant: sees and hears others, and is seen as a muted tile without camera.
  const fin = await joinMeeting(other, room.join_url, 'Fin', { audio: true, video: true });
  await expectMediaFrom(page, fin.id, "Dee's page");
  await waitForTile(other, dee.id, 'Dee');
  const classes = await other.$eval(tileSelector(dee.id), (el) => [...el.classList]);
  assert.ok(classes.includes('is-muted') && classes.includes('is-camera-off'), classes.join(' '));
  // Trying again in the meeting says the same, and nothing breaks.
  await page.click('#screen-meeting [data-toggle="audio"]');
  await page.evaluate(() => window.haven.settled());
  assert.equal(await page.evaluate(() => window.haven.media.audio), false);
  assert.match(await page.$eval('#notice', (el) => el.textContent), /isn't allowed to use your microphone/);
  assertNoPageErrors(page, 'Dee');
});

test('choosing_another_microphone_reopens_it_and_joins_with_it', async () => {
  const room = await server.createRoom();
  const [page, other] = [await newPage(), await newPage()];
  await page.bringToFront();
  await page.goto(room.join_url);
  await page.waitForSelector('#name-input', { visible: true });
  await page.type('#name-input', 'Gus');
  await page.click('#screen-join [data-toggle="audio"]');
  await page.evaluate(() => window.haven.settled());
  await page.waitForFunction(() => !document.getElementById('audio-device-field').hidden, {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  const before = await page.evaluate(() => window.haven.localTracks.audio);
  const choices = await page.$$eval('#audio-device option', (os) => os.map((o) => o.value));
  assert.ok(choices.length > 1, `microphones offered: ${choices.length}`);
  assert.equal(await page.$eval('#audio-device', (s) => s.value), before.deviceId, 'the open microphone is the one selected');
  const pick = choices.find((id) => id !== before.deviceId);
  await page.select('#audio-device', pick);
  await page.evaluate(() => window.haven.settled());
  const after = await page.evaluate(() => window.haven.localTracks.audio);
  assert.equal(after.deviceId, pick, 'the chosen microphone is open');
  assert.notEqual(after.id, before.id, 'a new track, not the old one');
  assert.equal(await page.evaluate(() => window.haven.media.audio), true);

  await page.click('#join-button');
  await page.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT });
  const gus = await page.evaluate(() => window.haven.you);
  // The senders exist once the server's first offer (right behind `joined`) is answered.
  const audioSent = () => window.haven.pc?.getSenders().find((s) => s.track?.kind === 'audio')?.track.id;
  await page.waitForFunction(audioSent, { timeout: CONNECT_TIMEOUT });
  const sent = await page.evaluate(audioSent);
  assert.equal(sent, after.id, 'the chosen microphone is what is sent');
  await joinMeeting(other, room.join_url, 'Hal', { audio: false, video: false });
  const packets = async () =>
    (await inbound(other)).filter((r) => r.kind === 'audio' && r.from === gus.id).reduce((n, r) => n + r.packetsReceived, 0);
  const deadline = Date.now() + CONNECT_TIMEOUT;
  while ((await packets()) === 0 && Date.now() < deadline) await sleep(250);
  const first = await packets();
  await sleep(1000);
  assert.ok(first > 0 && (await packets()) > first, "Gus's audio reaches Hal");
  assertNoPageErrors(page, 'Gus');
});

// The SFU passes on each audio packet's ssrc-audio-level header extension; the page reads
// it from getSynchronizationSources() to highlight whoever speaks.
test('whoever_is_speaking_is_highlighted_on_the_others_pages', async () => {
  const room = await server.createRoom();
  const quiet = await newPage();
  // A steady tone instead of the built-in fake microphone's faint beep.
  const speaker = await newPage({ args: [`--use-file-for-fake-audio-capture=${await toneWav()}`] });
  const ida = await joinMeeting(quiet, room.join_url, 'Ida', { audio: false, video: false });
  const jo = await joinMeeting(speaker, room.join_url, 'Jo', { audio: true, video: false });
  await quiet.bringToFront();
  // Jo's tile, and only Jo's, is highlighted on Ida's page.
  try {
    await quiet.waitForFunction((sel) => document.querySelector(sel)?.classList.contains('is-speaking')
      && document.querySelectorAll('#grid .tile.is-speaking').length === 1, {
      timeout: CONNECT_TIMEOUT,
      polling: 100,
    }, tileSelector(jo.id));
  } catch (err) {
    const levels = await quiet.evaluate(() => window.haven.pc?.getReceivers()
      .filter((r) => r.track?.kind === 'audio')
      .map((r) => ({ track: r.track.id, sources: r.getSynchronizationSources() })));
    err.message += `\nIda's inbound: ${JSON.stringify(await inbound(quiet))}\naudio levels: ${JSON.stringify(levels)}`
      + `\nIda's page: ${JSON.stringify(await describePeer(quiet), null, 1)}`;
    throw err;
  }
  // The one with the mic off never is.
  await speaker.bringToFront();
  await sleep(3000);
  assert.equal(await speaker.$eval(tileSelector(ida.id), (el) => el.classList.contains('is-speaking')), false);

});
