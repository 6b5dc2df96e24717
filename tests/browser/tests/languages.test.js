// The client in the person's language (web/js/i18n.js, docs/i18n.md; issue 24): a browser set
// to Spanish (Chromium `--lang=es --accept-lang=es`, Firefox `intl.locale.requested` and
// `intl.accept_languages`) sees the landing page, the join screen, the meeting, the error
// screens, the public directory and the admin page in Spanish, and axe finds nothing serious
// there; the switcher on the join screen, in the directory and on the admin page changes to
// English at once and the choice survives a reload; the right-to-left
// pseudo-locale (`?lang=x-rtl`) lays a phone's join screen and meeting out right to left
// without sideways scrolling.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { adminApi, createAdmin, setField, wallClock } from '../lib/admin.js';
import { seriousViolations } from '../lib/axe.js';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, joinMeeting, screenshot, waitForTile } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

const PHONE = { width: 360, height: 640 };
const DESKTOP = { width: 1280, height: 800 };

const ADMIN = 'ops';
const PASSWORD = 'a long test password, not a real one';

let server;
let dataDir;
/** The admin API (lib/admin.js), for the directory's stored meetings. */
let admin;
const browsers = {};
before(async () => {
  // A data directory and an admin: the directory lists stored meetings.
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'haven-languages-'));
  await createAdmin(dataDir, ADMIN, PASSWORD);
  // BEFORE_WEB_DIR serves another copy of web/ (an older commit's) to see the tests fail there.
  server = await startServer('languages', { webDir: process.env.BEFORE_WEB_DIR || undefined, env: { HAVEN_DATA_DIR: dataDir } });
  admin = await adminApi(server.url, ADMIN, PASSWORD);
});
after(async () => {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Browsers whose person reads Spanish. */
const LAUNCH = {
  chromium: () => launchChromium({ args: ['--lang=es', '--accept-lang=es'] }),
  firefox: () => launchFirefox({ prefs: { 'intl.locale.requested': 'es', 'intl.accept_languages': 'es' } }),
};
async function browserOf(kind) {
  browsers[kind] ??= await LAUNCH[kind]();
  return browsers[kind];
}

const opened = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => {});
});

/** A page of a Spanish `kind` browser; Chromium may run axe (CSP bypassed for its script). */
async function newPage(kind, size = DESKTOP) {
  const page = await (await browserOf(kind)).newPage();
  opened.push(page);
  await page.setViewport(size);
  if (kind === 'chromium') await page.setBypassCSP(true);
  return page;
}

/** Forgets the kept choices (`haven.prefs`): each test starts from the browser's language. */
async function clearStorage(kind) {
  const page = await newPage(kind);
  await page.goto(`${server.url}/`);
  await page.evaluate(() => localStorage.clear());
  await page.close();
}

/**
 * The meeting's control bar on a 360×640 phone: sideways scrolling, rows of buttons, buttons a
 * tap at the centre misses, and by how many pixels each button's words spill out of it.
 */
async function phoneBar(page) {
  await page.bringToFront();
  await page.setViewport(PHONE);
  await page.waitForFunction(() => window.innerWidth === 360, { timeout: 5000, polling: 50 });
  await new Promise((r) => setTimeout(r, 300));
  return page.evaluate(() => {
    const buttons = [...document.querySelectorAll('#meeting-controls > button')].filter((b) => b.getClientRects().length);
    const name = (b) => b.id || b.dataset.toggle;
    return {
      scrollWidth: document.scrollingElement.scrollWidth,
      rows: new Set(buttons.map((b) => Math.round(b.getBoundingClientRect().top))).size,
      missed: buttons
        .filter((b) => {
          const r = b.getBoundingClientRect();
          return !b.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
        })
        .map(name),
      buttons: Object.fromEntries(buttons.map((b) => [name(b), b.scrollWidth - b.clientWidth])),
    };
  });
}

/**
 * The meeting's control bar at a desktop `size`: the rows its controls take (their distinct
 * offsetTop), the controls a click at the centre misses, controls a keyboard cannot reach, and
 * how far bar-fit.js folded it (`full`, `bar-short`, `bar-icons`, `bar-fold`).
 */
async function desktopBar(page, size) {
  await page.bringToFront();
  await page.setViewport(size);
  await page.waitForFunction((w) => window.innerWidth === w, { timeout: 5000, polling: 50 }, size.width);
  await new Promise((r) => setTimeout(r, 300));
  return page.evaluate(() => {
    const bar = document.getElementById('meeting-controls');
    // What "More" opens is not the row.
    const controls = [...bar.querySelectorAll('button')].filter((b) => b.getClientRects().length && !b.closest('.view-options'));
    const name = (b) => b.id || b.dataset.toggle || b.dataset.reaction;
    return {
      fit: bar.dataset.fit,
      count: controls.length,
      tops: Object.fromEntries(controls.map((b) => [name(b), b.offsetTop])),
      rows: new Set(controls.map((b) => b.offsetTop)).size,
      missed: controls
        .filter((b) => {
          const r = b.getBoundingClientRect();
          return !b.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
        })
        .map(name),
      unreachable: controls.filter((b) => b.disabled || b.tabIndex < 0).map(name),
      nameless: controls.filter((b) => !(b.getAttribute('aria-label') || b.textContent).trim()).map(name),
      scrollWidth: document.scrollingElement.scrollWidth,
    };
  });
}

const text = (page, selector) => page.$eval(selector, (el) => el.textContent.trim());
const explain = (violations) => JSON.stringify(violations, null, 1);

/** What the join screen says, in whatever language it is in now. */
const joinWords = (page) =>
  page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    heading: document.getElementById('join-heading').textContent.trim(),
    name: document.querySelector('label[for="name-input"]').textContent.trim(),
    mic: document.querySelector('#screen-join [data-toggle="audio"] .toggle-name').textContent.trim(),
    join: document.getElementById('join-button').textContent.trim(),
    chosen: document.getElementById('language-select').value,
  }));

for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1' ? 'HAVEN_SKIP_FIREFOX=1' : false;

  test(`a_spanish_browser_sees_the_join_screen_and_the_meeting_in_spanish (${kind})`, { timeout: 180_000, skip }, async () => {
    await clearStorage(kind);
    const room = await server.createRoom();
    const page = await newPage(kind);
    await page.goto(room.join_url);
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.deepEqual(await joinWords(page), {
      lang: 'es',
      dir: 'ltr',
      heading: 'Entrar a la reunión',
      name: 'Tu nombre',
      mic: 'Micrófono',
      join: 'Entrar',
      chosen: 'es',
    });
    // The switcher names each language in itself.
    assert.deepEqual(
      await page.$$eval('#language-select option', (os) => os.map((o) => [o.value, o.textContent, o.lang])),
      [['en', 'English', 'en'], ['es', 'Español', 'es']],
    );
    let violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `join screen: ${explain(violations)}`);
    await screenshot(page, `languages-${kind}-join-es`, { fullPage: false });

    const you = await joinMeeting(page, room.join_url, 'Ana', { audio: false, video: false });
    assert.equal(await text(page, '#screen-meeting [data-toggle="audio"] .toggle-name'), 'Micrófono');
    assert.equal(await text(page, '#hand-button .toggle-name'), 'Levantar la mano');
    assert.equal(await text(page, '#leave-button'), 'Salir');
    assert.equal(await page.$eval('#meeting-controls', (el) => el.getAttribute('aria-label')), 'Controles de la reunión');
    await page.waitForFunction(() => document.getElementById('announcer').textContent.includes('Estás en la reunión.'), {
      timeout: 5000,
      polling: 100,
    });

    // Someone arrives (in English: each person has their own language), and is announced in Spanish.
    const other = await (await browserOf(kind)).newPage();
    opened.push(other);
    await other.evaluateOnNewDocument(() => localStorage.setItem('haven.prefs', JSON.stringify({ language: 'en' })));
    const them = await joinMeeting(other, room.join_url, 'Bea', { audio: false, video: false });
    assert.equal(await text(other, '#hand-button .toggle-name'), 'Raise hand', 'the other person chose English');
    await page.bringToFront();
    await waitForTile(page, them.id, 'Bea');
    await page.waitForFunction(() => document.getElementById('announcer').textContent.includes('Bea entró.'), {
      timeout: 5000,
      polling: 100,
    });
    // A notice the person sees: the hand raised, and their place in line.
    await page.click('#hand-button');
    await page.waitForFunction(() => !document.getElementById('my-position').hidden, { timeout: 5000, polling: 100 });
    assert.equal(await text(page, '#my-position'), 'Tienes la mano levantada. Sigues tú.');
    assert.equal(await text(page, '#hand-button .toggle-name'), 'Bajar la mano');
    assert.match(await page.$eval(`#grid li[data-participant-id="${you.id}"]`, (li) => li.getAttribute('aria-label')), /^Ana \(tú\): micrófono apagado, cámara apagada, mano levantada/);
    violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `meeting: ${explain(violations)}`);
    await screenshot(page, `languages-${kind}-meeting-es`, { fullPage: false });

    // On a phone: the bar's longer Spanish words still fit one row, each button where a tap
    // lands, and no button's words spill out of it further than the English ones do (measured
    // on the English page of the same browser; 2 px of a glyph in the padding is not seen).
    const spanish = await phoneBar(page);
    const english = await phoneBar(other);
    await page.bringToFront();
    await screenshot(page, `languages-${kind}-meeting-es-phone`, { fullPage: false });
    assert.ok(spanish.scrollWidth <= 360, `phone: no sideways scrolling (${spanish.scrollWidth})`);
    assert.equal(spanish.rows, 1, `phone: one row of buttons ${JSON.stringify(spanish.buttons)}`);
    assert.deepEqual(spanish.missed, [], "phone: a tap at each button's centre reaches it");
    const spills = Object.entries(spanish.buttons).filter(([id, spill]) => spill > Math.max(0, english.buttons[id] ?? 0) + 2);
    assert.deepEqual(spills, [], `phone: words spill out of buttons (English: ${JSON.stringify(english.buttons)})`);
    await page.setViewport(DESKTOP);
    // Firefox refuses axe's script tag (CSP) before axe is evaluated another way: not the page's error.
    page.errors = page.errors.filter((e) => !/Content-Security-Policy/.test(e));
    assertNoPageErrors(page, kind);
  });

  test(`the_landing_page_is_in_spanish (${kind})`, { timeout: 120_000, skip }, async () => {
    await clearStorage(kind);
    const page = await newPage(kind);
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.documentElement.lang === 'es', { timeout: 5000, polling: 100 });
    assert.equal(await text(page, 'h1'), 'Reúnete con tu grupo, en un espacio seguro');
    await page.click('#start-button');
    await page.waitForSelector('#created', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await text(page, '#created-heading'), 'Tu reunión está lista');
    // Started without a name: the server gives it none, and the page names it in Spanish.
    assert.equal(await text(page, '#created-title'), 'Reunión');
    assert.match(await text(page, '#links-last'), /^Los dos enlaces funcionan hasta \d+ horas? después/);
    assert.equal(await text(page, '#show-facilitator-url'), 'Mostrar');
    await page.click('#show-facilitator-url');
    assert.equal(await text(page, '#show-facilitator-url'), 'Ocultar');
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `landing page: ${explain(violations)}`);
    page.errors = page.errors.filter((e) => !/Content-Security-Policy/.test(e));
    assertNoPageErrors(page, kind);
  });

  test(`error_screens_are_in_spanish (${kind})`, { timeout: 120_000, skip }, async () => {
    await clearStorage(kind);
    const page = await newPage(kind);
    // A link to no meeting: the server's page, in Spanish.
    const response = await page.goto(`${server.url}/m/no-such-meeting`);
    assert.equal(response.status(), 404);
    await page.waitForFunction(() => document.documentElement.lang === 'es', { timeout: 5000, polling: 100 });
    assert.equal(await text(page, 'h1'), 'No hay ninguna reunión en este enlace');
    assert.equal(await page.title(), 'No hay ninguna reunión aquí · Haven');

    // A screen rendered from the server's code (bad_key), not from its English message.
    const room = await server.createRoom();
    const page2 = await newPage(kind);
    await page2.goto(`${room.join_url}#key=not-the-key`);
    await page2.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    await page2.type('#name-input', 'Ana');
    await page2.click('#join-button');
    await page2.waitForSelector('#screen-problem', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await text(page2, '#problem-heading'), 'El enlace de facilitador no funciona');
    assert.match(await text(page2, '#problem-text'), /^La parte de facilitador de este enlace no corresponde/);
    assert.equal(await text(page2, '#screen-problem a.button'), 'Inicio de Haven');
    assertNoPageErrors(page2, kind);
  });

  test(`the_switcher_changes_to_english_at_once_and_the_choice_survives_a_reload (${kind})`, { timeout: 120_000, skip }, async () => {
    await clearStorage(kind);
    const room = await server.createRoom();
    const page = await newPage(kind);
    await page.goto(room.join_url);
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    await page.type('#name-input', 'Ana');
    await page.click('#screen-join [data-toggle="audio"]');
    await page.evaluate(() => window.haven.settled());
    assert.equal(await text(page, '#screen-join [data-toggle="audio"] .toggle-state'), 'encendido');
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);

    await page.select('#language-select', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en', { timeout: 5000, polling: 50 });
    assert.deepEqual(await joinWords(page), {
      lang: 'en',
      dir: 'ltr',
      heading: 'Join the meeting',
      name: 'Your name',
      mic: 'Microphone',
      join: 'Join',
      chosen: 'en',
    });
    // Live: the same page (no reload), the name typed and the microphone still on, in English words.
    assert.equal(await page.$eval('#name-input', (el) => el.value), 'Ana');
    assert.equal(await text(page, '#screen-join [data-toggle="audio"] .toggle-state'), 'on');
    assert.equal(await page.evaluate(() => window.haven.media.audio), true);
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), loads);
    assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('haven.prefs'))).language, 'en');

    await page.reload();
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal((await joinWords(page)).heading, 'Join the meeting', 'after a reload');
    assert.equal((await joinWords(page)).chosen, 'en');
    // And back: Spanish again, kept too.
    await page.select('#language-select', 'es');
    await page.waitForFunction(() => document.documentElement.lang === 'es', { timeout: 5000, polling: 50 });
    assert.equal(await text(page, '#join-heading'), 'Entrar a la reunión');
    assertNoPageErrors(page, kind);
    await clearStorage(kind);
  });

  test(`the_rtl_pseudo_locale_lays_out_right_to_left_on_a_phone (${kind})`, { timeout: 180_000, skip }, async () => {
    await clearStorage(kind);
    const room = await server.createRoom();
    const page = await newPage(kind, PHONE);
    await page.goto(`${room.join_url}?lang=x-rtl`);
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    const seen = await page.evaluate(() => {
      const button = document.getElementById('join-button');
      button.scrollIntoView({ block: 'center' });
      const r = button.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      // Where the heading's words are (the h1's box spans the card either way).
      const words = document.createRange();
      words.selectNodeContents(document.getElementById('join-heading'));
      const heading = words.getBoundingClientRect();
      const card = document.getElementById('join-heading').getBoundingClientRect();
      return {
        dir: document.documentElement.dir,
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        joinHit: button.contains(hit),
        // Right to left: the heading's words start at the right edge.
        headingAtRight: card.right - heading.right < heading.left - card.left,
        mirrored: document.getElementById('join-heading').textContent.startsWith('\u202e'),
      };
    });
    assert.equal(seen.dir, 'rtl');
    assert.ok(seen.scrollWidth <= seen.innerWidth, `no sideways scrolling: ${seen.scrollWidth} > ${seen.innerWidth}`);
    assert.ok(seen.joinHit, 'the Join button is what a tap at its centre reaches');
    assert.ok(seen.headingAtRight, 'the heading sits at the right');
    assert.ok(seen.mirrored, 'the words come from the pseudo-locale');
    await screenshot(page, `languages-${kind}-join-rtl-phone`, { fullPage: false });

    // In the meeting too: nothing sideways, and the bar's Leave button reachable.
    await joinMeeting(page, `${room.join_url}?lang=x-rtl`, 'Ana', { audio: false, video: false });
    const meeting = await page.evaluate(() => {
      const leave = document.getElementById('leave-button').getBoundingClientRect();
      const hit = document.elementFromPoint(leave.left + leave.width / 2, leave.top + leave.height / 2);
      return {
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        leaveHit: document.getElementById('leave-button').contains(hit),
      };
    });
    assert.ok(meeting.scrollWidth <= meeting.innerWidth, `meeting: ${meeting.scrollWidth} > ${meeting.innerWidth}`);
    assert.ok(meeting.leaveHit, 'the Leave button is what a tap at its centre reaches');
    await screenshot(page, `languages-${kind}-meeting-rtl-phone`, { fullPage: false });
    assertNoPageErrors(page, kind);
  });
}

const SPANISH_DAYS = ['domingo', 'lunes', 'martes', 'miércoles', 'jueves', 'viernes', 'sábado'];
const ENGLISH_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * A listed weekly meeting in Spanish, Open and for newcomers, that next starts at a whole hour
 * about two days from now (so the directory says its day, not "starts in N minutes").
 */
async function listedMeeting(kind) {
  const zone = 'America/New_York';
  const startAt = new Date(Math.ceil((Date.now() + 50 * 3600_000) / 3600_000) * 3600_000);
  const { day, time } = wallClock(startAt, zone);
  const slug = `grupo-${kind}`;
  const title = `Grupo de los martes ${kind}`;
  const made = await admin('POST', '/meetings', {
    slug,
    title,
    description: 'Reunión abierta; quienes llegan por primera vez son bienvenidos.',
    language: 'es',
    types: ['O', 'BE'],
    listed: true,
    schedule: { time_zone: zone, rules: [{ kind: 'weekly', days: [day], time }], duration_minutes: 60, opens_minutes_before: 10 },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { slug, title, startAt };
}

/** The weekday of `date` in the page's own time zone, in `lang`, as Intl names it there. */
const weekdayIn = (page, date, lang) =>
  page.evaluate((at, lang) => new Intl.DateTimeFormat(lang, { weekday: 'long' }).format(new Date(at)), date.toISOString(), lang);

/** What the directory's list says, in whatever language it is in now. */
const directoryWords = (page, slug) =>
  page.evaluate((slug) => {
    const entry = document.querySelector(`#directory-list li[data-slug="${slug}"]`);
    const options = (id) => [...document.getElementById(id).options].map((o) => [o.value, o.textContent]);
    return {
      lang: document.documentElement.lang,
      title: document.title,
      heading: document.getElementById('list-heading').textContent.trim(),
      when: entry.querySelector('.when').textContent,
      about: entry.querySelector('.hint').textContent,
      join: entry.querySelector('a.button').firstChild.textContent,
      days: options('filter-day').slice(0, 2),
      parts: options('filter-time').slice(0, 2),
      languages: options('filter-language'),
      types: options('filter-type'),
      count: document.getElementById('result-count').textContent,
      chosen: document.getElementById('language-select').value,
    };
  }, slug);

for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1' ? 'HAVEN_SKIP_FIREFOX=1' : false;

  test(`the_directory_is_in_spanish_and_the_switcher_changes_it_live (${kind})`, { timeout: 180_000, skip }, async () => {
    await clearStorage(kind);
    const { slug, title, startAt } = await listedMeeting(kind);
    const page = await newPage(kind);
    // Chromium: a visitor far from the meeting's zone (the times are the visitor's).
    if (kind === 'chromium') await page.emulateTimezone('America/Mexico_City');
    await page.goto(`${server.url}/meetings`, { waitUntil: 'load' });
    const entry = `#directory-list li[data-slug="${slug}"]`;
    await page.waitForSelector(entry, { visible: true, timeout: CONNECT_TIMEOUT });

    const day = await weekdayIn(page, startAt, 'es');
    assert.ok(SPANISH_DAYS.includes(day), day);
    const es = await directoryWords(page, slug);
    assert.equal(es.lang, 'es');
    assert.equal(es.title, 'Reuniones · Haven');
    assert.equal(es.heading, 'Reuniones');
    // Its next time: the weekday in Spanish, in the visitor's zone, on a 24-hour clock.
    assert.match(es.when, new RegExp(`^Siguiente: ${day}, .*\\b\\d{1,2}:00$`));
    // The language named in Spanish, the types by the Meeting Guide spec's Spanish names.
    assert.equal(es.about, 'Español · Abierta, Principiantes');
    assert.equal(es.join, 'Entrar');
    assert.deepEqual(es.days, [['', 'Cualquier día'], ['0', 'Domingo']]);
    assert.deepEqual(es.parts, [['', 'Cualquier hora'], ['morning', 'Mañana (de 5:00 a 12:00)']]);
    assert.deepEqual(es.languages, [['', 'Cualquier idioma'], ['es', 'Español']]);
    assert.deepEqual(es.types, [['', 'Cualquier tipo'], ['O', 'Abierta'], ['BE', 'Principiantes']]);
    assert.match(es.count, /^\d+ reuni(ón|ones)\.$/);
    assert.equal(es.chosen, 'es');
    assert.equal(await text(page, 'label[for="filter-language"]'), 'Idioma de la reunión');
    assert.match(await text(page, '#zone-note'), /^Los horarios están en tu zona horaria, /);
    const english = () => page.evaluate(() => /\b(Meetings|Any|Next|Join|Open|Newcomer|Language|Type|Day)\b/.test(document.querySelector('main').innerText));
    assert.equal(await english(), false, 'English words in the Spanish directory');
    let violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `directory: ${explain(violations)}`);
    await screenshot(page, `languages-${kind}-directory-es`);

    // A filter chosen stays chosen through a change of language.
    await page.select('#filter-type', 'BE');
    await page.waitForSelector(entry, { visible: true, timeout: 5000 });
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    await page.select('#language-select', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en', { timeout: 5000, polling: 50 });
    const dayEn = await weekdayIn(page, startAt, 'en');
    assert.ok(ENGLISH_DAYS.includes(dayEn), dayEn);
    const en = await directoryWords(page, slug);
    assert.equal(en.title, 'Meetings · Haven');
    assert.equal(en.heading, 'Meetings');
    assert.match(en.when, new RegExp(`^Next: ${dayEn}, `));
    assert.equal(en.about, 'Spanish · Open, Newcomer');
    assert.equal(en.join, 'Join');
    assert.deepEqual(en.days, [['', 'Any day'], ['0', 'Sunday']]);
    assert.deepEqual(en.types, [['', 'Any type'], ['O', 'Open'], ['BE', 'Newcomer']]);
    assert.match(en.count, /^\d+ meetings? of \d+\.$|^\d+ meetings?\.$/);
    assert.equal(await page.$eval('#filter-type', (el) => el.value), 'BE', 'the type chosen was lost');
    // Live: the same page, not a reload; the choice kept.
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), loads);
    assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('haven.prefs'))).language, 'en');

    // And back to Spanish, from the switcher.
    await page.select('#language-select', 'es');
    await page.waitForFunction(() => document.documentElement.lang === 'es', { timeout: 5000, polling: 50 });
    assert.equal((await directoryWords(page, slug)).about, 'Español · Abierta, Principiantes');
    page.errors = page.errors.filter((e) => !/Content-Security-Policy/.test(e));
    assertNoPageErrors(page, kind);

    // The meeting's own page, in Spanish (the choice kept above), then in English.
    const one = await newPage(kind);
    if (kind === 'chromium') await one.emulateTimezone('America/Mexico_City');
    await one.goto(`${server.url}/meetings/${slug}`, { waitUntil: 'load' });
    await one.waitForSelector('#view-one', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await one.title(), `${title} · Haven`);
    assert.equal(await text(one, '#one-heading'), title);
    assert.equal(await text(one, '#one-types'), 'Tipo: Abierta, Principiantes');
    assert.equal(await text(one, '#one-language'), 'Idioma: español');
    assert.equal(await text(one, '#one-join'), 'Entrar a esta reunión');
    assert.equal(await text(one, '#times-heading'), 'Próximas fechas');
    assert.match(await text(one, '#one-zone'), /^Los horarios están en tu zona horaria, .*\. Puedes entrar desde 10 minutos antes del comienzo\.$/);
    const first = await one.$eval('#one-times time', (el) => ({ at: el.dateTime, text: el.textContent }));
    assert.equal(first.at, startAt.toISOString());
    assert.match(first.text, new RegExp(`^${day}, .* a .*\\d:00$`));
    violations = await seriousViolations(one);
    assert.deepEqual(violations, [], `meeting's page: ${explain(violations)}`);
    await screenshot(one, `languages-${kind}-directory-meeting-es`);
    await one.select('#language-select', 'en');
    await one.waitForFunction(() => document.getElementById('one-types').textContent === 'Type: Open, Newcomer', { timeout: 5000, polling: 50 });
    assert.equal(await one.title(), `${title} · Haven`, 'the tab keeps the meeting’s name');
    assert.equal(await text(one, '#one-join'), 'Join this meeting');
    assert.match((await one.$eval('#one-times time', (el) => el.textContent)), new RegExp(`^${dayEn}, .* to `));
    one.errors = one.errors.filter((e) => !/Content-Security-Policy/.test(e));
    assertNoPageErrors(one, kind);
    await clearStorage(kind);
    // Out of the directory again for any test after this one.
    assert.equal((await admin('POST', `/meetings/${slug}/archive`)).status, 200);
  });
}

// A meeting started without a name carries none from the server (`title: null`): the join
// screen, the top bar and the tab's title name it in the person's language, live when the
// language changes, and the server's English "Meeting" shows nowhere.
test('an_untitled_meeting_is_called_reunion_in_spanish (chromium)', { timeout: 120_000 }, async () => {
  await clearStorage('chromium');
  const room = await server.createRoom();
  assert.equal(room.title, null, 'the server names no untitled meeting');
  const page = await newPage('chromium');
  await page.goto(room.join_url);
  await page.waitForSelector('#join-room-title', { visible: true, timeout: CONNECT_TIMEOUT });
  assert.equal(await text(page, '#join-room-title'), 'Reunión');
  assert.equal(await page.title(), 'Reunión · Haven');
  const english = () => page.evaluate(() => /\bMeeting\b/.test(`${document.title} ${document.body.innerText}`));
  assert.equal(await english(), false, 'no "Meeting" on the Spanish join screen');

  // The switcher renames it at once, both ways.
  await page.select('#language-select', 'en');
  await page.waitForFunction(() => document.getElementById('join-room-title').textContent === 'Meeting', { timeout: 5000, polling: 50 });
  assert.equal(await page.title(), 'Meeting · Haven');
  await page.select('#language-select', 'es');
  await page.waitForFunction(() => document.getElementById('join-room-title').textContent === 'Reunión', { timeout: 5000, polling: 50 });

  await joinMeeting(page, room.join_url, 'Ana', { audio: false, video: false });
  assert.equal(await text(page, '#room-title'), 'Reunión');
  assert.equal(await page.title(), 'Reunión · Haven');
  assert.equal(await english(), false, 'no "Meeting" in the Spanish meeting');
  assertNoPageErrors(page, 'chromium');
  await clearStorage('chromium');
});

// The desktop control bar: one row in Spanish and in English, for a member and for a
// facilitator (who has more controls), at 1280×800 and at 1024×768; every control where a
// click at its centre lands, reachable by keyboard and named (bar-fit.js folds the words as
// far as it must).
for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1' ? 'HAVEN_SKIP_FIREFOX=1' : false;
  test(`the_desktop_bar_is_one_row_in_spanish_and_english_for_members_and_facilitators (${kind})`, { timeout: 240_000, skip }, async (t) => {
    await clearStorage(kind);
    const room = await server.createRoom();
    const seen = {};
    for (const lang of ['es', 'en']) {
      for (const role of ['facilitator', 'member']) {
        const url = new URL(role === 'facilitator' ? room.facilitator_url : room.join_url);
        url.searchParams.set('lang', lang);
        const page = await newPage(kind);
        await joinMeeting(page, url.href, `${role} ${lang}`, { audio: false, video: false });
        for (const size of [DESKTOP, { width: 1024, height: 768 }]) {
          const bar = await desktopBar(page, size);
          const where = `${lang} ${role} ${size.width}`;
          seen[where] = `${bar.fit}, ${bar.count} controls`;
          assert.equal(bar.rows, 1, `${where}: one row (${bar.fit}): ${JSON.stringify(bar.tops)}`);
          assert.deepEqual(bar.missed, [], `${where}: a click at each control's centre reaches it`);
          assert.deepEqual(bar.unreachable, [], `${where}: every control takes keyboard focus`);
          assert.deepEqual(bar.nameless, [], `${where}: every control has a name`);
          assert.ok(bar.scrollWidth <= size.width, `${where}: no sideways scrolling (${bar.scrollWidth})`);
          await screenshot(page, `languages-${kind}-bar-${lang}-${role}-${size.width}`, { fullPage: false });
        }
        await page.setViewport(DESKTOP);
        page.errors = page.errors.filter((e) => !/Content-Security-Policy/.test(e));
        assertNoPageErrors(page, `${kind} ${lang} ${role}`);
      }
    }
    // English at 1280 keeps its full words (it fitted before); what each case folded to.
    t.diagnostic(JSON.stringify(seen));
    assert.match(seen['en member 1280'], /^full/, 'English at 1280 px: the full words');
  });
}

/** The words of the admin page's view in sight, in whatever language it is in now. */
const adminWords = (page) =>
  page.evaluate(() => ({
    lang: document.documentElement.lang,
    title: document.title,
    top: document.querySelector('.topbar .room-title').textContent.trim(),
    heading: document.querySelector('main section:not([hidden]) h1').textContent.trim(),
    chosen: document.getElementById('language-select').value,
  }));

// The admin page (issue 24): a Spanish browser signs in, sees its meetings, makes a weekly
// meeting through the Spanish form (weekdays and time zones named by the browser in Spanish),
// issues a facilitator link and archives the meeting, every word in Spanish and axe content;
// the switcher turns the list, the form and the links into English at once, and back.
for (const kind of ['chromium', 'firefox']) {
  const skip = kind === 'firefox' && process.env.HAVEN_SKIP_FIREFOX === '1' ? 'HAVEN_SKIP_FIREFOX=1' : false;

  test(`the_admin_page_is_in_spanish_and_makes_a_meeting_through_the_spanish_form (${kind})`, { timeout: 180_000, skip }, async () => {
    await clearStorage(kind);
    const slug = `admin-es-${kind}`;
    const title = `Grupo de admin ${kind}`;
    const page = await newPage(kind);
    await page.goto(`${server.url}/admin`, { waitUntil: 'load' });
    await page.waitForSelector('#signin-name', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.deepEqual(await adminWords(page), {
      lang: 'es',
      title: 'Administrar reuniones · Haven',
      top: 'Administrar reuniones',
      heading: 'Iniciar sesión',
      chosen: 'es',
    });
    assert.equal(await text(page, 'label[for="signin-name"]'), 'Nombre de acceso');
    assert.equal(await text(page, 'label[for="signin-password"]'), 'Contraseña');
    assert.equal(await text(page, '#signin-button'), 'Iniciar sesión');
    let violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `sign-in: ${explain(violations)}`);

    // A refusal is said from its code, in Spanish, and again in English when the language changes.
    await page.type('#signin-name', ADMIN);
    await page.type('#signin-password', 'not the password');
    await page.click('#signin-button');
    await page.waitForSelector('#error', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await page.$eval('#error', (el) => el.dataset.code), 'bad_credentials');
    assert.equal(await text(page, '#error'), 'Ese nombre y esa contraseña no coinciden. Revísalos e inténtalo de nuevo.');
    await page.select('#language-select', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en', { timeout: 5000, polling: 50 });
    assert.equal(await text(page, '#error'), 'That name and password do not match. Check them and try again.');
    assert.equal(await text(page, '#signin-heading'), 'Sign in');
    await page.select('#language-select', 'es');
    await page.waitForFunction(() => document.documentElement.lang === 'es', { timeout: 5000, polling: 50 });
    assert.equal(await text(page, '#error'), 'Ese nombre y esa contraseña no coinciden. Revísalos e inténtalo de nuevo.');

    await page.$eval('#signin-password', (el) => (el.value = ''));
    await page.type('#signin-password', PASSWORD);
    await page.click('#signin-button');
    await page.waitForSelector('#view-list', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal((await adminWords(page)).heading, 'Reuniones');
    assert.equal(await text(page, '#new-meeting'), 'Nueva reunión');
    assert.equal(await text(page, '#sign-out'), 'Cerrar sesión');
    await page.waitForFunction(() => document.getElementById('announcer').textContent.includes('Sesión iniciada.'), { timeout: 5000, polling: 100 });

    // The schedule form: its choices in Spanish, the weekdays and time zones as the browser names them.
    await page.click('#new-meeting');
    await page.waitForSelector('#view-edit', { visible: true, timeout: 5000 });
    await page.select('#f-kind', 'weekly');
    const form = await page.evaluate(() => ({
      heading: document.getElementById('edit-heading').textContent.trim(),
      kinds: [...document.getElementById('f-kind').options].map((o) => o.textContent),
      kind: document.querySelector('label[for="f-kind"]').textContent,
      days: [...document.querySelectorAll('#f-days label')].map((l) => l.textContent),
      zone: document.querySelector('label[for="f-zone"]').textContent,
      madrid: document.querySelector('#zones option[value="Europe/Madrid"]')?.label ?? null,
      types: ['O', 'BE', 'SP'].map((c) => document.querySelector(`label[for="f-type-${c}"]`).textContent),
      save: document.getElementById('save-meeting').textContent,
    }));
    assert.deepEqual(form, {
      heading: 'Nueva reunión',
      kinds: ['Sin horario (siempre abierta)', 'Cada semana', 'Cada mes, en un día de la semana', 'Cada mes, en una fecha', 'Una sola vez'],
      kind: 'Con qué frecuencia',
      days: ['Lunes', 'Martes', 'Miércoles', 'Jueves', 'Viernes', 'Sábado', 'Domingo'],
      zone: 'Zona horaria',
      madrid: form.madrid,
      types: ['Abierta', 'Principiantes', 'Orador'],
      save: 'Guardar la reunión',
    });
    assert.match(form.madrid ?? '', /Europa/, 'the zone named in Spanish');
    violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `the form: ${explain(violations)}`);
    await screenshot(page, `languages-${kind}-admin-form-es`);

    await page.type('#f-title', title);
    await page.type('#f-slug', slug);
    await setField(page, 'f-language', 'es');
    await page.click('#f-type-O');
    await page.click('#f-day-tue');
    await setField(page, 'f-time', '19:00');
    await setField(page, 'f-zone', 'America/Mexico_City');
    await setField(page, 'f-duration', '90');
    await page.click('#f-open-before');
    await setField(page, 'f-opens-minutes', '10');
    await page.click('#f-add-reading');
    await setField(page, await page.$eval('#f-readings li:last-child input', (i) => i.id), 'Preámbulo');
    const removeWords = () => page.$eval('#f-readings li:last-child button[data-action="Remove"]', (b) => [b.firstChild.textContent, b.lastChild.textContent]);
    const [remove, whichReading] = await removeWords();
    assert.equal(remove, 'Quitar');
    assert.match(whichReading, /^ lectura \d+$/);
    await setField(page, await page.$eval('#f-readings li:last-child textarea', (t) => t.id), 'Nos alegra que estés aquí.');
    await page.click('#save-meeting');
    const entry = `#meeting-list li[data-slug="${slug}"]`;
    await page.waitForSelector(entry, { visible: true, timeout: CONNECT_TIMEOUT });
    await page.waitForFunction((t) => document.getElementById('announcer').textContent.includes(`${t}: guardada.`), { timeout: 5000, polling: 100 }, title);
    const stored = await admin('GET', `/meetings/${slug}`);
    assert.equal(stored.status, 200);
    assert.deepEqual(
      [stored.body.language, stored.body.types.map((t) => t.code ?? t), stored.body.schedule, stored.body.readings],
      [
        'es',
        ['O'],
        { time_zone: 'America/Mexico_City', rules: [{ kind: 'weekly', days: ['tue'], time: '19:00' }], duration_minutes: 90, opens_minutes_before: 10 },
        [{ title: 'Preámbulo', text: 'Nos alegra que estés aquí.' }],
      ],
    );
    // Its calendar file says "Join" in the meeting's language, whatever the app that fetches it asks for.
    const ics = await fetch(`${server.url}/meetings/${slug}.ics`, { headers: { 'Accept-Language': 'en' } });
    assert.equal(ics.status, 200);
    assert.match((await ics.text()).replace(/\r\n /g, ''), new RegExp(`\r\nDESCRIPTION:Enlace para entrar: https?://\\S+/m/${slug}\r\n`), 'the .ics in Spanish');
    const itemWords = () =>
      page.evaluate((sel) => {
        const li = document.querySelector(sel);
        return {
          tags: [...li.querySelectorAll('.item-meta > span')].map((s) => s.textContent),
          when: li.querySelector('p.hint').textContent,
          buttons: [...li.querySelectorAll('button')].map((b) => [b.dataset.action, b.firstChild.textContent]),
          summary: document.getElementById('live-summary').textContent,
        };
      }, entry);
    assert.deepEqual(await itemWords(), {
      tags: ['Fuera de la lista', 'Nadie dentro ahora'],
      when: 'Cada martes a las 19:00, 90 minutos (America/Mexico_City); abre 10 minutos antes.',
      buttons: [['Edit', 'Editar'], ['Links', 'Enlaces'], ['Archive', 'Archivar']],
      summary: 'Ninguna reunión está en curso ahora.',
    });
    const english = () =>
      page.evaluate(() => /\b(Meetings|Edit|Links|Archive|Unlisted|Listed|Nobody|Every|minutes|Sign|Issued|Works)\b/.test(document.querySelector('main').innerText));
    assert.equal(await english(), false, 'English words on the Spanish admin page');
    violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `the list: ${explain(violations)}`);
    await screenshot(page, `languages-${kind}-admin-list-es`);

    // A facilitator link, shown once, dated in Spanish.
    await page.click(`${entry} button[data-action="Links"]`);
    await page.waitForSelector('#view-links', { visible: true, timeout: 5000 });
    assert.equal((await adminWords(page)).heading, `Enlaces de ${title}`);
    await setField(page, 'key-label', 'Coordinación');
    await page.click('#issue-key');
    await page.waitForSelector('#issued', { visible: true, timeout: 5000 });
    assert.equal(await text(page, '#issued-label'), 'Nuevo enlace de facilitador: Coordinación');
    assert.match(await text(page, '#key-list .hint'), /^Creado el .+\. Funciona ahora\.$/);
    assert.equal(await english(), false, 'English words in the Spanish links view');
    violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `the links: ${explain(violations)}`);

    // The switcher: English at once (no reload), what came from the API said again, and back.
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    await page.select('#language-select', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en', { timeout: 5000, polling: 50 });
    assert.equal((await adminWords(page)).heading, `Links for ${title}`);
    assert.equal(await text(page, '#issued-label'), 'New facilitator link: Coordinación');
    assert.match(await text(page, '#key-list .hint'), /^Issued .+\. Works now\.$/);
    assert.equal(await text(page, '#key-list button[data-action="Revoke"]'), 'Revoke the link Coordinación');
    await page.click('#back-to-list');
    await page.waitForSelector('#view-list', { visible: true, timeout: 5000 });
    assert.deepEqual(await itemWords(), {
      tags: ['Unlisted', 'Nobody in now'],
      when: 'Every Tuesday at 19:00, 90 minutes (America/Mexico_City); opens 10 minutes before.',
      buttons: [['Edit', 'Edit'], ['Links', 'Links'], ['Archive', 'Archive']],
      summary: 'No meeting is live now.',
    });
    await page.click(`${entry} button[data-action="Edit"]`);
    await page.waitForSelector('#view-edit', { visible: true, timeout: 5000 });
    assert.equal(await text(page, '#edit-heading'), `Edit ${title}`);
    assert.equal(await text(page, 'label[for="f-day-tue"]'), 'Tuesday');
    assert.equal(await page.$eval('#f-day-tue', (b) => b.checked), true);
    await page.select('#language-select', 'es');
    await page.waitForFunction(() => document.documentElement.lang === 'es', { timeout: 5000, polling: 50 });
    assert.equal(await text(page, '#edit-heading'), `Editar ${title}`);
    assert.equal(await text(page, 'label[for="f-day-tue"]'), 'Martes');
    assert.equal(await text(page, 'label[for="f-type-O"]'), 'Abierta');
    const [removeAgain, whichAgain] = await removeWords();
    assert.equal(removeAgain, 'Quitar');
    assert.match(whichAgain, /^ lectura \d+$/);
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), loads, 'the page was reloaded');
    assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('haven.prefs'))).language, 'es');

    // Archived after a confirmation in Spanish.
    await page.click('#cancel-edit');
    await page.waitForSelector(entry, { visible: true, timeout: 5000 });
    await page.click(`${entry} button[data-action="Archive"]`);
    await page.waitForSelector('#confirm-dialog[open]', { timeout: 5000 });
    assert.deepEqual(
      await page.evaluate(() => ['confirm-heading', 'confirm-ok', 'confirm-cancel'].map((id) => document.getElementById(id).textContent)),
      [`¿Archivar ${title}?`, 'Archivar', 'Cancelar'],
    );
    await page.click('#confirm-ok');
    await page.waitForFunction((sel) => document.querySelector(`${sel} .is-archived`)?.textContent === 'Archivada', { timeout: 5000, polling: 50 }, entry);
    await page.waitForFunction((t) => document.getElementById('announcer').textContent.includes(`${t}: archivada.`), { timeout: 5000, polling: 100 }, title);
    page.errors = page.errors.filter((e) => !/Content-Security-Policy/.test(e));
    assertNoPageErrors(page, kind);
    await clearStorage(kind);
  });
}
