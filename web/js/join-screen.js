// The join screen's extras: the room's title and guidelines (GET /api/rooms/{id}) with the
// "I agree" control (the choice of microphone and camera is devices.js's).

import { setTextOr, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** The room object for the join screen, or null when it cannot be fetched. */
export async function fetchRoomInfo(roomId) {
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(roomId)}`, {
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
    if (!res.ok) return { missing: res.status === 404 };
    return await res.json();
  } catch {
    return null;
  }
}

/** Shows the title and the guidelines (with the required "I agree"). */
export function renderRoomInfo(info) {
  // An untitled meeting (`title: null`) is named in the person's language.
  setTextOr($('join-room-title'), info?.title, 'page.untitled');
  $('join-room-title').hidden = !info;
  const guidelines = (info?.guidelines || '').trim();
  $('guidelines-text').textContent = guidelines;
  $('guidelines-box').hidden = !guidelines;
  $('agree-input').required = !!guidelines;
}

export function needsAgreement() {
  return !$('guidelines-box').hidden;
}

/** Checks the "I agree" box; shows why when it is not ticked. */
export function checkAgreement() {
  if (!needsAgreement() || $('agree-input').checked) {
    $('agree-error').hidden = true;
    $('agree-input').removeAttribute('aria-invalid');
    return true;
  }
  $('agree-error').textContent = t('join.agreeError');
  $('agree-error').hidden = false;
  $('agree-input').setAttribute('aria-invalid', 'true');
  $('agree-input').focus();
  return false;
}
