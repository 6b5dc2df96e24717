// Readings in real pages (issue 22): the chair shows a reading from the config file and it
// opens on every member's page, Chromium and Firefox, as text (a `<script>` in it stays
// words); the highlight and the "who is reading" line move everywhere; a member whose page
// sends the staff message is refused; a member on a 360×640 phone opens the guidelines
// themselves and can reach the close button; axe passes with the panel open.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { seriousViolations } from '../lib/axe.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting } from '../lib/meeting.js';
import { ARTIFACTS, startServer } from '../lib/server.js';

const KEY = 'readings-secret';
const KEY_SHA256 = '787352a193ad348a2addcee9d17212fafd4a547b20c0180db433bdff43fa9fe6';
const GUIDELINES = 'What is said here stays here.\n\nWe share for about three minutes.';
const PREAMBLE = [
  'We are glad you are here.',
  'Sharing is never required.\nListening is enough.',
  '<script>window.__injected = true</script><b>not bold</b>',
];
const CONFIG = `
[[room]]
id = "readings"
title = "Tuesday evening"
facilitator_key_sha256 = "${KEY_SHA256}"
guidelines = ${JSON.stringify(GUIDELINES)}
readings = [{ title = "Preamble", text = ${JSON.stringify(PREAMBLE.join('\n\n'))} }]
`;
const PHONE = { width: 360, height: 640 };
const poll = { timeout: CONNECT_TIMEOUT, polling: 200 };
const skipFirefox = process.env.HAVEN_SKIP_FIREFOX === '1';

let server;
let chromium;
let firefox;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const config = path.join(ARTIFACTS, 'readings.toml');
  writeFileSync(config, CONFIG);
  server = await startServer('readings', { env: { HAVEN_CONFIG: config } });
  chromium = await launchChromium();
  if (!skipFirefox) firefox = await launchFirefox();
});
after(async () => {
  await chromium?.close().catch(() => {});
  await firefox?.close().catch(() => {});
  await server?.stop();
});

const memberUrl = () => `${server.url}/m/readings`;
const chairUrl = () => `${server.url}/m/readings#key=${KEY}`;

async function click(page, selector) {
  await page.bringToFront();
  await page.click(selector);
}

/** More → Readings, then the reading titled `title` from the list. */
async function openReading(page, title) {
  await page.bringToFront();
  if (await page.$eval('#reading-panel', (p) => p.hidden)) {
    if (!(await page.$eval('#readings-button', (b) => b.getClientRects().length > 0))) await page.click('#more-button');
    await page.click('#readings-button');
  }
  await page.waitForFunction(() => !document.getElementById('reading-index').hidden, poll);
  const opened = await page.$$eval(
    '#reading-list button',
    (buttons, title) => {
      const b = buttons.find((x) => x.firstChild?.textContent === title);
      b?.click();
      return !!b;
    },
    title,
  );
  assert.ok(opened, `no "${title}" in the readings list`);
  await page.waitForFunction((t) => document.getElementById('reading-heading').textContent === t, poll, title);
}

/** What the page shows of the open reading: heading, paragraphs, highlight, status line. */
function panel(page) {
  return page.evaluate(() => {
    const box = document.getElementById('reading-text');
    const paragraphs = [...box.querySelectorAll('p')];
    return {
      open: !document.getElementById('reading-panel').hidden,
      heading: document.getElementById('reading-heading').textContent,
      paragraphs: paragraphs.map((p) => p.textContent),
      current: paragraphs.findIndex((p) => p.classList.contains('is-current')),
      status: document.getElementById('reading-status').hidden ? '' : document.getElementById('reading-status').textContent,
      elements: [...box.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
      injected: window.__injected === true,
      staffTools: !document.getElementById('reading-staff').hidden,
    };
  });
}

const waitFor = (page, fn, arg) => page.waitForFunction(fn, poll, arg);

/** A tab of `browser`; a loaded 2-core machine starts Firefox's first page slowly. */
async function newPage(browser) {
  const page = await browser.newPage();
  page.setDefaultNavigationTimeout(120_000);
  return page;
}

test('a_reading_shown_by_the_chair_opens_for_every_member_as_text_and_follows_the_highlight', { timeout: 400_000 }, async (t) => {
  if (skipFirefox) t.diagnostic('HAVEN_SKIP_FIREFOX=1: the Firefox member is left out');
  const chair = await newPage(chromium);
  await chair.setBypassCSP(true);
  await joinMeeting(chair, chairUrl(), 'Chair', { audio: false, video: false, agree: true });
  const members = [];
  const ana = await newPage(chromium);
  await ana.setBypassCSP(true);
  await joinMeeting(ana, memberUrl(), 'Ana', { audio: false, video: false, agree: true });
  members.push(['Ana (Chromium)', ana]);
  if (firefox) {
    const bo = await newPage(firefox);
    await joinMeeting(bo, memberUrl(), 'Bo', { audio: false, video: false, agree: true });
    members.push(['Bo (Firefox)', bo]);
  }

  await openReading(chair, 'Preamble');
  await click(chair, '#reading-show');
  await waitFor(chair, () => window.haven.readings.shown !== null).catch(async (err) => {
    const seen = await chair.evaluate(() => ({ trace: window.haven.trace.slice(-8), panel: document.getElementById('reading-panel').outerHTML.slice(0, 3000) }));
    err.message += ` (the chair's page: ${JSON.stringify(seen)})`;
    throw err;
  });
  for (const [who, page] of members) {
    await waitFor(page, () => window.haven.readings.shown !== null);
    await waitFor(page, () => !document.getElementById('reading-panel').hidden);
    const seen = await panel(page);
    assert.equal(seen.heading, 'Preamble', who);
    assert.deepEqual(seen.paragraphs, PREAMBLE, `${who}: the paragraphs, markup as words`);
    assert.deepEqual(seen.elements, ['p', 'p', 'p'], `${who}: only paragraphs, no element from the text`);
    assert.equal(seen.injected, false, `${who}: the script in the text did not run`);
    assert.equal(seen.current, 0, `${who}: the first paragraph is highlighted`);
    assert.equal(seen.status, 'Shown to everyone', who);
    assert.equal(seen.staffTools, false, `${who}: a member gets no staff tools`);
  }

  // The chair names the reader and moves on: every page follows.
  await chair.bringToFront();
  await chair.type('#reading-reader', 'Ana');
  await click(chair, '#reading-reader-form button[type="submit"]');
  await waitFor(chair, () => window.haven.readings.shown?.reader === 'Ana');
  await click(chair, '#reading-next');
  await waitFor(chair, () => window.haven.readings.shown?.paragraph === 1);
  for (const [who, page] of members) {
    await waitFor(page, () => document.querySelector('#reading-text p.is-current')?.dataset.paragraph === '1');
    const seen = await panel(page);
    assert.equal(seen.status, 'Read by Ana · shown to everyone', who);
    assert.equal(await page.$eval('#reading-text p.is-current', (p) => p.getAttribute('aria-current')), 'true', who);
  }

  // A member's page sending the staff's message is refused, and nothing moves.
  for (const [who, page] of members) {
    const { id } = await page.evaluate(() => window.haven.readings.shown);
    await page.evaluate((id) => window.haven.sendAsIs({ type: 'show_reading', id, paragraph: 2 }), id);
    await waitFor(page, () => window.haven.trace.some((m) => m.dir === 'in' && m.type === 'error' && m.code === 'not_permitted'));
    assert.equal(await page.evaluate(() => window.haven.readings.shown.paragraph), 1, `${who}: the highlight did not move`);
  }

  // axe with the panel open: the chair's (with the staff tools) and a member's.
  for (const [who, page] of [['chair', chair], ...members.slice(0, 1)]) {
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `${who}: ${JSON.stringify(violations, null, 1)}`);
  }

  // Stop showing: the panel that opened by itself closes everywhere.
  await click(chair, '#reading-stop');
  for (const [who, page] of members) {
    await waitFor(page, () => document.getElementById('reading-panel').hidden);
    assert.equal(await page.evaluate(() => window.haven.readings.shown), null, who);
  }
  for (const [who, page] of [['chair', chair], ...members]) assertNoPageErrors(page, who);
  for (const [, page] of [['chair', chair], ...members]) await page.close().catch(() => {});
});

test('a_member_on_a_phone_opens_the_guidelines_and_can_reach_the_close_button', { timeout: 120_000 }, async () => {
  const page = await newPage(chromium);
  await page.setBypassCSP(true);
  await page.setViewport({ ...PHONE, hasTouch: true, isMobile: true });
  await joinMeeting(page, memberUrl(), 'Cy', { audio: false, video: false, agree: true });
  await openReading(page, 'Our guidelines');
  const seen = await panel(page);
  assert.deepEqual(seen.paragraphs, GUIDELINES.split('\n\n'));
  assert.equal(seen.current, -1, 'nothing on show: no highlight');

  // The panel fits the phone's width, and the close button is what a tap at its centre hits.
  const fit = await page.evaluate(() => {
    const r = document.getElementById('reading-panel').getBoundingClientRect();
    return { left: r.left, right: r.right, width: document.documentElement.clientWidth };
  });
  assert.ok(fit.left >= 0 && fit.right <= fit.width, `the panel fits in ${fit.width}px: ${JSON.stringify(fit)}`);
  const hit = await page.$eval('#reading-close', (b) => {
    const r = b.getBoundingClientRect();
    const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return { reached: b === at || b.contains(at), at: at?.id || at?.tagName, size: [r.width, r.height] };
  });
  assert.ok(hit.reached, `a tap at the close button's centre reaches ${hit.at}`);
  assert.ok(hit.size[0] >= 44 && hit.size[1] >= 44, `a target a finger can hit: ${hit.size}`);

  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));

  await page.tap('#reading-close');
  await page.waitForFunction(() => document.getElementById('reading-panel').hidden, poll);
  assertNoPageErrors(page, 'Cy');
  await page.close().catch(() => {});
});

test('the_chair_adds_a_long_reading_and_a_member_who_scrolled_away_gets_back_to_where_we_are', { timeout: 300_000 }, async () => {
  const chair = await newPage(chromium);
  await joinMeeting(chair, chairUrl(), 'Chair', { audio: false, video: false, agree: true });
  const member = await newPage(chromium);
  await member.setViewport({ ...PHONE, hasTouch: true, isMobile: true });
  await joinMeeting(member, memberUrl(), 'Dee', { audio: false, video: false, agree: true });

  // Added through the panel's own form: twelve paragraphs, more than a phone shows at once.
  const paragraphs = Array.from({ length: 12 }, (_, i) => `Step ${i + 1}. We came to believe that we could carry on, one day at a time, together.`);
  await openReading(chair, 'Preamble');
  await click(chair, '#reading-back');
  await click(chair, '#reading-add');
  await chair.type('#reading-title-input', 'The steps');
  await chair.$eval('#reading-text-input', (t, text) => { t.value = text; }, paragraphs.join('\n\n'));
  await click(chair, '#reading-form button[type="submit"]');
  await waitFor(chair, () => window.haven.readings.list.some((r) => r.title === 'The steps'));
  await waitFor(member, () => window.haven.readings.list.some((r) => r.title === 'The steps'));
  await openReading(chair, 'The steps');
  await click(chair, '#reading-show');
  await waitFor(member, () => document.getElementById('reading-heading').textContent === 'The steps');
  for (let i = 0; i < 8; i++) {
    await click(chair, '#reading-next');
    await waitFor(chair, (n) => window.haven.readings.shown?.paragraph === n, i + 1);
  }
  // Following along, the member's panel brought the highlighted paragraph into view...
  await waitFor(member, () => document.querySelector('#reading-text p.is-current')?.dataset.paragraph === '8');
  const inView = () =>
    member.$eval('#reading-text', (box) => {
      const p = box.querySelector('p.is-current').getBoundingClientRect();
      const b = box.getBoundingClientRect();
      return p.bottom > b.top && p.top < b.bottom;
    });
  await member.waitForFunction(
    () => {
      const box = document.getElementById('reading-text');
      const p = box.querySelector('p.is-current').getBoundingClientRect();
      const b = box.getBoundingClientRect();
      return p.bottom > b.top && p.top < b.bottom;
    },
    poll,
  );
  // ...then they scroll back to the start to re-read, and are offered the way back.
  await member.bringToFront();
  const box = await member.$eval('#reading-text', (b) => {
    const r = b.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  await member.mouse.move(box.x, box.y);
  await member.mouse.wheel({ deltaY: -20_000 });
  await waitFor(member, () => !document.getElementById('reading-follow').hidden);
  assert.equal(await inView(), false, 'scrolled away from the highlight');
  await member.bringToFront();
  await member.tap('#reading-follow');
  await member.waitForFunction(() => document.getElementById('reading-follow').hidden, poll);
  assert.equal(await inView(), true, '"Back to where we are" shows the highlighted paragraph');
  assertNoPageErrors(chair, 'chair');
  assertNoPageErrors(member, 'Dee');
  await chair.close().catch(() => {});
  await member.close().catch(() => {});
});

test('the_guidelines_the_chair_changes_live_become_the_guidelines_reading_everywhere', { timeout: 300_000 }, async () => {
  const chair = await newPage(chromium);
  await joinMeeting(chair, chairUrl(), 'Chair', { audio: false, video: false, agree: true });
  const member = await newPage(firefox ?? chromium);
  await joinMeeting(member, memberUrl(), 'Eli', { audio: false, video: false, agree: true });
  const setGuidelines = async (text) => {
    await chair.bringToFront();
    await chair.$eval('#set-guidelines', (el, t) => {
      el.value = t;
      el.dispatchEvent(new Event('input'));
    }, text);
    await click(chair, '#save-guidelines');
  };
  const hasGuidelines = (text) => {
    const r = window.haven.readings.list.find((x) => x.title === 'Our guidelines');
    return text === null ? !r : r?.text === text;
  };
  // The member has the guidelines open while the chair rewrites them: the panel follows.
  await openReading(member, 'Our guidelines');
  const rewritten = 'What is said here stays here.\n\nNo advice unless someone asks for it.\n\nWe share for about three minutes.';
  await setGuidelines(rewritten);
  for (const page of [chair, member]) await waitFor(page, hasGuidelines, rewritten);
  await waitFor(member, (n) => document.querySelectorAll('#reading-text p').length === n, 3);
  assert.deepEqual((await panel(member)).paragraphs, rewritten.split('\n\n'));
  // Cleared: the reading leaves every list, and the member's panel goes back to the list.
  await setGuidelines('');
  for (const page of [chair, member]) await waitFor(page, hasGuidelines, null);
  await waitFor(member, () => !document.getElementById('reading-index').hidden);
  const titles = await member.$$eval('#reading-list button', (bs) => bs.map((b) => b.firstChild?.textContent));
  assert.ok(!titles.includes('Our guidelines') && titles.includes('Preamble'), `the list: ${titles}`);
  // Set again, they are a reading again.
  await setGuidelines(GUIDELINES);
  for (const page of [chair, member]) await waitFor(page, hasGuidelines, GUIDELINES);
  await openReading(member, 'Our guidelines');
  assert.deepEqual((await panel(member)).paragraphs, GUIDELINES.split('\n\n'));
  assertNoPageErrors(chair, 'chair');
  assertNoPageErrors(member, 'Eli');
  await chair.close().catch(() => {});
  await member.close().catch(() => {});
});
