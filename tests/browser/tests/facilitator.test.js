// Facilitator controls in real pages: mute (and the SFU stops forwarding), the speaking queue
// with the share timer on every page, lock, the waiting room, chat as plain text, and the
// accessibility and phone layout of the meeting view with the new panels. One server and one
// Chromium for the whole file (the suite runs on a small machine).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seriousViolations } from '../lib/axe.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import {
  assertNoPageErrors,
  CONNECT_TIMEOUT,
  expectMediaFrom,
  inbound,
  joinMeeting,
  outbound,
  screenshot,
  waitForTile,
} from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let server;
let browser;
const pages = [];
before(async () => {
  server = await startServer('facilitator');
  browser = await launchChromium();
});
after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function newPage({ audit = false } = {}) {
  const page = await browser.newPage();
  if (audit) await page.setBypassCSP(true);
  pages.push(page);
  return page;
}

async function closeAll(...list) {
  for (const p of list) await p.close().catch(() => {});
}

/** A facilitator page (joined through the facilitator link) and the room. */
async function facilitated(name = 'Chair', options = {}) {
  const room = await server.createRoom();
  const page = await newPage(options);
  const you = await joinMeeting(page, room.facilitator_url, name, { audio: false, video: false });
  assert.equal(you.role, 'facilitator');
  await visible(page, '#staff-panel');
  return { room, page, you };
}

/** Clicks the button with `text` in the row of participant `id` inside `listSelector`. */
async function clickInRow(page, listSelector, id, text) {
  const selector = `${listSelector} li[data-participant-id="${id}"] button`;
  await visible(page, selector);
  const clicked = await page.$$eval(
    selector,
    (buttons, text) => {
      const b = buttons.find((x) => x.firstChild?.textContent === text && !x.disabled);
      if (b) b.click();
      return !!b;
    },
    text,
  );
  assert.ok(clicked, `no "${text}" button for ${id} in ${listSelector}`);
}

const audioPacketsFrom = async (page, id) =>
  (await inbound(page)).filter((r) => r.kind === 'audio' && r.from === id).reduce((n, r) => n + r.packetsReceived, 0);

const queueNames = (page) =>
  page.$$eval('#queue-list li .queue-name', (els) => els.map((e) => e.textContent.replace(/ \(you\)$/, '')));

/**
 * Background tabs get no animation frames, so puppeteer's clicks and rAF-polled waits can
 * stall there: act in the front tab, and poll on a timer.
 */
async function front(page) {
  await page.bringToFront();
  return page;
}
async function click(page, selector) {
  await page.bringToFront();
  await page.click(selector);
}
async function visible(page, selector) {
  await page.waitForFunction(
    (sel) => {
      const el = document.querySelector(sel);
      return !!el && !el.hidden && el.getClientRects().length > 0;
    },
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    selector,
  );
}

const text = (page, selector) => page.$eval(selector, (el) => el.textContent);

test('a_facilitator_mutes_a_member_who_is_told_why_and_whose_audio_stops', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  const member = await newPage();
  const sam = await joinMeeting(member, room.join_url, 'Sam', { audio: true, video: true });
  await waitForTile(chair, sam.id, 'Sam');
  await expectMediaFrom(chair, sam.id, "the chair's page");

  await clickInRow(chair, '#people-list', sam.id, 'Mute');
  await member.waitForFunction(() => !window.haven.media.audio, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await member.waitForFunction(
    () => /facilitator muted you/i.test(document.getElementById('notice').textContent) &&
      !document.getElementById('notice').hidden,
    { timeout: CONNECT_TIMEOUT, polling: 200 },
  );
  assert.match(await text(member, '#announcer'), /A facilitator muted you/);
  assert.equal(
    await member.$eval('#screen-meeting [data-toggle="audio"]', (b) => b.getAttribute('aria-pressed')),
    'false',
  );
  // The chair's tile for Sam shows the mute.
  await chair.waitForFunction(
    (id) => document.querySelector(`#grid .tile[data-participant-id="${id}"]`).classList.contains('is-muted'),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    sam.id,
  );
  // No more of Sam's audio reaches the chair (allow in-flight packets to land first).
  await sleep(1500);
  const before = await audioPacketsFrom(chair, sam.id);
  await sleep(2500);
  const after = await audioPacketsFrom(chair, sam.id);
  assert.ok(before > 0, 'audio flowed before the mute');
  assert.equal(after, before, `audio packets from the muted member kept rising: ${before} → ${after}`);

  // The mute holds though this room lets members unmute: Sam's screen says so, and the mic
  // button explains itself instead of turning on...
  await member.waitForFunction(() => !document.getElementById('held-muted-banner').hidden, {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  const mic = '#screen-meeting [data-toggle="audio"]';
  assert.equal(await member.$eval(mic, (b) => b.getAttribute('aria-disabled')), 'true');
  await click(member, mic);
  await member.waitForFunction(() => /lets you speak again/.test(document.getElementById('notice').textContent), {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  await member.evaluate(() => window.haven.settled());
  assert.equal(await member.evaluate(() => window.haven.media.audio), false, 'the microphone stayed off');
  // ...until the chair allows it.
  await chair.waitForFunction(
    (id) => /muted by a facilitator/.test(document.querySelector(`#people-list li[data-participant-id="${id}"]`).textContent),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    sam.id,
  );
  await clickInRow(chair, '#people-list', sam.id, 'Allow to unmute');
  await member.waitForFunction(() => document.getElementById('held-muted-banner').hidden, {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  assert.equal(await member.$eval(mic, (b) => b.getAttribute('aria-disabled')), null);
  await click(member, mic);
  await member.waitForFunction(() => window.haven.you?.audio === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
  assertNoPageErrors(member, 'Sam');
  assertNoPageErrors(chair, 'Chair');
  await closeAll(chair, member);
});

test('a_muted_page_that_keeps_sending_is_still_silent_at_the_others', { timeout: 90_000 }, async () => {
  // The enforcement must not trust the page it constrains: a modified client that puts a live
  // microphone back on its sender after the mute really sends, and still nobody hears it.
  const { page: chair, room } = await facilitated();
  const member = await newPage();
  const sam = await joinMeeting(member, room.join_url, 'Sam', { audio: true, video: false });
  await waitForTile(chair, sam.id, 'Sam');
  for (let waited = 0; waited < CONNECT_TIMEOUT && (await audioPacketsFrom(chair, sam.id)) < 20; waited += 300) {
    await sleep(300);
  }
  assert.ok((await audioPacketsFrom(chair, sam.id)) > 0, "Sam's audio reached the chair before the mute");

  await clickInRow(chair, '#people-list', sam.id, 'Mute');
  await member.waitForFunction(() => !window.haven.media.audio, { timeout: CONNECT_TIMEOUT, polling: 200 });
  const replaced = await member.evaluate(async () => {
    const mic = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0];
    const t = window.haven.pc
      .getTransceivers()
      .find((x) => x.receiver.track.kind === 'audio' && (x.direction === 'sendonly' || x.direction === 'sendrecv'));
    if (!t) return false;
    await t.sender.replaceTrack(mic);
    return true;
  });
  assert.ok(replaced, "the page found its microphone's sender");
  const sentAudio = async () => (await outbound(member)).filter((r) => r.kind === 'audio').reduce((n, r) => n + (r.packetsSent ?? 0), 0);
  await sleep(1500);
  const [sentBefore, heardBefore] = [await sentAudio(), await audioPacketsFrom(chair, sam.id)];
  await sleep(3000);
  const [sentAfter, heardAfter] = [await sentAudio(), await audioPacketsFrom(chair, sam.id)];
  assert.ok(sentAfter - sentBefore > 50, `the modified page really sends its microphone: ${sentBefore} → ${sentAfter}`);
  assert.equal(heardAfter, heardBefore, `the muted microphone reached the chair: ${heardBefore} → ${heardAfter}`);
  await closeAll(chair, member);
});

test('when_self_unmute_is_off_a_member_is_told_they_cannot_unmute', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  const member = await newPage();
  await joinMeeting(member, room.join_url, 'Kim', { audio: false, video: false });
  await click(chair, '#set-unmute');
  await member.waitForFunction(() => window.haven.roomInfo?.members_may_unmute === false, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await click(member, '#screen-meeting [data-toggle="audio"]');
  await member.waitForFunction(
    () => /can't unmute right now/i.test(document.getElementById('announcer').textContent),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
  );
  await member.evaluate(() => window.haven.settled());
  await member.waitForFunction(() => !window.haven.media.audio, { timeout: CONNECT_TIMEOUT, polling: 200 });
  assert.equal(await member.evaluate(() => window.haven.you.audio), false);
  await closeAll(chair, member);
});

test('raised_hands_show_in_the_same_order_everywhere_and_next_gives_the_floor_with_a_timer', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  await (await front(chair)).select('#set-share', '180');
  await chair.waitForFunction(() => window.haven.roomInfo?.share_seconds === 180, { timeout: CONNECT_TIMEOUT, polling: 200 });

  const [pageB, pageC] = [await newPage(), await newPage()];
  const bo = await joinMeeting(pageB, room.join_url, 'Bo', { audio: false, video: false });
  const cy = await joinMeeting(pageC, room.join_url, 'Cy', { audio: false, video: false });
  const all = [chair, pageB, pageC];

  await click(pageC, '#hand-button');
  await pageC.waitForFunction(() => window.haven.queue.length === 1, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await (await front(pageB)).keyboard.press('h'); // the shortcut
  for (const page of all) {
    await page.waitForFunction(() => window.haven.queue.length === 2, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await queueNames(page), ['Cy', 'Bo']);
  }
  assert.match(await text(pageB, '#my-position'), /number 2/);
  assert.match(await text(pageC, '#my-position'), /next/);
  assert.equal(await pageC.$eval('#hand-button', (b) => b.getAttribute('aria-pressed')), 'true');
  // The hand badge on Cy's tile, on Bo's page.
  await pageB.waitForFunction(
    (id) => !document.querySelector(`#grid .tile[data-participant-id="${id}"] .tile-hand`).hidden,
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    cy.id,
  );

  // The chair moves Bo up, then back down: every page follows.
  // By keyboard: focus Bo's "Move up", press Enter; focus stays in Bo's row after the list
  // is redrawn.
  await chair.bringToFront();
  await chair.$$eval(`#queue-list li[data-participant-id="${bo.id}"] button`, (buttons) =>
    buttons.find((b) => b.dataset.action === 'Move up').focus(),
  );
  await chair.keyboard.press('Enter');
  for (const page of all) {
    await page.waitForFunction(() => window.haven.queue[0]?.name === 'Bo', { timeout: CONNECT_TIMEOUT, polling: 200 });
  }
  assert.equal(
    await chair.evaluate(() => document.activeElement.closest('li')?.dataset.participantId),
    bo.id,
    'keyboard focus stays with the row that moved',
  );
  await clickInRow(chair, '#queue-list', bo.id, 'Move down');
  for (const page of all) {
    await page.waitForFunction(() => window.haven.queue[0]?.name === 'Cy', { timeout: CONNECT_TIMEOUT, polling: 200 });
  }

  await click(chair, '#queue-staff [data-cmd="call_next"]');
  for (const page of all) {
    await page.waitForFunction(() => window.haven.floor?.name === 'Cy', { timeout: CONNECT_TIMEOUT, polling: 200 });
    await visible(page, '#floor-timer');
    assert.match(await text(page, '#floor-timer'), /^[23]:\d\d left$/);
    // The floor and the shortened queue are separate messages: wait for both.
    await page.waitForFunction(() => document.querySelectorAll('#queue-list li .queue-name').length === 1, {
      timeout: CONNECT_TIMEOUT,
      polling: 200,
    });
    assert.deepEqual(await queueNames(page), ['Bo']);
  }
  assert.match(await text(pageC, '#announcer'), /your turn to share/i);
  assert.ok(await pageC.$eval('#done-button', (b) => !b.hidden));
  assert.ok(await pageB.$eval('#done-button', (b) => b.hidden));
  await pageB.waitForFunction(
    (id) => document.querySelector(`#grid .tile[data-participant-id="${id}"]`).classList.contains('has-floor'),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    cy.id,
  );

  // Add time restarts the countdown from the server's new figure.
  await click(chair, '#add-time-button');
  await pageB.waitForFunction(() => /^[34]:\d\d left$/.test(document.getElementById('floor-timer').textContent), {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });

  // Cy is done: the floor is free again on every page.
  await click(pageC, '#done-button');
  for (const page of all) {
    await page.waitForFunction(() => window.haven.floor === null, { timeout: CONNECT_TIMEOUT, polling: 200 });
  }
  for (const page of all) assertNoPageErrors(page, 'queue');
  await closeAll(...all);
});

test('a_locked_room_shows_the_locked_screen_to_a_newcomer', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  await click(chair, '#set-locked');
  await chair.waitForFunction(() => window.haven.roomInfo?.locked === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
  const late = await newPage();
  await late.goto(room.join_url);
  await visible(late, '#name-input');
  await (await front(late)).type('#name-input', 'Late');
  await click(late, '#join-button');
  await late.waitForFunction(() => window.haven.state === 'problem', { timeout: CONNECT_TIMEOUT, polling: 200 });
  assert.match(await text(late, '#problem-heading'), /locked/i);
  await screenshot(late, 'room-locked');
  await closeAll(chair, late);
});

test('the_waiting_room_holds_a_newcomer_until_a_facilitator_admits_them', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  await click(chair, '#set-waiting');
  await chair.waitForFunction(() => window.haven.roomInfo?.waiting_room === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
  const guest = await newPage();
  await guest.goto(room.join_url);
  await visible(guest, '#name-input');
  await (await front(guest)).type('#name-input', 'Gus');
  await click(guest, '#join-button');
  await guest.waitForFunction(() => window.haven.state === 'waiting', { timeout: CONNECT_TIMEOUT, polling: 200 });
  assert.match(await text(guest, '#screen-waiting'), /facilitator will let you in shortly/i);
  await screenshot(guest, 'waiting-room');

  await visible(chair, '#waiting-list li');
  assert.equal(await text(chair, '#waiting-list li .person-name'), 'Gus');
  const id = await chair.$eval('#waiting-list li', (li) => li.dataset.participantId);
  await clickInRow(chair, '#waiting-list', id, 'Admit');
  await guest.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT, polling: 200 });
  const gus = await guest.evaluate(() => window.haven.you);
  await waitForTile(chair, gus.id, 'Gus');
  await chair.waitForFunction(() => !document.querySelector('#waiting-list li'), { timeout: CONNECT_TIMEOUT, polling: 200 });
  assertNoPageErrors(guest, 'Gus');
  await closeAll(chair, guest);
});

test('chat_with_a_script_tag_is_shown_as_text', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  const member = await newPage();
  await joinMeeting(member, room.join_url, 'Ann', { audio: false, video: false });
  const evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned=2"><b>bold</b>';
  await click(member, '#chat-button');
  await (await front(member)).type('#chat-input', evil);
  await (await front(member)).keyboard.press('Enter');
  await click(chair, '#chat-button');
  await chair.waitForFunction(
    (evil) => [...document.querySelectorAll('#chat-list .chat-text')].some((e) => e.textContent === evil),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    evil,
  );
  for (const page of [chair, member]) {
    assert.equal(await page.$$eval('#chat-list script, #chat-list img, #chat-list b', (e) => e.length), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  }
  // Typing in the chat box never fires shortcuts: "m", "h" went into the text, not the mic.
  assert.equal(await member.evaluate(() => window.haven.media.audio), false);
  assert.equal(await member.evaluate(() => window.haven.you.hand_raised), false);

  // The facilitator deletes it: gone on both pages.
  await click(chair, '#chat-list .chat-delete');
  await member.waitForFunction(() => !document.querySelector('#chat-list li[data-message-id]'), {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  // A private note to the facilitators reaches the chair only.
  await click(member, '#chat-private');
  await (await front(member)).type('#chat-input', 'can we talk?');
  await (await front(member)).keyboard.press('Enter');
  await chair.waitForFunction(
    () => [...document.querySelectorAll('#chat-list .is-private .chat-text')].some((e) => e.textContent === 'can we talk?'),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
  );
  await closeAll(chair, member);
});

test('the_meeting_view_with_its_panels_has_no_serious_accessibility_violations_and_fits_a_phone', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated('Chair', { audit: true });
  await (await front(chair)).select('#set-share', '300');
  const member = await newPage();
  await member.setViewport({ width: 360, height: 640 });
  const ida = await joinMeeting(member, room.join_url, 'Ida', { audio: false, video: true });
  const other = await newPage();
  await joinMeeting(other, room.join_url, 'Jo', { audio: false, video: false });
  await click(other, '#hand-button');
  await member.bringToFront();
  await click(member, '#hand-button');
  await chair.waitForFunction(() => window.haven.queue.length === 2, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await click(chair, '#queue-staff [data-cmd="call_next"]');
  await member.waitForFunction(() => window.haven.floor?.name === 'Jo', { timeout: CONNECT_TIMEOUT, polling: 200 });
  await click(member, '#more-button'); // on a phone the reactions open from "More"
  await click(member, '[data-reaction="heart"]');
  await visible(member, '#floor-timer');
  await screenshot(member, 'phone-meeting-top', { fullPage: false });
  await member.evaluate(() => {
    const panel = document.getElementById('queue-panel');
    window.scrollTo(0, panel.getBoundingClientRect().top + window.scrollY - 8);
  });
  await screenshot(member, 'phone-meeting-queue', { fullPage: false });
  const overflow = await member.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the phone page scrolls sideways by ${overflow}px`);

  await click(chair, '#chat-button');
  await waitForTile(chair, ida.id, 'Ida');
  await screenshot(chair, 'facilitator-meeting', { fullPage: false });
  const violations = await seriousViolations(chair);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await closeAll(chair, member, other);
});

test('suspend_pauses_everyone_restore_undoes_it_and_end_meeting_shows_the_ended_screen', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  const member = await newPage();
  await joinMeeting(member, room.join_url, 'Lu', { audio: true, video: false });
  await click(chair, '#suspend-button');
  await member.waitForFunction(() => !document.getElementById('suspended-banner').hidden, {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  await member.waitForFunction(() => !window.haven.media.audio, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await chair.waitForFunction(() => window.haven.roomInfo.locked === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await click(chair, '#restore-button');
  await member.waitForFunction(() => document.getElementById('suspended-banner').hidden, {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  // Restore turns no mic back on: the member is told they may.
  await member.waitForFunction(() => /turn them on again/.test(document.getElementById('notice').textContent), {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  assert.equal(await member.evaluate(() => window.haven.media.audio), false);
  await chair.waitForFunction(() => window.haven.roomInfo.locked === false, { timeout: CONNECT_TIMEOUT, polling: 200 });

  chair.once('dialog', (dialog) => dialog.accept());
  await click(chair, '#end-button');
  await member.waitForFunction(() => window.haven.state === 'problem', { timeout: CONNECT_TIMEOUT, polling: 200 });
  assert.match(await text(member, '#problem-heading'), /meeting has ended/i);
  assert.ok(await member.$eval('#retry-button', (b) => b.hidden));
  await screenshot(member, 'meeting-ended', { fullPage: false });
  await closeAll(chair, member);
});

test('a_firefox_member_is_muted_and_called_to_share_like_anyone_else', {
  timeout: 120_000,
  skip: process.env.HAVEN_SKIP_FIREFOX === '1',
}, async () => {
  const { page: chair, room } = await facilitated();
  const firefox = await launchFirefox();
  try {
    const member = await firefox.newPage();
    const fay = await joinMeeting(member, room.join_url, 'Fay', { audio: true, video: false });
    await waitForTile(chair, fay.id, 'Fay');
    await chair.waitForFunction(
      (id) => !document.querySelector(`#grid .tile[data-participant-id="${id}"]`).classList.contains('is-muted'),
      { timeout: CONNECT_TIMEOUT, polling: 200 },
      fay.id,
    );
    await clickInRow(chair, '#people-list', fay.id, 'Mute');
    await member.waitForFunction(() => !window.haven.media.audio, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.match(await text(member, '#notice'), /A facilitator muted you/);
    const sending = await member.evaluate(() =>
      window.haven.pc.getSenders().filter((s) => s.track && s.track.kind === 'audio').length,
    );
    assert.equal(sending, 0, 'the muted page stopped sending audio');

    await member.click('#hand-button');
    await chair.waitForFunction(() => window.haven.queue.length === 1, { timeout: CONNECT_TIMEOUT, polling: 200 });
    await click(chair, '#queue-staff [data-cmd="call_next"]');
    await member.waitForFunction(() => window.haven.floor?.name === 'Fay', { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.match(await text(member, '#announcer'), /your turn to share/i);
    assertNoPageErrors(member, 'Fay');
  } finally {
    await firefox.close();
    await closeAll(chair);
  }
});

const privateTexts = (page) =>
  page.$$eval('#chat-list .is-private', (els) =>
    els.map((e) => `${e.querySelector('.chat-from')?.textContent ?? ''}${e.querySelector('.chat-text').textContent}`),
  );

test('a_private_message_between_members_reaches_only_its_recipient_and_only_when_the_room_allows', {
  timeout: 120_000,
}, async () => {
  const { page: chair, room } = await facilitated();
  const [ann, bo, cy] = [await newPage(), await newPage(), await newPage()];
  const annYou = await joinMeeting(ann, room.join_url, 'Ann', { audio: false, video: false });
  const boYou = await joinMeeting(bo, room.join_url, 'Bo', { audio: false, video: false });
  await joinMeeting(cy, room.join_url, 'Cy', { audio: false, video: false });
  await ann.waitForFunction((id) => window.haven.participants.some((p) => p.id === id), { polling: 200 }, boYou.id);

  // The room does not allow it (the default): a member is not offered the control.
  await click(ann, '#chat-button');
  assert.equal(await ann.evaluate(() => window.haven.roomInfo.member_private_messages), false);
  assert.equal(await ann.$eval('#chat-to-row', (el) => el.hidden), true);

  await click(chair, '#set-member-pm');
  await ann.waitForFunction(
    (id) => !document.getElementById('chat-to-row').hidden && !!document.querySelector(`#chat-to option[value="${id}"]`),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
    boYou.id,
  );
  await (await front(ann)).select('#chat-to', boYou.id);
  await ann.type('#chat-input', 'just for Bo');
  await ann.keyboard.press('Enter');

  await bo.waitForFunction(
    () => [...document.querySelectorAll('#chat-list .is-private .chat-text')].some((e) => e.textContent === 'just for Bo'),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
  );
  assert.deepEqual(await privateTexts(bo), ['Ann, privately to you: just for Bo']);
  await ann.waitForFunction(() => document.querySelectorAll('#chat-list .is-private').length > 0, { polling: 200 });
  assert.deepEqual(await privateTexts(ann), ['You, privately: just for Bo']);
  // A room chat line sent after it reaches Cy, so Cy had every chance to get the private one.
  await ann.select('#chat-to', '');
  await ann.type('#chat-input', 'hello all');
  await ann.keyboard.press('Enter');
  await cy.waitForFunction(
    () => [...document.querySelectorAll('#chat-list .chat-text')].some((e) => e.textContent === 'hello all'),
    { timeout: CONNECT_TIMEOUT, polling: 200 },
  );
  assert.deepEqual(await privateTexts(cy), []);
  const cyText = await cy.$eval('#chat-list', (el) => el.textContent);
  assert.doesNotMatch(cyText, /just for Bo/);
  assert.ok(annYou.id);

  // Switched off again: the control goes away.
  await click(chair, '#set-member-pm');
  await ann.waitForFunction(() => document.getElementById('chat-to-row').hidden, { timeout: CONNECT_TIMEOUT, polling: 200 });
  for (const [p, who] of [[ann, 'Ann'], [bo, 'Bo'], [cy, 'Cy'], [chair, 'Chair']]) assertNoPageErrors(p, who);
  await closeAll(chair, ann, bo, cy);
});

test('a_member_who_may_not_unmute_can_still_turn_the_camera_on', { timeout: 90_000 }, async () => {
  const { page: chair, room } = await facilitated();
  await click(chair, '#set-unmute');
  await chair.waitForFunction(() => window.haven.roomInfo?.members_may_unmute === false, { polling: 200 });
  const member = await newPage();
  // Mic and camera both switched on before joining: the mic is refused, the camera is not.
  const kim = await joinMeeting(member, room.join_url, 'Kim', { audio: true, video: true });
  await member.waitForFunction(() => window.haven.you?.video === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
  await member.evaluate(() => window.haven.settled());
  await member.waitForFunction(() => !window.haven.media.audio && window.haven.media.video, {
    timeout: CONNECT_TIMEOUT,
    polling: 200,
  });
  assert.equal(await member.evaluate(() => window.haven.you.audio), false);

  await waitForTile(chair, kim.id, 'Kim');
  // In front, as the chair would look at it: a background tab asks for no video.
  await chair.bringToFront();
  const framesFrom = async () =>
    (await inbound(chair)).filter((r) => r.kind === 'video' && r.from === kim.id).reduce((n, r) => n + r.framesDecoded, 0);
  const deadline = Date.now() + CONNECT_TIMEOUT;
  while ((await framesFrom()) === 0 && Date.now() < deadline) await sleep(250);
  const first = await framesFrom();
  await sleep(1500);
  const second = await framesFrom();
  assert.ok(first > 0 && second > first, `Kim's video on the chair's page: frames ${first} → ${second}`);
  assert.equal(await audioPacketsFrom(chair, kim.id), 0, "Kim's muted mic reached the chair");
  assert.ok(
    await chair.$eval(`#grid .tile[data-participant-id="${kim.id}"]`, (t) => t.classList.contains('is-muted')),
    "the chair's tile for Kim shows the mute",
  );
  assertNoPageErrors(member, 'Kim');
  await closeAll(chair, member);
});

// ---- The people-first panel (issue 24 item 3), with the facilitator in each browser ----

const facilitatorBrowsers = {};
after(async () => {
  for (const b of Object.values(facilitatorBrowsers)) await b.close().catch(() => {});
});
async function staffPage(kind, room, { size = null, touch = false } = {}) {
  const b = kind === 'chromium' ? browser : (facilitatorBrowsers[kind] ??= await launchFirefox());
  const page = await b.newPage();
  pages.push(page);
  if (kind === 'chromium') await page.setBypassCSP(true);
  if (size) await page.setViewport(touch && kind === 'chromium' ? { ...size, hasTouch: true, isMobile: true } : size);
  const you = await joinMeeting(page, room.facilitator_url, 'Chair', { audio: false, video: false });
  assert.equal(you.role, 'facilitator');
  await visible(page, '#staff-panel');
  return page;
}

/** A guest who knocks (the room has a waiting room); resolves once they wait. */
async function knock(room, name) {
  const guest = await newPage();
  await guest.goto(room.join_url);
  await visible(guest, '#name-input');
  await (await front(guest)).type('#name-input', name);
  await click(guest, '#join-button');
  await guest.waitForFunction(() => window.haven.state === 'waiting', { timeout: CONNECT_TIMEOUT, polling: 200 });
  return guest;
}

const badges = (page) =>
  page.evaluate(() =>
    ['staff-waiting-badge', 'more-waiting-badge'].map((id) => {
      const b = document.getElementById(id);
      return b.hidden ? null : b.textContent;
    }),
  );

const menuOf = (id) => `#people-list li[data-participant-id="${id}"] button[aria-haspopup="menu"]`;
const focused = (page) =>
  page.evaluate(() => ({ text: document.activeElement?.textContent, role: document.activeElement?.getAttribute('role'), label: document.activeElement?.getAttribute('aria-label') }));

/** Whether a tap at the centre of `selector` (scrolled into view) lands on it. */
const tappable = (page, selector) =>
  page.evaluate((sel) => {
    const el = document.querySelector(sel);
    el.scrollIntoView({ block: 'center' });
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === el || el.contains(hit)) ? true : `${hit?.tagName}.${hit?.className} "${hit?.textContent?.trim().slice(0, 40)}"`;
  }, selector);

for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1';

  test(`an_arrival_shows_a_toast_whose_admit_lets_them_in_and_a_badge_counts_who_waits (${kind})`, { timeout: 120_000, skip }, async () => {
    const room = await server.createRoom();
    // On a phone, as a co-facilitator watching the door often is.
    const chair = await staffPage(kind, room, { size: { width: 360, height: 640 }, touch: true });
    await click(chair, '#set-waiting');
    await chair.waitForFunction(() => window.haven.roomInfo?.waiting_room === true, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await badges(chair), [null, null]);

    const gus = await knock(room, 'Gus');
    await visible(chair, '#arrival-toast');
    assert.match(await text(chair, '#arrival-text'), /Gus is waiting/);
    assert.deepEqual(await badges(chair), ['1 waiting', '1 waiting']);
    assert.equal(await text(chair, '#waiting-count'), '(1)');
    const kim = await knock(room, 'Kim');
    await chair.waitForFunction(() => /Kim and 1 other/.test(document.getElementById('arrival-text').textContent), { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await badges(chair), ['2 waiting', '2 waiting']);
    assert.equal(await chair.$eval('#arrival-admit', (b) => b.getAttribute('aria-label')), 'Admit Kim');
    assert.equal(await text(chair, '#arrival-admit-all'), 'Admit all 2');

    // The toast's Admit is where a tap lands, and lets the newest arrival in.
    await chair.bringToFront();
    assert.equal(await tappable(chair, '#arrival-admit'), true, 'the toast\'s Admit is where a tap lands');
    await (kind === 'chromium' ? chair.tap('#arrival-admit') : chair.click('#arrival-admit'));
    await kim.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT, polling: 200 });
    await waitForTile(chair, await kim.evaluate(() => window.haven.you.id), 'Kim');
    await chair.waitForFunction(() => document.getElementById('staff-waiting-badge').textContent === '1 waiting', { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.equal(await gus.evaluate(() => window.haven.state), 'waiting');
    assert.equal(await chair.$eval('#arrival-toast', (t) => t.hidden), true);

    // Two at the door again: "Admit all 2" lets both in.
    const lou = await knock(room, 'Lou');
    await chair.waitForFunction(() => /Lou and 1 other/.test(document.getElementById('arrival-text').textContent), { timeout: CONNECT_TIMEOUT, polling: 200 });
    await chair.bringToFront();
    assert.equal(await tappable(chair, '#arrival-admit-all'), true, 'the toast\'s Admit all is where a tap lands');
    await (kind === 'chromium' ? chair.tap('#arrival-admit-all') : chair.click('#arrival-admit-all'));
    for (const page of [gus, lou]) await page.waitForFunction(() => window.haven.state === 'joined', { timeout: CONNECT_TIMEOUT, polling: 200 });
    await chair.waitForFunction(() => document.getElementById('staff-waiting-badge').hidden, { timeout: CONNECT_TIMEOUT, polling: 200 });
    assert.deepEqual(await badges(chair), [null, null]);
    assert.equal(await text(chair, '#waiting-count'), '');
    assert.equal(await chair.$eval('#arrival-toast', (t) => t.hidden), true);
    await closeAll(chair, gus, kim, lou);
  });

  test(`the_person_menu_works_by_keyboard_and_the_panel_puts_people_before_settings (${kind})`, { timeout: 120_000, skip }, async () => {
    const room = await server.createRoom();
    const chair = await staffPage(kind, room);
    const member = await newPage();
    const sam = await joinMeeting(member, room.join_url, 'Sam', { audio: false, video: false });
    await waitForTile(chair, sam.id, 'Sam');

    const order = await chair.evaluate(() => {
      const ids = ['waiting-list-heading', 'people-heading', 'settings-heading', 'set-locked'];
      const els = ids.map((id) => document.getElementById(id));
      return els.slice(1).every((el, i) => els[i].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    assert.equal(order, true, 'the waiting room, then people, then settings');
    assert.doesNotMatch(await text(chair, '#staff-panel'), /Let speak|Follow room rule/);

    // One button per person, named for whom it acts on.
    const button = menuOf(sam.id);
    assert.deepEqual(
      await chair.$eval(button, (b) => [b.getAttribute('aria-label'), b.getAttribute('aria-expanded'), b.closest('li').querySelectorAll('button:not([role="menuitem"])').length]),
      ['Actions for Sam', 'false', 1],
    );
    await chair.bringToFront();
    await chair.focus(button);
    await chair.keyboard.press('Enter');
    await chair.waitForFunction((sel) => document.querySelector(sel).getAttribute('aria-expanded') === 'true', { timeout: 5000, polling: 100 }, button);
    assert.deepEqual(await focused(chair), { text: 'Mute', role: 'menuitem', label: null });
    await chair.keyboard.press('ArrowDown');
    assert.equal((await focused(chair)).text, 'Stop camera');
    await chair.keyboard.press('ArrowDown');
    assert.equal((await focused(chair)).text, 'Allow to unmute');
    await chair.keyboard.press('ArrowUp');
    assert.equal((await focused(chair)).text, 'Stop camera');
    await chair.keyboard.press('End');
    assert.equal((await focused(chair)).text, 'Remove and ban');
    await chair.keyboard.press('ArrowDown');
    assert.equal((await focused(chair)).text, 'Mute', 'the arrows wrap round');

    // With the panel and the menu open, axe finds nothing serious.
    const violations = await seriousViolations(chair);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));

    await chair.keyboard.press('Escape');
    assert.equal(await chair.$eval(button, (b) => b.getAttribute('aria-expanded')), 'false');
    assert.deepEqual(await focused(chair), { text: '…', role: null, label: 'Actions for Sam' });
    assert.equal(await chair.$eval(`#people-list li[data-participant-id="${sam.id}"] [role="menu"]`, (m) => m.hidden), true);

    // Enter on an item does it: Sam is muted, and the focus stays on Sam's button.
    await chair.keyboard.press('ArrowDown');
    assert.equal((await focused(chair)).text, 'Mute');
    await chair.keyboard.press('Enter');
    await chair.waitForFunction(
      (id) => /muted by a facilitator/.test(document.querySelector(`#people-list li[data-participant-id="${id}"] .person-name`).textContent),
      { timeout: CONNECT_TIMEOUT, polling: 200 },
      sam.id,
    );
    assert.equal((await focused(chair)).label, 'Actions for Sam');
    await closeAll(chair, member);
  });

  test(`on_a_phone_a_tap_opens_the_person_menu_and_a_tap_on_an_item_does_it (${kind})`, { timeout: 120_000, skip }, async () => {
    const room = await server.createRoom();
    const chair = await staffPage(kind, room, { size: { width: 360, height: 640 }, touch: true });
    const member = await newPage();
    const sam = await joinMeeting(member, room.join_url, 'Sam', { audio: false, video: false });
    await waitForTile(chair, sam.id, 'Sam');
    await chair.bringToFront();
    const tap = (sel) => (kind === 'chromium' ? chair.tap(sel) : chair.click(sel));

    const button = menuOf(sam.id);
    assert.equal(await tappable(chair, button), true, 'the "…" button is where a tap lands');
    await tap(button);
    await chair.waitForFunction((sel) => document.querySelector(sel).getAttribute('aria-expanded') === 'true', { timeout: 5000, polling: 100 }, button);
    const items = await chair.$$eval(`#people-list li[data-participant-id="${sam.id}"] [role="menuitem"]`, (list) => list.map((b) => b.textContent));
    assert.deepEqual(items, ['Mute', 'Stop camera', 'Allow to unmute', 'Let Sam share their screen', 'Make co-facilitator', 'Remove', 'Remove and ban']);
    for (const action of items) {
      const sel = `#people-list li[data-participant-id="${sam.id}"] [role="menuitem"][data-action="${action}"]`;
      assert.equal(await tappable(chair, sel), true, `"${action}" is where a tap lands`);
    }
    const overflow = await chair.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the phone page scrolls sideways by ${overflow}px`);
    await screenshot(chair, `facilitator-person-menu-phone-${kind}`, { fullPage: false });
    const violations = await seriousViolations(chair);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));

    await tap(`#people-list li[data-participant-id="${sam.id}"] [role="menuitem"][data-action="Stop camera"]`);
    await chair.waitForFunction(
      (id) => /camera stopped/.test(document.querySelector(`#people-list li[data-participant-id="${id}"] .person-name`).textContent),
      { timeout: CONNECT_TIMEOUT, polling: 200 },
      sam.id,
    );
    assert.equal(await chair.$eval(button, (b) => b.getAttribute('aria-expanded')), 'false');
    await closeAll(chair, member);
  });
}
