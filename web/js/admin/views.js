// The admin page's views: each draws one part of the page from the state, in the page's
// language (i18n.js): fixed words marked with setText, so a change of language says them
// again; what is drawn from the API's data is drawn again (admin.js). Text goes in through
// textContent only; handlers come from the actions (admin.js).

import { locale, setText, t } from '../i18n.js';
import { MEETING_TYPES } from '../meeting-types.js';
import { actionButton } from '../ui.js';
import { admin, peopleWords } from './state.js';
import { DAYS, dayName, describeSchedule, fieldsFromSchedule, scheduleFromFields } from './schedule-form.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['disabled', 'signin', 'list', 'edit', 'links'];

/** Shows one view, says so to a screen reader by moving focus to its heading. */
export function showView(view) {
  admin.view = view;
  $('loading').hidden = true;
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  $('sign-out').hidden = ['disabled', 'signin', 'loading'].includes(view);
  if (view !== 'links') {
    hideIssued();
    // The key is shown on its links' view only: leaving it forgets the key.
    admin.e2ee = null;
    renderE2eeLinks();
  }
  $(`view-${view}`).querySelector('h1')?.focus();
}

/** Shows `[key, params]` (api.js kindWords) as the page's error, with the API's code. */
export function showError([key, params], code) {
  const box = $('error');
  setText(box, key, params);
  box.dataset.code = code;
  box.hidden = false;
}

export function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
  delete $('error').dataset.i18n;
}

function tag(text, className = 'tag') {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

/** The meetings list; `on` holds the actions for a meeting's buttons. */
export function renderMeetings(on) {
  const list = $('meeting-list');
  list.replaceChildren();
  $('no-meetings').hidden = admin.meetings.length > 0;
  for (const m of admin.meetings) {
    const li = document.createElement('li');
    li.className = 'admin-item';
    li.dataset.slug = m.slug;
    const title = document.createElement('h2');
    title.className = 'item-title';
    title.textContent = m.title;
    const meta = document.createElement('p');
    meta.className = 'item-meta';
    meta.append(tag(t(m.listed ? 'admin.list.listed' : 'admin.list.unlisted')));
    if (m.archived) meta.append(' ', tag(t('admin.list.archived'), 'tag is-archived'));
    meta.append(' ', tag(peopleWords(m.people), m.people > 0 ? 'people is-live' : 'people'));
    const when = document.createElement('p');
    when.className = 'hint';
    when.textContent = describeSchedule(m.schedule);
    const address = document.createElement('p');
    address.className = 'hint item-address';
    address.textContent = `/m/${m.slug}`;
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      actionButton(t('admin.list.edit'), m.title, () => on.edit(m.slug), { action: 'Edit' }),
      actionButton(t('admin.list.links'), m.title, () => on.links(m.slug), { action: 'Links' }),
      m.archived
        ? actionButton(t('admin.list.unarchive'), m.title, () => on.unarchive(m.slug), { action: 'Unarchive' })
        : actionButton(t('admin.list.archive'), m.title, () => on.archive(m.slug), { danger: true, action: 'Archive' }),
    );
    li.append(title, meta, when, address, actions);
    list.append(li);
  }
  renderCounts();
}

/** The live counts, redrawn in place (the list keeps focus). */
export function renderCounts() {
  let live = 0;
  let people = 0;
  for (const m of admin.meetings) {
    const badge = $('meeting-list').querySelector(`li[data-slug="${CSS.escape(m.slug)}"] .people`);
    if (badge) {
      badge.textContent = peopleWords(m.people);
      badge.classList.toggle('is-live', m.people > 0);
    }
    if (m.people > 0) live += 1;
    people += m.people;
  }
  $('live-summary').textContent = live
    ? t('admin.list.liveSummary', { meetings: t('admin.list.liveMeetings', { count: live }), people: t('admin.list.livePeople', { count: people }) })
    : t('admin.list.noneLive');
}

/** Fills the meeting form from `m` (null: a new meeting). */
export function fillForm(m) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  if (m) setText($('edit-heading'), 'admin.form.editHeading', { title: m.title });
  else setText($('edit-heading'), 'admin.form.newHeading');
  $('slug-field').hidden = !!m;
  $('f-slug').value = '';
  $('f-title').value = m?.title ?? '';
  $('f-description').value = m?.description ?? '';
  $('f-language').value = m?.language ?? (navigator.language || '').split('-')[0];
  $('f-location').value = m?.location ?? '';
  $('f-listed').checked = m?.listed ?? false;
  for (const box of $('f-types').querySelectorAll('input')) box.checked = (m?.types ?? []).includes(box.value);
  const waiting = m?.settings?.waiting_room;
  $('f-waiting').value = waiting == null ? '' : waiting ? 'on' : 'off';
  // A setting once chosen cannot go back to following the server's default.
  $('f-waiting').options[0].hidden = waiting != null;
  $('f-e2ee').checked = m?.settings?.e2ee === true;
  $('f-e2ee').dataset.set = String(m?.settings?.e2ee != null);
  const share = m?.settings?.share_seconds;
  $('f-share').value = share == null ? '' : String(share / 60);
  $('f-guidelines').value = m?.guidelines ?? '';
  $('f-readings').replaceChildren(...(m?.readings ?? []).map(readingRow));
  const f = fieldsFromSchedule(m?.schedule ?? null, zone);
  $('f-kind').value = f.kind;
  for (const box of $('f-days').querySelectorAll('input')) box.checked = f.days.includes(box.value);
  $('f-nth').value = String(f.nth);
  $('f-weekday').value = f.weekday;
  $('f-dom').value = String(f.dayOfMonth);
  $('f-date').value = f.date;
  $('f-time').value = f.time;
  $('f-zone').value = f.timeZone;
  $('f-duration').value = String(f.duration);
  $(f.opens === 'always' ? 'f-open-always' : 'f-open-before').checked = true;
  $('f-opens-minutes').value = String(f.opensBefore);
  $('f-kept-rules').hidden = f.extraRules === 0;
  setText($('f-kept-rules'), 'admin.form.keptRules', { count: f.extraRules });
  showScheduleFields();
}

/** Shows the schedule fields the chosen kind uses. */
export function showScheduleFields() {
  const kind = $('f-kind').value;
  $('schedule-fields').hidden = kind === 'none';
  $('f-days-group').hidden = kind !== 'weekly';
  $('f-nth-group').hidden = kind !== 'monthly_weekday';
  $('f-dom-group').hidden = kind !== 'monthly_day';
  $('f-date-group').hidden = kind !== 'once';
  $('f-opens-minutes').disabled = !$('f-open-before').checked;
}

/** The form as an API body (every field; the action picks what to send). */
export function readForm() {
  const fields = {
    kind: $('f-kind').value,
    days: [...$('f-days').querySelectorAll('input:checked')].map((b) => b.value),
    nth: $('f-nth').value,
    weekday: $('f-weekday').value,
    dayOfMonth: $('f-dom').value,
    date: $('f-date').value,
    time: $('f-time').value,
    timeZone: $('f-zone').value,
    duration: $('f-duration').value,
    opens: $('f-open-always').checked ? 'always' : 'before',
    opensBefore: $('f-opens-minutes').value,
  };
  const settings = {};
  if ($('f-waiting').value) settings.waiting_room = $('f-waiting').value === 'on';
  // Sent once chosen: a meeting that never chose keeps no `e2ee` at all.
  if ($('f-e2ee').checked || $('f-e2ee').dataset.set === 'true') settings.e2ee = $('f-e2ee').checked;
  const share = $('f-share').value.trim();
  if (share !== '') settings.share_seconds = Math.round(Number(share) * 60);
  return {
    slug: $('f-slug').value.trim(),
    title: $('f-title').value.trim(),
    description: $('f-description').value.trim(),
    language: $('f-language').value.trim(),
    types: [...$('f-types').querySelectorAll('input:checked')].map((b) => b.value),
    location: $('f-location').value.trim(),
    guidelines: $('f-guidelines').value.trim(),
    readings: readReadings(),
    listed: $('f-listed').checked,
    settings,
    schedule: scheduleFromFields(fields),
  };
}

let readingRows = 0;

/** One reading of the form: its title, its text (a textarea) and a way to take it out. */
function readingRow(reading) {
  const n = ++readingRows;
  const li = document.createElement('li');
  li.className = 'reading-row';
  const field = (which, key, input) => {
    input.id = `f-reading-${which}-${n}`;
    const l = document.createElement('label');
    l.htmlFor = input.id;
    setText(l, key);
    return [l, input];
  };
  const title = Object.assign(document.createElement('input'), { type: 'text', maxLength: 120, value: reading?.title ?? '' });
  title.dataset.reading = 'title';
  const text = Object.assign(document.createElement('textarea'), { rows: 6, maxLength: 20000, value: reading?.text ?? '' });
  text.dataset.reading = 'text';
  li.dataset.n = String(n);
  li.append(...field('title', 'admin.form.readingTitle', title), ...field('text', 'admin.form.readingText', text), removeButton(li, n));
  return li;
}

/** A reading's "Remove" ("Remove reading 2" to a screen reader). */
const removeButton = (li, n) => actionButton(t('admin.form.remove'), t('admin.form.readingN', { n }), () => li.remove(), { action: 'Remove' });

/** "Add a reading": an empty row at the end, its title field focused. */
export function addReadingRow() {
  const row = readingRow(null);
  $('f-readings').append(row);
  row.querySelector('input').focus();
}

/** The form's readings in order; rows left wholly empty are not readings. */
function readReadings() {
  const rows = [...$('f-readings').querySelectorAll('li')];
  const value = (row, which) => row.querySelector(`[data-reading="${which}"]`).value;
  return rows
    .map((row) => ({ title: value(row, 'title').trim(), text: value(row, 'text').replace(/\s+$/, '') }))
    .filter((r) => r.title || r.text.trim());
}

/** A ticked-or-not choice of the form: a box with `id` and `value`, named by `text`. */
function checkRow(id, value, text = '') {
  const row = document.createElement('div');
  row.className = 'check-row';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.id = id;
  box.value = value;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = text;
  row.append(box, label);
  return row;
}

/** The form's fixed choices: days, weekdays, types, time zones. Once, at start. */
export function buildFormChoices() {
  for (const d of DAYS) {
    $('f-days').append(checkRow(`f-day-${d}`, d));
    $('f-weekday').append(new Option('', d));
  }
  // Codes such as `12x12` or `AL-AN` make valid ids as they are.
  for (const [code] of MEETING_TYPES) {
    const row = checkRow(`f-type-${code}`, code);
    setText(row.querySelector('label'), `type.${code}`);
    $('f-types').append(row);
  }
  nameFormChoices();
}

/**
 * Names the choices drawn here, in the page's language (at start and after a change of
 * language): the weekdays, the readings' Remove buttons, and each time zone of the list by
 * its name there ("Central European Time", "hora de Europa central"), its value the IANA
 * name the API takes.
 */
export function nameFormChoices() {
  DAYS.forEach((d) => {
    $(`f-day-${d}`).labels[0].textContent = capital(dayName(d));
    $('f-weekday').querySelector(`option[value="${d}"]`).textContent = capital(dayName(d));
  });
  for (const li of $('f-readings').querySelectorAll('li')) {
    li.querySelector('button[data-action="Remove"]').replaceWith(removeButton(li, Number(li.dataset.n)));
  }
  const zones = Intl.supportedValuesOf?.('timeZone') ?? [];
  $('zones').replaceChildren(...zones.map((z) => new Option(zoneName(z), z)));
}

/** "lunes" → "Lunes": a day that starts a label. */
const capital = (text) => text.charAt(0).toLocaleUpperCase(locale()) + text.slice(1);

/** A time zone's name in the page's language, or '' where Intl has none of its own. */
function zoneName(zone) {
  try {
    const parts = new Intl.DateTimeFormat(locale(), { timeZone: zone, timeZoneName: 'longGeneric' }).formatToParts(Date.now());
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    // An offset ("GMT+03:00") names no place: the IANA name says more.
    return /^(GMT|UTC)[+−-]/.test(name) ? '' : name;
  } catch {
    return '';
  }
}

const when = (seconds) =>
  new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(seconds * 1000));

/** The links view: the member link and the facilitator links (labels and dates only). */
export function renderLinks(on) {
  const m = admin.linksOf;
  setText($('links-heading'), 'admin.links.headingFor', { title: m.title });
  $('member-url').value = m.join_url;
  $('e2ee-links').hidden = m.settings?.e2ee !== true;
  const list = $('key-list');
  list.replaceChildren();
  $('no-keys').hidden = admin.keys.length > 0;
  // Live links first, newest first; revoked ones after, for the record.
  const keys = [...admin.keys].sort((a, b) => (a.revoked_at != null) - (b.revoked_at != null) || b.id - a.id);
  for (const k of keys) {
    const li = document.createElement('li');
    li.className = 'admin-item';
    li.dataset.keyId = String(k.id);
    const label = document.createElement('p');
    label.className = 'item-title';
    label.textContent = k.label;
    const dates = document.createElement('p');
    dates.className = 'hint';
    dates.textContent = k.revoked_at == null
      ? t('admin.links.works', { issued: when(k.created_at) })
      : t('admin.links.revoked', { issued: when(k.created_at), revoked: when(k.revoked_at) });
    li.append(label, dates);
    if (k.revoked_at == null) {
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(
        actionButton(t('admin.links.rotate'), t('admin.links.theLink', { label: k.label }), () => on.rotate(k), { action: 'Rotate' }),
        actionButton(t('admin.links.revoke'), t('admin.links.theLink', { label: k.label }), () => on.revoke(k), { danger: true, action: 'Revoke' }),
      );
      li.append(actions);
    }
    list.append(li);
  }
}

export function showIssued() {
  const { label, url } = admin.issued;
  setText($('issued-label'), 'admin.links.issuedFor', { label });
  $('issued-url').value = url;
  $('issued').hidden = false;
  $('copy-issued').focus();
}

export function hideIssued() {
  admin.issued = null;
  $('issued').hidden = true;
  $('issued-url').value = '';
}

/** The encrypted links made on this page (admin.e2ee), or none. */
export function renderE2eeLinks() {
  const made = admin.e2ee;
  $('e2ee-made').hidden = !made;
  $('e2ee-member-url').value = made?.memberUrl ?? '';
  $('e2ee-suffix').value = made?.suffix ?? '';
}
