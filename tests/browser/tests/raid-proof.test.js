// Issue #20's raid rules as people see them in real pages: a member let in late reads only
// what is said after they arrive (unless the chair shares earlier chat, which everyone is
// told), an ended meeting's link shows the ended screen to anyone who comes back, removing
// asks again first, a housemate of someone banned waits flagged instead of being refused,
// the chair sees and lifts bans, and chat badges the staff so a look-alike name cannot pass.
// (The held mute's screen is in facilitator.test.js, with the mute itself.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
let browser;
/** Another browser (its own profile, so its own meeting tokens): someone else at the address. */
let elsewhere;
before(async () => {
  server = await startServer('raid-proof');
  browser = await launchChromium();
  elsewhere = await launchChromium();
});
after(async () => {
  await browser?.close().catch(() => {});
  await elsewhere?.close().catch(() => {});
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

/** Presses `verb` in `id`'s row of `list` (the button's visible text). */
async function pressInRow(page, list, id, verb) {
  await page.bringToFront();
  const selector = `${list} li[data-participant-id="${id}"] button`;
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0, poll, selector);
  await page.$$eval(selector, (buttons, verb) => buttons.find((b) => b.firstChild.textContent === verb).click(), verb);
}

/** The confirmation step is open, says `title`, and its buttons can be hit where they show. */
async function confirmation(page, title) {
  await page.waitForFunction(() => document.getElementById('confirm-dialog').open, poll);
  assert.match(await page.$eval('#confirm-heading', (e) => e.textContent), title);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-cancel', 'Cancel has the focus');
  for (const id of ['confirm-ok', 'confirm-cancel']) {
    const hit = await page.$eval(`#${id}`, (b) => {
      const r = b.getBoundingClientRect();
      const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { hit: b.contains(at), height: r.height };
    });
    assert.ok(hit.hit, `${id} is what a finger at its centre touches`);
    assert.ok(hit.height >= 44, `${id} is large enough for a finger`);
  }
}

test('removing_asks_first_a_housemate_of_someone_banned_waits_flagged_and_the_chair_lifts_the_ban', { timeout: 120_000 }, async () => {
  const room = await server.createRoom();
  const chair = await browser.newPage();
  await chair.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
  await joinMeeting(chair, room.facilitator_url, 'Chair', { audio: false, video: false });
  await staffPanel(chair);
  const rexPage = await browser.newPage();
  const rex = await joinMeeting(rexPage, room.join_url, 'Rex', { audio: false, video: false });

  // Cancel keeps Rex in; confirming removes and bans him.
  await pressInRow(chair, '#people-list', rex.id, 'Remove and ban');
  await confirmation(chair, /Remove and ban Rex\?/);
  await chair.click('#confirm-cancel');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await rexPage.evaluate(() => window.haven.state), 'joined', 'Cancel removed no one');
  await pressInRow(chair, '#people-list', rex.id, 'Remove and ban');
  await confirmation(chair, /Remove and ban Rex\?/);
  await chair.click('#confirm-ok');
  await rexPage.waitForFunction(() => window.haven.state === 'problem', poll);
  await chair.waitForFunction(() => !document.getElementById('bans').hidden, poll);
  assert.match(await chair.$eval('#ban-list', (e) => e.textContent), /^Rex, \d\d?:\d\d/);

  // Kim shares Rex's address (every page here comes from 127.0.0.1) with a browser of her
  // own: she is not refused but waits, and the chair is told why.
  const kim = await elsewhere.newPage();
  await kim.goto(room.join_url, { waitUntil: 'load' });
  await kim.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
  await kim.type('#name-input', 'Kim');
  await kim.click('#join-button');
  await kim.waitForFunction(() => window.haven.state === 'waiting', poll);
  await chair.waitForFunction(() => /same network as someone removed/.test(document.getElementById('waiting-list').textContent), poll);
  const kimWaiting = await chair.evaluate(() => window.haven.waiting.find((w) => w.name === 'Kim'));
  assert.equal(kimWaiting.same_network_as_banned, true);
  // The arrival toast says it too, and offers no "Admit all" (which never lets the flagged
  // in): with a second one at the door it would have read "Admit all 2" and done nothing.
  const toast = () => chair.evaluate(() => ({ shown: !document.getElementById('arrival-toast').hidden, text: document.getElementById('arrival-text').textContent, all: !document.getElementById('arrival-admit-all').hidden }));
  await chair.waitForFunction(() => /Kim joins from the same network as someone removed/.test(document.getElementById('arrival-text').textContent), poll);
  const lou = await elsewhere.newPage();
  await lou.goto(room.join_url, { waitUntil: 'load' });
  await lou.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
  await lou.type('#name-input', 'Lou');
  await lou.click('#join-button');
  await lou.waitForFunction(() => window.haven.state === 'waiting', poll);
  await chair.waitForFunction(() => /Lou and 1 other/.test(document.getElementById('arrival-text').textContent), poll);
  assert.deepEqual(await toast(), { shown: true, text: 'Lou and 1 other are waiting to come in. Lou joins from the same network as someone removed earlier. It may be someone else in their home, or them again.', all: false });
  assert.equal(await chair.$eval('#admit-all-button', (b) => b.hidden), true, 'nor does the waiting list');
  await pressInRow(chair, '#waiting-list', kimWaiting.id, 'Admit');
  await kim.waitForFunction(() => window.haven.state === 'joined', poll);

  // The ban was a mistake: lifted, the list is gone.
  const ban = (await chair.evaluate(() => window.haven.bans))[0];
  await pressInRow(chair, '#ban-list', `ban-${ban.id}`, 'Lift ban');
  await chair.waitForFunction(() => document.getElementById('bans').hidden, poll);

  for (const [page, name] of [[chair, 'Chair'], [kim, 'Kim']]) assertNoPageErrors(page, name);
  await chair.close();
  await rexPage.close();
  await kim.close();
  await lou.close();
});

test('deny_all_asks_first_and_turns_everyone_waiting_away', { timeout: 120_000 }, async () => {
  const room = await server.createRoom();
  const chair = await browser.newPage();
  await joinMeeting(chair, room.facilitator_url, 'Chair', { audio: false, video: false });
  await staffPanel(chair);
  await click(chair, '#set-waiting');
  await chair.waitForFunction(() => window.haven.roomInfo.waiting_room, poll);
  const waiters = [];
  for (const name of ['Bot1', 'Bot2']) {
    const page = await elsewhere.newPage();
    await page.goto(room.join_url, { waitUntil: 'load' });
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    await page.type('#name-input', name);
    await page.click('#join-button');
    await page.waitForFunction(() => window.haven.state === 'waiting', poll);
    waiters.push(page);
  }
  await chair.waitForFunction(() => !document.getElementById('deny-all-button').hidden, poll);
  await click(chair, '#deny-all-button');
  await confirmation(chair, /Turn everyone waiting away\?/);
  await chair.click('#confirm-ok');
  for (const page of waiters) {
    await page.waitForFunction(() => window.haven.state === 'problem', poll);
    assert.match(await page.$eval('#problem-heading', (e) => e.textContent), /not let in/i);
  }
  await chair.waitForFunction(() => window.haven.waiting.length === 0, poll);
  await chair.close();
  for (const page of waiters) await page.close();
});

test('chat_badges_the_facilitator_and_a_look_alike_name_is_sent_back_to_the_join_screen', { timeout: 90_000 }, async () => {
  const room = await server.createRoom();
  const ana = await browser.newPage();
  await joinMeeting(ana, room.facilitator_url, 'Ana', { audio: false, video: false });
  const sam = await browser.newPage();
  await joinMeeting(sam, room.join_url, 'Sam', { audio: false, video: false });
  await say(ana, 'welcome everyone');
  await openChat(sam);
  await sam.waitForFunction(() => document.querySelectorAll('#chat-list .chat-line').length === 1, poll);
  const line = await sam.$eval('#chat-list .chat-line .chat-from', (e) => ({
    text: e.textContent,
    badge: e.querySelector('.role-badge')?.textContent,
  }));
  assert.equal(line.badge, 'Facilitator', 'the facilitator is badged');
  assert.equal(line.text, 'Ana Facilitator: ');
  await say(sam, 'hi');
  await ana.waitForFunction(() => document.querySelectorAll('#chat-list .chat-line').length === 2, poll);
  assert.equal(await ana.$$eval('#chat-list .role-badge', (b) => b.length), 1, 'a member is not badged');

  // A raider picking the facilitator's name, in capitals, is sent back to choose another.
  const fake = await elsewhere.newPage();
  await fake.goto(room.join_url, { waitUntil: 'load' });
  await fake.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
  await fake.type('#name-input', 'ANA');
  await fake.click('#join-button');
  await fake.waitForFunction(() => window.haven.state === 'join' && document.getElementById('name-input').getAttribute('aria-invalid') === 'true', poll);
  assert.match(await fake.evaluate(() => document.body.textContent), /too close to a facilitator's/);
  for (const [page, name] of [[ana, 'Ana'], [sam, 'Sam']]) assertNoPageErrors(page, name);
  await ana.close();
  await sam.close();
  await fake.close();
});
