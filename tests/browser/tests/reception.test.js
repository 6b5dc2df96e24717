// Sound first in real pages (docs/protocol.md, "Sound first"): the "Sound only" toggle a phone
// can press, which sends `receive` and holds for the tab; the server's `reception` marking
// paused tiles and the connection indicator; tile reports with device-pixel sizes that turn
// `visible: false` when a tile is scrolled away or the tab hidden; and, with a server that
// applies `receive`, the video bytes of a "Sound only" page stop while its sound goes on.
// Chromium and Firefox; the real Haven binary.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seriousViolations } from '../lib/axe.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting, screenshot, waitForTile } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

const SKIP_FIREFOX = process.env.HAVEN_SKIP_FIREFOX === '1';
const POOR_WORDS = 'Your connection is weak, so some video is paused to keep the sound clear.';
const PAUSED_WORDS = 'Video is paused to keep the sound clear';
const LAUNCHERS = [
  ['chromium', launchChromium],
  ['firefox', launchFirefox],
];

let server;
/** Where the other participants' pages live: never in the viewer's browser, whose tab they would hide. */
let others;
const open = [];
before(async () => {
  server = await startServer('reception');
  others = await launchChromium();
});
after(async () => {
  for (const b of open) await b.close().catch(() => {});
  await others?.close().catch(() => {});
  await server?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const poll = { timeout: CONNECT_TIMEOUT, polling: 200 };
const wait = (page, fn, ...args) => page.waitForFunction(fn, poll, ...args);
const tile = (id) => `#grid .tile[data-participant-id="${id}"]`;

async function launch(launcher) {
  const browser = await launcher();
  open.push(browser);
  return browser;
}

/** A page the size of a 360×640 phone (a touch screen where the browser can emulate one). */
async function phonePage(browser, extra = {}) {
  const page = await browser.newPage();
  const touch = browser.kind === 'chromium' ? { isMobile: true, hasTouch: true } : {};
  await page.setViewport({ width: 360, height: 640, ...touch, ...extra });
  return page;
}

/** Someone else in the meeting, in their own browser, camera and mic on unless told. */
async function another(room, name, media = { audio: true, video: true }) {
  const page = await others.newPage();
  const you = await joinMeeting(page, room.join_url, name, media);
  return { page, you };
}

/** The `receive` messages the page sent, oldest first (the trace keeps their fields). */
const receives = (page) =>
  page.evaluate(() => window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive'));

/** The last tile report the page sent, as {id: {width, height, visible}}. */
async function lastTiles(page) {
  const sent = (await receives(page)).filter((m) => m.tiles);
  const last = sent.at(-1);
  return last ? Object.fromEntries(last.tiles.map(({ id, ...rest }) => [id, rest])) : null;
}

/** Waits until the last tile report satisfies `check` (a function of lastTiles' result). */
async function waitForReport(page, check, what) {
  const deadline = Date.now() + CONNECT_TIMEOUT;
  let last = null;
  for (;;) {
    last = await lastTiles(page);
    if (last && check(last)) return last;
    if (Date.now() > deadline) throw new Error(`no tile report ${what}: last was ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

/** The page presses "Sound only" as a finger would (a tap where the browser has touch). */
async function pressSoundOnly(page, browser) {
  await page.bringToFront();
  if (browser.kind === 'chromium') await page.tap('#sound-only');
  else await page.click('#sound-only');
}

/** No error was put in front of the person (a refused `receive` is handled quietly). */
async function assertNoVisibleError(page, label) {
  const notice = await page.$eval('#notice', (n) => (n.hidden ? '' : n.textContent));
  assert.ok(!/went wrong|no longer in the meeting/i.test(notice), `${label}: the page showed "${notice}"`);
}

for (const [kind, launcher] of LAUNCHERS) {
  const skip = kind === 'firefox' && SKIP_FIREFOX;

  test(`${kind}: sound only is a toggle a phone can press, sends receive and holds for the tab`, { skip, timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const dee = await another(room, 'Dee');
    const browser = await launch(launcher);
    const page = await phonePage(browser);
    const frames = [];
    if (kind === 'chromium') {
      // What really goes over the socket, as well as what the page's trace says it sent.
      const cdp = await page.createCDPSession();
      await cdp.send('Network.enable');
      cdp.on('Network.webSocketFrameSent', (e) => frames.push(e.response.payloadData));
    }
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    await waitForTile(page, dee.you.id, 'Dee');

    const button = await page.$eval('#sound-only', (b) => {
      const r = b.getBoundingClientRect();
      const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const hint = document.getElementById(b.getAttribute('aria-describedby') ?? '');
      return {
        pressed: b.getAttribute('aria-pressed'),
        label: b.textContent.trim(),
        hint: hint?.textContent,
        title: b.title,
        hit: b.contains(at),
        onScreen: r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth,
        size: [r.width, r.height],
      };
    });
    assert.equal(button.pressed, 'false', 'off until pressed');
    assert.equal(button.label, 'Sound only');
    assert.equal(button.hint, 'Saves data: no video is sent to you');
    assert.equal(button.title, 'Saves data: no video is sent to you');
    assert.ok(button.onScreen, `on the phone's screen without scrolling: ${JSON.stringify(button)}`);
    assert.ok(button.hit, 'a finger at its centre touches the button');
    assert.ok(button.size[0] >= 44 && button.size[1] >= 44, `large enough for a finger: ${button.size}`);

    await pressSoundOnly(page, browser);
    await wait(page, () => window.haven.trace.some((m) => m.dir === 'out' && m.type === 'receive' && m.video === false));
    assert.equal(await page.$eval('#sound-only', (b) => b.getAttribute('aria-pressed')), 'true');
    if (kind === 'chromium') {
      await sleep(200);
      assert.ok(frames.includes('{"type":"receive","video":false}'), `on the wire: ${frames.filter((f) => f.includes('receive'))}`);
    }
    // Dee's tile shows her initial and name, not a frozen frame; the indicator says sound only.
    const look = await page.$eval(tile(dee.you.id), (li) => ({
      video: getComputedStyle(li.querySelector('video')).visibility,
      placeholder: getComputedStyle(li.querySelector('.tile-placeholder')).display,
    }));
    assert.deepEqual(look, { video: 'hidden', placeholder: 'flex' });
    assert.equal(await page.$eval('#link-indicator', (e) => e.dataset.link), 'sound_only');
    assert.equal(await page.$eval('#link-indicator', (e) => e.getAttribute('aria-label')), 'Connection: sound only');
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('haven.soundOnly')), 'true');
    await screenshot(page, `${kind}-phone-sound-only`, { fullPage: false });

    // A reload of the tab keeps the choice and says it again after `joined`.
    await page.reload({ waitUntil: 'load' });
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    await wait(page, () => window.haven.trace.some((m) => m.dir === 'out' && m.type === 'receive' && m.video === false));
    assert.equal(await page.$eval('#sound-only', (b) => b.getAttribute('aria-pressed')), 'true');
    await waitForTile(page, dee.you.id, 'Dee');
    assert.equal(await page.$eval(`${tile(dee.you.id)} video`, (v) => getComputedStyle(v).visibility), 'hidden');

    // Pressed again: video comes back.
    await pressSoundOnly(page, browser);
    await wait(page, () => window.haven.trace.some((m) => m.dir === 'out' && m.type === 'receive' && m.video === true));
    assert.equal(await page.$eval('#sound-only', (b) => b.getAttribute('aria-pressed')), 'false');
    // Her picture is back within seconds: the server held this link's estimate while no video
    // flowed, so it need not pause her again "for the link" while it measures.
    const back = Date.now();
    await page.waitForFunction((sel) => getComputedStyle(document.querySelector(sel)).visibility === 'visible',
      { polling: 100, timeout: 5_000 }, `${tile(dee.you.id)} video`);
    console.log(`# ${kind}: Dee's video shown again ${Date.now() - back} ms after "Sound only" was pressed off`);
    assert.notEqual(await page.$eval('#link-indicator', (e) => e.dataset.link), 'sound_only');
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('haven.soundOnly')), null);
    if (kind === 'chromium') {
      await sleep(200);
      assert.ok(frames.includes('{"type":"receive","video":true}'));
    }
    await assertNoVisibleError(page, 'Pat');
    assertNoPageErrors(page, 'Pat');
    await page.close();
    await dee.page.close();
  });

  test(`${kind}: a reception message marks the paused tile, says so once, and sets the connection indicator`, { skip, timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const dee = await another(room, 'Dee');
    const eli = await another(room, 'Eli');
    const browser = await launch(launcher);
    const page = await phonePage(browser);
    // axe is injected as a script: Chromium lets a test set the page's CSP aside for that.
    if (kind === 'chromium') await page.setBypassCSP(true);
    await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    await waitForTile(page, dee.you.id, 'Dee');
    await waitForTile(page, eli.you.id, 'Eli');
    // Whatever the server says of this link right after joining comes first. On loopback it
    // is good, but a loaded machine's first estimate can pause a video for a moment (CI
    // rehearsal of 2026-12-07: 'poor' 500 ms after the tiles), so wait for the settled word.
    await page.waitForFunction(() => document.querySelector('#link-indicator')?.dataset.link === 'good', { timeout: 20_000 });
    await sleep(500);

    const indicator = await page.$eval('#link-indicator', (e) => {
      const r = e.getBoundingClientRect();
      const overlaps = [...document.querySelectorAll('.controls button')].filter((b) => {
        const c = b.getBoundingClientRect();
        return c.width > 0 && r.left < c.right && c.left < r.right && r.top < c.bottom && c.top < r.bottom;
      });
      return {
        link: e.dataset.link,
        name: e.getAttribute('aria-label'),
        role: e.getAttribute('role'),
        shown: r.width > 0 && r.height > 0 && r.right <= window.innerWidth,
        overlaps: overlaps.map((b) => b.id || b.textContent.trim()),
      };
    });
    assert.deepEqual(indicator, { link: 'good', name: 'Connection: good', role: 'img', shown: true, overlaps: [] });

    const poor = { type: 'reception', link: 'poor', paused: [dee.you.id] };
    await page.evaluate((m) => window.haven.deliver(m), poor);
    const paused = await page.$eval(tile(dee.you.id), (li) => {
      const line = li.querySelector('.tile-paused');
      return {
        flag: li.dataset.videoPaused,
        text: line?.textContent,
        shown: !!line && !line.hidden && line.getClientRects().length > 0,
        readable: !!line && !line.closest('[aria-hidden="true"]'),
        label: li.getAttribute('aria-label'),
        video: getComputedStyle(li.querySelector('video')).visibility,
      };
    });
    assert.equal(paused.flag, 'true');
    assert.equal(paused.text, PAUSED_WORDS);
    assert.ok(paused.shown && paused.readable, JSON.stringify(paused));
    assert.match(paused.label, /^Dee: .*video is paused to keep the sound clear/);
    assert.equal(paused.video, 'hidden', 'no frozen frame on a paused tile');
    assert.equal(await page.$eval(tile(eli.you.id), (li) => li.dataset.videoPaused ?? null), null, "Eli's tile is not paused");
    assert.equal(
      await page.$eval(`${tile(eli.you.id)} .tile-paused`, (l) => l.hidden),
      true,
    );
    assert.deepEqual(
      await page.$eval('#link-indicator', (e) => [e.dataset.link, e.getAttribute('aria-label')]),
      ['poor', 'Connection: poor'],
    );
    await screenshot(page, `${kind}-phone-video-paused`, { fullPage: false });
    if (kind === 'chromium') {
      const violations = await seriousViolations(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    }

    // The same news again, then Eli paused too: the weak link is said once.
    await page.evaluate((m) => window.haven.deliver(m), poor);
    await page.evaluate((m) => window.haven.deliver(m), { ...poor, paused: [dee.you.id, eli.you.id] });
    assert.equal(await page.$eval(tile(eli.you.id), (li) => li.dataset.videoPaused), 'true');
    const said = () => page.$$eval('#announcer p', (lines) => lines.map((l) => l.textContent));
    assert.equal((await said()).filter((l) => l === POOR_WORDS).length, 1, JSON.stringify(await said()));
    assert.equal(await page.$eval('#announcer', (a) => a.getAttribute('aria-live')), 'polite');

    // The link recovers: the marks go, and that is said once.
    await page.evaluate(() => window.haven.deliver({ type: 'reception', link: 'good', paused: [] }));
    for (const who of [dee, eli]) {
      const back = await page.$eval(tile(who.you.id), (li) => ({
        flag: li.dataset.videoPaused ?? null,
        line: li.querySelector('.tile-paused').hidden,
        label: li.getAttribute('aria-label'),
      }));
      assert.equal(back.flag, null);
      assert.equal(back.line, true);
      assert.doesNotMatch(back.label, /paused/);
    }
    assert.equal(await page.$eval('#link-indicator', (e) => e.dataset.link), 'good');
    assert.equal((await said()).filter((l) => l === 'Video is back.').length, 1);
    await assertNoVisibleError(page, 'Pat');
    assertNoPageErrors(page, 'Pat');
    await page.close();
    await dee.page.close();
    await eli.page.close();
  });

  test(`${kind}: tile reports give each tile its device-pixel size and turn invisible when scrolled away or the tab is hidden`, { skip, timeout: 120_000 }, async () => {
    const room = await server.createRoom();
    const dee = await another(room, 'Dee');
    const eli = await another(room, 'Eli', { audio: false, video: false });
    const browser = await launch(launcher);
    // A phone with a 2× screen where the browser emulates one (Firefox keeps its own ratio).
    const page = await phonePage(browser, kind === 'chromium' ? { deviceScaleFactor: 2 } : {});
    const me = await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
    await waitForTile(page, dee.you.id, 'Dee');
    await waitForTile(page, eli.you.id, 'Eli');

    // Every other tile, as rendered × devicePixelRatio, shown; never my own.
    const expected = await page.evaluate(
      (ids) =>
        Object.fromEntries(
          ids.map((id) => {
            const r = document.querySelector(`#grid .tile[data-participant-id="${id}"]`).getBoundingClientRect();
            return [id, { width: Math.round(r.width * devicePixelRatio), height: Math.round(r.height * devicePixelRatio), dpr: devicePixelRatio }];
          }),
        ),
      [dee.you.id, eli.you.id],
    );
    const shown = await waitForReport(
      page,
      (t) => Object.keys(t).length === 2 && t[dee.you.id]?.visible && t[eli.you.id]?.visible,
      'with both tiles shown',
    );
    assert.ok(!(me.id in shown), 'my own tile is not reported');
    for (const [id, { width, height, dpr }] of Object.entries(expected)) {
      assert.ok(Math.abs(shown[id].width - width) <= 1 && Math.abs(shown[id].height - height) <= 1, `${id}: ${JSON.stringify(shown[id])} vs ${width}×${height}`);
      assert.ok(shown[id].width > 100 && shown[id].height > 50, `a sensible size: ${JSON.stringify(shown[id])}`);
      if (kind === 'chromium') assert.equal(dpr, 2);
    }

    // Layout storms are coalesced: twenty resizes in a row send at most a couple of reports.
    const before = (await receives(page)).length;
    for (let i = 0; i < 20; i++) await page.setViewport({ width: 360 + (i % 2) * 40, height: 640, ...(kind === 'chromium' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
    await page.setViewport({ width: 360, height: 640, ...(kind === 'chromium' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
    await sleep(1000);
    const during = (await receives(page)).length - before;
    assert.ok(during <= 4, `${during} reports for one burst of resizes`);

    // Scrolled away: both tiles invisible; back: visible again.
    await page.evaluate(() => {
      document.querySelector('.side').style.minHeight = '4000px';
      window.scrollTo(0, 3000);
    });
    await waitForReport(page, (t) => !t[dee.you.id]?.visible && !t[eli.you.id]?.visible, 'with the tiles scrolled away');
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForReport(page, (t) => t[dee.you.id]?.visible && t[eli.you.id]?.visible, 'with the tiles back in view');

    // Another tab in front hides this one: nothing is shown, so no video is wanted.
    const cover = await browser.newPage();
    await cover.goto('about:blank');
    await cover.bringToFront();
    await waitForReport(page, (t) => !t[dee.you.id]?.visible && !t[eli.you.id]?.visible, 'with the tab hidden');
    await page.bringToFront();
    await waitForReport(page, (t) => t[dee.you.id]?.visible && t[eli.you.id]?.visible, 'with the tab shown again');
    await cover.close();

    // Someone who left is never reported again (the server would refuse the whole report).
    await eli.page.close();
    await wait(page, (id) => !document.querySelector(`#grid .tile[data-participant-id="${id}"]`), eli.you.id);
    await waitForReport(page, (t) => Object.keys(t).length === 1 && t[dee.you.id], 'without Eli');
    await sleep(1000);
    const refused = await page.evaluate(() => window.haven.trace.filter((m) => m.dir === 'in' && m.code === 'unknown_track').length);
    assert.equal(refused, 0, 'no report named someone who had left');
    await assertNoVisibleError(page, 'Pat');
    assertNoPageErrors(page, 'Pat');
    await page.close();
    await dee.page.close();
  });
}

test('an unknown_track refusal is handled quietly and the report sent again', { timeout: 60_000 }, async () => {
  const room = await server.createRoom();
  const dee = await another(room, 'Dee', { audio: false, video: false });
  const browser = await launch(launchChromium);
  const page = await browser.newPage();
  await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
  await waitForTile(page, dee.you.id, 'Dee');
  await waitForReport(page, (t) => t[dee.you.id], 'with Dee');
  const before = (await receives(page)).length;
  await page.evaluate(() => window.haven.deliver({ type: 'error', code: 'unknown_track', message: 'Not in this meeting.' }));
  await wait(page, (n) => window.haven.trace.filter((m) => m.dir === 'out' && m.type === 'receive').length > n, before);
  assert.ok((await page.evaluate(() => document.getElementById('notice').hidden)), 'nothing shown to the person');
  assert.ok(!page.consoleLines.some((l) => l.startsWith('warning:') && l.includes('unknown_track')), page.consoleLines.join('\n'));
  assertNoPageErrors(page, 'Pat');
  await page.close();
  await dee.page.close();
});

/** Bytes and frames of `from`'s video, and packets of their audio, on `page`. */
async function inboundFrom(page, from) {
  return page.evaluate(async (from) => {
    const pc = window.haven.pc;
    const owner = new Map();
    for (const s of window.haven.streams) for (const t of s.tracks) owner.set(t.id, s.id);
    const sum = { videoBytes: 0, frames: 0, audioPackets: 0 };
    (await pc.getStats()).forEach((s) => {
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

test('end to end: a sound-only page stops receiving video and keeps the sound, and gets video back', { timeout: 120_000 }, async (t) => {
  const room = await server.createRoom();
  const dee = await another(room, 'Dee');
  const browser = await launch(launchChromium);
  const page = await browser.newPage();
  await joinMeeting(page, room.join_url, 'Pat', { audio: false, video: false });
  await waitForTile(page, dee.you.id, 'Dee');
  const deadline = Date.now() + CONNECT_TIMEOUT;
  while ((await inboundFrom(page, dee.you.id)).frames === 0) {
    if (Date.now() > deadline) throw new Error('no video from Dee to begin with');
    await sleep(250);
  }

  await page.click('#sound-only');
  // A server that applies `receive` says so with `reception` (sound_only); one that does not
  // know it yet refuses it (bad_message), and there is nothing to measure.
  await wait(
    page,
    () =>
      window.haven.trace.some((m) => m.dir === 'in' && m.type === 'reception' && m.link === 'sound_only') ||
      window.haven.trace.some((m) => m.dir === 'in' && m.code === 'bad_message'),
  );
  if (!(await page.evaluate(() => window.haven.trace.some((m) => m.type === 'reception' && m.link === 'sound_only')))) {
    t.skip('this server does not apply receive yet (bad_message)');
    return;
  }
  await sleep(1500); // packets already in flight
  const a = await inboundFrom(page, dee.you.id);
  await sleep(2000);
  const b = await inboundFrom(page, dee.you.id);
  assert.ok(b.videoBytes - a.videoBytes < 2000, `video kept coming: ${a.videoBytes} → ${b.videoBytes} bytes`);
  assert.ok(b.audioPackets > a.audioPackets, `the sound stopped too: ${a.audioPackets} → ${b.audioPackets}`);
  t.diagnostic(`sound only: video bytes ${a.videoBytes} → ${b.videoBytes}, audio packets ${a.audioPackets} → ${b.audioPackets}`);

  await page.click('#sound-only');
  const pressedAt = Date.now();
  const resumed = pressedAt + CONNECT_TIMEOUT;
  let c;
  while ((c = await inboundFrom(page, dee.you.id)).frames <= b.frames) {
    if (Date.now() > resumed) throw new Error(`video did not come back: frames ${b.frames} → ${c.frames}`);
    await sleep(250);
  }
  const backIn = Date.now() - pressedAt;
  await sleep(1000);
  const d = await inboundFrom(page, dee.you.id);
  assert.ok(d.frames > c.frames, `video frames keep rising: ${c.frames} → ${d.frames}`);
  t.diagnostic(`video back: a new frame ${backIn} ms after the press; frames ${b.frames} → ${d.frames}`);

  // Another tab in front: the hidden page's tiles are reported not shown, so no video is
  // sent; shown again, the video is back within moments.
  const cover = await browser.newPage();
  await cover.goto('about:blank');
  await cover.bringToFront();
  await waitForReport(page, (tiles) => tiles[dee.you.id]?.visible === false, 'with the tab hidden');
  await sleep(1500);
  const e = await inboundFrom(page, dee.you.id);
  await sleep(2000);
  const f = await inboundFrom(page, dee.you.id);
  assert.ok(f.videoBytes - e.videoBytes < 2000, `a hidden tab kept getting video: ${e.videoBytes} → ${f.videoBytes} bytes`);
  assert.ok(f.audioPackets > e.audioPackets, `a hidden tab lost the sound: ${e.audioPackets} → ${f.audioPackets}`);
  await page.bringToFront();
  const shownAt = Date.now();
  await waitForReport(page, (tiles) => tiles[dee.you.id]?.visible === true, 'with the tab shown');
  const reportedIn = Date.now() - shownAt;
  let g;
  while ((g = await inboundFrom(page, dee.you.id)).frames <= f.frames) {
    if (Date.now() - shownAt > CONNECT_TIMEOUT) throw new Error(`video did not come back to the shown tab: frames ${f.frames}`);
    await sleep(100);
  }
  t.diagnostic(`tab hidden: video bytes ${e.videoBytes} → ${f.videoBytes}; shown again, reported in ${reportedIn} ms, a new frame in ${Date.now() - shownAt} ms`);
  await cover.close();
  assertNoPageErrors(page, 'Pat');
  await page.close();
  await dee.page.close();
});
