// The meeting view as people really use it (issue 24): a phone at 360×640 and a desktop at
// 1280×800, meetings of 3 and of 11, in Chromium and Firefox. Each test here was written to
// fail on the client before its fix. The extra people of a big meeting are signaling-only
// "bots": WebSockets opened from a page of the server's own origin, with no media at all.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, inbound, joinMeeting as joinPage, screenshot, waitForTile } from '../lib/meeting.js';
import { bots as joinBots, joinBudget } from '../lib/bots.js';
import { startServer } from '../lib/server.js';

const PHONE = { width: 360, height: 640 };
const DESKTOP = { width: 1280, height: 800 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
const browsers = {};
before(async () => {
  // BEFORE_WEB_DIR serves another copy of web/ (an older commit's, from `git archive`) to
  // see these tests fail on the client before its fixes.
  server = await startServer('meeting-view', { webDir: process.env.BEFORE_WEB_DIR || undefined });
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

/** A page of `kind` at `size`; a phone gets touch where the browser can emulate it. */
/** Every page a test opens, closed after it whatever happened (bots hold sockets open). */
const opened = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => {});
});

async function newPage(kind, size, { touch = false } = {}) {
  const page = await (await browserOf(kind)).newPage();
  opened.push(page);
  if (touch && kind === 'chromium') await page.setViewport({ ...size, hasTouch: true, isMobile: true });
  else await page.setViewport(size);
  return page;
}

async function closeAll(pages) {
  for (const p of pages) await p.close().catch(() => {});
}

/**
 * `count` signaling-only participants in `room` (lib/bots.js), from a Chromium tab of their
 * own that keeps them there until it closes: Firefox opens one WebSocket to a host at a
 * time, and a closed page's sockets held up the next test's join there. With `key` they join
 * as facilitators.
 */
async function bots(kind, room, count, { key = null, prefix = 'Guest' } = {}) {
  void kind;
  const page = await (await browserOf('chromium')).newPage();
  opened.push(page);
  return joinBots(page, server.url, room, count, { key, prefix });
}

async function joinMeeting(page, url, name, options) {
  await joinBudget(1);
  return joinPage(page, url, name, options);
}

const keyOf = (room) => new URL(room.facilitator_url).hash.replace(/^#key=/, '');

/**
 * Every visible control of the meeting's control bar (and of its "More" menu when open) is
 * what a tap at its centre lands on: `document.elementFromPoint` returns it or something in
 * it. Returns the misses, each with what was hit instead.
 */
function missedControls(page, selector = '.controls button, .controls [role="menuitem"]') {
  return page.evaluate((selector) => {
    const misses = [];
    for (const el of document.querySelectorAll(selector)) {
      if (el.closest('[hidden]') || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      const r = el.getBoundingClientRect();
      const name = (el.getAttribute('aria-label') || el.textContent).trim().replace(/\s+/g, ' ');
      if (r.top < 0 || r.bottom > innerHeight + 0.5 || r.left < 0 || r.right > innerWidth + 0.5) {
        misses.push(`${name}: not wholly on screen (${Math.round(r.top)}–${Math.round(r.bottom)} of ${innerHeight})`);
        continue;
      }
      // The centre, and halfway from it to each edge: a finger is not a point.
      const points = [
        [0.5, 0.5],
        [0.5, 0.25],
        [0.5, 0.75],
        [0.25, 0.5],
        [0.75, 0.5],
      ];
      for (const [fx, fy] of points) {
        const x = r.left + r.width * fx;
        const y = r.top + r.height * fy;
        const hit = document.elementFromPoint(x, y);
        if (!hit || !(hit === el || el.contains(hit))) {
          const what = hit ? `${hit.tagName.toLowerCase()}.${[...hit.classList].join('.')} "${hit.textContent.trim().slice(0, 40)}"` : 'nothing';
          misses.push(`${name}: a tap at ${fx},${fy} of it lands on ${what}`);
          break;
        }
      }
    }
    return misses;
  }, selector);
}

/** Scrolls the page through its whole height, hit-testing the bar at each step. */
async function missedWhileScrolling(page) {
  const misses = new Set();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let y = 0; y <= height; y += 160) {
    await page.evaluate((y) => window.scrollTo(0, y), y);
    await sleep(50);
    for (const m of await missedControls(page)) misses.add(`(scrolled to ${y}) ${m}`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  return [...misses];
}

for (const kind of ['chromium', 'firefox']) {
  test(`every_control_of_the_phone_bar_takes_a_tap_with_3_and_with_11_people (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const phone = await newPage(kind, PHONE, { touch: true });
    const other = await newPage(kind, DESKTOP);
    const me = await joinMeeting(phone, room.join_url, 'Pat', { audio: false, video: true });
    const dee = await joinMeeting(other, room.join_url, 'Dee', { audio: false, video: false });
    const three = await bots(kind, room, 1, { prefix: 'Ahmed' });
    await phone.bringToFront();
    await waitForTile(phone, three.ids[0], 'Ahmed 1');
    await waitForTile(phone, dee.id, 'Dee');
    let misses = await missedWhileScrolling(phone);
    await screenshot(phone, `meeting-view-${kind}-phone-3`, { fullPage: false });
    assert.deepEqual(misses, [], `3 people: ${misses.join('\n')}`);

    const more = await bots(kind, room, 8);
    // Hands up on a few tiles make their labels as tall as they get.
    for (const i of [0, 3, 7]) await more.send(i, { type: 'raise_hand' });
    await phone.bringToFront();
    await phone.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 11, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await phone.waitForFunction(() => document.querySelectorAll('#grid .tile.hand-raised').length === 3, { timeout: CONNECT_TIMEOUT, polling: 200 });
    misses = await missedWhileScrolling(phone);
    await screenshot(phone, `meeting-view-${kind}-phone-11`, { fullPage: false });
    assert.deepEqual(misses, [], `11 people: ${misses.join('\n')}`);

    // One compact row: every control of the bar on one line, the bar under a fifth of the screen.
    const bar = await phone.evaluate(() => {
      const shown = [...document.querySelectorAll('.controls > button')].filter((b) => !b.hidden && b.getClientRects().length);
      const tops = shown.map((b) => Math.round(b.getBoundingClientRect().top));
      return { count: shown.length, rows: new Set(tops).size, height: document.querySelector('.controls').getBoundingClientRect().height };
    });
    assert.equal(bar.rows, 1, `the bar's ${bar.count} controls take ${bar.rows} rows`);
    assert.ok(bar.height <= PHONE.height * 0.15, `the bar is ${bar.height}px tall on a ${PHONE.height}px screen`);

    // "More" opens the reactions above the bar; each takes a tap; the tray closes after use.
    if (kind === 'chromium') await phone.tap('#more-button');
    else await phone.click('#more-button');
    await phone.waitForFunction(() => document.querySelector('[data-reaction="heart"]').getClientRects().length > 0, { timeout: 5000, polling: 100 });
    await screenshot(phone, `meeting-view-${kind}-phone-more`, { fullPage: false });
    misses = await missedControls(phone, '#more-menu button');
    assert.deepEqual(misses, [], `the "More" menu: ${misses.join('\n')}`);
    if (kind === 'chromium') await phone.tap('[data-reaction="heart"]');
    else await phone.click('[data-reaction="heart"]');
    await phone.waitForFunction(() => window.haven.trace.some((m) => m.dir === 'out' && m.type === 'react'), { timeout: 5000, polling: 100 });
    assert.equal(await phone.$eval('[data-reaction="heart"]', (b) => b.getClientRects().length), 0, 'the reactions stay open after use');
    assert.equal(await phone.$eval('#more-button', (b) => b.getAttribute('aria-expanded')), 'false');

    // A real tap on "Raise hand" with the grid under it raises my hand.
    await phone.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    if (kind === 'chromium') await phone.tap('#hand-button');
    else await phone.click('#hand-button');
    await phone.waitForFunction((id) => window.haven.queue.some((e) => e.id === id), { timeout: CONNECT_TIMEOUT, polling: 200 }, me.id);
    assertNoPageErrors(phone, 'phone');
    await closeAll([phone, other, three.page, more.page]);
  });

  test(`a_notice_on_a_desktop_leaves_microphone_and_camera_clear_of_the_tiles (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    const crowd = await bots(kind, room, 10);
    await page.bringToFront();
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 11, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await page.evaluate(() => window.haven.deliver({ type: 'error', code: 'chat_disabled', message: 'Chat is off right now.' }));
    await page.waitForFunction(() => !document.getElementById('notice').hidden, { timeout: 5000, polling: 100 });
    await screenshot(page, `meeting-view-${kind}-desktop-notice`, { fullPage: false });
    const misses = await missedControls(page);
    assert.deepEqual(misses, [], misses.join('\n'));
    await closeAll([page, crowd.page]);
  });

  test(`when_it_is_my_turn_on_a_phone_the_countdown_and_done_button_stay_in_view (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const phone = await newPage(kind, PHONE, { touch: true });
    const me = await joinMeeting(phone, room.join_url, 'Pat', { audio: false, video: false });
    const chair = await bots(kind, room, 1, { key: keyOf(room), prefix: 'Chair' });
    const crowd = await bots(kind, room, 5);
    await chair.send(0, { type: 'update_settings', settings: { share_seconds: 180 } });
    await phone.bringToFront();
    // Raised without a tap: this test is about what shows once called (the tap is tested above).
    await phone.$eval('#hand-button', (b) => b.click());
    await phone.waitForFunction((id) => window.haven.queue.some((e) => e.id === id), { timeout: CONNECT_TIMEOUT, polling: 200 }, me.id);
    await chair.send(0, { type: 'call_next' });
    await phone.bringToFront();
    await phone.waitForFunction((id) => window.haven.floor?.id === id, { timeout: CONNECT_TIMEOUT, polling: 200 }, me.id);

    /** The shown countdown and "I'm done sharing": at least one of each in view and tappable. */
    const inView = () =>
      phone.evaluate(() => {
        const shown = (el) => !el.closest('[hidden]') && el.getClientRects().length > 0;
        const reachable = (el) => {
          const r = el.getBoundingClientRect();
          if (r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) return false;
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return !!hit && (hit === el || el.contains(hit));
        };
        const timers = [...document.querySelectorAll('[role="timer"]')].filter(shown);
        const done = [...document.querySelectorAll('button')].filter((b) => shown(b) && /done sharing/i.test(b.textContent));
        return {
          timer: timers.some(reachable),
          timerText: timers.map((t) => t.textContent).join(' | '),
          done: done.some(reachable),
        };
      });
    let seen = await inView();
    await screenshot(phone, `meeting-view-${kind}-phone-my-turn`, { fullPage: false });
    assert.ok(seen.timer && /left/.test(seen.timerText), `the countdown is not in view: ${JSON.stringify(seen)}`);
    assert.ok(seen.done, `"I'm done sharing" is not in view: ${JSON.stringify(seen)}`);

    // The one-minute warning (as the server words it) shows a notice: the timer stays put.
    await phone.evaluate((id) => window.haven.deliver({ type: 'timer_warning', id, seconds_left: 60 }), me.id);
    await phone.waitForFunction(() => !document.getElementById('notice').hidden, { timeout: 5000, polling: 100 });
    seen = await inView();
    await screenshot(phone, `meeting-view-${kind}-phone-one-minute`, { fullPage: false });
    assert.ok(seen.timer, `at the one-minute warning the countdown is not in view: ${JSON.stringify(seen)}`);
    assert.ok(seen.done, `at the one-minute warning "I'm done sharing" is not in view: ${JSON.stringify(seen)}`);

    await phone.click('button#done-button:not([hidden]), .controls button[data-action="done"]').catch(async () => {
      await phone.evaluate(() => [...document.querySelectorAll('button')].find((b) => /done sharing/i.test(b.textContent) && b.getClientRects().length)?.click());
    });
    await phone.waitForFunction(() => window.haven.floor === null, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assertNoPageErrors(phone, 'phone');
    await closeAll([phone, chair.page, crowd.page]);
  });

  test(`after_suspend_and_restore_a_members_messages_go_to_the_room_again (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    await joinMeeting(page, room.join_url, 'Lu', { audio: false, video: false });
    const chair = await bots(kind, room, 1, { key: keyOf(room), prefix: 'Chair' });
    await chair.send(0, { type: 'suspend' });
    await page.bringToFront();
    await page.waitForFunction(() => window.haven.roomInfo?.suspended === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
    // While suspended only the facilitators can be written to: the box says so.
    assert.equal(await page.$eval('#chat-private', (el) => el.checked), true);
    await chair.send(0, { type: 'restore' });
    await page.waitForFunction(() => window.haven.roomInfo?.suspended === false && window.haven.roomInfo.chat_enabled, {
      timeout: CONNECT_TIMEOUT,
      polling: 200,
    });
    assert.equal(await page.$eval('#chat-private', (el) => el.checked), false, '"Only to the facilitators" is still ticked after restore');

    await page.click('#chat-button');
    await page.type('#chat-input', 'Thanks, all');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.haven.trace.some((m) => m.dir === 'out' && (m.type === 'chat' || m.type === 'message_facilitators')), {
      timeout: 5000,
      polling: 100,
    });
    const sent = (await page.evaluate(() => window.haven.trace)).filter((m) => m.dir === 'out' && /chat|message_facilitators/.test(m.type));
    assert.equal(sent.at(-1).type, 'chat', JSON.stringify(sent));
    await closeAll([page, chair.page]);
  });

  test(`the_suspension_banner_and_the_refusal_notice_say_the_same (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    await joinMeeting(page, room.join_url, 'Lu', { audio: false, video: false });
    const chair = await bots(kind, room, 1, { key: keyOf(room), prefix: 'Chair' });
    await chair.send(0, { type: 'suspend' });
    await page.bringToFront();
    await page.waitForFunction(() => !document.getElementById('suspended-banner').hidden, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await sleep(300);
    // A reaction while suspended is refused with `room_suspended`.
    await page.evaluate(() => document.querySelector('[data-reaction="heart"]').click());
    await page.waitForFunction(() => window.haven.trace.some((m) => m.type === 'error' && m.code === 'room_suspended'), {
      timeout: CONNECT_TIMEOUT,
      polling: 200,
    });
    const [banner, notice] = await page.evaluate(() => [
      document.getElementById('suspended-banner').textContent.trim(),
      document.getElementById('notice').textContent.trim(),
    ]);
    const offList = (text) => /(?:Mics?|Microphones?)[^.]*? are off/i.exec(text)?.[0] ?? text;
    assert.equal(offList(notice), offList(banner), `banner: "${banner}"\nnotice: "${notice}"`);
    assert.match(banner, /reactions/i);
    assert.match(banner, /chat/i);
    await closeAll([page, chair.page]);
  });

  test(`tabbing_from_end_meeting_to_the_microphone_does_not_move_the_page (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    await joinMeeting(page, room.facilitator_url, 'Chair', { audio: false, video: false });
    const crowd = await bots(kind, room, 6);
    await page.bringToFront();
    await page.waitForFunction(() => document.querySelectorAll('#people-list li[data-participant-id]').length === 6, {
      timeout: CONNECT_TIMEOUT,
      polling: 200,
    });
    const before = await page.evaluate(() => ({
      scrollY: window.scrollY,
      height: document.documentElement.scrollHeight,
      bar: Math.round(document.querySelector('.controls').getBoundingClientRect().top),
    }));
    await page.focus('#end-button');
    await page.keyboard.press('Tab');
    const after = await page.evaluate(() => ({
      focused: document.activeElement?.textContent.trim().replace(/\s+/g, ' '),
      scrollY: window.scrollY,
      rootScroll: document.scrollingElement.scrollTop,
      height: document.documentElement.scrollHeight,
      bar: Math.round(document.querySelector('.controls').getBoundingClientRect().top),
    }));
    await screenshot(page, `meeting-view-${kind}-desktop-tabbed`, { fullPage: false });
    assert.match(after.focused, /Microphone/, JSON.stringify(after));
    assert.equal(after.rootScroll, 0, `the page moved: ${JSON.stringify({ before, after })}`);
    assert.equal(after.bar, before.bar, `the control bar moved: ${JSON.stringify({ before, after })}`);
    assert.ok(after.height <= DESKTOP.height + 1, `the page is ${after.height}px tall in an 800px window`);
    await closeAll([page, crowd.page]);
  });
}

test('a_second_start_a_meeting_asks_and_keeps_the_links_already_handed_out', { timeout: 60_000 }, async () => {
  const page = await newPage('chromium', DESKTOP);
  await page.goto(`${server.url}/`);
  await page.click('#start-button');
  await page.waitForSelector('#created', { visible: true, timeout: CONNECT_TIMEOUT });
  const first = await page.$eval('#join-url', (el) => el.value);
  assert.match(first, /\/m\//);

  // Pressed again (by a slip, or for a second group): it asks first.
  await page.click('#start-button');
  const asked = await page
    .waitForFunction(() => document.querySelector('dialog[open]'), { timeout: 3000, polling: 100 })
    .then(() => true)
    .catch(() => false);
  const links = () => page.$$eval('input[readonly]', (inputs) => inputs.map((i) => i.value));
  assert.ok(asked, `no question before a new meeting; the links now: ${JSON.stringify(await links())}`);
  await page.click('dialog[open] [value="cancel"]');
  await sleep(300);
  assert.equal(await page.$eval('#join-url', (el) => el.value), first, 'cancelled, yet the member link changed');

  // Confirmed: a new meeting, and the first one's links are still on the page.
  await page.click('#start-button');
  await page.waitForSelector('dialog[open]', { timeout: 3000 });
  await page.click('dialog[open] [value="ok"]');
  await page.waitForFunction((first) => document.getElementById('join-url').value !== first, { timeout: CONNECT_TIMEOUT, polling: 100 }, first);
  assert.ok((await links()).includes(first), `the first meeting's link is gone: ${JSON.stringify(await links())}`);
  await screenshot(page, 'meeting-view-landing-second-meeting');
  assertNoPageErrors(page, 'landing');
  await page.close();
});

for (const kind of ['chromium', 'firefox']) {
  test(`a_meeting_started_with_a_name_shows_it_and_its_secret_link_is_masked_until_asked (${kind})`, { timeout: 60_000 }, async () => {
    const page = await newPage(kind, PHONE, { touch: true });
    await page.goto(`${server.url}/`);
    await page.type('#title-input', 'Tuesday evening group');
    await page.click('#start-button');
    await page.waitForSelector('#created', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await page.$eval('#created-title', (el) => el.textContent), 'Tuesday evening group');
    assert.match(await page.$eval('#links-last', (el) => el.textContent), /work until 6 hours after the last person leaves the meeting \(1 hour if no one joins\)/);
    // The secret link is masked and set apart; "Show" reveals it, "Hide" masks it again.
    const secret = () => page.$eval('#facilitator-url', (el) => ({ type: el.type, value: el.value }));
    const joinUrl = await page.$eval('#join-url', (el) => el.value);
    assert.equal((await secret()).type, 'password');
    assert.ok((await secret()).value.startsWith(`${joinUrl}#key=`));
    for (const id of ['show-facilitator-url', 'title-input']) {
      const hit = await page.$eval(`#${id}`, (el) => {
        el.scrollIntoView({ block: 'center' });
        const r = el.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return at === el || el.contains(at);
      });
      assert.ok(hit, `#${id} takes a tap at its centre`);
    }
    await page.click('#show-facilitator-url');
    assert.equal((await secret()).type, 'text');
    assert.equal(await page.$eval('#show-facilitator-url', (el) => el.getAttribute('aria-pressed')), 'true');
    await page.click('#show-facilitator-url');
    assert.equal((await secret()).type, 'password');
    // Members see the name on the join screen.
    await page.goto(joinUrl);
    await page.waitForFunction(() => document.body.innerText.includes('Tuesday evening group'), { timeout: CONNECT_TIMEOUT, polling: 100 });
    assertNoPageErrors(page, 'landing');
    await page.close();
  });
}

/** Where the control bar and every tile stand now, rounded to the pixel. */
const layoutOf = (page) =>
  page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)].join(',');
    };
    return {
      bar: box(document.querySelector('.controls')),
      tiles: [...document.querySelectorAll('#grid .tile')].map(box),
    };
  });

for (const kind of ['chromium', 'firefox']) {
  for (const [size, label] of [
    [PHONE, 'phone'],
    [DESKTOP, 'desktop'],
  ]) {
    test(`a_notice_floats_over_the_meeting_and_moves_nothing (${kind}, ${label})`, { timeout: 90_000 }, async () => {
      const room = await server.createRoom();
      const page = await newPage(kind, size, { touch: label === 'phone' });
      await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
      const crowd = await bots(kind, room, 3);
      await page.bringToFront();
      await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 4, { timeout: CONNECT_TIMEOUT, polling: 200 });
      // Start from no notice at all (one from joining may still be up for a few seconds).
      await page.evaluate(() => {
        document.getElementById('notice').hidden = true;
        // From the top: scrolled down, Firefox's scroll anchoring would hide a shift.
        window.scrollTo(0, 0);
      });
      await sleep(300);
      const before = await layoutOf(page);
      await page.evaluate(() => window.haven.deliver({ type: 'error', code: 'chat_disabled', message: 'Chat is off right now.' }));
      await page.waitForFunction(() => !document.getElementById('notice').hidden, { timeout: 5000, polling: 100 });
      const during = await layoutOf(page);
      await screenshot(page, `meeting-view-${kind}-${label}-toast`, { fullPage: false });
      assert.deepEqual(during, before, 'the bar or the tiles moved when the notice appeared');
      // Screen readers hear it through the live region.
      assert.match(await page.$eval('#announcer', (el) => el.textContent), /Chat is off right now/);
      assertNoPageErrors(page, label);
      await closeAll([page, crowd.page]);
    });
  }

  test(`the_join_button_is_in_the_first_screenful_with_guidelines (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const chair = await bots(kind, room, 1, { key: keyOf(room), prefix: 'Chair' });
    const guidelines = [
      'What is said here stays here.',
      'Speak from your own experience; no advice unless someone asks for it.',
      'Keep shares to about three minutes so everyone has a turn.',
      'No cross-talk: listen while someone shares.',
      'You never have to share. Listening is welcome too.',
      'Be kind, to others and to yourself.',
    ].join('\n');
    await chair.send(0, { type: 'update_settings', settings: { guidelines } });
    await sleep(500);
    for (const [size, label] of [
      [DESKTOP, 'desktop'],
      [PHONE, 'phone'],
    ]) {
      const page = await newPage(kind, size, { touch: label === 'phone' });
      await page.bringToFront();
      await page.goto(room.join_url);
      await page.waitForFunction(() => !document.getElementById('guidelines-box').hidden && !document.getElementById('screen-join').hidden, {
        timeout: CONNECT_TIMEOUT,
        polling: 100,
      });
      await sleep(500);
      const seen = await page.evaluate(() => ({
        scrollY: window.scrollY,
        joinTop: document.getElementById('join-button').getBoundingClientRect().top + window.scrollY,
        agreeTop: document.getElementById('agree-input').getBoundingClientRect().top + window.scrollY,
        focused: document.activeElement?.id,
        height: innerHeight,
      }));
      await screenshot(page, `meeting-view-${kind}-${label}-join`, { fullPage: false });
      assert.equal(seen.scrollY, 0, `${label}: the page scrolled by itself: ${JSON.stringify(seen)}`);
      assert.ok(seen.joinTop >= 0 && seen.joinTop < seen.height - 24, `${label}: the Join button starts at ${seen.joinTop}px of ${seen.height}`);
      assert.ok(seen.agreeTop < seen.height, `${label}: "I agree" is below the first screenful`);
      assert.equal(seen.focused, 'name-input');
      assertNoPageErrors(page, label);
      await page.close();
    }
  });
}

/**
 * How the tiles use their space: the share of the room for tiles they cover (on a phone,
 * the window between the grid's top and the bar), whether any two overlap, and whether any
 * is cut off.
 */
const tileSpace = (page) =>
  page.evaluate(() => {
    const grid = document.getElementById('grid').getBoundingClientRect();
    const bar = document.querySelector('.controls').getBoundingClientRect();
    const room = { left: grid.left, top: grid.top, right: grid.right, bottom: Math.min(grid.bottom, bar.top) };
    if (innerWidth <= 700) room.bottom = bar.top;
    const tiles = [...document.querySelectorAll('#grid .tile')].map((t) => t.getBoundingClientRect());
    const area = tiles.reduce((n, r) => n + r.width * r.height, 0);
    let overlap = 0;
    for (let i = 0; i < tiles.length; i++) {
      for (let j = i + 1; j < tiles.length; j++) {
        const w = Math.min(tiles[i].right, tiles[j].right) - Math.max(tiles[i].left, tiles[j].left);
        const h = Math.min(tiles[i].bottom, tiles[j].bottom) - Math.max(tiles[i].top, tiles[j].top);
        if (w > 0.5 && h > 0.5) overlap = Math.max(overlap, Math.round(Math.min(w, h)));
      }
    }
    const cut = tiles.filter((r) => r.top < room.top - 0.5 || r.bottom > room.bottom + 0.5 || r.left < room.left - 0.5 || r.right > room.right + 0.5).length;
    return { share: area / ((room.right - room.left) * (room.bottom - room.top)), overlap, cut, count: tiles.length };
  });

for (const kind of ['chromium', 'firefox']) {
  test(`faces_fill_the_screen_and_eleven_fit_without_overlapping (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const desk = await newPage(kind, DESKTOP);
    await joinMeeting(desk, room.join_url, 'Pat', { audio: false, video: false });
    const phone = await newPage(kind, PHONE, { touch: true });
    await joinMeeting(phone, room.join_url, 'Lee', { audio: false, video: false });
    const one = await bots(kind, room, 1);
    for (const [page, label] of [
      [desk, 'desktop'],
      [phone, 'phone'],
    ]) {
      await page.bringToFront();
      await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 3, { timeout: CONNECT_TIMEOUT, polling: 200 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await sleep(400);
      const seen = await tileSpace(page);
      await screenshot(page, `meeting-view-${kind}-${label}-3-tiles`, { fullPage: false });
      assert.ok(seen.share >= 0.45, `${label}, 3 people: the tiles cover ${Math.round(seen.share * 100)} % of their space`);
      assert.equal(seen.overlap, 0, `${label}, 3 people: tiles overlap by ${seen.overlap}px`);
    }

    const more = await bots(kind, room, 8);
    await desk.bringToFront();
    await desk.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 11, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await sleep(400);
    const seen = await tileSpace(desk);
    await screenshot(desk, `meeting-view-${kind}-desktop-11-tiles`, { fullPage: false });
    assert.equal(seen.overlap, 0, `desktop, 11 people: tiles overlap by ${seen.overlap}px`);
    assert.equal(seen.cut, 0, `desktop, 11 people: ${seen.cut} tiles are cut off`);
    assertNoPageErrors(desk, 'desktop');
    await closeAll([desk, phone, one.page, more.page]);
  });
}

// ---- A microphone you can trust (issue 24, item 4) ------------------------------------

/** The highest `data-level` (0–100) the meter at `selector` shows over `ms`. */
const maxLevel = (page, selector, ms = 2500) =>
  page.evaluate(
    async (selector, ms) => {
      let max = 0;
      const end = performance.now() + ms;
      while (performance.now() < end) {
        max = Math.max(max, Number(document.querySelector(selector)?.dataset.level ?? 0));
        await new Promise((r) => setTimeout(r, 40));
      }
      return max;
    },
    selector,
    ms,
  );

const textOf = (page, selector) => page.$eval(selector, (el) => el.textContent.trim());
const MEETING_MIC = '#screen-meeting [data-toggle="audio"]';

for (const kind of ['chromium', 'firefox']) {
  test(`the_mic_meter_follows_the_fake_mic_and_talking_while_muted_is_noticed (${kind})`, { timeout: 120_000 }, async (t) => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    await page.bringToFront();
    await page.goto(room.join_url);
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await textOf(page, '#mic-check-text'), '', 'the check says something before the mic is on');

    // The join screen: the meter moves with the fake microphone, and says it hears it.
    await page.click('#screen-join [data-toggle="audio"]');
    await page.evaluate(() => window.haven.settled());
    await page.waitForFunction(() => window.haven.mic.heard || window.haven.mic.unavailable, { timeout: 10_000, polling: 100 });
    if (kind === 'firefox' && (await page.evaluate(() => window.haven.mic.unavailable))) {
      // Headless Firefox without a sound output never starts an AudioContext (it stays
      // "suspended"): no meter then, and the page must claim nothing it cannot know.
      t.diagnostic('this Firefox runs no AudioContext (no sound output): checking the page claims nothing');
      assert.equal(await textOf(page, '#mic-check-text'), '', 'the check speaks without hearing anything');
      assert.equal(await maxLevel(page, '#mic-check .mic-meter', 1000), 0);
      assertNoPageErrors(page, kind);
      await closeAll([page]);
      return;
    }
    assert.match(await textOf(page, '#mic-check-text'), /We can hear you/);
    const rose = await maxLevel(page, '#mic-check .mic-meter');
    assert.ok(rose >= 10, `the join screen's meter reached only ${rose} %`);
    await screenshot(page, `meeting-view-${kind}-mic-check`, { fullPage: false });

    // A silent track (as a mic muted on the device): the meter falls, and the check says so.
    await page.evaluate(() => window.haven.setLocalTrackEnabled('audio', false));
    await sleep(400);
    assert.equal(await maxLevel(page, '#mic-check .mic-meter', 1500), 0, 'the meter stays up on a disabled track');
    await page
      .waitForFunction(() => /can't hear anything/.test(document.getElementById('mic-check-text').textContent), { timeout: 8000, polling: 200 })
      .catch(async (err) => {
        err.message += ` ${JSON.stringify(await page.evaluate(() => [window.haven.mic, document.getElementById('mic-check-text').textContent]))}`;
        throw err;
      });
    await page.evaluate(() => window.haven.setLocalTrackEnabled('audio', true));
    await page.waitForFunction(() => /We can hear you/.test(document.getElementById('mic-check-text').textContent), {
      timeout: 8000,
      polling: 200,
    });

    // In the meeting: the meter is on the Mic button while the mic is on.
    await joinBudget(1);
    await page.type('#name-input', 'Pat');
    await page.click('#join-button');
    await page.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT });
    const barMeter = `${MEETING_MIC} .mic-meter`;
    assert.equal(await page.$eval(MEETING_MIC, (b) => b.dataset.mic), 'on');
    const barRose = await maxLevel(page, barMeter);
    assert.ok(barRose >= 10, `the Mic button's meter reached only ${barRose} %`);

    // Muted: nothing goes on the sender, the meter rests, and talking is noticed, once.
    await page.click(MEETING_MIC);
    await page.evaluate(() => window.haven.settled());
    assert.equal(await page.evaluate(() => window.haven.media.audio), false);
    assert.equal(await page.$eval(MEETING_MIC, (b) => b.dataset.mic), 'off');
    assert.equal(await textOf(page, `${MEETING_MIC} .toggle-state`), 'off');
    const sending = await page.evaluate(() => window.haven.pc.getSenders().filter((s) => s.track?.kind === 'audio').length);
    assert.equal(sending, 0, 'a muted microphone is still on its sender');
    assert.equal(await maxLevel(page, barMeter, 1000), 0, "the Mic button's meter moves while muted");
    await page.waitForFunction(
      () => !document.getElementById('notice').hidden && /talking while muted/i.test(document.getElementById('notice').textContent),
      { timeout: 10_000, polling: 100 },
    );
    await screenshot(page, `meeting-view-${kind}-talking-while-muted`, { fullPage: false });
    await sleep(3000);
    const said = await page.$$eval('#announcer p', (ps) => ps.filter((p) => /talking while muted/i.test(p.textContent)).length);
    assert.equal(said, 1, `the hint came ${said} times within seconds`);
    assertNoPageErrors(page, kind);
    await closeAll([page]);
  });

  test(`the_mic_button_tells_muted_from_not_allowed_and_a_share_ends_with_thanks (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    const me = await joinMeeting(page, room.join_url, 'Pat', { audio: true, video: false });
    const chair = await bots(kind, room, 1, { key: keyOf(room), prefix: 'Chair' });
    await page.bringToFront();
    const look = () =>
      page.$eval(MEETING_MIC, (b) => ({
        mic: b.dataset.mic,
        state: b.querySelector('.toggle-state').textContent.trim(),
        disabled: b.getAttribute('aria-disabled'),
        why: document.getElementById(b.getAttribute('aria-describedby') ?? 'none')?.textContent ?? '',
      }));
    assert.deepEqual(await look(), { mic: 'on', state: 'on', disabled: null, why: '' });

    // A facilitator's mute: locked, in words, and pressing it says why.
    await chair.send(0, { type: 'mute', id: me.id });
    await page.waitForFunction(() => document.querySelector('#screen-meeting [data-toggle="audio"]').dataset.mic === 'locked', {
      timeout: CONNECT_TIMEOUT,
      polling: 100,
    });
    const locked = await look();
    assert.equal(locked.state, 'locked');
    assert.equal(locked.disabled, 'true');
    assert.match(locked.why, /facilitator/i);
    await screenshot(page, `meeting-view-${kind}-mic-locked`, { fullPage: false });

    // Called to share: the floor lets me speak; my mic is merely off.
    await chair.send(0, { type: 'call', id: me.id });
    await page.waitForFunction(() => document.querySelector('#screen-meeting [data-toggle="audio"]').dataset.mic === 'off', {
      timeout: CONNECT_TIMEOUT,
      polling: 100,
    });
    assert.deepEqual(await look(), { mic: 'off', state: 'off', disabled: null, why: '' });
    await page.click(MEETING_MIC);
    await page.waitForFunction(() => window.haven.you?.audio === true, { timeout: CONNECT_TIMEOUT, polling: 100 });

    // The share ends: the room turns my mic off, and the page thanks me and says so.
    await chair.send(0, { type: 'stop_share' });
    await page.waitForFunction(() => window.haven.floor === null && !window.haven.media.audio, { timeout: CONNECT_TIMEOUT, polling: 100 });
    await page.waitForFunction(() => /Thanks for sharing — your mic is off now/.test(document.getElementById('notice').textContent), {
      timeout: 5000,
      polling: 100,
    });
    assert.equal(await page.$eval(MEETING_MIC, (b) => b.dataset.mic), 'off');
    assertNoPageErrors(page, kind);
    await closeAll([page, chair.page]);
  });
}

// ---- Speaker view, pin and "Hide my video" (issue 24, item 2) --------------------------

/** Each tile's rendered size, by participant id, and whether it is shown at all. */
const tileSizes = (page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('#grid .tile')].map((t) => {
        const r = t.getBoundingClientRect();
        return [t.dataset.participantId, { width: Math.round(r.width), height: Math.round(r.height), shown: t.getClientRects().length > 0 }];
      }),
    ),
  );

/** The tiles of the last `receive` the page sent, by id. */
const lastReport = (page) =>
  page.evaluate(() => {
    const sent = window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive' && m.tiles);
    return Object.fromEntries((sent.at(-1)?.tiles ?? []).map((t) => [t.id, t]));
  });

/** Presses "More", then the view option `id` (the menu closes after it). */
async function viewOption(page, kind, id, { touch = false } = {}) {
  if (touch && kind === 'chromium') await page.tap('#more-button');
  else await page.click('#more-button');
  await page.waitForFunction((id) => document.getElementById(id).getClientRects().length > 0, { timeout: 5000, polling: 100 }, id);
  if (touch && kind === 'chromium') await page.tap(`#${id}`);
  else await page.click(`#${id}`);
}

const pinOf = (id) => `#grid .tile[data-participant-id="${id}"] .tile-pin`;

for (const kind of ['chromium', 'firefox']) {
  test(`a_pinned_person_is_the_largest_tile_and_reported_so_and_unpinning_returns_to_the_grid (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    const me = await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    const crowd = await bots(kind, room, 3);
    await page.bringToFront();
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 4, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await sleep(500);
    const equal = (sizes) => new Set(Object.values(sizes).map((s) => `${s.width}x${s.height}`)).size === 1;
    assert.ok(equal(await tileSizes(page)), `the grid's tiles differ: ${JSON.stringify(await tileSizes(page))}`);

    const [, pinned, other] = crowd.ids;
    await page.click(pinOf(pinned));
    await page.waitForFunction((id) => window.haven.layout.pinned === id, { timeout: 5000, polling: 100 }, pinned);
    // The report follows the layout: the pinned tile large, a strip tile at its small size.
    await page.waitForFunction(
      (pinned, other) => {
        const sent = window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive' && m.tiles).at(-1)?.tiles ?? [];
        const [a, b] = [sent.find((t) => t.id === pinned), sent.find((t) => t.id === other)];
        return a && b && a.width > 2 * b.width;
      },
      { timeout: 5000, polling: 100 },
      pinned,
      other,
    );
    const sizes = await tileSizes(page);
    await screenshot(page, `meeting-view-${kind}-desktop-pinned`, { fullPage: false });
    const area = (s) => s.width * s.height;
    for (const [id, s] of Object.entries(sizes)) {
      if (id !== pinned) assert.ok(area(sizes[pinned]) > 3 * area(s), `pinned ${JSON.stringify(sizes[pinned])} vs ${id} ${JSON.stringify(s)}`);
    }
    const report = await lastReport(page);
    const dpr = await page.evaluate(() => window.devicePixelRatio);
    assert.ok(Math.abs(report[other].width - sizes[other].width * dpr) <= 2, `strip tile reported ${report[other].width}, drawn ${sizes[other].width}`);
    assert.equal(report[me.id], undefined, 'my own tile is reported');
    assert.equal(await page.$eval(pinOf(pinned), (b) => b.getAttribute('aria-pressed')), 'true');

    // Unpinned: back to the grid, every tile the same size, and reported so.
    await page.click(pinOf(pinned));
    await page.waitForFunction(() => window.haven.layout.pinned === null && !document.getElementById('grid').classList.contains('is-speaker'), {
      timeout: 5000,
      polling: 100,
    });
    await page.waitForFunction(
      (pinned, other) => {
        const sent = window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive' && m.tiles).at(-1)?.tiles ?? [];
        const [a, b] = [sent.find((t) => t.id === pinned), sent.find((t) => t.id === other)];
        return a && b && a.width === b.width;
      },
      { timeout: 5000, polling: 100 },
      pinned,
      other,
    );
    assert.ok(equal(await tileSizes(page)), `after unpinning the tiles differ: ${JSON.stringify(await tileSizes(page))}`);
    assertNoPageErrors(page, kind);
    await closeAll([page, crowd.page]);
  });

  test(`speaker_view_shows_the_person_sharing_large (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    const chair = await bots(kind, room, 1, { key: keyOf(room), prefix: 'Chair' });
    const crowd = await bots(kind, room, 3);
    await page.bringToFront();
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 5, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await viewOption(page, kind, 'layout-button');
    await page.waitForFunction(() => window.haven.layout.layout === 'speaker' && document.getElementById('grid').classList.contains('is-speaker'), {
      timeout: 5000,
      polling: 100,
    });
    assert.equal(await page.$eval('#more-button', (b) => b.getAttribute('aria-expanded')), 'false', 'the menu stays open');
    assert.equal(await page.$eval('#layout-button', (b) => b.getAttribute('aria-pressed')), 'true');

    const sharer = crowd.ids[2];
    await chair.send(0, { type: 'call', id: sharer });
    await page.bringToFront();
    await page.waitForFunction((id) => window.haven.layout.main === id, { timeout: CONNECT_TIMEOUT, polling: 100 }, sharer);
    await sleep(400);
    const sizes = await tileSizes(page);
    await screenshot(page, `meeting-view-${kind}-desktop-speaker-view`, { fullPage: false });
    const largest = Object.entries(sizes).sort((a, b) => b[1].width - a[1].width)[0][0];
    assert.equal(largest, sharer, `the largest tile is not the person sharing: ${JSON.stringify(sizes)}`);

    // Back to the grid.
    await viewOption(page, kind, 'layout-button');
    await page.waitForFunction(() => !document.getElementById('grid').classList.contains('is-speaker'), { timeout: 5000, polling: 100 });
    assertNoPageErrors(page, kind);
    await closeAll([page, chair.page, crowd.page]);
  });

  test(`hiding_my_video_hides_only_my_tile_and_the_others_still_receive_it (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    const watcher = await newPage(kind, DESKTOP);
    const me = await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: true });
    const dee = await joinMeeting(watcher, room.join_url, 'Dee', { audio: false, video: false });
    await page.bringToFront();
    await waitForTile(page, dee.id, 'Dee');
    await viewOption(page, kind, 'hide-self-button');
    await page.waitForFunction(() => window.haven.layout.hideSelf, { timeout: 5000, polling: 100 });
    const sizes = await tileSizes(page);
    assert.equal(sizes[me.id].shown, false, 'my own tile still shows');
    assert.equal(sizes[dee.id].shown, true, "Dee's tile is gone too");
    assert.equal(await page.$eval('#hide-self-button', (b) => b.getAttribute('aria-pressed')), 'true');
    assert.equal(await page.evaluate(() => window.haven.media.video), true, 'my camera went off');

    // Dee still decodes my video, more and more of it.
    const frames = async () => (await inbound(watcher)).filter((r) => r.kind === 'video' && r.from === me.id).reduce((n, r) => n + r.framesDecoded, 0);
    await watcher.bringToFront();
    let first = 0;
    for (const deadline = Date.now() + CONNECT_TIMEOUT; (first = await frames()) === 0 && Date.now() < deadline; ) await sleep(250);
    await sleep(1500);
    const second = await frames();
    assert.ok(first > 0 && second > first, `Dee's frames of my video: ${first} → ${second}`);

    // Shown again.
    await page.bringToFront();
    await viewOption(page, kind, 'hide-self-button');
    await page.waitForFunction((id) => document.querySelector(`#grid .tile[data-participant-id="${id}"]`).getClientRects().length > 0, { timeout: 5000, polling: 100 }, me.id);
    assertNoPageErrors(page, kind);
    await closeAll([page, watcher]);
  });

  test(`on_a_phone_the_view_options_and_the_pins_take_a_tap (${kind})`, { timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const phone = await newPage(kind, PHONE, { touch: true });
    await joinMeeting(phone, room.join_url, 'Pat', { audio: true, video: false });
    const crowd = await bots(kind, room, 3);
    await phone.bringToFront();
    await phone.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 4, { timeout: CONNECT_TIMEOUT, polling: 200 });

    // The bar (the Mic button with its meter too) and the "More" menu's view options.
    let misses = await missedControls(phone);
    assert.deepEqual(misses, [], misses.join('\n'));
    // The camera's state in words and a slash, not colour alone (the bar shows the short word).
    const camera = () =>
      phone.$eval('#screen-meeting [data-toggle="video"]', (b) => ({
        word: b.querySelector('.short').getClientRects().length ? b.querySelector('.short').textContent : null,
        slash: getComputedStyle(b.querySelector('.icon-slash')).display !== 'none',
      }));
    assert.deepEqual(await camera(), { word: 'Camera off', slash: true });
    const cameraButton = '#screen-meeting [data-toggle="video"]';
    if (kind === 'chromium') await phone.tap(cameraButton);
    else await phone.click(cameraButton);
    await phone.waitForFunction(() => window.haven.media.video === true, { timeout: CONNECT_TIMEOUT, polling: 100 });
    assert.deepEqual(await camera(), { word: 'Camera on', slash: false });
    if (kind === 'chromium') await phone.tap('#more-button');
    else await phone.click('#more-button');
    await phone.waitForFunction(() => document.getElementById('layout-button').getClientRects().length > 0, { timeout: 5000, polling: 100 });
    misses = await missedControls(phone, '#more-menu button');
    await screenshot(phone, `meeting-view-${kind}-phone-view-options`, { fullPage: false });
    assert.deepEqual(misses, [], `the "More" menu: ${misses.join('\n')}`);
    if (kind === 'chromium') await phone.tap('#layout-button');
    else await phone.click('#layout-button');
    await phone.waitForFunction(() => document.getElementById('grid').classList.contains('is-speaker'), { timeout: 5000, polling: 100 });
    await phone.evaluate(() => window.scrollTo(0, 0));
    await sleep(400);

    /** Every pin wholly above the bar: a tap at its centre lands on it. */
    const pins = await phone.evaluate(() => {
      const barTop = document.querySelector('.controls').getBoundingClientRect().top;
      const out = { checked: 0, misses: [] };
      for (const pin of document.querySelectorAll('#grid .tile-pin')) {
        const r = pin.getBoundingClientRect();
        if (r.top < 0 || r.bottom > barTop || r.width === 0) continue;
        out.checked += 1;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!hit || !(hit === pin || pin.contains(hit))) out.misses.push(`${pin.getAttribute('aria-label')}: lands on ${hit?.className}`);
      }
      return out;
    });
    await screenshot(phone, `meeting-view-${kind}-phone-speaker-view`, { fullPage: false });
    assert.ok(pins.checked >= 3, `only ${pins.checked} pins in view above the bar`);
    assert.deepEqual(pins.misses, [], pins.misses.join('\n'));

    // A strip tile's pin, tapped, makes that person the large one.
    const target = await phone.evaluate(() => document.querySelector('#grid .tile:not(.is-main):not(.is-self)').dataset.participantId);
    if (kind === 'chromium') await phone.tap(pinOf(target));
    else await phone.click(pinOf(target));
    await phone.waitForFunction((id) => window.haven.layout.main === id, { timeout: 5000, polling: 100 }, target);
    misses = await missedControls(phone);
    assert.deepEqual(misses, [], misses.join('\n'));
    assertNoPageErrors(phone, kind);
    await closeAll([phone, crowd.page]);
  });
}

// ---- The desktop bar on one line (issue 24, item 1) ------------------------------------

for (const kind of ['chromium', 'firefox']) {
  test(`at_1280_the_bar_keeps_leave_on_the_same_line_with_every_reaction (${kind})`, { timeout: 90_000 }, async () => {
    const room = await server.createRoom();
    const page = await newPage(kind, DESKTOP);
    // A facilitator has the most in the bar ("Facilitator tools").
    await joinMeeting(page, room.facilitator_url, 'Chair', { audio: true, video: false });
    const row = await page.evaluate(() => {
      const shown = [...document.querySelectorAll('.controls button')].filter((b) => !b.closest('[hidden]') && b.getClientRects().length && !b.closest('.view-options'));
      const top = (el) => Math.round(el.getBoundingClientRect().top);
      return {
        names: shown.map((b) => (b.getAttribute('aria-label') || b.textContent).trim().replace(/\s+/g, ' ')),
        reactions: shown.filter((b) => b.dataset.reaction).length,
        tops: [...new Set(shown.map(top))],
        leave: top(document.getElementById('leave-button')),
        mic: top(document.querySelector('#screen-meeting [data-toggle="audio"]')),
      };
    });
    await screenshot(page, `meeting-view-${kind}-desktop-bar`, { fullPage: false });
    assert.equal(row.reactions, 5, `reactions shown: ${row.reactions}`);
    assert.equal(row.leave, row.mic, `Leave is on another line: ${JSON.stringify(row)}`);
    assert.equal(row.tops.length, 1, `the bar takes ${row.tops.length} lines: ${JSON.stringify(row)}`);
    assertNoPageErrors(page, kind);
    await closeAll([page]);
  });
}
