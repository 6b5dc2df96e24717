// Last-N in real pages (issue 19, item 4): a phone holds 9 tiles a page, so a meeting of 10
// has two pages with "Previous page", "Page 1 of 2" and "Next page" under the grid. Only the
// page shown gets video: the tiles off it are reported `visible: false`, their video bytes
// stay flat while the page's rise, and their sound keeps coming; the next page's videos start
// within moments of the press. The controls are hit-tested on a 360×640 phone, pressed by a
// finger (Chromium) and by the keyboard (Firefox); when the last page empties the grid goes
// back a page. Two low-cost camera pages and seven signaling-only people (lib/bots.js) make
// the crowd. Chromium and Firefox; the real Haven binary.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seriousViolations } from '../lib/axe.js';
import { bots, joinBudget } from '../lib/bots.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting, screenshot, waitForTile } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';
import { paginate, pageOrder } from '../../../web/js/pages.js';
import { pageSize } from '../../../web/js/tile-fit.js';

const SKIP_FIREFOX = process.env.HAVEN_SKIP_FIREFOX === '1';
const LAUNCHERS = [
  ['chromium', launchChromium],
  ['firefox', launchFirefox],
];
/** What a 360×640 phone's page holds (tile-fit.js: 3×3 at most). */
const PHONE_PAGE = 9;

let server;
/** The other people's pages: never in the viewer's browser, whose tab they would hide. */
let others;
const open = [];
before(async () => {
  server = await startServer('paging');
  others = await launchChromium();
});
after(async () => {
  for (const b of open) await b.close().catch(() => {});
  await others?.close().catch(() => {});
  await server?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const poll = { timeout: CONNECT_TIMEOUT, polling: 200 };
const tile = (id) => `#grid .tile[data-participant-id="${id}"]`;

/** Someone on camera and mic, in their own tab of the other browser. */
async function another(room, name) {
  await joinBudget(1);
  const page = await others.newPage();
  const you = await joinMeeting(page, room.join_url, name, { audio: true, video: true });
  return { page, you };
}

/** The last tile report the page sent, as {id: {width, height, visible}}. */
async function lastTiles(page) {
  const last = await page.evaluate(() => window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive' && m.tiles).at(-1));
  return last ? Object.fromEntries(last.tiles.map(({ id, ...rest }) => [id, rest])) : null;
}

async function waitForReport(page, check, what) {
  const deadline = Date.now() + CONNECT_TIMEOUT;
  for (;;) {
    const last = await lastTiles(page);
    if (last && check(last)) return last;
    if (Date.now() > deadline) throw new Error(`no tile report ${what}: last was ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** Bytes and frames of `from`'s video, and packets of their audio, on `page` (getStats by track). */
async function inboundFrom(page, from) {
  return page.evaluate(async (from) => {
    const owner = new Map();
    for (const s of window.haven.streams) for (const t of s.tracks) owner.set(t.id, s.id);
    const sum = { videoBytes: 0, frames: 0, audioPackets: 0 };
    (await window.haven.pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || owner.get(s.trackIdentifier) !== from) return;
      if (s.kind === 'video') {
        sum.videoBytes += s.bytesReceived ?? 0;
        sum.frames += s.framesDecoded ?? 0;
      } else {
        sum.audioPackets += s.packetsReceived ?? 0;
      }
    });
    return sum;
  }, from);
}

/** Waits until `from`'s decoded frames pass `than`; the milliseconds it took. */
async function framesPast(page, from, than, what) {
  const start = Date.now();
  while ((await inboundFrom(page, from)).frames <= than) {
    if (Date.now() - start > CONNECT_TIMEOUT) throw new Error(`no new video frame ${what}`);
    await sleep(100);
  }
  return Date.now() - start;
}

/**
 * Waits until `from`'s video flows (frames rising over half a second): right after joining the
 * server may still be measuring this link and hold a video paused for it ("Poor").
 */
async function flowing(page, from, what) {
  const start = Date.now();
  for (;;) {
    const a = await inboundFrom(page, from);
    await sleep(500);
    if ((await inboundFrom(page, from)).frames > a.frames) return Date.now() - start;
    if (Date.now() - start > 30_000) throw new Error(`no video flowing ${what}`);
  }
}

/** Over two seconds, after packets in flight have landed: whose video stayed flat, whose sound went on. */
async function flow(page, id) {
  const a = await inboundFrom(page, id);
  await sleep(2000);
  const b = await inboundFrom(page, id);
  return { videoBytes: b.videoBytes - a.videoBytes, frames: b.frames - a.frames, audioPackets: b.audioPackets - a.audioPackets };
}

/** The page controls as a finger finds them: named, on screen, each centre hitting its button. */
function pagerLook(page) {
  return page.evaluate(() => {
    const nav = document.getElementById('grid-pages');
    const buttons = ['page-previous', 'page-next'].map((id) => {
      const b = document.getElementById(id);
      const r = b.getBoundingClientRect();
      const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return {
        id,
        hit: b.contains(at),
        onScreen: r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth,
        big: r.width >= 44 && r.height >= 44,
        disabled: b.getAttribute('aria-disabled'),
        name: b.textContent.replace(/[‹›]/g, '').trim(),
      };
    });
    return { shown: !nav.hidden, label: nav.getAttribute('aria-label'), status: document.getElementById('page-status').textContent, buttons };
  });
}

const onPage = (page) =>
  page.$$eval('#grid .tile', (tiles) => tiles.filter((t) => !t.hidden).map((t) => t.dataset.participantId));

test('page order: me, the floor holder, the next two in the queue, then as people came', () => {
  const joined = ['a', 'b', 'c', 'd', 'e', 'f'];
  assert.deepEqual(pageOrder({ self: 'me', joined }), ['me', ...joined]);
  assert.deepEqual(pageOrder({ self: 'me', floor: 'e', next: ['c', 'me', 'f', 'b'], joined }), ['me', 'e', 'c', 'a', 'b', 'd', 'f']);
  // Someone who left is dropped from the queue's places too; my tile hidden takes no place.
  assert.deepEqual(pageOrder({ self: null, floor: 'gone', next: ['f'], joined }), ['f', 'a', 'b', 'c', 'd', 'e']);
  // A newcomer goes last.
  assert.deepEqual(pageOrder({ self: 'me', joined: [...joined, 'new'] }).at(-1), 'new');
});

test('pages: split by size, and a page that empties falls back to the one before', () => {
  const order = ['me', 'a', 'b', 'c', 'd'];
  assert.deepEqual(paginate(order, 2, 0), { page: 0, pages: 3, ids: ['me', 'a'] });
  assert.deepEqual(paginate(order, 2, 2), { page: 2, pages: 3, ids: ['d'] });
  assert.deepEqual(paginate(order.slice(0, 4), 2, 2), { page: 1, pages: 2, ids: ['b', 'c'] });
  assert.deepEqual(paginate(order, 9, -1), { page: 0, pages: 1, ids: order });
});

test('page size: 3×3 on a phone, 4×4 on a 1280×800 laptop, 5×5 on a large screen', () => {
  // The grid's space (less the page controls): a 360×640 phone, 1280×800 and 1920×1080 beside the side panel.
  assert.equal(pageSize(344, 410, { ratio: 4 / 3, minWidth: 104, cap: 9 }), 9);
  assert.equal(pageSize(870, 590, { minWidth: 200, cap: 25 }), 16);
  assert.equal(pageSize(1510, 900, { minWidth: 200, cap: 25 }), 25);
  assert.equal(pageSize(300, 100, { minWidth: 200, cap: 25 }), 1);
});

test('chromium: a page holds 16 at 1280×800 and 25 at 1920×1080 (as measured by the meeting page)', { timeout: 60_000 }, async (t) => {
  const room = await server.createRoom();
  const browser = await launchChromium({ width: 1280, height: 800 });
  open.push(browser);
  const page = await browser.newPage();
  await joinBudget(1);
  await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
  // The page's own state module (the same instance the page runs).
  const perPage = () => page.evaluate(async () => (await import('/assets/js/meeting/state.js')).app.view.pageSize);
  await page.waitForFunction(async () => (await import('/assets/js/meeting/state.js')).app.view.pageSize > 0, poll);
  const laptop = await perPage();
  await page.setViewport({ width: 1920, height: 1080 });
  await sleep(500);
  const large = await perPage();
  t.diagnostic(`tiles a page holds: ${laptop} at 1280×800, ${large} at 1920×1080`);
  assert.equal(laptop, 16);
  assert.equal(large, 25);
  await page.close();
});

for (const [kind, launcher] of LAUNCHERS) {
  const skip = kind === 'firefox' && SKIP_FIREFOX;

  test(`${kind}: a phone pages the grid, only the page shown gets video, everyone's sound plays`, { skip, timeout: 240_000 }, async (t) => {
    const room = await server.createRoom();
    const browser = await launcher();
    open.push(browser);
    const page = await browser.newPage();
    const touch = kind === 'chromium' ? { isMobile: true, hasTouch: true } : {};
    await page.setViewport({ width: 360, height: 640, ...touch });
    if (kind === 'chromium') await page.setBypassCSP(true); // axe goes in as a script
    await joinBudget(1);
    const me = await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    // In this order: Dee, seven people without media, then Eli, who comes last (page 2).
    const dee = await another(room, 'Dee');
    const crowd = await bots(await others.newPage(), server.url, room, PHONE_PAGE - 2);
    const eli = await another(room, 'Eli');
    await page.bringToFront();
    await waitForTile(page, eli.you.id, 'Eli');
    await page.waitForFunction((n) => document.querySelectorAll('#grid .tile').length === n, poll, PHONE_PAGE + 1);

    // Page 1: me, Dee and the seven; Eli is on page 2.
    await page.waitForFunction(() => !document.getElementById('grid-pages').hidden, poll);
    const first = await onPage(page);
    assert.equal(first.length, PHONE_PAGE, `page 1 holds ${PHONE_PAGE}: ${first}`);
    assert.ok(first.includes(me.id), 'my own tile is on page 1');
    assert.ok(first.includes(dee.you.id) && !first.includes(eli.you.id), JSON.stringify(first));
    await screenshot(page, `paging-${kind}-phone-page-1`, { fullPage: false });
    const look = await pagerLook(page);
    assert.equal(look.label, 'Pages of people');
    assert.equal(look.status, 'Page 1 of 2');
    for (const b of look.buttons) {
      assert.ok(b.onScreen && b.hit && b.big, `a finger reaches ${b.id} without scrolling: ${JSON.stringify(b)}`);
    }
    assert.deepEqual(
      look.buttons.map((b) => [b.name, b.disabled]),
      [
        ['Previous page', 'true'],
        ['Next page', 'false'],
      ],
    );
    if (kind === 'chromium') {
      const violations = await seriousViolations(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    }

    // The report: Dee shown, Eli not; Dee's video comes, Eli's does not, Eli's sound does.
    await waitForReport(page, (r) => r[dee.you.id]?.visible === true && r[eli.you.id]?.visible === false, 'with Eli off the page');
    const deeIn = await flowing(page, dee.you.id, 'from Dee on page 1');
    t.diagnostic(`page 1: Dee's video flowing after ${deeIn} ms`);
    const eliOff = await flow(page, eli.you.id);
    const deeOn = await flow(page, dee.you.id);
    t.diagnostic(`page 1: Dee video +${deeOn.videoBytes} B (${deeOn.frames} frames); Eli video +${eliOff.videoBytes} B, audio +${eliOff.audioPackets} packets`);
    assert.ok(eliOff.videoBytes < 2000, `Eli's video came though off the page: +${eliOff.videoBytes} B`);
    assert.ok(deeOn.videoBytes > 10_000 && deeOn.frames > 0, `Dee's video did not flow: ${JSON.stringify(deeOn)}`);
    assert.ok(eliOff.audioPackets > 50, `Eli's sound stopped off the page: ${JSON.stringify(eliOff)}`);
    // Her sound plays: the hidden tile's media element is not paused.
    assert.equal(await page.$eval(`${tile(eli.you.id)} video`, (v) => v.paused), false, "Eli's tile stopped playing");

    // Next page, by a finger (Chromium) or the keyboard (Firefox): reported at once, her video starts.
    const before = await inboundFrom(page, eli.you.id);
    const pressed = Date.now();
    if (kind === 'chromium') {
      await page.tap('#page-next');
    } else {
      await page.focus('#page-next');
      await page.keyboard.press('Enter');
    }
    await waitForReport(page, (r) => r[eli.you.id]?.visible === true && r[dee.you.id]?.visible === false, 'after Next page');
    const reported = Date.now() - pressed;
    const started = await framesPast(page, eli.you.id, before.frames, 'from Eli on page 2');
    t.diagnostic(`Next page: reported in ${reported} ms, Eli's first frame ${Date.now() - pressed} ms after the press`);
    assert.ok(reported < 1000, `the report waited ${reported} ms`);
    assert.ok(started < 5000, `Eli's video took ${started} ms to start`);
    assert.deepEqual(await onPage(page), [eli.you.id]);
    const second = await pagerLook(page);
    assert.equal(second.status, 'Page 2 of 2');
    assert.deepEqual(second.buttons.map((b) => b.disabled), ['false', 'true']);
    // The focus stays on the button at the last page (aria-disabled, not disabled).
    if (kind === 'firefox') assert.equal(await page.evaluate(() => document.activeElement?.id), 'page-next');
    // As on page 1, the server may hold a video for this link a moment; it is not the page's doing.
    const eliIn = await flowing(page, eli.you.id, 'from Eli on page 2');
    t.diagnostic(`page 2: Eli's video flowing after ${eliIn} ms`);
    const deeOff = await flow(page, dee.you.id);
    const eliOn = await flow(page, eli.you.id);
    t.diagnostic(`page 2: Eli video +${eliOn.videoBytes} B (${eliOn.frames} frames); Dee video +${deeOff.videoBytes} B, audio +${deeOff.audioPackets} packets`);
    assert.ok(deeOff.videoBytes < 2000, `Dee's video came though off the page: +${deeOff.videoBytes} B`);
    const why = async () =>
      JSON.stringify({
        report: await lastTiles(page),
        receptions: await page.evaluate(() => window.haven.trace.filter((m) => m.type === 'reception').slice(-3)),
      });
    assert.ok(eliOn.videoBytes > 10_000 && eliOn.frames > 0, `Eli's video did not flow: ${JSON.stringify(eliOn)} ${await why()}`);
    assert.ok(deeOff.audioPackets > 50, `Dee's sound stopped off the page: ${JSON.stringify(deeOff)}`);
    await screenshot(page, `paging-${kind}-phone-page-2`, { fullPage: false });

    // Eli leaves: page 2 is empty, so the grid goes back to page 1, one page, no controls.
    await eli.page.close();
    await page.waitForFunction((id) => !document.querySelector(`#grid .tile[data-participant-id="${id}"]`), poll, eli.you.id);
    await page.waitForFunction(() => document.getElementById('grid-pages').hidden, poll);
    assert.equal((await onPage(page)).length, PHONE_PAGE);
    await waitForReport(page, (r) => r[dee.you.id]?.visible === true && !(eli.you.id in r), 'back on page 1');
    assertNoPageErrors(page, 'Pat');
    await page.close();
    await dee.page.close();
    await crowd.page.close();
  });
}
