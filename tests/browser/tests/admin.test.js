// Standing meetings end to end (issue 21), in Chromium and in Firefox: an admin signs in on
// /admin, makes a weekly meeting and issues a facilitator link (shown once, copied); a
// member finds the meeting in the public directory (/meetings, in the visitor's own time
// zone), sees "Starts in N minutes" and joins with its button; the facilitator link gives
// the role; a restart keeps meetings, links and the sign-in; a revoked or rotated link no
// longer gives the role. And the admin page on a 360×640 touch screen, every control hit
// where a finger lands. The server runs with a data directory of its own.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { createAdmin, setField, wallClock } from '../lib/admin.js';
import { seriousViolations } from '../lib/axe.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, screenshot } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

Error.stackTraceLimit = 40;
const ADMIN = 'ops';
const PASSWORD = 'a long test password, not a real one';
const MEETING_ZONE = 'America/New_York';
const PHONE = { width: 360, height: 640 };

let dataDir;
let server;
const browsers = {};
const LAUNCH = { chromium: launchChromium, firefox: launchFirefox };

const start = () => startServer('admin', { env: { HAVEN_DATA_DIR: dataDir } });

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'haven-admin-'));
  await createAdmin(dataDir, ADMIN, PASSWORD);
  server = await start();
});
after(async () => {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const opened = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => {});
});

async function newPage(kind, { size = null, touch = false } = {}) {
  browsers[kind] ??= await LAUNCH[kind]();
  const page = await browsers[kind].newPage();
  opened.push(page);
  if (touch && kind === 'chromium') await page.setViewport({ ...size, hasTouch: true, isMobile: true });
  else if (size) await page.setViewport(size);
  // Every request the page makes, to check none leaves the server.
  page.requests = [];
  page.on('request', (r) => page.requests.push(r.url()));
  return page;
}

/** Runs `body`; on failure adds a screenshot of `page` and the server log's tail. */
async function explained(page, name, body) {
  try {
    await body();
  } catch (err) {
    await screenshot(page, `admin-${name}-failure`).catch(() => {});
    err.message += `\nconsole: ${JSON.stringify((page.consoleLines ?? []).slice(-20))}\n--- server log (tail) ---\n${server.log().split('\n').slice(-40).join('\n')}`;
    throw err;
  }
}

const visible = (page, selector) => page.waitForSelector(selector, { visible: true, timeout: CONNECT_TIMEOUT });
const text = (page, selector) => page.$eval(selector, (el) => el.textContent.trim().replace(/\s+/g, ' '));

/** Signs in on /admin, signing out first when this browser is signed in already. */
async function signIn(page) {
  await page.goto(`${server.url}/admin`, { waitUntil: 'load' });
  await page.waitForFunction(() => !document.getElementById('view-signin').hidden || !document.getElementById('view-list').hidden);
  if (await page.$('#view-list:not([hidden])')) {
    await page.click('#sign-out');
    await visible(page, '#signin-name');
    // Signed out for real: the API refuses the old session.
    assert.equal((await adminApi(page, 'GET', '/meetings')).body.code, 'unauthenticated');
  }
  await visible(page, '#signin-name');
  await page.type('#signin-name', ADMIN);
  await page.type('#signin-password', 'not the password');
  await page.click('#signin-button');
  // A wrong password is refused in kind words, with the API's stable code.
  await visible(page, '#error');
  assert.equal(await page.$eval('#error', (el) => el.dataset.code), 'bad_credentials');
  assert.match(await text(page, '#error'), /name and password do not match/);
  await page.$eval('#signin-password', (el) => (el.value = ''));
  await page.type('#signin-password', PASSWORD);
  await page.click('#signin-button');
  await visible(page, '#view-list');
}

const item = (slug) => `#meeting-list li[data-slug="${slug}"]`;

/** Fills the new-meeting form for a weekly meeting starting at `startAt`, and saves it. */
async function createWeeklyMeeting(page, { title, slug, startAt, listed = true }) {
  await page.click('#new-meeting');
  await visible(page, '#view-edit');
  const { day, time } = wallClock(startAt, MEETING_ZONE);
  await page.type('#f-title', title);
  await page.type('#f-slug', slug);
  await setField(page, 'f-description', 'An open meeting. Everyone is welcome; listening is fine.');
  await setField(page, 'f-language', 'en');
  await setField(page, 'f-location', 'Chicago, IL, USA');
  await page.click('#f-type-BE');
  await page.click('#f-type-O');
  await page.select('#f-kind', 'weekly');
  await page.click(`#f-day-${day}`);
  await setField(page, 'f-time', time);
  await setField(page, 'f-zone', MEETING_ZONE);
  await setField(page, 'f-duration', '60');
  await page.click('#f-open-before');
  await setField(page, 'f-opens-minutes', '15');
  if (listed) await page.click('#f-listed');
  await page.select('#f-waiting', 'off');
  await setField(page, 'f-share', '3');
  await setField(page, 'f-guidelines', 'What is said here stays here.');
  await page.click('#f-add-reading');
  await page.type('#f-readings li:last-child input', 'Preamble');
  await setField(page, await page.$eval('#f-readings li:last-child textarea', (t) => t.id), 'We are glad you are here.\n\nListening is enough.');
  await page.click('#save-meeting');
  await visible(page, item(slug));
  return { day, time };
}

/** Opens a meeting's links, issues a link labelled `label` and returns it (shown once). */
async function issueLink(page, slug, label) {
  if (!(await page.$('#view-links:not([hidden])'))) {
    await page.click(`${item(slug)} button[data-action="Links"]`);
    await visible(page, '#view-links');
  }
  await page.type('#key-label', label);
  await page.click('#issue-key');
  await page.waitForFunction((l) => !document.getElementById('issued').hidden && document.getElementById('issued-label').textContent.includes(l), {}, label);
  return page.$eval('#issued-url', (el) => el.value);
}

/**
 * Opens `url`, agrees to the guidelines, joins with mic and camera off; returns the state
 * reached (joined or problem), the role and the problem's heading.
 */
async function joinWith(page, url, name) {
  await page.bringToFront();
  await page.goto(url, { waitUntil: 'load' });
  await visible(page, '#name-input');
  await page.type('#name-input', name);
  // A meeting without guidelines hides the agreement (its box is in a hidden block).
  const agree = await page.$('#agree-input');
  if (agree && (await agree.isVisible())) await agree.click();
  await page.evaluate(() => window.haven.settled());
  await page.click('#join-button');
  try {
    await page.waitForFunction(() => ['joined', 'problem'].includes(window.haven.state), { timeout: CONNECT_TIMEOUT });
  } catch (err) {
    await screenshot(page, `admin-${name.replace(/\W/g, '')}-failure`);
    err.message += ` (${name}: ${JSON.stringify(await page.evaluate(() => ({ state: window.haven.state, trace: window.haven.trace })))})`;
    throw err;
  }
  return page.evaluate(() => ({
    state: window.haven.state,
    role: window.haven.you?.role ?? null,
    problem: document.querySelector('#problem-heading')?.textContent ?? null,
  }));
}

/** Joins with `url` in a fresh tab (no key kept from another), then closes it. */
async function roleWith(kind, url, name) {
  const page = await newPage(kind);
  const seen = await joinWith(page, url, name);
  await page.close();
  return seen;
}

/** Admin API calls from a signed-in admin page (its cookie, its origin). */
const adminApi = (page, method, route, body) =>
  page.evaluate(
    async (method, route, body) => {
      const headers = { 'X-Haven-Admin': '1' };
      if (body) headers['Content-Type'] = 'application/json';
      const r = await fetch(`/api/admin${route}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    method,
    route,
    body,
  );

for (const kind of ['chromium', 'firefox']) {
  test(`${kind}: an admin makes a weekly meeting and a facilitator link, a member finds it in the directory and joins`, async (t) => {
    if (kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1') return t.skip('HAVEN_SKIP_FIREFOX=1');
    const slug = `circle-${kind}`;
    const title = `Tuesday circle ${kind}`;
    const admin = await newPage(kind);
    await explained(admin, `${kind}-create`, async () => {
      await signIn(admin);
      // Ten minutes (and a bit) from now in New York: opens 15 minutes before, so open now.
      const startAt = new Date(Math.ceil((Date.now() + 10 * 60_000) / 60_000) * 60_000);
      await createWeeklyMeeting(admin, { title, slug, startAt });
      assert.match(await text(admin, item(slug)), new RegExp(`${title}.*Listed.*Nobody in now.*Every \\w+ at .*60 minutes \\(${MEETING_ZONE}\\); opens 15 minutes before`));
      // In the Meeting Guide feed with the place the app needs to list it.
      const feed = await (await fetch(`${server.url}/meetings.json`)).json();
      const listedEntry = feed.find((e) => e.slug === slug);
      assert.deepEqual([listedEntry?.formatted_address, listedEntry?.approximate], ['Chicago, IL, USA', 'yes'], JSON.stringify(listedEntry));

      // The facilitator link: shown once, copied with the button.
      const link = await issueLink(admin, slug, 'Tuesday chair');
      assert.match(link, new RegExp(`^${server.url}/m/${slug}#key=[A-Za-z0-9_-]{20,}$`));
      if (kind === 'chromium') {
        await admin.browserContext().overridePermissions(server.url, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
      }
      await admin.click('#copy-issued');
      await admin.waitForFunction(() => [...document.querySelectorAll('#announcer p')].some((p) => p.textContent === 'Link copied.'));
      if (kind === 'chromium') assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), link);
      assert.equal(await admin.$eval('#member-url', (el) => el.value), `${server.url}/m/${slug}`);
      // Never shown again: not after going back, not in the list of links.
      await admin.click('#back-to-list');
      await visible(admin, '#view-list');
      await admin.click(`${item(slug)} button[data-action="Links"]`);
      await visible(admin, '#view-links');
      assert.equal(await admin.$eval('#issued', (el) => el.hidden), true);
      assert.ok(!(await admin.content()).includes('#key='), 'the secret is on the page again');
      assert.match(await text(admin, '#key-list'), /Tuesday chair.*Works now/);

      // An unlisted meeting never appears in the directory, and its page is a 404.
      const unlisted = await adminApi(admin, 'POST', '/meetings', { title: `Private ${kind}` });
      assert.equal(unlisted.status, 201);
      const page404 = await fetch(`${server.url}/meetings/${unlisted.body.slug}`);
      assert.equal(page404.status, 404);
      assert.equal((await fetch(`${server.url}/api/directory/${unlisted.body.slug}`)).status, 404);
      assert.equal((await fetch(`${server.url}/m/${unlisted.body.slug}`)).status, 200, 'its member link works');

      // The member: the directory, in their own time zone.
      const member = await newPage(kind);
      if (kind === 'chromium') await member.emulateTimezone('Asia/Kolkata');
      await member.goto(`${server.url}/meetings`, { waitUntil: 'load' });
      const entry = `#directory-list li[data-slug="${slug}"]`;
      await visible(member, entry);
      assert.ok(!(await member.$(`#directory-list li[data-slug="${unlisted.body.slug}"]`)), 'an unlisted meeting is listed');
      assert.match(await text(member, `${entry} .when`), /^Starts in (9|10|11|12) minutes$/);
      // Filters: its day (in the visitor's zone) keeps it, the day after does not.
      const zone = await member.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
      if (kind === 'chromium') assert.ok(['Asia/Kolkata', 'Asia/Calcutta'].includes(zone), zone);
      const localDay = new Date(startAt.toLocaleString('en-US', { timeZone: zone })).getDay();
      await member.select('#filter-day', String((localDay + 1) % 7));
      assert.equal(await member.$(entry), null, 'the day filter kept a meeting of another day');
      await member.select('#filter-day', String(localDay));
      await visible(member, entry);
      await member.select('#filter-language', 'en');
      await visible(member, entry);
      // The type filter offers the listed meetings' types by their plain names.
      const types = await member.$$eval('#filter-type option', (os) => os.map((o) => [o.value, o.textContent]));
      assert.ok(types.some(([v, t]) => v === 'BE' && t === 'Newcomer'), JSON.stringify(types));
      await member.select('#filter-type', 'BE');
      await visible(member, entry);
      assert.match(await text(member, entry), /English · Open, Newcomer/);
      // Its page: description and next times, in the visitor's zone (Kolkata is on the half hour).
      await member.click(`${entry} h2 a`);
      await visible(member, '#view-one');
      assert.equal(await text(member, '#one-heading'), title);
      assert.match(await text(member, '#one-description'), /Everyone is welcome/);
      assert.equal(await text(member, '#one-types'), 'Type: Open, Newcomer');
      const first = await member.$eval('#one-times time', (el) => ({ at: el.dateTime, text: el.textContent }));
      assert.equal(first.at, startAt.toISOString());
      const minute = wallClock(startAt, zone).time.slice(3);
      assert.ok(first.text.includes(`:${minute}`), `${first.text} is not at :${minute} in ${zone}`);
      assert.match(await text(member, '#one-zone'), /come in from 15 minutes before/);
      const joinUrl = await member.$eval('#one-join', (el) => el.href);
      assert.equal(joinUrl, `${server.url}/m/${slug}`);
      const offSite = member.requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'));
      assert.deepEqual(offSite, [], 'the directory asked another site for something');

      // The facilitator's link gives the role; the member joins from the directory's button.
      const chair = await newPage(kind);
      assert.deepEqual(await joinWith(chair, link, 'Chair'), { state: 'joined', role: 'facilitator', problem: '' });
      assert.deepEqual(await joinWith(member, joinUrl, 'Sam'), { state: 'joined', role: 'member', problem: '' });
      // The reading made on the admin form is in the meeting, after the guidelines'.
      const readings = await member.evaluate(() => window.haven.readings.list.map((r) => [r.title, r.text]));
      assert.deepEqual(readings, [
        ['Our guidelines', 'What is said here stays here.'],
        ['Preamble', 'We are glad you are here.\n\nListening is enough.'],
      ]);

      // Live now in the directory (no count); two people in the admin's list (counts only).
      const visitor = await newPage(kind);
      await visitor.goto(`${server.url}/meetings`, { waitUntil: 'load' });
      await visible(visitor, `#directory-list li[data-slug="${slug}"] .tag.is-live`);
      assert.ok(!(await text(visitor, '#directory-list')).match(/\d+ (people|person)/), 'the directory shows a count');
      // A background tab never paints: bring the admin's to the front before using it.
      await admin.bringToFront();
      await admin.reload({ waitUntil: 'load' });
      await admin.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('2 people in now'), { timeout: CONNECT_TIMEOUT }, `${item(slug)} .people`);
      assertNoPageErrors(admin, 'admin');
      assertNoPageErrors(member, 'member');
    });
  });

  test(`${kind}: a member who comes before the meeting opens is told when in their own zone, keeps their name and is let in when it opens`, async (t) => {
    if (kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1') return t.skip('HAVEN_SKIP_FIREFOX=1');
    const slug = `soon-${kind}`;
    const admin = await newPage(kind);
    const member = await newPage(kind);
    await explained(member, `${kind}-opens`, async () => {
      // A background tab never paints: the admin's comes to the front to sign in.
      await admin.bringToFront();
      await signIn(admin);
      // Starts at the next whole minute at least 20 s away, and opens at its start.
      const startAt = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
      const { day, time } = wallClock(startAt, MEETING_ZONE);
      const schedule = { time_zone: MEETING_ZONE, rules: [{ kind: 'weekly', days: [day], time }], duration_minutes: 60, opens_minutes_before: 0 };
      const made = await adminApi(admin, 'POST', '/meetings', { slug, title: `Soon ${kind}`, listed: true, settings: { waiting_room: false }, schedule });
      assert.equal(made.status, 201, JSON.stringify(made.body));

      // Kolkata is on the half hour: the time said is the page's zone, not the meeting's.
      if (kind === 'chromium') await member.emulateTimezone('Asia/Kolkata');
      await member.bringToFront();
      await member.goto(`${server.url}/m/${slug}`, { waitUntil: 'load' });
      await visible(member, '#name-input');
      await member.type('#name-input', 'Sam');
      await member.evaluate(() => window.haven.settled());
      await member.click('#join-button');
      await visible(member, '#join-closed');
      const said = await text(member, '#join-closed-text');
      const local = await member.evaluate(
        (at) => new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(new Date(at)),
        startAt.toISOString(),
      );
      assert.ok(said.startsWith(`This meeting opens at ${local} your time (in `), said); // today in Kolkata too, but for the minute around midnight
      assert.ok(said.endsWith("We'll let you in when it opens."), said);
      if (kind === 'chromium') {
        const minute = wallClock(startAt, 'Asia/Kolkata').time.slice(3);
        assert.ok(local.includes(`:${minute}`), `${local} is not at :${minute} in Kolkata`);
      }
      assert.equal(await member.evaluate(() => window.haven.state), 'join');
      assert.equal(await member.$eval('#name-input', (el) => el.value), 'Sam', 'the name was lost');
      await visible(member, '#join-closed-link');
      assert.equal(await member.$eval('#join-closed-link', (el) => el.href), `${server.url}/meetings/${slug}`);

      // Nothing pressed: in by ourselves once it opens (plus a few random seconds).
      await member.waitForFunction(() => window.haven.state === 'joined', { timeout: startAt - Date.now() + 60_000 });
      assert.ok(Date.now() >= startAt.getTime(), 'let in before it opened');
      assert.equal(await member.evaluate(() => window.haven.you?.role), 'member');
      assert.equal(await member.$eval('#join-closed', (el) => el.hidden), true);

      // A meeting with no more dates says so, and waits for nothing.
      const past = await adminApi(admin, 'POST', '/meetings', {
        slug: `past-${kind}`,
        title: `Past ${kind}`,
        schedule: { time_zone: MEETING_ZONE, rules: [{ kind: 'once', date: '2020-01-07', time: '19:00' }], duration_minutes: 60, opens_minutes_before: 10 },
      });
      assert.equal(past.status, 201, JSON.stringify(past.body));
      const late = await newPage(kind);
      await late.goto(`${server.url}/m/past-${kind}`, { waitUntil: 'load' });
      await visible(late, '#name-input');
      await late.type('#name-input', 'Alex');
      await late.evaluate(() => window.haven.settled());
      await late.click('#join-button');
      await visible(late, '#join-closed');
      assert.equal(await text(late, '#join-closed-text'), 'This meeting has no more dates.');
      assert.equal(await late.$eval('#join-closed-link', (el) => el.hidden), true, 'an unlisted meeting linked to the directory');
      assertNoPageErrors(member, 'member');
    });
  });

  test(`${kind}: a restart keeps everything, and a revoked or rotated facilitator link no longer gives the role`, async (t) => {
    if (kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1') return t.skip('HAVEN_SKIP_FIREFOX=1');
    const slug = `restart-${kind}`;
    const admin = await newPage(kind);
    await explained(admin, `${kind}-restart`, async () => {
      await signIn(admin);
      const startAt = new Date(Date.now() + 3 * 24 * 3600_000);
      const { day, time } = await createWeeklyMeeting(admin, { title: `Restart ${kind}`, slug, startAt, listed: false });
      const first = await issueLink(admin, slug, 'First chair');
      const second = await issueLink(admin, slug, 'Second chair');

      await server.stop();
      server = await start();
      // Another port, the same host: the session cookie and the session itself survived.
      const moved = (url) => url.replace(/^http:\/\/[^/]+/, server.url);
      await admin.goto(`${server.url}/admin`, { waitUntil: 'load' });
      await visible(admin, item(slug));
      const dayName = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' }[day];
      assert.match(await text(admin, item(slug)), new RegExp(`Restart ${kind}.*Unlisted.*Every ${dayName} at ${time}`));
      await admin.click(`${item(slug)} button[data-action="Edit"]`);
      await visible(admin, '#view-edit');
      assert.equal(await admin.$eval('#f-guidelines', (el) => el.value), 'What is said here stays here.');
      assert.equal(await admin.$eval('#f-readings li input', (el) => el.value), 'Preamble');
      assert.equal(await admin.$eval('#f-share', (el) => el.value), '3');
      assert.equal(await admin.$eval('#f-waiting', (el) => el.value), 'off');
      assert.equal(await admin.$eval('#f-zone', (el) => el.value), MEETING_ZONE);
      await admin.click('#cancel-edit');
      await visible(admin, '#view-list');
      await admin.click(`${item(slug)} button[data-action="Links"]`);
      await visible(admin, '#view-links');
      assert.match(await text(admin, '#key-list'), /Second chair.*Works now.*First chair.*Works now/);

      assert.equal((await roleWith(kind, moved(first), 'Chair one')).role, 'facilitator');
      assert.equal((await roleWith(kind, moved(second), 'Chair two')).role, 'facilitator');

      // Revoke the second: its link no longer gives the role.
      await admin.click('#key-list li:nth-child(1) button[data-action="Revoke"]');
      await visible(admin, '#confirm-ok');
      await admin.click('#confirm-ok');
      await admin.waitForFunction(() => /Second chair.*Revoked/.test(document.getElementById('key-list').textContent));
      const revoked = await roleWith(kind, moved(second), 'Chair two');
      assert.equal(revoked.state, 'problem');
      assert.match(revoked.problem, /facilitator link doesn't work/);

      // Rotate the first: a new link with the same label; the old one stops working.
      await admin.click('#key-list li:nth-child(1) button[data-action="Rotate"]');
      await visible(admin, '#confirm-ok');
      await admin.click('#confirm-ok');
      await admin.waitForFunction(() => !document.getElementById('issued').hidden);
      const rotated = await admin.$eval('#issued-url', (el) => el.value);
      assert.notEqual(rotated, moved(first));
      assert.equal((await roleWith(kind, moved(first), 'Chair one')).state, 'problem');
      assert.equal((await roleWith(kind, rotated, 'Chair one')).role, 'facilitator');
      // Revoking an already revoked link is refused with its code, in kind words.
      const again = await adminApi(admin, 'GET', `/meetings/${slug}/keys`);
      const gone = again.body.find((k) => k.revoked_at != null);
      assert.equal((await adminApi(admin, 'DELETE', `/meetings/${slug}/keys/${gone.id}`)).body.code, 'unknown_key');
      assertNoPageErrors(admin, 'admin');
    });
  });

  test(`${kind}: a facilitator keeps a live change for the meeting's next meetings; an ad-hoc meeting offers no such button`, async (t) => {
    if (kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1') return t.skip('HAVEN_SKIP_FIREFOX=1');
    const slug = `keep-${kind}`;
    const admin = await newPage(kind);
    await explained(admin, `${kind}-keep`, async () => {
      await signIn(admin);
      // Opens 15 minutes before it starts: open now, so a member can come in too.
      const startAt = new Date(Math.ceil((Date.now() + 10 * 60_000) / 60_000) * 60_000);
      await createWeeklyMeeting(admin, { title: `Keep ${kind}`, slug, startAt, listed: false });
      const link = await issueLink(admin, slug, 'Chair');
      const chair = await newPage(kind);
      assert.equal((await joinWith(chair, link, 'Chair')).role, 'facilitator');
      // The facilitator tools open by themselves for a facilitator.
      await visible(chair, '#keep-settings-button');
      // A live change: five-minute shares and new guidelines typed but not saved separately.
      await chair.select('#set-share', '300');
      await chair.$eval('#set-guidelines', (el) => {
        el.value = 'Phones on silent, please.';
        el.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await chair.click('#keep-settings-button');
      await chair.waitForFunction(() => /Kept\. This meeting's next meetings start with these settings/.test(document.getElementById('announcer').textContent), { timeout: CONNECT_TIMEOUT });
      const stored = await adminApi(admin, 'GET', `/meetings/${slug}`);
      assert.equal(stored.body.settings.share_seconds, 300, JSON.stringify(stored.body));
      assert.equal(stored.body.guidelines, 'Phones on silent, please.');
      assert.equal(stored.body.title, `Keep ${kind}`, 'the title stays the admin\'s');
      // A co-facilitator runs the meeting with the facilitator tools, but without this button;
      // neither does the facilitator of an ad-hoc meeting see it.
      const member = await newPage(kind);
      const sam = await joinWith(member, `${server.url}/m/${slug}`, 'Sam');
      assert.equal(sam.role, 'member');
      const samId = await member.evaluate(() => window.haven.you.id);
      await chair.bringToFront();
      await chair.evaluate((id) => window.haven.sendAsIs({ type: 'promote', id }), samId);
      await member.bringToFront();
      await member.waitForFunction(() => window.haven.you?.role === 'co_facilitator', { timeout: CONNECT_TIMEOUT });
      await visible(member, '#copy-link-button');
      assert.equal(await member.$eval('#keep-settings', (el) => el.hidden), true, "a co-facilitator is shown the facilitator's button");
      const adhoc = await server.createRoom();
      const host = await newPage(kind);
      assert.equal((await joinWith(host, adhoc.facilitator_url, 'Host')).role, 'facilitator');
      await visible(host, '#copy-link-button');
      assert.equal(await host.$eval('#keep-settings', (el) => el.hidden), true);
      for (const page of [chair, member, host]) {
        assertNoPageErrors(page, 'meeting');
        await page.close();
      }
      assertNoPageErrors(admin, 'admin');
    });
  });

  test(`${kind}: the directory's time-of-day filter keeps the meetings at that time of the visitor's day`, async (t) => {
    if (kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1') return t.skip('HAVEN_SKIP_FIREFOX=1');
    const admin = await newPage(kind);
    const member = await newPage(kind);
    await explained(member, `${kind}-time-of-day`, async () => {
      await admin.bringToFront();
      await signIn(admin);
      // The visitor is not in the meetings' zone (Chromium: Kolkata, on the half hour; Firefox:
      // this machine's): each meeting's New York time is picked to fall mid-morning and
      // mid-evening in the visitor's zone, an hour from any edge, so a change of offset in
      // either zone during the coming week keeps it in the same part of the day.
      if (kind === 'chromium') await member.emulateTimezone('Asia/Kolkata');
      const zone = await member.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
      const localHour = (date) => Number(new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(date));
      const newYorkTimeAt = (hour) => {
        const firstHour = Math.ceil(Date.now() / 3600_000) * 3600_000;
        const at = Array.from({ length: 24 }, (_, k) => new Date(firstHour + k * 3600_000)).find((d) => localHour(d) === hour);
        return wallClock(at, MEETING_ZONE).time;
      };
      const everyDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
      const slugs = { morning: `morning-${kind}`, evening: `evening-${kind}` };
      for (const [part, hour] of [['morning', 8], ['evening', 18]]) {
        const schedule = { time_zone: MEETING_ZONE, rules: [{ kind: 'weekly', days: everyDay, time: newYorkTimeAt(hour) }], duration_minutes: 60, opens_minutes_before: 0 };
        const made = await adminApi(admin, 'POST', '/meetings', { title: `${part} ${kind}`, slug: slugs[part], listed: true, schedule });
        assert.equal(made.status, 201, JSON.stringify(made.body));
      }
      const entry = (part) => `#directory-list li[data-slug="${slugs[part]}"]`;
      await member.bringToFront();
      await member.goto(`${server.url}/meetings`, { waitUntil: 'load' });
      await visible(member, entry('morning'));
      await visible(member, entry('evening'));
      await member.select('#filter-time', 'morning');
      await visible(member, entry('morning'));
      assert.equal(await member.$(entry('evening')), null, 'the morning filter kept an evening meeting');
      await member.select('#filter-time', 'evening');
      await visible(member, entry('evening'));
      assert.equal(await member.$(entry('morning')), null, 'the evening filter kept a morning meeting');
      for (const part of ['afternoon', 'night']) {
        await member.select('#filter-time', part);
        assert.equal(await member.$(entry('morning')), null, `the ${part} filter kept a morning meeting`);
        assert.equal(await member.$(entry('evening')), null, `the ${part} filter kept an evening meeting`);
      }
      await member.select('#filter-time', '');
      assert.equal(await member.$eval('#filter-time option:checked', (o) => o.textContent), 'Any time');
      await visible(member, entry('morning'));
      await visible(member, entry('evening'));
      assertNoPageErrors(member, 'directory');
      // Out of the directory again for the tests after this one.
      await admin.bringToFront();
      for (const slug of Object.values(slugs)) assert.equal((await adminApi(admin, 'POST', `/meetings/${slug}/archive`)).status, 200);
    });
  });

  test(`${kind}: the admin page at 360×640: every control is on screen and a tap at its centre hits it`, async (t) => {
    if (kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1') return t.skip('HAVEN_SKIP_FIREFOX=1');
    const page = await newPage(kind, { size: PHONE, touch: true });
    await explained(page, `${kind}-phone`, async () => {
      await page.goto(`${server.url}/admin`, { waitUntil: 'load' });
      // Signed in by an earlier test in this browser, or not.
      await page.waitForFunction(() => !document.getElementById('view-signin').hidden || !document.getElementById('view-list').hidden);
      if (await page.$('#view-signin:not([hidden])')) {
        assert.deepEqual(await missed(page, '#view-signin'), []);
        await page.type('#signin-name', ADMIN);
        await page.type('#signin-password', PASSWORD);
        await tap(page, '#signin-button');
        await visible(page, '#view-list');
      }
      const slug = `circle-${kind}`;
      await visible(page, item(slug));
      assert.deepEqual(await missed(page, '#view-list'), []);
      await screenshot(page, `admin-phone-list-${kind}`);
      await tap(page, '#new-meeting');
      await visible(page, '#view-edit');
      await page.select('#f-kind', 'weekly');
      assert.deepEqual(await missed(page, '#view-edit'), []);
      await screenshot(page, `admin-phone-edit-${kind}`);
      await tap(page, '#cancel-edit');
      await visible(page, '#view-list');
      await tap(page, `${item(slug)} button[data-action="Links"]`);
      await visible(page, '#view-links');
      assert.deepEqual(await missed(page, '#view-links'), []);
      // The topbar's sign-out too.
      assert.deepEqual(await missed(page, '.topbar'), []);

      // An encrypted meeting's "Encrypted links": the button, then the links it makes (each
      // field and Copy button), and the confirmation before making them again.
      const sealed = `sealed-${kind}`;
      const made = await adminApi(page, 'POST', '/meetings', { slug: sealed, title: `Sealed ${kind}`, settings: { e2ee: true } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      await page.goto(`${server.url}/admin`, { waitUntil: 'load' });
      await visible(page, item(sealed));
      await tap(page, `${item(sealed)} button[data-action="Links"]`);
      await visible(page, '#e2ee-links');
      assert.deepEqual(await missed(page, '#e2ee-links'), []);
      await tap(page, '#make-e2ee-links');
      await visible(page, '#e2ee-made');
      assert.deepEqual(await missed(page, '#e2ee-links'), []);
      assert.deepEqual(await missed(page, '#view-links'), []);
      await screenshot(page, `admin-phone-e2ee-links-${kind}`);
      const first = await page.$eval('#e2ee-member-url', (e) => e.value);
      await tap(page, '#make-e2ee-links');
      await visible(page, '#confirm-ok');
      assert.deepEqual(await missed(page, '#confirm-dialog'), []);
      await tap(page, '#confirm-ok');
      await page.waitForFunction((old) => document.querySelector('#e2ee-member-url').value !== old, { timeout: CONNECT_TIMEOUT }, first);
      assert.deepEqual(await missed(page, '#e2ee-links'), []);
      assertNoPageErrors(page, 'phone admin');
    });
  });
}

/** A tap (touch where emulated, else a click) at the centre of `selector`. */
async function tap(page, selector) {
  const el = await page.$(selector);
  await el.evaluate((e) => e.scrollIntoView({ block: 'center' }));
  const box = await el.boundingBox();
  if (page.viewport()?.hasTouch) await page.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
  else await el.click();
}

/**
 * Every visible button, link, field and choice in `root`, scrolled into view: is it wholly
 * inside the 360 px width, and is what `elementFromPoint` finds at its centre the control
 * itself (or its label, for a box)? Returns the misses. Also: no sideways scrolling.
 */
function missed(page, root) {
  return page.evaluate((root) => {
    const misses = [];
    if (document.documentElement.scrollWidth > innerWidth + 1) {
      misses.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${innerWidth}`);
    }
    const controls = document.querySelector(root).querySelectorAll('button, a.button, input, select, textarea, a[href]');
    for (const el of controls) {
      if (el.closest('[hidden]') || el.getClientRects().length === 0 || el.closest('.visually-hidden')) continue;
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      const name = el.id || (el.getAttribute('aria-label') ?? el.textContent).trim().replace(/\s+/g, ' ').slice(0, 40);
      if (r.left < 0 || r.right > innerWidth + 0.5) {
        misses.push(`${name}: not wholly on screen (${Math.round(r.left)}–${Math.round(r.right)} of ${innerWidth})`);
        continue;
      }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
      if (!hit || !(hit === el || el.contains(hit) || (label && (hit === label || label.contains(hit))))) {
        misses.push(`${name}: a tap at its centre lands on ${hit ? `${hit.tagName.toLowerCase()}#${hit.id}.${[...hit.classList].join('.')}` : 'nothing'}`);
      }
      if (el.matches('button, a.button, select') && (r.height < 44 || r.width < 44)) {
        misses.push(`${name}: ${Math.round(r.width)}×${Math.round(r.height)} is smaller than 44×44`);
      }
    }
    return misses;
  }, root);
}

test('axe finds no serious violation on the admin views, the directory and a meeting page', async () => {
  const page = await newPage('chromium');
  // axe is a script injected into the page: the CSP would refuse it.
  await page.setBypassCSP(true);
  await explained(page, 'axe', async () => {
    await page.goto(`${server.url}/admin`, { waitUntil: 'load' });
    await page.waitForFunction(() => !document.getElementById('view-signin').hidden || !document.getElementById('view-list').hidden);
    const seen = {};
    if (await page.$('#view-signin:not([hidden])')) {
      seen.signin = await seriousViolations(page);
      await signIn(page);
    }
    seen.list = await seriousViolations(page);
    await page.click('#new-meeting');
    await visible(page, '#view-edit');
    await page.select('#f-kind', 'weekly');
    seen.edit = await seriousViolations(page);
    await page.click('#cancel-edit');
    await visible(page, `${item('circle-chromium')}`);
    await page.click(`${item('circle-chromium')} button[data-action="Links"]`);
    await visible(page, '#view-links');
    seen.links = await seriousViolations(page);
    await page.goto(`${server.url}/meetings`, { waitUntil: 'load' });
    await visible(page, '#directory-list li');
    seen.directory = await seriousViolations(page);
    await screenshot(page, 'directory-chromium');
    await page.goto(`${server.url}/meetings/circle-chromium`, { waitUntil: 'load' });
    await visible(page, '#view-one');
    seen.meeting = await seriousViolations(page);
    await screenshot(page, 'directory-meeting-chromium');
    for (const [view, violations] of Object.entries(seen)) assert.deepEqual(violations, [], view);
  });
});

test('the admin page and the directory carry the same security headers as every page, and no third-party source', async () => {
  const home = await fetch(`${server.url}/`);
  const csp = home.headers.get('content-security-policy');
  assert.ok(csp.includes("default-src 'self'"), csp);
  assert.ok(!/https?:/.test(csp), `the CSP allows another site: ${csp}`);
  for (const route of ['/admin', '/meetings', '/meetings/circle-chromium', '/api/directory']) {
    const r = await fetch(`${server.url}${route}`);
    for (const h of ['content-security-policy', 'x-frame-options', 'referrer-policy', 'x-content-type-options']) {
      assert.equal(r.headers.get(h), home.headers.get(h), `${route}: ${h}`);
    }
  }
  // An unknown slug, a file that is not a calendar: 404s, as any other.
  assert.equal((await fetch(`${server.url}/meetings/no-such-meeting`)).status, 404);
});
