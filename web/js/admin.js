// The admin page (/admin): sign in, list the organisation's meetings with how many people
// are in each now (counts only), make, edit and archive meetings, and issue, rotate and
// revoke facilitator links (each shown once). The actions: each calls the admin API,
// updates the state and redraws the views. docs/admin.md has the API. In the person's
// language (i18n.js), with the switcher at the foot of the page; a change of language draws
// what came from the API again.

import { announce } from './announce.js';
import { confirmStep } from './confirm.js';
import { copyField } from './copy.js';
import { installLanguageSwitcher, onLanguageChange, t } from './i18n.js';
import { api, kindWords } from './admin/api.js';
import { admin, meetingBySlug } from './admin/state.js';
import { linkWithKey, MeetingKey } from './e2ee/meeting-key.js';
import {
  addReadingRow,
  buildFormChoices,
  clearError,
  fillForm,
  hideIssued,
  nameFormChoices,
  readForm,
  renderCounts,
  renderE2eeLinks,
  renderLinks,
  renderMeetings,
  showError,
  showIssued,
  showScheduleFields,
  showView,
} from './admin/views.js';

const $ = (id) => document.getElementById(id);
const LIVE_EVERY_MS = 15_000;
/** Whether the person changed the schedule fields since the form was filled. */
let scheduleTouched = false;

/**
 * Runs one action: clears the last error, keeps `button` from a second press meanwhile, and
 * turns a refusal into kind words (a lost sign-in goes back to the sign-in form).
 */
async function act(button, work) {
  clearError();
  if (button) button.disabled = true;
  try {
    await work();
  } catch (error) {
    fail(error);
  } finally {
    if (button) button.disabled = false;
  }
}

function fail(error) {
  if (!error.code) throw error;
  if (error.code === 'admin_disabled') return showView('disabled');
  if (error.code === 'unauthenticated' && admin.view !== 'signin') showView('signin');
  if (error.code === 'unknown_meeting') loadMeetings().catch(() => {});
  showError(kindWords(error), error.code);
}

const onMeeting = {
  edit: (slug) => {
    admin.editing = meetingBySlug(slug);
    fillForm(admin.editing);
    scheduleTouched = false;
    showView('edit');
  },
  links: (slug) => act(null, () => openLinks(slug)),
  archive: async (slug) => {
    const m = meetingBySlug(slug);
    const sure = await confirmStep({
      title: t('admin.archive.title', { title: m.title }),
      text: t('admin.archive.text'),
      action: t('admin.archive.action'),
      danger: false,
    });
    if (sure) await act(null, () => setArchived(slug, true));
  },
  unarchive: (slug) => act(null, () => setArchived(slug, false)),
};

async function loadMeetings() {
  admin.meetings = await api('GET', '/meetings');
  renderMeetings(onMeeting);
}

async function showList() {
  await loadMeetings();
  showView('list');
}

async function setArchived(slug, archived) {
  const m = await api('POST', `/meetings/${encodeURIComponent(slug)}/${archived ? 'archive' : 'unarchive'}`);
  await loadMeetings();
  announce(t(archived ? 'admin.said.archived' : 'admin.said.unarchived', { title: m.title }));
  $('meeting-list').querySelector(`li[data-slug="${CSS.escape(slug)}"] button[data-action="${archived ? 'Unarchive' : 'Archive'}"]`)?.focus();
}

/** Counts only: how many people are in each stored meeting now. */
async function refreshCounts() {
  if (admin.view !== 'list' || document.hidden) return;
  try {
    const live = await api('GET', '/live');
    for (const m of admin.meetings) m.people = live.find((l) => l.slug === m.slug)?.people ?? 0;
    renderCounts();
  } catch (error) {
    if (error.code === 'unauthenticated') fail(error);
  }
}

async function signIn(event) {
  event.preventDefault();
  await act($('signin-button'), async () => {
    await api('POST', '/login', { name: $('signin-name').value.trim(), password: $('signin-password').value });
    $('signin-password').value = '';
    await showList();
    announce(t('admin.said.signedIn'));
  });
}

async function signOut() {
  await act($('sign-out'), async () => {
    await api('POST', '/logout');
    admin.meetings = [];
    renderMeetings(onMeeting);
    showView('signin');
    announce(t('admin.said.signedOut'));
  });
}

async function saveMeeting(event) {
  event.preventDefault();
  await act($('save-meeting'), async () => {
    const form = readForm();
    const { slug, ...fields } = form;
    let saved;
    if (admin.editing) {
      // A schedule with rules the form does not show is kept unless it was changed here.
      if (!scheduleTouched && admin.editing.schedule?.rules.length > 1) delete fields.schedule;
      saved = await api('PATCH', `/meetings/${encodeURIComponent(admin.editing.slug)}`, fields);
    } else {
      if (fields.schedule === null) delete fields.schedule;
      saved = await api('POST', '/meetings', slug ? { slug, ...fields } : fields);
    }
    await showList();
    announce(t('admin.said.saved', { title: saved.title }));
  });
}

async function openLinks(slug) {
  const m = meetingBySlug(slug);
  admin.keys = await api('GET', `/meetings/${encodeURIComponent(slug)}/keys`);
  admin.linksOf = m;
  renderLinks(onKey);
  showView('links');
}

async function reloadKeys() {
  admin.keys = await api('GET', `/meetings/${encodeURIComponent(admin.linksOf.slug)}/keys`);
  renderLinks(onKey);
}

/** The one time a facilitator link is seen: the answer to issuing or rotating. */
function issued(key) {
  // While encrypted links are shown, a facilitator link carries their key too.
  const url = admin.e2ee ? linkWithKey(key.facilitator_url, admin.e2ee.key) : key.facilitator_url;
  admin.issued = { id: key.id, label: key.label, url };
  showIssued();
  announce(t('admin.said.issued', { label: key.label }));
}

/**
 * "Encrypted links": a new meeting key made here (the server cannot make links with a key),
 * the member link with it and the `&e2ee=…` to add to a facilitator link; shown, never stored.
 * Its key id (16 bits, not secret) is sent first, so pages with an older link are told so
 * (docs/e2ee.md "Rotation"); links the server has not heard of are not shown.
 */
async function makeE2eeLinks() {
  await act($('make-e2ee-links'), async () => {
    if (admin.e2ee) {
      const sure = await confirmStep({
        title: t('admin.e2ee.again.title'),
        text: t('admin.e2ee.again.text'),
        action: t('admin.e2ee.again.action'),
      });
      if (!sure) return;
    }
    const key = await MeetingKey.generate();
    const slug = encodeURIComponent(admin.linksOf.slug);
    await api('POST', `/meetings/${slug}/e2ee-key-id`, { key_id: key.keyId });
    admin.e2ee = { key, memberUrl: linkWithKey(admin.linksOf.join_url, key), suffix: `&${key.fragmentParam()}` };
    renderE2eeLinks();
    $('e2ee-member-url').focus();
    announce(t('admin.said.e2eeLinks'));
  });
}

const keysPath = () => `/meetings/${encodeURIComponent(admin.linksOf.slug)}/keys`;

async function issueKey(event) {
  event.preventDefault();
  await act($('issue-key'), async () => {
    const key = await api('POST', keysPath(), { label: $('key-label').value.trim() });
    $('key-label').value = '';
    await reloadKeys();
    issued(key);
  });
}

const onKey = {
  rotate: async (key) => {
    const sure = await confirmStep({
      title: t('admin.rotate.title', { label: key.label }),
      text: t('admin.rotate.text'),
      action: t('admin.rotate.action'),
    });
    if (!sure) return;
    await act(null, async () => {
      const fresh = await api('POST', `${keysPath()}/${key.id}/rotate`);
      await reloadKeys();
      issued(fresh);
    });
  },
  revoke: async (key) => {
    const sure = await confirmStep({
      title: t('admin.revoke.title', { label: key.label }),
      text: t('admin.revoke.text'),
      action: t('admin.revoke.action'),
    });
    if (!sure) return;
    await act(null, async () => {
      await api('DELETE', `${keysPath()}/${key.id}`);
      if (admin.issued?.id === key.id) hideIssued();
      await reloadKeys();
      announce(t('admin.said.revoked', { label: key.label }));
      $('key-label').focus();
    });
  },
};

/** After a change of language: what was drawn from the API's answers, drawn again in it. */
function redraw() {
  nameFormChoices();
  renderMeetings(onMeeting);
  if (admin.linksOf) renderLinks(onKey);
}

function wire() {
  buildFormChoices();
  installLanguageSwitcher($('language-select'));
  onLanguageChange(redraw);
  $('signin-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('new-meeting').addEventListener('click', () => {
    admin.editing = null;
    fillForm(null);
    scheduleTouched = false;
    showView('edit');
  });
  $('meeting-form').addEventListener('submit', saveMeeting);
  $('cancel-edit').addEventListener('click', () => act(null, showList));
  $('f-add-reading').addEventListener('click', addReadingRow);
  $('f-kind').addEventListener('change', showScheduleFields);
  for (const radio of document.querySelectorAll('input[name="opens"]')) radio.addEventListener('change', showScheduleFields);
  const markTouched = (event) => {
    if (event.target.closest('#f-kind, #schedule-fields')) scheduleTouched = true;
  };
  $('meeting-form').addEventListener('input', markTouched);
  $('meeting-form').addEventListener('change', markTouched);
  $('key-form').addEventListener('submit', issueKey);
  $('make-e2ee-links').addEventListener('click', makeE2eeLinks);
  $('back-to-list').addEventListener('click', () => act($('back-to-list'), showList));
  for (const button of document.querySelectorAll('[data-copy]')) {
    button.addEventListener('click', () => copyField(button.dataset.copy, button));
  }
  setInterval(refreshCounts, LIVE_EVERY_MS);
}

async function start() {
  wire();
  try {
    await showList();
  } catch (error) {
    if (error.code === 'unauthenticated') showView('signin');
    else fail(error);
  }
}

start();
