// A member's own choices kept in this browser (web/js/prefs.js, one key `haven.prefs`)
// (issue 24). Chromium and Firefox. Extra people are signaling-only "bots" (WebSockets from
// a page of the server's own origin, no media).

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting as joinPage, screenshot } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

const DESKTOP = { width: 1280, height: 800 };
const PREFS = 'haven.prefs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
const browsers = {};
before(async () => {
  // BEFORE_WEB_DIR serves another copy of web/ (an older commit's) to see the tests fail there.
  server = await startServer('prefs', { webDir: process.env.BEFORE_WEB_DIR || undefined });
});
after(async () => {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  await server?.stop();
});

const LAUNCH = { chromium: launchChromium, firefox: launchFirefox };
async function browserOf(kind) {
  browsers[kind] ??= await LAUNCH[kind]();
  return browsers[kind];
}

/** Every page a test opens, closed after it whatever happened (bots hold sockets open). */
const opened = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => {});
});

/** A page of `kind` at `size` (a phone gets touch where the browser can emulate it). */
async function newPage(kind, size = DESKTOP, { touch = false } = {}) {
  const page = await (await browserOf(kind)).newPage();
  opened.push(page);
  if (touch && kind === 'chromium') await page.setViewport({ ...size, hasTouch: true, isMobile: true });
  else await page.setViewport(size);
  return page;
}

/**
 * This browser's storage as a test starts: `entries` (key → string) and nothing else. The
 * pages of one browser share it, as the tabs of one person's browser do.
 */
async function setStorage(kind, entries = {}) {
  const page = await newPage(kind);
  await page.goto(`${server.url}/`);
  await page.evaluate((entries) => {
    localStorage.clear();
    for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
  }, entries);
  await page.close();
}

const storage = (page) => page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));

/** The server lets one address make 60 join attempts a minute: stay under it. */
const joinTimes = [];
async function joinBudget(n) {
  for (;;) {
    const now = Date.now();
    while (joinTimes.length && now - joinTimes[0] > 61_000) joinTimes.shift();
    if (joinTimes.length + n <= 50) break;
    await sleep(Math.max(200, joinTimes[0] + 61_000 - now));
  }
  for (let i = 0; i < n; i++) joinTimes.push(Date.now());
}

async function joinMeeting(page, url, name, options) {
  await joinBudget(1);
  return joinPage(page, url, name, options);
}

/**
 * `count` signaling-only people joining `room` (from Chromium: Firefox opens one WebSocket to
 * a host at a time). Resolves once each is in, or waits (`until: 'waiting'`, a room with a
 * waiting room). `state(i)` is the last state the server gave bot i.
 */
async function bots(room, count, { prefix = 'Guest', until = 'joined' } = {}) {
  await joinBudget(count);
  const page = await (await browserOf('chromium')).newPage();
  opened.push(page);
  await page.goto(`${server.url}/`);
  const ids = await page.evaluate(
    async (roomId, count, prefix, until) => {
      window.bots ??= [];
      window.botState ??= [];
      const one = (i) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/ws`);
          const n = window.bots.push(ws) - 1;
          ws.onmessage = (event) => {
            const msg = JSON.parse(event.data);
            if (msg.type === 'hello') {
              ws.send(JSON.stringify({ type: 'join', room: roomId, name: `${prefix} ${i + 1}` }));
            } else if (msg.type === 'joined' || msg.type === 'waiting') {
              window.botState[n] = msg.type;
              if (msg.type === until) resolve(msg.you?.id ?? null);
              else if (until === 'waiting') reject(new Error(`${prefix} ${i + 1} was let in without waiting`));
            } else if (msg.type === 'error' || msg.type === 'closed') {
              reject(new Error(`${prefix} ${i + 1}: ${msg.code}`));
            }
          };
        });
      const ids = [];
      for (let i = 0; i < count; i++) ids.push(await one(i));
      return ids;
    },
    room.id,
    count,
    prefix,
    until,
  );
  return { page, ids, states: () => page.evaluate(() => window.botState.slice()) };
}

/** Presses "More", then the view option `id` (the menu closes after it). */
async function viewOption(page, id) {
  await page.bringToFront();
  await page.click('#more-button');
  await page.waitForFunction((id) => document.getElementById(id).getClientRects().length > 0, { timeout: 5000, polling: 100 }, id);
  await page.click(`#${id}`);
}

/** What the page shows of its layout: the state, the two view toggles, the grid, my tile. */
const shownLayout = (page) =>
  page.evaluate(() => ({
    layout: window.haven.layout.layout,
    hideSelf: window.haven.layout.hideSelf,
    pinned: window.haven.layout.pinned,
    speakerPressed: document.getElementById('layout-button').getAttribute('aria-pressed'),
    hidePressed: document.getElementById('hide-self-button').getAttribute('aria-pressed'),
    speakerGrid: document.getElementById('grid').classList.contains('is-speaker'),
    selfShown: (document.querySelector('#grid .tile.is-self')?.getClientRects().length ?? 0) > 0,
  }));

const CHOSEN = { layout: 'speaker', hideSelf: true, pinned: null, speakerPressed: 'true', hidePressed: 'true', speakerGrid: true, selfShown: false };
const DEFAULT = { layout: 'grid', hideSelf: false, pinned: null, speakerPressed: 'false', hidePressed: 'false', speakerGrid: false, selfShown: true };

for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1';

  test(`speaker_view_and_hide_my_video_survive_a_reload_and_the_next_meeting_but_a_pin_does_not (${kind})`, { timeout: 120_000, skip }, async () => {
    await setStorage(kind);
    const room = await server.createRoom();
    const page = await newPage(kind);
    const me = await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    const crowd = await bots(room, 2);
    await page.bringToFront();
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 3, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await shownLayout(page), DEFAULT, 'a fresh browser starts with the grid');
    await viewOption(page, 'layout-button');
    await viewOption(page, 'hide-self-button');
    await page.click(`#grid .tile[data-participant-id="${crowd.ids[1]}"] .tile-pin`);
    await page.waitForFunction((id) => window.haven.layout.pinned === id, { timeout: 5000, polling: 100 }, crowd.ids[1]);

    // Kept: only the person's own choices, nothing about anyone in the meeting.
    const kept = await storage(page);
    assert.deepEqual(JSON.parse(kept[PREFS]), { layout: 'speaker', hideSelf: true, chime: false, shortcuts: true });
    for (const secret of [me.id, ...crowd.ids, room.id, 'Pat', 'Guest']) {
      assert.ok(!kept[PREFS].includes(secret), `${secret} is kept in ${PREFS}: ${kept[PREFS]}`);
    }

    // A reload of the same meeting.
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 3, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await shownLayout(page), CHOSEN, 'after a reload');
    await screenshot(page, `prefs-${kind}-after-reload`, { fullPage: false });

    // The next meeting, in another tab of the same browser.
    const next = await server.createRoom();
    const again = await newPage(kind);
    await joinMeeting(again, next.join_url, 'Pat', { audio: false, video: false });
    await bots(next, 1);
    await again.bringToFront();
    await again.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 2, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await shownLayout(again), CHOSEN, 'in the next meeting');

    // Back to the grid there: the next page opens with the grid, my video still hidden.
    await viewOption(again, 'layout-button');
    await again.waitForFunction(() => window.haven.layout.layout === 'grid', { timeout: 5000, polling: 100 });
    const third = await newPage(kind);
    await joinMeeting(third, next.join_url, 'Pat 2', { audio: false, video: false });
    const seen = await shownLayout(third);
    assert.deepEqual([seen.layout, seen.hideSelf, seen.speakerPressed, seen.hidePressed], ['grid', true, 'false', 'true']);
    for (const p of [page, again, third]) assertNoPageErrors(p, kind);
  });

  test(`garbage_in_the_kept_preferences_gives_the_defaults_and_no_page_error (${kind})`, { timeout: 120_000, skip }, async () => {
    const cases = [
      ['{not json', { layout: 'grid', hideSelf: false }],
      ['[1,2,3]', { layout: 'grid', hideSelf: false }],
      ['null', { layout: 'grid', hideSelf: false }],
      ['"speaker"', { layout: 'grid', hideSelf: false }],
      ['{"layout":"sideways","hideSelf":"yes","chime":1,"shortcuts":"off"}', { layout: 'grid', hideSelf: false }],
      // What is readable is kept; the rest falls back.
      ['{"layout":"speaker","hideSelf":7}', { layout: 'speaker', hideSelf: false }],
    ];
    const room = await server.createRoom();
    for (const [raw, want] of cases) {
      await setStorage(kind, { [PREFS]: raw });
      const page = await newPage(kind);
      await page.goto(room.join_url);
      await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
      const seen = await page.evaluate(() => ({
        layout: window.haven.layout.layout,
        hideSelf: window.haven.layout.hideSelf,
        chime: document.getElementById('set-chime').checked,
        shortcuts: document.getElementById('shortcuts-input').checked,
      }));
      assert.deepEqual(seen, { ...want, chime: false, shortcuts: true }, `with ${raw}`);
      assertNoPageErrors(page, `${kind}, ${raw}`);
      await page.close();
    }

    // In a meeting with garbage kept: the defaults, and the next choice replaces the garbage.
    await setStorage(kind, { [PREFS]: '{"layout":' });
    const page = await newPage(kind);
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    assert.deepEqual(await shownLayout(page), DEFAULT);
    await viewOption(page, 'hide-self-button');
    await page.waitForFunction(() => window.haven.layout.hideSelf, { timeout: 5000, polling: 100 });
    assert.deepEqual(JSON.parse((await storage(page))[PREFS]), { layout: 'grid', hideSelf: true, chime: false, shortcuts: true });
    assertNoPageErrors(page, kind);
  });

  test(`the_older_chime_and_shortcut_settings_move_into_the_one_key_once (${kind})`, { timeout: 60_000, skip }, async () => {
    await setStorage(kind, { 'haven.chime': 'on', 'haven.shortcuts': 'off' });
    const room = await server.createRoom();
    const page = await newPage(kind);
    await page.goto(room.join_url);
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    const checks = () =>
      page.evaluate(() => ({ chime: document.getElementById('set-chime').checked, shortcuts: document.getElementById('shortcuts-input').checked }));
    assert.deepEqual(await checks(), { chime: true, shortcuts: false }, 'the older settings were lost');
    const kept = await storage(page);
    assert.deepEqual(JSON.parse(kept[PREFS]), { layout: 'grid', hideSelf: false, chime: true, shortcuts: false });
    assert.equal(kept['haven.chime'], undefined, 'the old chime key is still there');
    assert.equal(kept['haven.shortcuts'], undefined, 'the old shortcuts key is still there');
    // Once: a later change is not undone by an old key written again by an older page.
    await page.evaluate(() => localStorage.setItem('haven.chime', 'off'));
    await page.reload();
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.deepEqual(await checks(), { chime: true, shortcuts: false });
    assertNoPageErrors(page, kind);
  });
}
