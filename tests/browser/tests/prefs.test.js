// A member's own choices kept in this browser (web/js/prefs.js, one key `haven.prefs`), and
// the facilitator's door: the arrival chime heard (or not), "Admit all" from the toast by
// keyboard, and the phone's Camera button that says its state in words and shape, with 3
// and with 11 people (issue 24). Chromium and Firefox. Extra people and knocks are
// signaling-only "bots" (WebSockets from a page of the server's own origin, no media).

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting as joinPage, screenshot, waitForTile } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';
import { bots as joinBots, joinBudget } from '../lib/bots.js';

const PHONE = { width: 360, height: 640 };
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

async function joinMeeting(page, url, name, options) {
  await joinBudget(1);
  return joinPage(page, url, name, options);
}

/** Signaling-only people in `room` (lib/bots.js), from a Chromium tab closed after the test. */
async function bots(room, count, options) {
  const page = await (await browserOf('chromium')).newPage();
  opened.push(page);
  return joinBots(page, server.url, room, count, options);
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
    // devices.js's own key of earlier versions too (devices.test.js: the microphone is used).
    await setStorage(kind, { 'haven.chime': 'on', 'haven.shortcuts': 'off', 'haven.devices': JSON.stringify({ audio: 'mic-1' }) });
    const room = await server.createRoom();
    const page = await newPage(kind);
    await page.goto(room.join_url);
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    const checks = () =>
      page.evaluate(() => ({ chime: document.getElementById('set-chime').checked, shortcuts: document.getElementById('shortcuts-input').checked }));
    assert.deepEqual(await checks(), { chime: true, shortcuts: false }, 'the older settings were lost');
    const kept = await storage(page);
    assert.deepEqual(JSON.parse(kept[PREFS]), { layout: 'grid', hideSelf: false, chime: true, shortcuts: false, devices: { audio: 'mic-1' } });
    assert.equal(kept['haven.devices'], undefined, 'the old devices key is still there');
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

// ---- The facilitator's door: the chime, and "Admit all" by keyboard ----------------------

/** Counts the oscillators pages start (only chime.js makes any), with their pitch. */
function countTones() {
  window.__tones = [];
  const proto = window.AudioScheduledSourceNode?.prototype ?? window.OscillatorNode.prototype;
  const start = proto.start;
  proto.start = function (...args) {
    if (this instanceof OscillatorNode) window.__tones.push(this.frequency.value);
    return start.apply(this, args);
  };
}
const tones = (page) => page.evaluate(() => window.__tones.slice());

/** A facilitator page at `size` in `room`, with the room's waiting room turned on. */
async function door(kind, room, { size = DESKTOP, before } = {}) {
  const page = await newPage(kind, size);
  if (before) await page.evaluateOnNewDocument(before);
  const you = await joinMeeting(page, room.facilitator_url, 'Chair', { audio: false, video: false });
  assert.equal(you.role, 'facilitator');
  await page.click('#set-waiting');
  await page.waitForFunction(() => window.haven.roomInfo?.waiting_room === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
  return page;
}

const toastSays = (page, re) =>
  page.waitForFunction((re) => !document.getElementById('arrival-toast').hidden && new RegExp(re).test(document.getElementById('arrival-text').textContent), { timeout: CONNECT_TIMEOUT, polling: 200 }, re);

for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1';

  test(`with_the_chime_on_an_arrival_plays_it_and_with_it_off_nothing_plays (${kind})`, { timeout: 120_000, skip }, async () => {
    await setStorage(kind);
    const room = await server.createRoom();
    const chair = await door(kind, room, { before: countTones });
    assert.equal(await chair.$eval('#set-chime', (i) => i.checked), false, 'the chime is off by default');

    // Off: an arrival shows the toast and plays nothing.
    await bots(room, 1, { prefix: 'Gus', until: 'waiting' });
    await toastSays(chair, 'Gus 1 is waiting');
    await sleep(1000);
    assert.deepEqual(await tones(chair), [], 'a chime played while off');

    // On: ticking it plays it once to hear it, then each arrival plays it (two soft notes).
    await chair.bringToFront();
    await chair.click('#set-chime');
    await chair.waitForFunction(() => window.__tones.length === 2, { timeout: 5000, polling: 100 });
    await chair.evaluate(() => window.__tones.splice(0));
    await bots(room, 1, { prefix: 'Kim', until: 'waiting' });
    await toastSays(chair, 'Kim 1 and 1 other');
    await chair.waitForFunction(() => window.__tones.length >= 2, { timeout: 5000, polling: 100 });
    await sleep(500);
    assert.deepEqual(await tones(chair), [660, 880], 'an arrival with the chime on');

    // Kept for the next page in this browser; off again, the next arrival is silent.
    assert.equal(JSON.parse((await storage(chair))[PREFS]).chime, true);
    await chair.evaluate(() => window.__tones.splice(0));
    await chair.bringToFront();
    await chair.click('#set-chime');
    await bots(room, 1, { prefix: 'Lou', until: 'waiting' });
    await toastSays(chair, 'Lou 1 and 2 others');
    await sleep(1000);
    assert.deepEqual(await tones(chair), [], 'a chime played after it was turned off');
    assertNoPageErrors(chair, kind);
  });

  test(`admit_all_in_the_toast_by_keyboard_lets_everyone_in_and_keeps_the_focus_in_view (${kind})`, { timeout: 120_000, skip }, async () => {
    await setStorage(kind);
    const room = await server.createRoom();
    const chair = await door(kind, room);
    const knockers = await bots(room, 3, { prefix: 'Kim', until: 'waiting' });
    await toastSays(chair, 'Kim 3 and 2 others');
    assert.equal(await chair.$eval('#arrival-admit-all', (b) => (b.hidden ? null : b.textContent)), 'Admit all 3');
    await chair.bringToFront();
    await chair.focus('#arrival-admit-all');
    await chair.keyboard.press('Enter');
    await knockers.page.waitForFunction(() => window.botState.length === 3 && window.botState.every((s) => s === 'joined'), {
      timeout: CONNECT_TIMEOUT,
      polling: 200,
    });
    await chair.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 4, { timeout: CONNECT_TIMEOUT, polling: 200 });
    const sent = (await chair.evaluate(() => window.haven.trace)).filter((m) => m.dir === 'out' && /^admit/.test(m.type)).map((m) => m.type);
    assert.deepEqual(sent, ['admit_all'], 'one press, one admit_all');
    const after = await chair.evaluate(() => {
      const el = document.activeElement;
      return {
        toast: document.getElementById('arrival-toast').hidden,
        badges: ['staff-waiting-badge', 'more-waiting-badge'].map((id) => document.getElementById(id).hidden),
        count: document.getElementById('waiting-count').textContent,
        focus: el === document.body || !el ? 'body' : el.id || el.tagName,
        focusShown: !!el && el !== document.body && el.getClientRects().length > 0,
      };
    });
    assert.deepEqual(after, { toast: true, badges: [true, true], count: '', focus: 'staff-heading', focusShown: true });
    assertNoPageErrors(chair, kind);
  });
}

// ---- The phone's Camera button, not colour alone (WCAG 1.4.1) ---------------------------

/** The Camera button of the bar as a person and a screen reader meet it, and where a tap lands. */
const cameraButton = (page) =>
  page.evaluate(() => {
    const b = document.querySelector('#screen-meeting [data-toggle="video"]');
    const short = b.querySelector('.short');
    const r = b.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {
      pressed: b.getAttribute('aria-pressed'),
      word: short.getClientRects().length ? short.textContent : null,
      slash: getComputedStyle(b.querySelector('.icon-slash')).display !== 'none',
      onScreen: r.top >= 0 && r.bottom <= innerHeight + 0.5 && r.left >= 0 && r.right <= innerWidth + 0.5,
      tapLands: !!hit && (hit === b || b.contains(hit)) ? true : `${hit?.tagName}.${hit?.className}`,
    };
  });

const CAMERA_OFF = { pressed: 'false', word: 'Camera off', slash: true, onScreen: true, tapLands: true };
const CAMERA_ON = { pressed: 'true', word: 'Camera on', slash: false, onScreen: true, tapLands: true };

for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1';

  test(`on_a_phone_the_camera_button_says_on_or_off_in_words_and_shape_with_3_and_with_11_people (${kind})`, { timeout: 150_000, skip }, async () => {
    await setStorage(kind);
    const room = await server.createRoom();
    const phone = await newPage(kind, PHONE, { touch: true });
    await joinMeeting(phone, room.join_url, 'Pat', { audio: false, video: false });
    const two = await bots(room, 2);
    await phone.bringToFront();
    await waitForTile(phone, two.ids[1], 'Guest 2');
    const press = async () => {
      await phone.bringToFront();
      if (kind === 'chromium') await phone.tap('#screen-meeting [data-toggle="video"]');
      else await phone.click('#screen-meeting [data-toggle="video"]');
    };
    const video = async (on) => {
      await phone.waitForFunction((on) => window.haven.media.video === on, { timeout: CONNECT_TIMEOUT, polling: 100 }, on);
      await phone.evaluate(() => window.haven.settled());
    };

    assert.deepEqual(await cameraButton(phone), CAMERA_OFF, '3 people, camera off');
    await press();
    await video(true);
    assert.deepEqual(await cameraButton(phone), CAMERA_ON, '3 people, camera on');
    // The two looks differ in more than colour: the word, the slash, and what is announced.
    const name = (page) => page.$eval('#screen-meeting [data-toggle="video"]', (b) => b.querySelector('.toggle-name').textContent);
    assert.equal(await name(phone), 'Camera');

    const more = await bots(room, 8, { prefix: 'More' });
    await phone.bringToFront();
    await phone.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 11, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await sleep(300);
    assert.deepEqual(await cameraButton(phone), CAMERA_ON, '11 people, camera on');
    await screenshot(phone, `prefs-${kind}-phone-11-camera-on`, { fullPage: false });
    await press();
    await video(false);
    assert.deepEqual(await cameraButton(phone), CAMERA_OFF, '11 people, camera off');
    await screenshot(phone, `prefs-${kind}-phone-11-camera-off`, { fullPage: false });
    void more;
    assertNoPageErrors(phone, kind);
  });
}
