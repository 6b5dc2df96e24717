// Joining and coming back: the group's guidelines with "I agree", a ban that sticks through
// the per-meeting token kept in the browser, and an automatic reconnection after the
// connection drops. One server and one Chromium for the file.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, expectMediaFrom, joinMeeting, leaveMeeting, screenshot, waitForTile } from '../lib/meeting.js';
import { startRelay } from '../lib/proxy.js';
import { startServer } from '../lib/server.js';

let server;
let browser;
before(async () => {
  server = await startServer('join');
  browser = await launchChromium();
});
after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const wait = (page, fn, ...args) => page.waitForFunction(fn, { timeout: CONNECT_TIMEOUT, polling: 200 }, ...args);
const text = (page, selector) => page.$eval(selector, (el) => el.textContent);
async function click(page, selector) {
  await page.bringToFront();
  await page.click(selector);
}

async function facilitated() {
  const room = await server.createRoom();
  const page = await browser.newPage();
  const you = await joinMeeting(page, room.facilitator_url, 'Chair', { audio: false, video: false });
  assert.equal(you.role, 'facilitator');
  return { room, page };
}

/** A room whose facilitator (on the returned page) has set guidelines. */
async function roomWithGuidelines() {
  const { room, page: chair } = await facilitated();
  await chair.bringToFront();
  await chair.$eval('#set-guidelines', (el) => {
    el.value = 'What is said here stays here.\nPlease keep shares to about three minutes.';
    el.dispatchEvent(new Event('input'));
  });
  await click(chair, '#save-guidelines');
  await wait(chair, () => /stays here/.test(window.haven.roomInfo?.guidelines ?? ''));
  return { room, chair };
}

test('guidelines_must_be_agreed_to_before_joining', { timeout: 90_000 }, async () => {
  const { room, chair } = await roomWithGuidelines();

  const page = await browser.newPage();
  await page.bringToFront();
  await page.goto(room.join_url);
  await wait(page, () => !document.getElementById('guidelines-box').hidden);
  assert.match(await text(page, '#guidelines-text'), /stays here/);
  assert.match(await text(page, '.privacy-note'), /Nothing is recorded/);
  await screenshot(page, 'join-guidelines');
  await page.type('#name-input', 'Nia');
  await page.click('#join-button');
  assert.ok(await page.$eval('#agree-error', (el) => !el.hidden));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'agree-input');
  assert.deepEqual(await page.evaluate(() => window.haven.trace), [], 'nothing was sent');

  await page.click('#agree-input');
  await page.click('#join-button');
  await wait(page, () => window.haven.state === 'joined');
  assertNoPageErrors(page, 'Nia');
  await page.close();
  await chair.close();
});

// The title and guidelines come from the server after the page loads; were the join screen
// shown before them, the mic and camera buttons would jump down under the person's pointer
// (and a click meant for the microphone would land elsewhere).
test('the_join_screen_does_not_move_once_shown', { timeout: 90_000 }, async () => {
  const { room, chair } = await roomWithGuidelines();
  const page = await browser.newPage();
  await page.bringToFront();
  // Where the microphone button stood the moment the join screen first became visible.
  await page.evaluateOnNewDocument(() => {
    new MutationObserver((_, observer) => {
      const screen = document.getElementById('screen-join');
      if (!screen || screen.hidden) return;
      window.micFirstSeenAt = document.querySelector('#screen-join [data-toggle="audio"]').getBoundingClientRect().top;
      observer.disconnect();
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });
  await page.goto(room.join_url);
  await wait(page, () => !document.getElementById('guidelines-box').hidden && window.micFirstSeenAt !== undefined);
  const { first, now } = await page.evaluate(() => ({
    first: window.micFirstSeenAt,
    now: document.querySelector('#screen-join [data-toggle="audio"]').getBoundingClientRect().top,
  }));
  assert.equal(now, first, 'the microphone button stays where it was first shown');
  assertNoPageErrors(page, 'joiner');
  await page.close();
  await chair.close();
});

test('a_removed_and_banned_member_sees_why_and_cannot_come_back', { timeout: 90_000 }, async () => {
  const { room, page: chair } = await facilitated();
  const page = await browser.newPage();
  const rex = await joinMeeting(page, room.join_url, 'Rex', { audio: false, video: false });
  await waitForTile(chair, rex.id, 'Rex');
  await chair.bringToFront();
  const sel = `#people-list li[data-participant-id="${rex.id}"] button`;
  await chair.$$eval(sel, (buttons) => buttons.find((b) => b.firstChild.textContent === 'Remove and ban').click());
  // Removing asks again first (web/js/confirm.js).
  await chair.waitForFunction(() => document.getElementById('confirm-dialog').open);
  await chair.click('#confirm-ok');
  await wait(page, () => window.haven.state === 'problem');
  assert.match(await text(page, '#problem-heading'), /removed|can't join/i);
  await screenshot(page, 'removed');

  // Reload: the stored token is sent with the new join, and the server refuses it.
  await page.bringToFront();
  await page.goto('about:blank');
  await page.goto(room.join_url, { waitUntil: 'load' });
  await wait(page, () => window.haven?.state === 'join');
  await page.type('#name-input', 'Rex again');
  await page.click('#join-button');
  await wait(page, () => window.haven.state === 'problem');
  assert.match(await text(page, '#problem-heading'), /can't join/i);
  await page.close();
  await chair.close();
});

test('a_dropped_connection_reconnects_by_itself_and_says_so', { timeout: 90_000 }, async () => {
  const { room, page: chair } = await facilitated();
  const relay = await startRelay(server.url);
  const page = await browser.newPage();
  const viaRelay = `${relay.url}${new URL(room.join_url).pathname}`;
  const first = await joinMeeting(page, viaRelay, 'Ola', { audio: true, video: true });
  await waitForTile(chair, first.id, 'Ola');

  // The network drops the socket (no close frame): the server keeps Ola's place and the
  // page takes it back with `resume`, as the same participant.
  relay.dropAll();
  await wait(page, () => window.haven.trace.some((m) => m.dir === 'out' && m.type === 'resume'));
  await wait(page, () => window.haven.state === 'joined');
  const trace = await page.evaluate(() => window.haven.trace);
  assert.equal(trace.filter((m) => m.dir === 'out' && m.type === 'join').length, 1, 'no second join');
  // The microphone stays on across the reconnection.
  assert.equal(await page.evaluate(() => window.haven.media.audio), true);
  assert.match(await text(page, '#announcer'), /back in the meeting/);
  const again = await page.evaluate(() => window.haven.you);
  assert.equal(again.id, first.id, 'the same participant came back');
  await waitForTile(chair, again.id, 'Ola');
  const chairTrace = await chair.evaluate(() => window.haven.trace);
  assert.ok(!chairTrace.some((m) => m.type === 'participant_left'), 'the facilitator never saw Ola leave');
  await expectMediaFrom(chair, again.id, "the facilitator's page after Ola came back");
  assertNoPageErrors(page, 'Ola');
  await page.close();
  await relay.close();
  await chair.close();
});

test('a_slow_join_shows_on_the_button_at_once_and_as_a_joining_screen_after_a_moment', { timeout: 60_000 }, async () => {
  const room = await server.createRoom();
  const relay = await startRelay(server.url);
  const page = await browser.newPage();
  try {
    await page.goto(`${relay.url}${new URL(room.join_url).pathname}`, { waitUntil: 'load' });
    await wait(page, () => window.haven?.state === 'join' && !!window.haven.roomInfo);
    await page.type('#name-input', 'Uma');

    // The server is slow to answer: the click is acknowledged on the button at once, and the
    // join screen stays (no flash of a "Joining…" screen for a join that takes a moment).
    relay.hold();
    // Clicked and looked at in the page itself (at once, and 150 ms later by the page's own
    // timer), so a slow test machine cannot stretch the moment.
    const seen = await page.evaluate(async () => {
      const button = document.getElementById('join-button');
      const look = () => ({
        text: button.textContent,
        busy: button.getAttribute('aria-busy'),
        joinScreenShown: !document.getElementById('screen-join').hidden,
      });
      button.click();
      const atClick = look();
      await new Promise((resolve) => setTimeout(resolve, 150));
      return [atClick, look()];
    });
    const busy = { text: 'Joining…', busy: 'true', joinScreenShown: true };
    assert.deepEqual(seen, [busy, busy]);

    // Still waiting after a moment: the "Joining…" screen says so.
    await wait(page, () => !document.getElementById('screen-connecting').hidden);
    assert.equal(await page.$eval('#screen-join', (s) => s.hidden), true);
    assert.match(await text(page, '#connecting-heading'), /Joining/);

    relay.release();
    await wait(page, () => window.haven.state === 'joined' && !document.getElementById('screen-meeting').hidden);
    // Back on the join screen later, the button is a plain Join button again.
    await leaveMeeting(page);
    await click(page, '#rejoin-button');
    await wait(page, () => window.haven.state === 'join');
    assert.deepEqual(
      await page.$eval('#join-button', (b) => ({ text: b.textContent, busy: b.getAttribute('aria-busy') })),
      { text: 'Join', busy: null },
    );
    assertNoPageErrors(page, 'Uma');
  } finally {
    await page.close();
    await relay.close();
  }
});
