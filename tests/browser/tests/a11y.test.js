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

test('the_guidelines_and_the_waiting_room_have_no_serious_accessibility_violations', async () => {
  const room = await server.createRoom();
  const chair = await auditedPage();
  await joinMeeting(chair, room.facilitator_url, 'Chair', { audio: false, video: false });
  await chair.$eval('#set-guidelines', (el) => {
    el.value = 'What is said here stays here.';
    el.dispatchEvent(new Event('input'));
  });
  await chair.click('#save-guidelines');
  await chair.click('#set-waiting');
  await chair.waitForFunction(() => window.haven.roomInfo?.waiting_room && window.haven.roomInfo.guidelines, {
    polling: 200,
  });

  const page = await auditedPage();
  await page.bringToFront();
  await page.goto(room.join_url);
  await page.waitForFunction(() => !document.getElementById('guidelines-box').hidden, { polling: 200 });
  let violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `join screen with guidelines: ${explain(violations)}`);

  await page.type('#name-input', 'Wren');
  await page.click('#agree-input');
  await page.click('#join-button');
  await page.waitForFunction(() => window.haven.state === 'waiting', { polling: 200 });
  violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `waiting room: ${explain(violations)}`);
});
