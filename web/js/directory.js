// The public directory: /meetings lists the listed meetings soonest first, in the visitor's
// time zone, filtered by day, time of day, language and type; /meetings/{slug} is one meeting's
// page with its description and next times. Data from /api/directory (the server's own: no
// third-party request, nothing stored, no tracking). Refreshed each minute for "live now".

import { MEETING_TYPES } from './meeting-types.js';
import { formatDayTime, formatTime, keeps, languageName, matchingTimes, primaryLanguage, status } from './directory/when.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 60_000;
const nowSeconds = () => Date.now() / 1000;
/** The slug of /meetings/{slug}, or null on /meetings. */
const slug = /^\/meetings\/([a-z0-9-]+)\/?$/.exec(window.location.pathname)?.[1] ?? null;

let meetings = [];

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = false;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw Object.assign(new Error(body.message || String(response.status)), { code: body.code ?? 'unexpected' });
  }
  return response.json();
}

function zoneNote() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone ? `Times are in your time zone, ${zone.replace(/_/g, ' ')}.` : 'Times are in your time zone.';
}

function statusLine(m, times) {
  const p = document.createElement('p');
  p.className = 'item-meta';
  const { live, words } = status(m, nowSeconds(), times);
  if (live) {
    const badge = document.createElement('span');
    badge.className = 'tag is-live';
    badge.textContent = 'Live now';
    p.append(badge, ' ');
  }
  const span = document.createElement('span');
  span.className = 'when';
  span.textContent = words;
  p.append(span);
  return p;
}

/** The filter choices: days from Sunday in the visitor's words, the meetings' languages. */
function buildFilters() {
  const dayName = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
  // 2026-03-01 was a Sunday: seven days from it name the days in order.
  for (let d = 0; d < 7; d++) $('filter-day').append(new Option(dayName.format(new Date(2026, 2, 1 + d)), String(d)));
  for (const filter of ['filter-day', 'filter-time', 'filter-language', 'filter-type']) $(filter).addEventListener('change', renderList);
}

function renderLanguages() {
  const select = $('filter-language');
  const chosen = select.value;
  const tags = [...new Set(meetings.map((m) => primaryLanguage(m.language)).filter(Boolean))].sort();
  select.replaceChildren(new Option('Any language', ''), ...tags.map((t) => new Option(languageName(t), t)));
  select.value = tags.includes(chosen) ? chosen : '';
}

/** The types the listed meetings have, in the admin's order (server/src/meeting_types.rs). */
function renderTypes() {
  const select = $('filter-type');
  const chosen = select.value;
  const names = new Map(meetings.flatMap((m) => (m.types ?? []).map((t) => [t.code, t.name])));
  const codes = MEETING_TYPES.map(([code]) => code).filter((c) => names.has(c));
  select.replaceChildren(new Option('Any type', ''), ...codes.map((c) => new Option(names.get(c), c)));
  select.value = codes.includes(chosen) ? chosen : '';
}

const typeWords = (m) => (m.types ?? []).map((t) => t.name).join(', ');

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
    const about = [m.language ? languageName(m.language) : '', typeWords(m)].filter(Boolean).join(' · ');
    if (about) {
      const l = document.createElement('p');
      l.className = 'hint';
      l.textContent = about;
      li.append(l);
    }
    const join = document.createElement('a');
    join.className = 'button primary';
    join.href = m.join_url;
    join.append('Join');
    const whom = document.createElement('span');
    whom.className = 'visually-hidden';
    whom.textContent = ` ${m.title}`;
    join.append(whom);
    li.append(join);
    list.append(li);
  }
  const n = shown.length;
  $('result-count').textContent = meetings.length === 0
    ? 'No meetings are listed here yet.'
    : `${n} ${n === 1 ? 'meeting' : 'meetings'}${n < meetings.length ? ` of ${meetings.length}` : ''}.`;
}

function renderOne(m) {
  document.title = `${m.title} · Haven`;
  $('one-heading').textContent = m.title;
  $('one-status').replaceWith(Object.assign(statusLine(m, m.next), { id: 'one-status' }));
  $('one-description').textContent = m.description;
  $('one-description').hidden = !m.description;
  $('one-language').textContent = m.language ? `Language: ${languageName(m.language)}` : '';
  $('one-types').textContent = `Type: ${typeWords(m)}`;
  $('one-types').hidden = !m.types?.length;
  $('one-join').href = m.join_url;
  $('one-calendar').href = `/meetings/${m.slug}.ics`;
  $('one-calendar').parentElement.hidden = !m.time_zone;
  const opens = m.opens_minutes_before;
  $('one-zone').textContent = `${zoneNote()} ${
    m.time_zone == null || opens == null
      ? 'You may come in any time.'
      : `You may come in from ${opens} ${opens === 1 ? 'minute' : 'minutes'} before the start.`
  }`;
  const list = $('one-times');
  list.replaceChildren();
  for (const o of m.next) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = new Date(o.start * 1000).toISOString();
    time.textContent = `${formatDayTime(o.start)} to ${formatTime(o.end)}`;
    li.append(time);
    list.append(li);
  }
  $('times-heading').hidden = m.next.length === 0;
}

async function refresh() {
  try {
    if (slug) {
      renderOne(await getJson(`/api/directory/${slug}`));
    } else {
      meetings = await getJson('/api/directory');
      renderLanguages();
      renderTypes();
      renderList();
    }
    $('error').hidden = true;
  } catch (error) {
    showError(
      error.code === 'unknown_meeting'
        ? 'There is no listed meeting at this address. It may have been taken off the list.'
        : "Haven couldn't load the meetings. Check your connection; the page tries again each minute.",
    );
  }
}

async function start() {
  $('zone-note').textContent = zoneNote();
  buildFilters();
  await refresh();
  $('loading').hidden = true;
  $(slug ? 'view-one' : 'view-list').hidden = false;
  setInterval(refresh, REFRESH_MS);
}

start();
