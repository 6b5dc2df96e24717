// Issue #20's raid rules as people see them in real pages: a member let in late reads only
// what is said after they arrive (unless the chair shares earlier chat, which everyone is
// told), and an ended meeting's link shows the ended screen to anyone who comes back. (The
// held mute's screen is in facilitator.test.js, with the mute itself.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
let browser;
before(async () => {
  server = await startServer('raid-proof');
  browser = await launchChromium();
});
after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const poll = { timeout: CONNECT_TIMEOUT, polling: 200 };
const chatTexts = (page) => page.$$eval('#chat-list .chat-text', (els) => els.map((e) => e.textContent));

async function click(page, selector) {
  await page.bringToFront();
  await page.click(selector);
}

/** The facilitator tools open by themselves for a facilitator. */
async function staffPanel(page) {
  await page.waitForFunction(() => !document.getElementById('staff-panel').hidden, poll);
}

async function openChat(page) {
  await page.bringToFront();
  if (await page.$eval('#chat-panel', (p) => p.hidden)) await page.click('#chat-button');
}

async function say(page, text) {
  await openChat(page);
  await page.type('#chat-input', text);
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => [...document.querySelectorAll('#chat-list .chat-text')].some((e) => e.textContent === t), poll, text);
}

test('a_member_let_in_late_reads_only_what_is_said_after_unless_the_chair_shares_earlier_chat', { timeout: 90_000 }, async () => {
  const room = await server.createRoom();
  const chair = await browser.newPage();
  await joinMeeting(chair, room.facilitator_url, 'Chair', { audio: false, video: false });
  const ana = await browser.newPage();
  await joinMeeting(ana, room.join_url, 'Ana', { audio: false, video: false });
  await say(ana, 'I relapsed last week');

  const rex = await browser.newPage();
  await joinMeeting(rex, room.join_url, 'Rex', { audio: false, video: false });
  await openChat(rex);
  assert.deepEqual(await chatTexts(rex), [], 'Rex, arriving later, reads nothing said before');
  assert.match(await rex.$eval('#chat-since', (e) => e.textContent), /only what is said after they arrive/);
  await say(ana, 'welcome');
  await rex.waitForFunction(() => document.querySelectorAll('#chat-list .chat-text').length === 1, poll);
  assert.deepEqual(await chatTexts(rex), ['welcome']);

  // The chair shares earlier chat: everyone is told, since it concerns what they wrote.
  await staffPanel(chair);
  await click(chair, '#set-share-chat');
  await ana.waitForFunction(() => /will also see the recent chat/.test(document.getElementById('notice').textContent), poll);
  const kim = await browser.newPage();
  await joinMeeting(kim, room.join_url, 'Kim', { audio: false, video: false });
  await openChat(kim);
  assert.deepEqual(await chatTexts(kim), ['I relapsed last week', 'welcome']);
  assert.equal(await chair.$eval('#set-share-chat', (b) => b.checked), true);

  for (const [page, name] of [[chair, 'Chair'], [ana, 'Ana'], [rex, 'Rex'], [kim, 'Kim']]) {
    assertNoPageErrors(page, name);
    await page.close();
  }
});

test('an_ended_meetings_link_shows_the_ended_screen_to_anyone_who_comes_back', { timeout: 90_000 }, async () => {
  const room = await server.createRoom();
  const chair = await browser.newPage();
  await joinMeeting(chair, room.facilitator_url, 'Chair', { audio: false, video: false });
  chair.once('dialog', (dialog) => dialog.accept());
  await staffPanel(chair);
  await click(chair, '#end-button');
  await chair.waitForFunction(() => window.haven.state === 'problem', poll);

  const rex = await browser.newPage();
  await rex.bringToFront();
  await rex.goto(room.join_url, { waitUntil: 'load' });
  await rex.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
  await rex.type('#name-input', 'Rex');
  await rex.click('#join-button');
  await rex.waitForFunction(() => window.haven.state === 'problem', poll);
  assert.match(await rex.$eval('#problem-heading', (e) => e.textContent), /meeting has ended/i);
  assert.ok(await rex.$eval('#retry-button', (b) => b.hidden), 'nothing to retry');
  await chair.close();
  await rex.close();
});
