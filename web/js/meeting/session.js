// Joining, reconnecting and leaving: the socket's life and the person's place in the meeting.
// Server messages go to handlers.js; this module only opens and closes the session.

import { announce } from '../announce.js';
import { t } from '../i18n.js';
import { checkAgreement, fetchRoomInfo, needsAgreement, renderRoomInfo } from '../join-screen.js';
import { screenFor } from '../messages.js';
import { Signaling } from '../signaling.js';
import { handleFailure, handleMessage, handleSocketClose } from './handlers.js';
import { e2ee, refuseForRoom } from './e2ee.js';
import { allOff } from './media.js';
import { dropCapture } from './screen.js';
import { app, checkName, storedToken } from './state.js';
import {
  $,
  clearMeeting,
  reception,
  clearNameError,
  renderClosed,
  renderConnecting,
  renderE2ee,
  renderRoomTitle,
  setJoinBusy,
  setState,
  show,
  showNameError,
  showProblem,
} from './views.js';

/** Waits before each automatic reconnection attempt after a dropped connection. */
const RECONNECT_DELAYS_MS = [500, 1500, 3000, 6000, 10000];
/** How long a join may take before the "Joining…" screen replaces the join screen. */
const CONNECTING_SCREEN_DELAY_MS = 400;

export async function join() {
  if (app.state !== 'join') return;
  // A link with an encryption key joins encrypted or not at all (meeting/e2ee.js); one without
  // a key to a meeting that is encrypted, or with a key older than its newest links, not at
  // all (the room is asked again if unknown).
  if (!app.roomInfo) await loadRoomInfo();
  if (app.state !== 'join' || (e2ee.on && (!e2ee.media || e2ee.refused))) return;
  const checked = checkName($('name-input').value);
  if (checked.error) {
    showNameError(checked.error);
    return;
  }
  clearNameError();
  if (!checkAgreement()) return;
  stopWaitingForOpening();
  app.name = checked.name;
  app.reconnecting = 0;
  app.resumeKey = null;
  connect();
}

/** Opens a socket and asks to join (also used to reconnect with the same name and token). */
export async function connect() {
  renderConnecting();
  if (app.reconnecting) {
    setState('connecting');
  } else {
    // A join usually takes a fraction of a second: the "Joining…" screen appears only when
    // it takes longer, instead of flashing up and costing a page layout on the way in.
    app.state = 'connecting';
    setJoinBusy(true);
    clearTimeout(app.connectingTimer);
    app.connectingTimer = setTimeout(() => {
      if (app.state === 'connecting' && document.body.dataset.screen === 'join') show('connecting');
    }, CONNECTING_SCREEN_DELAY_MS);
  }

  const sig = new Signaling({
    onMessage: (msg) => (app.sig === sig ? handleMessage(msg) : undefined),
    onClose: (info) => (app.sig === sig ? handleSocketClose(info) : undefined),
    onHandlerError: (err, msg) => handleFailure(err, msg),
    onTrace: (dir, msg) => {
      app.trace.push({ dir, type: msg.type, ...(msg.code ? { code: msg.code } : {}), ...traceDetail(msg) });
      if (app.trace.length > 500) app.trace.shift();
    },
  });
  app.sig = sig;
  try {
    await sig.connect();
  } catch (err) {
    console.warn('haven:', err.message);
    if (app.sig === sig) {
      if (app.reconnecting) {
        app.sig = null;
        scheduleReconnect();
        return;
      }
      endSession();
      showProblem(screenFor('cannot_connect'));
    }
    return;
  }
  if (app.sig !== sig) return;
  if (app.reconnecting && app.resumeKey) {
    // Take back our place (role, hand in the queue, mute state); a refusal falls back to join.
    sig.send({ type: 'resume', room: app.room, resume_key: app.resumeKey, request_id: String(++app.requestSeq) });
    return;
  }
  sendJoin(sig);
}

/** What the trace keeps of `receive` and `reception` besides the type: ids and sizes, no names. */
function traceDetail(msg) {
  if (msg.type === 'receive') return { video: msg.video, tiles: msg.tiles };
  if (msg.type === 'reception') return { link: msg.link, paused: msg.paused };
  if (msg.type === 'camera_layers') return { active: msg.active };
  return {};
}

/** Asks to join as a newcomer. */
export function sendJoin(sig) {
  const request = {
    type: 'join',
    room: app.room,
    name: app.name,
    request_id: String(++app.requestSeq),
  };
  if (app.key) request.key = app.key;
  const token = storedToken();
  if (token) request.token = token;
  if (needsAgreement() && $('agree-input').checked) request.accepted_guidelines = true;
  sig.send(request);
}

/** The socket dropped without a word from the server: try again a few times by ourselves. */
export function scheduleReconnect() {
  const delay = RECONNECT_DELAYS_MS[app.reconnecting];
  if (delay === undefined) {
    app.reconnecting = 0;
    endSession();
    showProblem(screenFor('connection_lost'));
    return;
  }
  app.reconnecting += 1;
  renderConnecting();
  setState('connecting');
  clearTimeout(app.reconnectTimer);
  app.reconnectTimer = setTimeout(() => {
    if (app.state === 'connecting' && app.reconnecting) connect();
  }, delay);
}

export function leave() {
  clearTimeout(app.reconnectTimer);
  app.resumeKey = null;
  if (app.reconnecting && app.state === 'connecting') {
    app.reconnecting = 0;
    endSession();
    setState('left');
    return;
  }
  if (!['joined', 'connecting', 'waiting'].includes(app.state)) return;
  app.sig?.send({ type: 'leave' });
  endSession();
  setState('left');
  announce(t('left.heading'));
}

/**
 * Closes the socket and the peer connection; the devices go off too unless `keepMedia` (a
 * reconnection picks up where it was).
 */
export function endSession({ keepMedia = false } = {}) {
  const { sig, peer } = app;
  app.sig = null;
  app.peer = null;
  reception.stop();
  peer?.close();
  sig?.close();
  app.participants.clear();
  app.streams.clear();
  app.you = null;
  app.waiting = [];
  app.bans = [];
  app.pending = { audio: false, video: false };
  app.speaking = null;
  app.lastSpeaker = null;
  // A share never survives its connection (the server ends it: `dropped`).
  if (app.screen.track && keepMedia) announce(t('screenShare.endedYou.dropped'), { visible: true });
  dropCapture();
  app.screen.sharer = null;
  clearMeeting();
  if (!keepMedia) {
    // A pin is about this meeting; the layout and "Hide my video" are the person's habits.
    app.view.pinned = null;
    allOff();
  }
}

/** A network change: retry at once rather than waiting for the next attempt. */
export function networkChanged() {
  if (app.state === 'connecting' && app.reconnecting) {
    clearTimeout(app.reconnectTimer);
    connect();
  } else if (app.state === 'joined') {
    // The socket may have survived while the media path did not: restart ICE.
    app.peer?.networkChanged();
  }
}

/** Spreads the members waiting at a closed meeting's door over a few seconds once it opens. */
const OPENING_JITTER_MS = 5000;
/**
 * When our clock already says it is open but the server's does not (a clock running fast),
 * ask again after this long rather than at once, so the retries stay under the join limit.
 */
const CLOCK_SKEW_RETRY_MS = 15000;
/** The longest a browser timer waits (about 24.8 days); a later opening is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** "In 25 minutes" is brought up to date this often. */
const OPENS_REFRESH_MS = 30000;

/**
 * The meeting is closed (`meeting_closed`): says when it opens in the member's own zone and
 * joins by itself then, with a small random delay so everyone waiting does not arrive in the
 * same instant. `opensAt` null: it has no more dates, and nothing is scheduled.
 */
export function waitForOpening(opensAt) {
  stopWaitingForOpening();
  app.closed = { opensAt, listed: false, timer: 0, refresh: 0 };
  const closed = app.closed;
  renderClosed();
  announce($('join-closed-text').textContent);
  // The directory lists the meeting's times only when it is listed there.
  fetch(`/api/directory/${encodeURIComponent(app.room)}`, { headers: { accept: 'application/json' } })
    .then((res) => {
      if (res.ok && app.closed === closed) {
        closed.listed = true;
        renderClosed();
      }
    })
    .catch(() => {});
  if (!opensAt) return;
  const early = opensAt - Date.now();
  const wait = early > 0 ? early : CLOCK_SKEW_RETRY_MS;
  const delay = Math.min(MAX_TIMER_MS, wait + Math.random() * OPENING_JITTER_MS);
  closed.timer = setTimeout(() => {
    if (app.closed !== closed || app.state !== 'join') return;
    join();
  }, delay);
  closed.refresh = setInterval(renderClosed, OPENS_REFRESH_MS);
}

function stopWaitingForOpening() {
  if (!app.closed) return;
  clearTimeout(app.closed.timer);
  clearInterval(app.closed.refresh);
  app.closed = null;
  renderClosed();
}

export function backToJoin() {
  setState('join');
  $('join-button').focus();
}

export async function loadRoomInfo() {
  if (!app.room) return;
  const info = await fetchRoomInfo(app.room);
  if (info && !info.missing) {
    app.roomInfo = info;
    renderRoomTitle();
    renderRoomInfo(info);
    if (refuseForRoom(info)) renderE2ee();
  }
}
