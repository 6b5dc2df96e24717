// The admin page's views: each draws one part of the page from the state. Text goes in
// through textContent only; handlers come from the actions (admin.js).

import { MEETING_TYPES } from '../meeting-types.js';
import { actionButton } from '../ui.js';
import { admin, peopleWords } from './state.js';
import { DAYS, DAY_NAMES, describeSchedule, fieldsFromSchedule, scheduleFromFields } from './schedule-form.js';

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

export function showError(text, code) {
  const box = $('error');
  box.textContent = text;
  box.dataset.code = code;
  box.hidden = false;
}

export function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
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
    meta.append(tag(m.listed ? 'Listed' : 'Unlisted'));
    if (m.archived) meta.append(' ', tag('Archived', 'tag is-archived'));
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
      actionButton('Edit', m.title, () => on.edit(m.slug)),
      actionButton('Links', m.title, () => on.links(m.slug)),
      m.archived
        ? actionButton('Unarchive', m.title, () => on.unarchive(m.slug))
        : actionButton('Archive', m.title, () => on.archive(m.slug), { danger: true }),
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
    ? `${live} ${live === 1 ? 'meeting is' : 'meetings are'} live now, ${people} ${people === 1 ? 'person' : 'people'} in all.`
    : 'No meeting is live now.';
}

/** Fills the meeting form from `m` (null: a new meeting). */
export function fillForm(m) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  $('edit-heading').textContent = m ? `Edit ${m.title}` : 'New meeting';
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
  $('f-kept-rules').textContent = `This meeting has ${f.extraRules} more schedule ${f.extraRules === 1 ? 'rule' : 'rules'}, set through the API. They stay as they are unless you change the schedule here, which replaces them with the one rule below.`;
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
  const field = (label, input) => {
    input.id = `f-reading-${label.toLowerCase()}-${n}`;
    const l = document.createElement('label');
    l.htmlFor = input.id;
    l.textContent = label;
    return [l, input];
  };
  const title = Object.assign(document.createElement('input'), { type: 'text', maxLength: 120, value: reading?.title ?? '' });
  title.dataset.reading = 'title';
  const text = Object.assign(document.createElement('textarea'), { rows: 6, maxLength: 20000, value: reading?.text ?? '' });
  text.dataset.reading = 'text';
  const remove = actionButton('Remove', `reading ${n}`, () => li.remove());
  li.append(...field('Title', title), ...field('Text', text), remove);
  return li;
}

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
function checkRow(id, value, text) {
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
  DAYS.forEach((d, i) => {
    $('f-days').append(checkRow(`f-day-${d}`, d, DAY_NAMES[i]));
    $('f-weekday').append(new Option(DAY_NAMES[i], d));
  });
  // Codes such as `12x12` or `AL-AN` make valid ids as they are.
  for (const [code, name] of MEETING_TYPES) $('f-types').append(checkRow(`f-type-${code}`, code, name));
  const zones = Intl.supportedValuesOf?.('timeZone') ?? [];
  $('zones').append(...zones.map((z) => new Option(z)));
}

const when = (seconds) =>
  new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(seconds * 1000));

/** The links view: the member link and the facilitator links (labels and dates only). */
export function renderLinks(on) {
  const m = admin.linksOf;
  $('links-heading').textContent = `Links for ${m.title}`;
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
      ? `Issued ${when(k.created_at)}. Works now.`
      : `Issued ${when(k.created_at)}. Revoked ${when(k.revoked_at)}: no longer gives the facilitator role.`;
    li.append(label, dates);
    if (k.revoked_at == null) {
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(
        actionButton('Rotate', `the link ${k.label}`, () => on.rotate(k)),
        actionButton('Revoke', `the link ${k.label}`, () => on.revoke(k), { danger: true }),
      );
      li.append(actions);
    }
    list.append(li);
  }
}

export function showIssued() {
  const { label, url } = admin.issued;
  $('issued-label').textContent = `New facilitator link: ${label}`;
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
