// The meeting page: join screen → meeting → left / problem screens. This entry module wires
// the page's controls to the actions; the work is split by concern under meeting/:
//
//   state.js     the page's state (one object) and the rules that read it; no DOM
//   handlers.js  server messages → state → views, strictly in order
//   views.js     the screens and panels, rendered from the state
//   session.js   joining, reconnecting, leaving (the socket's life)
//   media.js     the person's microphone and camera
//   mic.js       the microphone check: level meters, "we can hear you", talking while muted
//   hooks.js     the read-only window the browser tests ask for
//   e2ee.js      end-to-end encryption, only for a link with `#e2ee=` (docs/e2ee.md)
//   screen.js    screen share: mine (capture, sender, start and stop) and whose is shown
//
// Data flows one way: a server message or a click changes the state, then the views show it.

import { confirmStep } from './confirm.js';
import { REACTIONS } from './grid.js';
import { checkAgreement } from './join-screen.js';
import { screenFor } from './messages.js';
import { setPref } from './prefs.js';
import { installShortcuts, setShortcutsOn, shortcutsOn } from './shortcuts.js';
import { watchSpeakers } from './speaker.js';
import { announce } from './announce.js';
import { handleSpeaker } from './meeting/handlers.js';
import { installTestHooks } from './meeting/hooks.js';
import { chooseDevice, devicesChanged, refreshDevices, renderMedia, toggle } from './meeting/media.js';
import { prepareE2ee } from './meeting/e2ee.js';
import { startScreenShare, stopScreenShare, stopSound, toggleScreenSound } from './meeting/screen.js';
import { backToJoin, join, leave, loadRoomInfo, networkChanged } from './meeting/session.js';
import { app, checkName, send } from './meeting/state.js';
import {
  $,
  chat,
  clearNameError,
  grid,
  readings,
  renderClosed,
  renderLayout,
  renderE2ee,
  renderMicCheck,
  renderShortcuts,
  setState,
  showProblem,
  togglePanel,
} from './meeting/views.js';
import { installLanguageSwitcher, onLanguageChange, t } from './i18n.js';

export { checkName, keyFromHash, roomFromPath } from './meeting/state.js';

/**
 * How long the join screen waits for the room's title and guidelines before showing without
 * them (they are rendered whenever they arrive).
 */
const ROOM_INFO_WAIT_MS = 1500;

function toggleHand() {
  if (app.state !== 'joined' || !app.you) return;
  send({ type: app.you.hand_raised ? 'lower_hand' : 'raise_hand' });
}

function toggleChat() {
  const open = togglePanel('chat-button', 'chat-panel');
  if (open) {
    chat.markRead();
    $('chat-input').focus();
  }
}

/** The person's own settings (devices, shortcuts), from "More"; the lists are read afresh. */
function toggleMySettings() {
  closeMoreMenu();
  const open = togglePanel('my-settings-button', 'my-settings-panel');
  if (open) {
    refreshDevices();
    $('my-settings-heading').focus();
  }
}

/** Leaving asks first (a slip would drop the person out mid-share); it harms no one else. */
async function confirmLeave() {
  const sure = await confirmStep({
    title: t('leave.title'),
    text: t('leave.text'),
    action: t('bar.leave'),
    danger: false,
  });
  if (sure) leave();
}

/** The skip link: past the tiles and the panels to the first control of the bar. */
function skipToControls(event) {
  event.preventDefault();
  const first = [...$('meeting-controls').querySelectorAll('button')].find((b) => b.getClientRects().length > 0);
  (first ?? $('meeting-controls')).focus();
}

/** Pins `id` (shown large in either layout), or unpins them. */
function togglePin(id) {
  app.view.pinned = app.view.pinned === id ? null : id;
  renderLayout();
  const name = app.participants.get(id)?.name;
  if (name) announce(t(app.view.pinned ? 'grid.pinned' : 'grid.unpinned', { name }));
}

/**
 * The grid's previous or next page (pages.js): its tiles show and their videos start (the
 * reports go out at once, reception.js); "Page 2 of 3" is said. Nothing past either end
 * (state.js gridPage keeps the page to those there are).
 */
function turnPage(step) {
  app.view.page = Math.max(0, app.view.page + step);
  renderLayout();
}

/** Grid ⇄ speaker view (the person sharing, or the last voice heard, large); kept for next time. */
function toggleLayout() {
  app.view.layout = app.view.layout === 'speaker' ? 'grid' : 'speaker';
  setPref('layout', app.view.layout);
  renderLayout();
  closeMoreMenu();
  announce(app.view.layout === 'speaker' ? t('layout.speaker') : t('layout.grid'));
}

/** My own tile off my screen (kept for next time); my camera still goes to the others while it is on. */
function toggleHideSelf() {
  app.view.hideSelf = !app.view.hideSelf;
  setPref('hideSelf', app.view.hideSelf);
  renderLayout();
  closeMoreMenu();
  announce(app.view.hideSelf ? t('layout.selfHidden') : t('layout.selfShown'));
}

/** "More" opens the view options above the bar (on phones the reactions and the facilitator tools too). */
function setMoreMenu(open) {
  $('more-button').setAttribute('aria-expanded', String(open));
  $('more-menu').classList.toggle('is-open', open);
}

function closeMoreMenu({ focus = false } = {}) {
  if (!$('more-menu').classList.contains('is-open')) return;
  setMoreMenu(false);
  if (focus) $('more-button').focus();
}

function installMoreMenu() {
  $('more-button').addEventListener('click', () => {
    const open = $('more-button').getAttribute('aria-expanded') !== 'true';
    setMoreMenu(open);
    if (open) $('layout-button').focus();
  });
  $('more-menu').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeMoreMenu({ focus: true });
  });
  // A tap anywhere else closes it, as menus do.
  document.addEventListener('pointerdown', (event) => {
    if (!$('more-menu').contains(event.target) && !$('more-button').contains(event.target)) closeMoreMenu();
  });
}

/**
 * The language was switched on the join screen: the marked words follow by themselves
 * (i18n.js); these are rendered from the state.
 */
function languageChanged() {
  renderMedia();
  renderMicCheck();
  renderClosed();
  renderE2ee();
  refreshDevices();
  if (!$('name-error').hidden) {
    const { error } = checkName($('name-input').value);
    if (error) $('name-error').textContent = error;
  }
  if (!$('agree-error').hidden) $('agree-error').textContent = t('join.agreeError');
}

async function init() {
  // The link's encryption key, checked (and its worker started) while the page sets up.
  const e2eeReady = prepareE2ee();
  installLanguageSwitcher($('language-select'));
  onLanguageChange(languageChanged);
  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    join();
  });
  $('name-input').addEventListener('input', () => {
    if (!$('name-error').hidden) clearNameError();
  });
  for (const button of document.querySelectorAll('[data-toggle]')) {
    button.addEventListener('click', () => toggle(button.dataset.toggle));
  }
  $('leave-button').addEventListener('click', confirmLeave);
  $('skip-link').addEventListener('click', skipToControls);
  $('my-settings-button').addEventListener('click', toggleMySettings);
  $('my-settings-close').addEventListener('click', () => {
    togglePanel('my-settings-button', 'my-settings-panel', false);
    $('more-button').focus();
  });
  $('shortcuts-input').addEventListener('change', () => {
    setShortcutsOn($('shortcuts-input').checked);
    renderShortcuts(shortcutsOn());
  });
  navigator.mediaDevices?.addEventListener?.('devicechange', devicesChanged);
  $('waiting-leave-button').addEventListener('click', leave);
  $('hand-button').addEventListener('click', toggleHand);
  $('chat-button').addEventListener('click', toggleChat);
  $('staff-button').addEventListener('click', () => {
    closeMoreMenu();
    togglePanel('staff-button', 'staff-panel');
  });
  for (const id of ['screen-button', 'screen-menu-button']) {
    $(id).addEventListener('click', () => {
      closeMoreMenu();
      // getDisplayMedia needs the click's user activation: called at once, never queued.
      if (app.screen.track) stopScreenShare();
      else startScreenShare();
    });
  }
  $('screen-sound-button').addEventListener('click', toggleScreenSound);
  $('my-screen-sound-stop').addEventListener('click', () => {
    stopSound();
    $('my-screen-stop').focus();
  });
  $('my-screen-stop').addEventListener('click', () => {
    stopScreenShare();
    // The bar goes with the share: the focus goes to the control that shares again.
    const again = [$('screen-button'), $('screen-menu-button')].find((b) => b.getClientRects().length > 0);
    (again ?? $('meeting-controls')).focus();
  });
  $('readings-button').addEventListener('click', () => {
    closeMoreMenu();
    readings.toggle();
  });
  installMoreMenu();
  window.addEventListener('online', networkChanged);
  navigator.connection?.addEventListener?.('change', networkChanged);
  watchSpeakers(
    () => (app.state === 'joined' ? app.peer?.pc ?? null : null),
    () => app.streams,
    handleSpeaker,
  );
  grid.onPin = togglePin;
  $('layout-button').addEventListener('click', toggleLayout);
  $('hide-self-button').addEventListener('click', toggleHideSelf);
  $('page-previous').addEventListener('click', () => turnPage(-1));
  $('page-next').addEventListener('click', () => turnPage(1));
  for (const button of document.querySelectorAll('[data-reaction]')) {
    button.addEventListener('click', () => {
      send({ type: 'react', reaction: button.dataset.reaction });
      // The tray closes once used: it would otherwise cover the tiles.
      closeMoreMenu();
    });
  }
  for (const select of document.querySelectorAll('select[data-device]')) {
    select.addEventListener('change', () => chooseDevice(select.dataset.device, select.value));
  }
  $('agree-input').addEventListener('change', () => {
    if ($('agree-input').checked) checkAgreement();
  });
  installShortcuts(
    {
      m: () => toggle('audio'),
      v: () => toggle('video'),
      h: toggleHand,
      c: toggleChat,
    },
    () => app.state === 'joined',
  );
  renderShortcuts(shortcutsOn());
  $('rejoin-button').addEventListener('click', backToJoin);
  $('retry-button').addEventListener('click', backToJoin);
  $('sound-button').addEventListener('click', () => {
    grid.resumeAll();
    $('sound-button').hidden = true;
  });
  // Closing the tab: tell the server at once rather than waiting for a timeout.
  window.addEventListener('pagehide', () => {
    if (app.sig) app.sig.send({ type: 'leave' });
  });

  $('facilitator-note').hidden = !app.key;
  renderMedia();
  if (!app.room) {
    showProblem(screenFor('unknown_room'));
    return;
  }
  // The title and guidelines sit above the name and the mic and camera buttons: the screen
  // shows once they are in, so nothing moves under a pointer about to press a button (on a
  // slow link it shows after a short wait, and they appear when they come).
  const roomInfo = loadRoomInfo();
  await Promise.race([roomInfo, new Promise((resolve) => setTimeout(resolve, ROOM_INFO_WAIT_MS))]);
  await e2eeReady;
  renderE2ee();
  setState('join');
  // Focus without scrolling: on a phone the browser would scroll to the field and hide the
  // heading and the start of the guidelines above it.
  $('name-input').focus({ preventScroll: true });
  (window.requestIdleCallback ?? setTimeout)(warmEmojiFont);
}

/**
 * Lays out the reaction emoji once, off screen, while the join screen waits for the person:
 * the first layout of a colour emoji loads its font, which costs Chromium 15–20 ms (measured,
 * BENCHMARKS.md) and would otherwise fall in the middle of joining, when the meeting screen
 * first shows its reaction buttons.
 */
function warmEmojiFont() {
  const probe = document.createElement('span');
  probe.className = 'visually-hidden';
  probe.setAttribute('aria-hidden', 'true');
  probe.textContent = Object.values(REACTIONS)
    .map((r) => r.emoji)
    .join('');
  document.body.append(probe);
  void probe.offsetWidth; // layout now: shaping the text is what loads the font
  probe.remove();
}

installTestHooks();
init();
