// The landing page: start an ad-hoc meeting (POST /api/rooms) and hand out its two links,
// or go to a meeting from a pasted link.

import { announce } from './announce.js';
import { confirmStep } from './confirm.js';
import { copyField } from './copy.js';
import { linkWithKey, MeetingKey } from './e2ee/meeting-key.js';
import { installLanguageSwitcher, setText, setTextOr, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/**
 * A second press of "Start a meeting" (a slip, or a meeting for another group) asks first,
 * and the links already shown stay on the page: they may have been shared.
 */
async function startPressed() {
  if (!$('created').hidden) {
    const again = await confirmStep({
      title: t('landing.again.title'),
      text: t('landing.again.text'),
      action: t('landing.again.action'),
      danger: false,
    });
    if (!again) return;
  }
  await startMeeting();
}

/** Moves the links shown now to the list of earlier meetings. */
function keepEarlierLinks() {
  if ($('created').hidden || !$('join-url').value) return;
  const li = document.createElement('li');
  const n = $('earlier-list').childElementCount + 1;
  for (const [which, value] of [
    ['join', $('join-url').value],
    ['facilitator', $('facilitator-url').value],
  ]) {
    const id = `earlier-${n}-${which}`;
    const field = document.createElement('div');
    field.className = 'field';
    const labelEl = document.createElement('label');
    labelEl.htmlFor = id;
    setText(labelEl, `landing.earlier.${which}`, { n });
    const input = document.createElement('input');
    input.type = 'text';
    input.readOnly = true;
    input.id = id;
    input.value = value;
    field.append(labelEl, input);
    li.append(field);
  }
  $('earlier-list').append(li);
  $('earlier').hidden = false;
}

async function startMeeting() {
  const button = $('start-button');
  const status = $('start-status');
  button.disabled = true;
  status.textContent = t('landing.creating');
  try {
    const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    const code = $('code-input').value.trim();
    if (code) headers.Authorization = `Bearer ${code}`;
    const title = $('title-input').value.trim();
    // An encrypted meeting's key is made here, before the meeting: the server never sees it.
    const encrypted = $('e2ee-input').checked;
    let key = null;
    if (encrypted) {
      try {
        key = await MeetingKey.generate();
      } catch {
        status.textContent = t('landing.e2eeUnsupported');
        return;
      }
    }
    // Its key id (not secret) lets the server tell a page with another key that its link is stale.
    const request = { ...(title ? { title } : {}), ...(encrypted ? { e2ee: true, key_id: key.keyId } : {}) };
    const response = await fetch('/api/rooms', { method: 'POST', headers, body: JSON.stringify(request) });
    const body = await response.json().catch(() => ({}));
    if (response.status === 201 && body.join_url && body.facilitator_url) {
      status.textContent = '';
      showLinks(body, body.e2ee ? key : null);
    } else if (body.code === 'create_secret_required' || body.code === 'wrong_create_secret') {
      // The server wants an organiser code: show the field and say what to do.
      $('code-box').hidden = false;
      $('code-input').setAttribute('aria-invalid', String(body.code === 'wrong_create_secret'));
      status.textContent = body.code === 'wrong_create_secret'
        ? t('landing.wrongCode')
        : t('landing.needCode');
      $('code-input').focus();
    } else if (body.code === 'invalid_title') {
      status.textContent = t('landing.invalidTitle');
      $('title-input').setAttribute('aria-invalid', 'true');
      $('title-input').focus();
    } else if (body.code === 'invalid_key_id') {
      status.textContent = t('error.invalid_key_id');
    } else if (body.code === 'adhoc_rooms_disabled') {
      status.textContent = t('landing.adhocDisabled');
    } else {
      status.textContent = body.message || t('landing.createFailed');
    }
  } catch {
    status.textContent = t('landing.unreachable');
  } finally {
    button.disabled = false;
  }
}

/** The two links, each with `key` (a MeetingKey, for an encrypted meeting) in its fragment. */
function showLinks(room, key) {
  const joinUrl = key ? linkWithKey(room.join_url, key) : room.join_url;
  const facilitatorUrl = key ? linkWithKey(room.facilitator_url, key) : room.facilitator_url;
  keepEarlierLinks();
  $('created-e2ee').hidden = !key;
  $('title-input').removeAttribute('aria-invalid');
  // An untitled meeting (`title: null`) is named in the person's language.
  setTextOr($('created-title'), room.title, 'page.untitled');
  $('created-title').hidden = false;
  $('links-last').textContent = linksLast(room);
  $('join-url').value = joinUrl;
  $('facilitator-url').value = facilitatorUrl;
  showSecret(false);
  $('open-facilitator').href = facilitatorUrl;
  $('created').hidden = false;
  $('created-heading').focus();
  announce(t('landing.readyAnnounce'));
}

/** How long the links work, as the server says (`kept_hours_*` of `POST /api/rooms`). */
function linksLast({ kept_hours_after_last_leaves: after, kept_hours_if_unused: unused }) {
  if (!after) return '';
  return unused
    ? t('landing.linksLastUnused', { after: t('landing.hours', { count: after }), unused: t('landing.hours', { count: unused }) })
    : t('landing.linksLast', { after: t('landing.hours', { count: after }) });
}

/** The facilitator link shown in full, or masked. */
function showSecret(on) {
  $('facilitator-url').type = on ? 'text' : 'password';
  $('show-facilitator-url').setAttribute('aria-pressed', String(on));
  setText($('show-facilitator-url'), on ? 'landing.hide' : 'landing.show');
}

/** Where a pasted link (or a bare meeting id) leads, or null. */
export function meetingUrlFrom(text, origin = window.location.origin) {
  const value = text.trim();
  if (!value) return null;
  if (/^[A-Za-z0-9_-]+$/.test(value)) return `${origin}/m/${value}`;
  let url;
  try {
    url = new URL(value, origin);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!/^\/m\/[^/]+\/?$/.test(url.pathname)) return null;
  return url.href;
}

function goToLink(event) {
  event.preventDefault();
  const target = meetingUrlFrom($('link-input').value);
  const error = $('link-error');
  if (!target) {
    error.textContent = t('landing.badLink');
    error.hidden = false;
    $('link-input').setAttribute('aria-invalid', 'true');
    $('link-input').focus();
    return;
  }
  error.hidden = true;
  $('link-input').removeAttribute('aria-invalid');
  window.location.assign(target);
}

installLanguageSwitcher($('language-select'));
$('start-button').addEventListener('click', startPressed);
$('show-facilitator-url').addEventListener('click', () => showSecret($('facilitator-url').type === 'password'));
$('link-form').addEventListener('submit', goToLink);
for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', () => copyField(button.dataset.copy, button));
}
