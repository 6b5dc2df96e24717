// The public directory: /meetings lists the listed meetings soonest first, in the visitor's
// time zone, filtered by day, time of day, language and type; /meetings/{slug} is one meeting's
// page with its description and next times. Data from /api/directory (the server's own: no
// third-party request, nothing stored, no tracking). Refreshed each minute for "live now".
// In the visitor's language (i18n.js): words from the catalogue, dates, weekdays and language
// names with Intl, meeting types by their Meeting Guide code (`type.<code>`); a change of
// language renders the page again from the data it holds.

import { has, installLanguageSwitcher, locale, onLanguageChange, setText, t } from './i18n.js';
import { MEETING_TYPES } from './meeting-types.js';
import { formatDayTime, formatTime, keeps, languageName, matchingTimes, primaryLanguage, status } from './directory/when.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 60_000;
const nowSeconds = () => Date.now() / 1000;
/** The slug of /meetings/{slug}, or null on /meetings. */
const slug = /^\/meetings\/([a-z0-9-]+)\/?$/.exec(window.location.pathname)?.[1] ?? null;

let meetings = [];
/** The meeting of /meetings/{slug}, once loaded. */
let one = null;

function showError(key) {
  setText($('error'), key);
  $('error').hidden = false;
}

/** "español" → "Español": a word that starts a line or an option (Intl names languages and days in lower case in Spanish). */
const capital = (text) => text.charAt(0).toLocaleUpperCase(locale()) + text.slice(1);

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw Object.assign(new Error(body.message || String(response.status)), { code: body.code ?? 'unexpected' });
  }
  return response.json();
}

/** "Times are in your time zone, Asia/Kolkata.": the browser's zone, where the times are shown. */
function zoneNote() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone ? t('directory.zone', { zone: zone.replace(/_/g, ' ') }) : t('directory.zoneUnknown');
}

function statusLine(m, times) {
  const p = document.createElement('p');
  p.className = 'item-meta';
  const { live, key, params } = status(m, nowSeconds(), times, locale());
  if (live) {
    const badge = document.createElement('span');
    badge.className = 'tag is-live';
    badge.textContent = t('directory.live');
    p.append(badge, ' ');
  }
  const span = document.createElement('span');
  span.className = 'when';
  span.textContent = t(key, params);
  p.append(span);
  return p;
}

/**
 * A meeting type in the page's language: the catalogue's name for its Meeting Guide code,
 * or, for a code the catalogue lacks, the name the server sent (English), or the code.
 */
const typeName = (type) => (has(`type.${type.code}`) ? t(`type.${type.code}`) : type.name || type.code);
const typeWords = (m) => (m.types ?? []).map(typeName).join(', ');

/** The day filter: the days from Sunday in the visitor's language, the choice kept. */
function renderDays() {
  const select = $('filter-day');
  const chosen = select.value;
  const dayName = new Intl.DateTimeFormat(locale(), { weekday: 'long' });
  // 2026-03-01 was a Sunday: seven days from it name the days in order.
  const days = Array.from({ length: 7 }, (_, d) => new Option(capital(dayName.format(new Date(2026, 2, 1 + d))), String(d)));
  select.replaceChildren(new Option(t('directory.anyDay'), ''), ...days);
  select.value = chosen;
}

function renderLanguages() {
  const select = $('filter-language');
  const chosen = select.value;
  const tags = [...new Set(meetings.map((m) => primaryLanguage(m.language)).filter(Boolean))].sort();
  select.replaceChildren(new Option(t('directory.anyLanguage'), ''), ...tags.map((tag) => new Option(capital(languageName(tag, locale())), tag)));
  select.value = tags.includes(chosen) ? chosen : '';
}

/** The types the listed meetings have, in the admin's order (server/src/meeting_types.rs). */
function renderTypes() {
  const select = $('filter-type');
  const chosen = select.value;
  const types = new Map(meetings.flatMap((m) => (m.types ?? []).map((type) => [type.code, type])));
  const codes = MEETING_TYPES.map(([code]) => code).filter((c) => types.has(c));
  select.replaceChildren(new Option(t('directory.anyType'), ''), ...codes.map((c) => new Option(typeName(types.get(c)), c)));
  select.value = codes.includes(chosen) ? chosen : '';
}

function renderList() {
  const filters = {
    day: $('filter-day').value,
    part: $('filter-time').value,
    language: $('filter-language').value,
    type: $('filter-type').value,
  };
  const shown = meetings.filter((m) => keeps(m, filters));
  const list = $('directory-list');
  list.replaceChildren();
  for (const m of shown) {
    const times = filters.day || filters.part ? matchingTimes(m, filters) : m.next;
    const li = document.createElement('li');
    li.className = 'card directory-item';
    li.dataset.slug = m.slug;
    const h2 = document.createElement('h2');
    const link = document.createElement('a');
    link.href = `/meetings/${m.slug}`;
    link.textContent = m.title;
    h2.append(link);
    li.append(h2, statusLine(m, times));
    if (m.description) {
      const d = document.createElement('p');
      d.className = 'description clamp';
      d.textContent = m.description;
      li.append(d);
    }
    const about = capital([m.language ? languageName(m.language, locale()) : '', typeWords(m)].filter(Boolean).join(' · '));
    if (about) {
      const l = document.createElement('p');
      l.className = 'hint';
      l.textContent = about;
      li.append(l);
    }
    if (m.join_url) {
      const join = document.createElement('a');
      join.className = 'button primary';
      join.href = m.join_url;
      join.append(t('directory.join'));
      const whom = document.createElement('span');
      whom.className = 'visually-hidden';
      whom.textContent = ` ${m.title}`;
      join.append(whom);
      li.append(join);
    } else {
      // End-to-end encrypted: the link that works carries a key the server never had.
      const ask = document.createElement('p');
      ask.className = 'hint ask-for-link';
      ask.textContent = t('directory.askForLink');
      li.append(ask);
    }
    list.append(li);
  }
  const n = shown.length;
  $('result-count').textContent = meetings.length === 0
    ? t('directory.none')
    : n < meetings.length
      ? t('directory.countOf', { count: n, total: meetings.length })
      : t('directory.count', { count: n });
}

function renderOne(m) {
  // The tab's title is marked (i18n.js renders it again on a change of language).
  setText(document.querySelector('title'), 'page.titleWithRoom', { title: m.title });
  $('one-heading').textContent = m.title;
  $('one-status').replaceWith(Object.assign(statusLine(m, m.next), { id: 'one-status' }));
  $('one-description').textContent = m.description;
  $('one-description').hidden = !m.description;
  $('one-language').textContent = m.language ? t('directory.languageIs', { language: languageName(m.language, locale()) }) : '';
  $('one-types').textContent = t('directory.typeIs', { types: typeWords(m) });
  $('one-types').hidden = !m.types?.length;
  $('one-join').hidden = !m.join_url;
  if (m.join_url) $('one-join').href = m.join_url;
  $('one-ask').hidden = !!m.join_url;
  $('one-calendar').href = `/meetings/${m.slug}.ics`;
  $('one-calendar').parentElement.hidden = !m.time_zone;
  const opens = m.opens_minutes_before;
  $('one-zone').textContent = `${zoneNote()} ${
    m.time_zone == null || opens == null ? t('directory.comeInAnyTime') : t('directory.comeInFrom', { count: opens })
  }`;
  const list = $('one-times');
  list.replaceChildren();
  for (const o of m.next) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = new Date(o.start * 1000).toISOString();
    time.textContent = t('directory.timeRange', { start: formatDayTime(o.start, locale()), end: formatTime(o.end, locale()) });
    li.append(time);
    list.append(li);
  }
  $('times-heading').hidden = m.next.length === 0;
}

async function refresh() {
  try {
    if (slug) {
      one = await getJson(`/api/directory/${slug}`);
    } else {
      meetings = await getJson('/api/directory');
    }
    render();
    $('error').hidden = true;
  } catch (error) {
    showError(error.code === 'unknown_meeting' ? 'directory.unknownMeeting' : 'directory.loadFailed');
  }
}

/** Everything drawn from the data, in the language in use (again after a change of language). */
function render() {
  $('zone-note').textContent = zoneNote();
  if (slug) {
    if (one) renderOne(one);
  } else {
    renderLanguages();
    renderTypes();
    renderList();
  }
}

async function start() {
  installLanguageSwitcher($('language-select'));
  for (const filter of ['filter-day', 'filter-time', 'filter-language', 'filter-type']) $(filter).addEventListener('change', renderList);
  onLanguageChange(() => {
    renderDays();
    render();
  });
  renderDays();
  $('zone-note').textContent = zoneNote();
  await refresh();
  $('loading').hidden = true;
  $(slug ? 'view-one' : 'view-list').hidden = false;
  setInterval(refresh, REFRESH_MS);
}

start();
