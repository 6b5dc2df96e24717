// What the meeting page shows: the screens, and the panels (grid, sharing queue, chat,
// facilitator tools, reception), each rendered from the state in state.js. Views read the
// state and never change it; the panels send the person's commands through `send`.

import { announce } from '../announce.js';
import { installBarFit } from '../bar-fit.js';
import { ChatPanel } from '../chat.js';
import { StaffPanel } from '../facilitator.js';
import { Grid, SCREEN_TILE } from '../grid.js';
import { setText, setTextOr, t } from '../i18n.js';
import { checkAgreement, needsAgreement } from '../join-screen.js';
import { letInWhenOpen, opensSentence, sentenceFor, suspendedWords } from '../messages.js';
import { KINDS } from '../peer.js';
import { QueuePanel } from '../queue.js';
import { ReadingsPanel } from '../readings.js';
import { Reception } from '../reception.js';
import { installTileFit } from '../tile-fit.js';
import { chatMaxLength, chatTooLong, e2ee, safetyCodeWords, sealChat } from './e2ee.js';
import {
  app,
  canCaptureScreen,
  canShareScreenSound,
  gridPage,
  heldMuted,
  isStaff,
  mainTile,
  mayShareScreen,
  MIC_REFUSAL_CODE,
  micRefusal,
  micStatus,
  others,
  send,
  viewingScreen,
} from './state.js';

export const $ = (id) => document.getElementById(id);
const SCREENS = ['join', 'connecting', 'waiting', 'meeting', 'left', 'problem'];

export const grid = new Grid($('grid'), () => {
  $('sound-button').hidden = false;
  announce(t('meeting.soundBlocked'), { visible: true });
});

/**
 * Sizes the tiles to the space (tile-fit.js); called again when the meeting shows. It also
 * measures how many tiles a page of the grid holds, and the pages follow.
 */
export const fitTiles = installTileFit($('grid'), document.querySelector('#screen-meeting .controls'), {
  pager: $('grid-pages'),
  onPageSize: (n) => {
    app.view.pageSize = n;
    if (app.state === 'joined') renderLayout();
  },
});
/** Keeps the control bar on one row on wider screens, in any language (bar-fit.js). */
export const fitBar = installBarFit($('meeting-controls'));

const ctx = { send, you: () => app.you, isStaff };
export const queue = new QueuePanel(ctx);
export const chat = new ChatPanel({
  ...ctx,
  seal: sealChat,
  tooLong: chatTooLong,
  onUnread: (n) => {
    $('chat-unread').hidden = n === 0;
    $('chat-unread').textContent = n ? t('chat.unread', { count: n }) : '';
  },
});
export const staff = new StaffPanel({
  ...ctx,
  roomId: app.room ?? '',
  standing: () => app.standing,
  screenSharer: () => app.screen.sharer,
});
/** Text only and no video: it works the same in "Sound only". */
export const readings = new ReadingsPanel({
  ...ctx,
  readings: () => app.readings,
  names: () => [app.you, ...others()].filter(Boolean).map((p) => p.name),
  onOpen: (open) => $('readings-button').setAttribute('aria-pressed', String(open)),
});
/** "Sound only", tile reports and the server's `reception` (web/js/reception.js). */
export const reception = new Reception({
  send,
  grid,
  isOther: (id) => app.participants.has(id),
  announce: (text) => announce(text),
  button: $('sound-only'),
  indicator: $('link-indicator'),
});

// ---------------------------------------------------------------------------------------
// Screens

export function show(screen) {
  for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  document.body.dataset.screen = screen;
  if (screen === 'meeting') requestAnimationFrame(() => fitTiles());
  // Move focus to the new screen's heading so keyboard and screen-reader users follow along.
  const heading = $(`screen-${screen}`).querySelector('h1');
  heading?.focus({ preventScroll: true });
}

export function setState(state) {
  app.state = state;
  // A question about the meeting ("Leave the meeting?", "Remove Ann?") goes with it.
  if (state !== 'joined') $('confirm-dialog')?.close();
  setJoinBusy(false);
  show(state === 'joined' ? 'meeting' : state);
}

/** The Join button says a join is under way while the join screen is still up (connect). */
export function setJoinBusy(busy) {
  const button = $('join-button');
  if (button.hasAttribute('aria-busy') === busy) return;
  if (busy) button.setAttribute('aria-busy', 'true');
  else button.removeAttribute('aria-busy');
  setText(button, busy ? 'join.joining' : 'join.join');
}

export function showProblem({ title, text, retry }) {
  $('problem-heading').textContent = title;
  $('problem-text').textContent = text;
  $('retry-button').hidden = !retry;
  setState('problem');
  announce(title);
}

export function showNameError(text) {
  const error = $('name-error');
  error.textContent = text;
  error.hidden = false;
  $('name-input').setAttribute('aria-invalid', 'true');
  $('name-input').focus();
}

/** The join screen's "This meeting opens at …" (app.closed), or nothing. */
export function renderClosed() {
  const closed = app.closed;
  $('join-closed').hidden = !closed;
  if (!closed) return;
  const when = opensSentence(closed.opensAt);
  $('join-closed-text').textContent = closed.opensAt ? `${when} ${letInWhenOpen()}` : when;
  const link = $('join-closed-link');
  link.hidden = !closed.listed;
  if (closed.listed) link.href = `/meetings/${encodeURIComponent(app.room)}`;
}

export function clearNameError() {
  $('name-error').hidden = true;
  $('name-error').textContent = '';
  $('name-input').removeAttribute('aria-invalid');
}

/** The guidelines were not agreed to (or changed): back to the join screen to agree again. */
export function showAgreementError(text, reload) {
  setState('join');
  if (!needsAgreement()) {
    // The guidelines changed since the page loaded: fetch them again.
    reload().then(() => checkAgreement());
    return;
  }
  $('agree-input').checked = false;
  checkAgreement();
  if (text) $('agree-error').textContent = text;
}

/**
 * An encrypted meeting: the join screen's note and safety code, the meeting's badge, or the
 * refusal (a broken key, a browser that cannot encrypt) with the join form taken away.
 */
export function renderE2ee() {
  // Nothing to show until the key is checked (a language switched meanwhile renders again later).
  if (!e2ee.on || (!e2ee.refused && !e2ee.code)) return;
  const refused = !!e2ee.refused;
  $('e2ee-refused').hidden = !refused;
  $('join-form').hidden = refused;
  $('e2ee-join').hidden = refused;
  $('e2ee-badge').hidden = refused;
  if (refused) {
    $('e2ee-refused-text').textContent = t(`e2ee.refused.${e2ee.refused in REFUSALS ? e2ee.refused : 'bad_key_length'}`);
    return;
  }
  // A sealed message must fit the server's limit: the box takes no more (chatTooLong says why).
  $('chat-input').maxLength = chatMaxLength();
  const words = safetyCodeWords();
  for (const id of ['e2ee-join-code', 'e2ee-badge-code']) $(id).textContent = e2ee.code.emoji;
  $('e2ee-join-code').setAttribute('aria-label', words);
  $('e2ee-badge').setAttribute('aria-label', t('e2ee.badgeLabel', { code: words }));
  $('e2ee-badge').title = t('e2ee.badgeLabel', { code: words });
}

/** The reasons a page with a key may not join (e2ee.refused), each with its catalogue sentence. */
const REFUSALS = { unsupported: true, no_key: true, stale_key: true, bad_key_length: true, bad_key_characters: true, bad_key_repeated: true };

export function renderConnecting() {
  setText($('connecting-heading'), app.reconnecting ? 'connecting.reconnecting' : 'connecting.heading');
  setText($('connecting-text'), app.reconnecting ? 'connecting.reconnectingText' : 'connecting.text');
}

export function renderWaitingMessage(message) {
  $('waiting-message').textContent = message || '';
  $('waiting-message').hidden = !message;
}

// ---------------------------------------------------------------------------------------
// The meeting

/** The mic and camera switches (join screen and control bar), the preview and my tile. */
export function renderMedia(localTracks) {
  for (const kind of KINDS) {
    for (const button of document.querySelectorAll(`[data-toggle="${kind}"]`)) {
      button.setAttribute('aria-pressed', String(app.want[kind]));
      setText(button.querySelector('.toggle-state'), `media.state.${kind}.${app.want[kind] ? 'on' : 'off'}`);
    }
  }
  // On a phone the bar shows only the short word: it says the state, never colour alone.
  for (const button of document.querySelectorAll('#screen-meeting [data-toggle="video"]')) {
    button.dataset.camera = app.want.video ? 'on' : 'off';
    setText(button.querySelector('.short'), app.want.video ? 'bar.cameraOn' : 'bar.cameraOff');
  }
  renderMicButtons();
  renderMicLevel();
  renderScreenSound();
  const preview = $('preview-video');
  const track = localTracks.video;
  preview.srcObject = track ? new MediaStream([track]) : null;
  preview.closest('.preview').classList.toggle('is-on', !!track);
  if (track) preview.play().catch(() => {});
  renderSelf(localTracks);
}

/**
 * The bar's Mic button in three looks, each with its own words (never colour alone): on,
 * off (press to unmute), and locked (a facilitator's mute, a paused meeting, or a room where
 * only the person sharing may unmute), which says why when pressed.
 */
const MIC_LOOK = {
  on: { short: 'bar.micOn', state: 'media.state.audio.on' },
  off: { short: 'bar.micOff', state: 'media.state.audio.off' },
  locked: { short: 'bar.micLocked', state: 'media.state.audio.locked' },
};

function renderMicButtons() {
  const refusal = micRefusal();
  const look = app.want.audio ? 'on' : refusal ? 'locked' : 'off';
  $('mic-why').textContent = refusal ? sentenceFor(MIC_REFUSAL_CODE[refusal]) : '';
  for (const button of document.querySelectorAll('#screen-meeting [data-toggle="audio"]')) {
    button.dataset.mic = look;
    setText(button.querySelector('.short'), MIC_LOOK[look].short);
    setText(button.querySelector('.toggle-state'), MIC_LOOK[look].state);
    // Not `disabled`: it stays focusable, and pressing it says why it does nothing.
    if (refusal) {
      button.setAttribute('aria-disabled', 'true');
      button.setAttribute('aria-describedby', 'mic-why');
    } else {
      button.removeAttribute('aria-disabled');
      button.removeAttribute('aria-describedby');
    }
  }
}

/** The reduced-motion choice: the meters then show only whether a voice is heard. */
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

/** The level meters: the join screen's check, and the bar's Mic button while the mic is on. */
export function renderMicLevel() {
  const { level, voiced, measuring } = app.mic;
  const shown = reducedMotion.matches ? (voiced.at(-1) ? 1 : 0) : level;
  for (const meter of document.querySelectorAll('.mic-meter')) {
    const live = measuring && (app.want.audio || !meter.closest('#screen-meeting'));
    const value = live ? Math.round(shown * 100) : 0;
    if (meter.dataset.level === String(value)) continue;
    meter.dataset.level = String(value);
    meter.style.setProperty('--level', String(value / 100));
  }
}

const MIC_CHECK_WORDS = {
  off: null,
  listening: 'mic.listening',
  heard: 'mic.heard',
  silent: 'mic.silent',
};

/** The join screen's microphone check: a meter and one plain sentence (a polite status). */
export function renderMicCheck() {
  const status = micStatus();
  if ($('mic-check').dataset.status !== status) $('mic-check').dataset.status = status;
  const key = MIC_CHECK_WORDS[status];
  const text = status === 'error' ? app.mic.error : key ? t(key) : '';
  if ($('mic-check-text').textContent !== text) $('mic-check-text').textContent = text;
}

export function renderSelf(localTracks) {
  if (!app.you || app.state !== 'joined') return;
  $('held-muted-banner').hidden = !heldMuted();
  renderMicButtons();
  grid.upsert({ ...app.you, audio: app.want.audio, video: app.want.video }, { self: true });
  const hand = $('hand-button');
  hand.setAttribute('aria-pressed', String(!!app.you.hand_raised));
  setText(hand.querySelector('.toggle-name'), app.you.hand_raised ? 'bar.lowerHand' : 'bar.raiseHand');
  const track = localTracks.video;
  grid.attach(app.you.id, track ? new MediaStream([track]) : null);
  renderLayout();
  renderWho();
  renderScreenShare();
}

/** "Who is here (N)", for everyone: me first, then the others as they came. Names only as text. */
function renderWho() {
  const people = [{ ...app.you, name: t('common.nameYou', { name: app.you.name }) }, ...others()];
  $('who-count').textContent = `(${people.length})`;
  $('who-list').replaceChildren(...people.map((p) => Object.assign(document.createElement('li'), { textContent: p.name })));
}

/** The single-key shortcuts on or off: the setting, the line that lists them, and what the buttons announce. */
export function renderShortcuts(on) {
  $('shortcuts-input').checked = on;
  $('shortcuts-line').hidden = !on;
  for (const button of document.querySelectorAll('[data-keyshortcut]')) {
    if (on) button.setAttribute('aria-keyshortcuts', button.dataset.keyshortcut);
    else button.removeAttribute('aria-keyshortcuts');
  }
}

/**
 * The tiles' layout (state.js mainTile): who is large, my own tile shown or not, the view
 * toggles. Someone else's shared screen is large (people in the strip) unless the person
 * pinned someone.
 */
export function renderLayout() {
  const pinned = !!app.view.pinned && app.participants.has(app.view.pinned);
  const main = viewingScreen() && !pinned ? SCREEN_TILE : mainTile();
  grid.setLayout({ main, pinned: app.view.pinned, hideSelf: app.view.hideSelf });
  $('layout-button').setAttribute('aria-pressed', String(app.view.layout === 'speaker'));
  $('hide-self-button').setAttribute('aria-pressed', String(app.view.hideSelf));
  renderPages(main === null);
}

/**
 * The grid's pages (state.js gridPage): in the plain grid only the page shown has tiles, with
 * "Previous page", "Page 2 of 3" and "Next page" under it. One large tile (speaker view, a pin,
 * a shared screen) shows everyone in its strip, as before: there the strip scrolls, and the
 * tiles scrolled away get no video either.
 */
function renderPages(plain) {
  const { order, page, pages, ids } = gridPage();
  const paged = plain && pages > 1 && app.state === 'joined';
  grid.setPage({ order, shown: paged ? ids : null });
  const pager = $('grid-pages');
  pager.hidden = !paged;
  if (!paged) return;
  const status = t('pages.status', { page: page + 1, pages });
  if ($('page-status').textContent !== status) $('page-status').textContent = status;
  // aria-disabled, not disabled: the button keeps the focus at the first or last page.
  $('page-previous').setAttribute('aria-disabled', String(page === 0));
  $('page-next').setAttribute('aria-disabled', String(page === pages - 1));
}

/**
 * Screen share controls: "Share screen" for whoever may share (staff, or a member staff let)
 * where the browser can capture a screen, pressed while I share; and my "You are sharing
 * your screen" bar with Stop. My own screen is never shown to me (no hall of mirrors).
 */
export function renderScreenShare() {
  const sharing = !!app.screen.track;
  const shown = app.state === 'joined' && canCaptureScreen() && (mayShareScreen() || sharing);
  for (const button of [$('screen-button'), $('screen-menu-button')]) {
    button.hidden = !shown;
    button.setAttribute('aria-pressed', String(sharing));
    setText(button.querySelector('.toggle-name'), sharing ? 'screenShare.stop' : 'screenShare.share');
  }
  // "Include sound" is for the next share: not shown during one (its bar has "Stop sound"),
  // nor where the browser captures no display sound (said in the hint instead).
  const soundChoice = canShareScreenSound();
  $('screen-sound-button').hidden = !shown || sharing || !soundChoice;
  $('screen-sound-button').setAttribute('aria-pressed', String(app.screen.withSound));
  setText($('screen-hint'), soundChoice ? 'screenShare.hint' : 'screenShare.hintNoSound');
  $('my-screen-bar').hidden = !sharing;
  setText($('my-screen-words'), app.screen.starting ? 'screenShare.starting' : 'screenShare.youAreSharing');
  renderScreenSound();
}

/**
 * My screen's sound, when I chose to share it: "Sharing sound" while my microphone is on (the
 * sound rides on it), else that it is heard only then; and "Stop sound".
 */
function renderScreenSound() {
  const sound = !!app.screen.sound && !app.screen.starting;
  $('my-screen-sound').hidden = !sound;
  $('my-screen-sound-stop').hidden = !sound;
  setText($('my-screen-sound'), app.want.audio ? 'screenShare.sound.on' : 'screenShare.sound.muted');
  $('my-screen-sound').dataset.heard = String(app.want.audio);
}

/** Shows or hides the facilitator tools for my role. */
export function renderRoles() {
  const on = isStaff();
  $('staff-button').hidden = !on;
  $('staff-panel').hidden = !on || $('staff-button').getAttribute('aria-pressed') !== 'true';
  document.body.classList.toggle('is-staff', on);
  if (on) {
    staff.renderPeople(others());
    staff.renderWaiting();
    staff.renderRoom(app.roomInfo);
  } else {
    staff.setWaiting([]); // no toast or waiting count for someone who is no longer staff
  }
  queue.render();
  chat.refreshControls();
  readings.render();
  renderChatTargets();
}

export function renderRoomState() {
  const room = app.roomInfo;
  if (!room) return;
  $('suspended-banner').hidden = !room.suspended;
  $('suspended-banner').textContent = suspendedWords();
  chat.setEnabled(!!room.chat_enabled, isStaff());
  chat.setSharing(!!room.share_earlier_chat);
  renderChatTargets();
  if (isStaff()) staff.renderRoom(room);
}

export function renderChatTargets() {
  chat.renderTargets(others(), isStaff() || !!app.roomInfo?.member_private_messages);
}

/** Someone else's tile, and the facilitator's list of people. */
export function renderParticipant(participant) {
  grid.upsert(participant);
  const stream = app.streams.get(participant.id);
  if (stream) grid.attach(participant.id, stream);
  renderPeople();
}

export function renderPeople() {
  if (isStaff()) staff.renderPeople(others());
  renderChatTargets();
  renderLayout();
  if (app.you) renderWho();
}

export function renderRoomTitle() {
  if (!app.roomInfo) return;
  // An untitled meeting (`title: null`) is named in the person's language.
  const title = app.roomInfo.title;
  setTextOr($('room-title'), title, 'page.untitled');
  setText(document.querySelector('title'), title ? 'page.titleWithRoom' : 'page.untitledTitle', title ? { title } : undefined);
}

export function togglePanel(buttonId, panelId, open) {
  const button = $(buttonId);
  const on = open ?? button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', String(on));
  $(panelId).hidden = !on;
  return on;
}

/** Empties every panel: nothing said or shown in a meeting stays on the page after it. */
export function clearMeeting() {
  reception.stop();
  grid.clear();
  staff.setBans([]);
  queue.reset();
  queue.stop();
  chat.reset([]);
  app.readings = { list: [], shown: null };
  app.queue = [];
  app.view.page = 0;
  readings.close();
  $('sound-button').hidden = true;
  grid.setSpeaking(null);
}
