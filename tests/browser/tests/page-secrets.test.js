// What the page keeps, and where: the facilitator secret leaves the address bar at once (a
// shared screen or a history entry would otherwise show it) but survives a reload of the tab;
// the per-meeting token lasts a day; a production page exposes no test hooks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import { assertNoPageErrors, joinMeeting } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
let chromium;
before(async () => {
  server = await startServer('page-secrets');
  chromium = await launchChromium();
});
after(async () => {
  await chromium?.close().catch(() => {});
  await server?.stop();
});

test('the_facilitator_key_leaves_the_address_bar_but_a_reload_keeps_the_role', async () => {
  const room = await server.createRoom();
  const page = await chromium.newPage();
  const you = await joinMeeting(page, room.facilitator_url, 'Chair', { audio: false, video: false });
  assert.equal(you.role, 'facilitator');
  const address = await page.evaluate(() => window.location.href);
  assert.ok(!address.includes('#') && !address.includes('key'), `the address bar still holds the key: ${address}`);
  const history = await page.evaluate(() => window.history.length);
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#facilitator-note', { visible: true });
  assert.ok(!(await page.evaluate(() => window.location.href)).includes('key'));
  assert.equal(await page.evaluate(() => window.history.length), history, 'no history entry was added');
  assertNoPageErrors(page, 'Chair');
});

test('a_token_older_than_a_day_is_forgotten_and_a_fresh_one_kept', async () => {
  const room = await server.createRoom();
  const page = await chromium.newPage();
  // A day-old token of this meeting, and one of a meeting long past.
  const stale = JSON.stringify({ token: 'old-token-of-this-meeting', at: Date.now() - 25 * 3600 * 1000 });
  await page.evaluateOnNewDocument(
    (id, value) => {
      window.localStorage.setItem(`haven.token.${id}`, value);
      window.localStorage.setItem('haven.token.some-other-meeting', 'plain-old-token');
    },
    room.id,
    stale,
  );
  await joinMeeting(page, room.join_url, 'Mo', { audio: false, video: false });
  const kept = await page.evaluate(() => Object.fromEntries(Object.entries(window.localStorage)));
  assert.ok(!('haven.token.some-other-meeting' in kept), 'an undated token of another meeting is gone');
  const saved = JSON.parse(kept[`haven.token.${room.id}`]);
  assert.notEqual(saved.token, 'old-token-of-this-meeting', 'the stale token was sent and kept');
  assert.ok(Date.now() - saved.at < 60_000, 'the new token is dated now');
});

test('a_page_opened_without_the_test_flag_exposes_no_hooks', async () => {
  const room = await server.createRoom();
  // A plain puppeteer page: no preload script, as a member's browser.
  const page = await chromium.browser.newPage();
  await page.goto(room.join_url, { waitUntil: 'load' });
  await page.waitForSelector('#name-input', { visible: true });
  assert.equal(await page.evaluate(() => typeof window.haven), 'undefined');
  await page.close();
});
