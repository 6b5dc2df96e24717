// axe-core finds no serious or critical accessibility problems on the landing page, the
// join screen and the meeting view.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seriousViolations } from '../lib/axe.js';
import { launchChromium } from '../lib/browsers.js';
import { joinMeeting, waitForTile } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
let browser;
before(async () => {
  server = await startServer('a11y');
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function auditedPage() {
  const page = await browser.newPage();
  await page.setBypassCSP(true);
  return page;
}

const explain = (violations) => JSON.stringify(violations, null, 1);

test('the_landing_page_has_no_serious_accessibility_violations', async () => {
  const page = await auditedPage();
  await page.goto(`${server.url}/`);
  await page.click('#start-button');
  await page.waitForSelector('#created', { visible: true });
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], explain(violations));
});

test('the_join_screen_and_meeting_have_no_serious_accessibility_violations', async () => {
  const room = await server.createRoom();
  const page = await auditedPage();
  await page.goto(room.join_url);
  await page.waitForSelector('#name-input', { visible: true });
  let violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `join screen: ${explain(violations)}`);

  const other = await auditedPage();
  const you = await joinMeeting(page, room.join_url, 'Alice', { audio: true, video: true });
  const them = await joinMeeting(other, room.join_url, 'Bea', { audio: false, video: false });
  await waitForTile(page, them.id, 'Bea');
  violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `meeting: ${explain(violations)}`);
  assert.ok(you.id);
});
