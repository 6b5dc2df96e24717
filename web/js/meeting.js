// The meeting page: join screen → meeting → left / problem screens. This module owns the
// page's state and wires the signaling socket, the peer connection, local media and the grid
// together; each of those knows nothing of the others.

import { announce } from './announce.js';
import { ChatPanel } from './chat.js';
import { isStaffRole, StaffPanel } from './facilitator.js';
import { Grid, REACTIONS } from './grid.js';
import { checkAgreement, fetchRoomInfo, needsAgreement, refreshDevices, renderRoomInfo } from './join-screen.js';
import { LocalMedia, mediaErrorText } from './local-media.js';
import { screenFor, sentenceFor } from './messages.js';
import { KINDS, PeerSession } from './peer.js';
import { QueuePanel } from './queue.js';
import { Reception } from './reception.js';
import { installShortcuts } from './shortcuts.js';
import { Signaling } from './signaling.js';
import { watchSpeakers } from './speaker.js';

const MAX_NAME_CHARS = 32;
/** What an ICE restart (web/js/peer.js) tells the person. */
const RESTART_WORDS = {
  interrupted: 'Sound and video were interrupted. Reconnecting…',
  network: 'Your network changed. Reconnecting sound and video…',
  recovered: 'Sound and video are back.',
};
/** Waits before each automatic reconnection attempt after a dropped connection. */
const RECONNECT_DELAYS_MS = [500, 1500, 3000, 6000, 10000];
/** How long a join may take before the "Joining…" screen replaces the join screen. */
const CONNECTING_SCREEN_DELAY_MS = 400;
/**
 * How long the join screen waits for the room's title and guidelines before showing without
 * them (they are rendered whenever they arrive).
 */
const ROOM_INFO_WAIT_MS = 1500;
const SCREENS = ['join', 'connecting', 'waiting', 'meeting', 'left', 'problem'];
const $ = (id) => document.getElementById(id);

/** The room id from `/m/{id}`, or null. */
export function roomFromPath(pathname) {
  const match = /^\/m\/([^/]+)\/?$/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** The facilitator secret from `#key=…` (URL-decoded), or null. */
export function keyFromHash(hash) {
  const key = new URLSearchParams(hash.replace(/^#/, '')).get('key');
  return key ? key : null;
}

/**
 * The facilitator secret, taken out of the address bar as soon as it is read: a screen shared,
 * a photo of the screen or a history entry would otherwise carry it. Kept for this tab only
 * (sessionStorage), so a reload still opens the meeting as facilitator.
 */
function takeKey() {
  const room = roomFromPath(window.location.pathname);
  const stored = `haven.key.${room}`;
  const fromHash = keyFromHash(window.location.hash);
  try {
    if (fromHash) {
      window.sessionStorage.setItem(stored, fromHash);
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
      return fromHash;
    }
    return window.sessionStorage.getItem(stored);
  } catch {
    return fromHash;
  }
}

/** The rule the server applies to names: trimmed, 1–32 characters, no control characters. */
export function checkName(raw) {
  const name = raw.trim();
  const chars = Array.from(name).length;
  if (chars === 0) return { error: 'Please type a name. A first name or a nickname is fine.' };
  if (chars > MAX_NAME_CHARS) {
    return { error: `Please use a shorter name: at most ${MAX_NAME_CHARS} characters (now ${chars}).` };
  }
  if (/\p{Cc}/u.test(name)) return { error: 'Please use only letters, numbers, spaces and punctuation.' };
  return { name };
}

const app = {
  /** join | connecting | waiting | joined | left | problem */
  state: 'join',
  room: roomFromPath(window.location.pathname),
  key: takeKey(),
  name: '',
  you: null,
  roomInfo: null,
  /** Everyone else, by participant id. */
  participants: new Map(),
  /** Remote MediaStreams by publisher id (the stream id is the participant id). */
  streams: new Map(),
  /** @type {Signaling|null} */
  sig: null,
  /** @type {PeerSession|null} */
  peer: null,
  /** What the person switched on. Off by default: the safe default. */
  want: { audio: false, video: false },
  /** A switch-on sent to the server and not yet confirmed by `participant_updated`. */
  pending: { audio: false, video: false },
  /** Staff only: who is in the waiting room. */
  waiting: [],
  /** Staff only: this meeting's bans (`{id, name?, at}`). */
  bans: [],
  /** Device changes run one at a time, in click order. */
  mediaChain: Promise.resolve(),
  requestSeq: 0,
  /** Automatic reconnection after a dropped socket: the attempt number, 0 when not. */
  reconnecting: 0,
  reconnectTimer: 0,
  /** Shows the "Joining…" screen if a join is slow (see connect). */
  connectingTimer: 0,
  /** The server's secret for taking our place back after a dropped connection. */
  resumeKey: null,
  /** Message types in and out, for tests and debugging (no SDP, no names). */
  trace: [],
};

const local = new LocalMedia((kind) => {
  announce(`Your ${kind === 'audio' ? 'microphone' : 'camera'} stopped.`, { visible: true });
  enqueueMedia(() => applyMedia(kind, false));
});

const grid = new Grid($('grid'), () => {
  $('sound-button').hidden = false;
  announce('Your browser blocked the sound. Press "Turn on sound" to hear the meeting.', { visible: true });
});

const isStaff = () => !!app.you && isStaffRole(app.you.role);
const send = (msg) => app.sig?.send(msg) ?? false;
const ctx = { send, you: () => app.you, isStaff };
const queue = new QueuePanel(ctx);
const chat = new ChatPanel({
  ...ctx,
  onUnread: (n) => {
    $('chat-unread').hidden = n === 0;
    $('chat-unread').textContent = n ? `${n} new` : '';
  },
});
const staff = new StaffPanel({ ...ctx, roomId: app.room ?? '' });
/** "Sound only", tile reports and the server's `reception` (web/js/reception.js). */
const reception = new Reception({
  send,
  grid,
  isOther: (id) => app.participants.has(id),
  announce: (text) => announce(text),
  button: $('sound-only'),
  indicator: $('link-indicator'),
});

/**
 * localStorage key of this meeting's token (it lets a facilitator's ban stick). A token is
 * made only for a meeting this browser joined or waited for, and forgotten after a day: the
 * browser keeps no lasting trace of which groups someone attends.
 */
const TOKEN_PREFIX = 'haven.token.';
const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;
const tokenKey = () => `${TOKEN_PREFIX}${app.room}`;
/** The token if still fresh; stale ones (this meeting's or others') are removed. */
function storedToken() {
  try {
    const now = Date.now();
    for (let i = window.localStorage.length - 1; i >= 0; i--) {
      const key = window.localStorage.key(i);
      if (!key?.startsWith(TOKEN_PREFIX)) continue;
      let saved = null;
      try {
        saved = JSON.parse(window.localStorage.getItem(key));
      } catch {
        // an old plain-text token: no date, so it is stale
      }
      if (!saved || typeof saved.token !== 'string' || !(now - saved.at < TOKEN_LIFETIME_MS)) {
        window.localStorage.removeItem(key);
      }
    }
    return JSON.parse(window.localStorage.getItem(tokenKey()) ?? 'null')?.token ?? null;
  } catch {
    return null;
  }
}
function storeToken(token) {
  if (typeof token !== 'string' || !token) return;
  try {
    window.localStorage.setItem(tokenKey(), JSON.stringify({ token, at: Date.now() }));
  } catch {
    // private mode: the ban still holds through the hashed address
  }
}

// ---------------------------------------------------------------------------------------
// Screens

function show(screen) {
  for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  document.body.dataset.screen = screen;
  // Move focus to the new screen's heading so keyboard and screen-reader users follow along.
  const heading = $(`screen-${screen}`).querySelector('h1');
  heading?.focus({ preventScroll: true });
}

function setState(state) {
  app.state = state;
  setJoinBusy(false);
  show(state === 'joined' ? 'meeting' : state);
}

/** The Join button says a join is under way while the join screen is still up (connect). */
function setJoinBusy(busy) {
  const button = $('join-button');
  if (button.hasAttribute('aria-busy') === busy) return;
  if (busy) button.setAttribute('aria-busy', 'true');
  else button.removeAttribute('aria-busy');
  button.textContent = busy ? 'Joining…' : 'Join';
}

function showProblem({ title, text, retry }) {
  $('problem-heading').textContent = title;
  $('problem-text').textContent = text;
  $('retry-button').hidden = !retry;
  setState('problem');
  announce(title);
}

function showNameError(text) {
  const error = $('name-error');
  error.textContent = text;
  error.hidden = false;
  $('name-input').setAttribute('aria-invalid', 'true');
  $('name-input').focus();
}

function clearNameError() {
  $('name-error').hidden = true;
  $('name-error').textContent = '';
  $('name-input').removeAttribute('aria-invalid');
}

function backToJoin() {
  setState('join');
  $('join-button').focus();
}

function showAgreementError(text) {
  setState('join');
  if (!needsAgreement()) {
    // The guidelines changed since the page loaded: fetch them again.
    loadRoomInfo().then(() => checkAgreement());
    return;
  }
  $('agree-input').checked = false;
  checkAgreement();
  if (text) $('agree-error').textContent = text;
}

// ---------------------------------------------------------------------------------------
// Joining and leaving

async function join() {
  if (app.state !== 'join') return;
  const checked = checkName($('name-input').value);
  if (checked.error) {
    showNameError(checked.error);
    return;
  }
  clearNameError();
  if (!checkAgreement()) return;
  app.name = checked.name;
  app.reconnecting = 0;
  app.resumeKey = null;
  connect();
}

/** Opens a socket and asks to join (also used to reconnect with the same name and token). */
async function connect() {
  setConnectingText();
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
  return {};
}

/** Asks to join as a newcomer. */
function sendJoin(sig) {
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

function setConnectingText() {
  $('connecting-heading').textContent = app.reconnecting ? 'Reconnecting…' : 'Joining…';
  $('connecting-text').textContent = app.reconnecting
    ? 'The connection dropped. Haven is bringing you back into the meeting.'
    : 'Connecting you to the meeting.';
}

/** The socket dropped without a word from the server: try again a few times by ourselves. */
function scheduleReconnect() {
  const delay = RECONNECT_DELAYS_MS[app.reconnecting];
  if (delay === undefined) {
    app.reconnecting = 0;
    endSession();
    showProblem(screenFor('connection_lost'));
    return;
  }
  app.reconnecting += 1;
  setConnectingText();
  setState('connecting');
  clearTimeout(app.reconnectTimer);
  app.reconnectTimer = setTimeout(() => {
    if (app.state === 'connecting' && app.reconnecting) connect();
  }, delay);
}

function leave() {
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
  announce('You left the meeting.');
}

/**
 * Closes the socket and the peer connection; the devices go off too unless `keepMedia` (a
 * reconnection picks up where it was).
 */
function endSession({ keepMedia = false } = {}) {
  const { sig, peer } = app;
  app.sig = null;
  app.peer = null;
  reception.stop();
  peer?.close();
  sig?.close();
  grid.clear();
  app.participants.clear();
  app.streams.clear();
  app.you = null;
  app.waiting = [];
  app.bans = [];
  staff.setBans([]);
  app.pending = { audio: false, video: false };
  queue.reset();
  queue.stop();
  chat.reset([]); // nothing said in the meeting stays on the page after it
  $('sound-button').hidden = true;
  grid.setSpeaking(null);
  if (keepMedia) return;
  // Back to the safe default: nothing stays switched on after a meeting.
  enqueueMedia(async () => {
    local.stopAll();
    app.want = { audio: false, video: false };
    renderMedia();
  });
}

// ---------------------------------------------------------------------------------------
// Server messages, handled strictly in order (see signaling.js)

async function handleMessage(msg) {
  switch (msg.type) {
    case 'joined':
      return onJoined(msg);
    case 'waiting':
      return onWaiting(msg);
    case 'participant_joined':
      return onParticipant(msg.participant, true);
    case 'participant_updated':
      return onParticipant(msg.participant, false);
    case 'participant_left':
      return onParticipantLeft(msg.id, msg.reason);
    case 'queue':
      return queue.setQueue(msg.queue);
    case 'floor_given':
      return queue.setFloor(msg.floor);
    case 'floor_taken':
      return queue.taken(msg.id, msg.reason);
    case 'timer_extended':
      return queue.extend(msg.floor);
    case 'timer_warning':
      return queue.warning(msg.id, msg.seconds_left);
    case 'timer_expired':
      return queue.timeUp(msg.id);
    case 'room_updated':
      return onRoomUpdated(msg.room);
    case 'waiting_list':
      app.waiting = msg.waiting;
      return staff.setWaiting(msg.waiting);
    case 'ban_list':
      app.bans = msg.bans;
      return staff.setBans(msg.bans);
    case 'muted':
      announce(msg.message || 'A facilitator muted you.', { visible: true });
      return forceOff('audio');
    case 'camera_stopped':
      announce(msg.message || 'A facilitator turned your camera off.', { visible: true });
      return forceOff('video');
    case 'chat':
      return chat.add(msg.message);
    case 'chat_deleted':
      return chat.remove(msg.id);
    case 'private_message':
      return chat.private(msg.message);
    case 'check_in_requested':
      return chat.checkIn(msg.id, msg.name);
    case 'reaction':
      return onReaction(msg.id, msg.reaction);
    case 'reception':
      return reception.handleReception(msg);
    case 'answer':
      return app.peer?.handleAnswer(msg.sdp);
    case 'offer':
      return app.peer?.handleOffer(msg.sdp);
    case 'closed':
      if (msg.code === 'connection_lost' && app.resumeKey) {
        // The media connection timed out; the server keeps our place: come back by ourselves.
        announce('The connection dropped. Reconnecting…', { visible: true });
        endSession({ keepMedia: true });
        scheduleReconnect();
        return undefined;
      }
      app.resumeKey = null;
      // Banned from the waiting room: never in the meeting, so not "removed".
      const code = msg.code === 'banned' && app.state === 'waiting' ? 'banned_while_waiting' : msg.code;
      endSession();
      showProblem(screenFor(code, msg.message));
      return undefined;
    case 'error':
      return onError(msg);
    default:
      // Newer servers may say more than this client understands.
      console.debug('haven: ignoring message', msg.type);
      return undefined;
  }
}

function onWaiting(msg) {
  if (app.state !== 'connecting') return;
  storeToken(msg.token);
  app.resumeKey = msg.resume_key ?? null;
  $('waiting-message').textContent = msg.message || '';
  $('waiting-message').hidden = !msg.message;
  setState('waiting');
  announce('You are in the waiting room. A facilitator will let you in shortly.');
}

async function onJoined(msg) {
  if (app.state !== 'connecting' && app.state !== 'waiting') return;
  storeToken(msg.token);
  app.resumeKey = msg.resume_key ?? null;
  if (app.reconnecting) announce("You're back in the meeting.", { visible: true });
  app.reconnecting = 0;
  app.you = { ...msg.you };
  if (msg.room) app.roomInfo = msg.room;
  app.participants = new Map(msg.participants.map((p) => [p.id, { ...p }]));
  app.waiting = Array.isArray(msg.waiting) ? msg.waiting : [];
  app.bans = Array.isArray(msg.bans) ? msg.bans : [];
  renderRoomTitle();
  setState('joined');
  queue.reset(msg.queue ?? [], msg.floor ?? null);
  chat.reset(msg.chat ?? []);
  renderRoles();
  if (isStaff()) staff.setWaiting(app.waiting);
  staff.setBans(isStaff() ? app.bans : []);
  renderRoomState();

  grid.clear();
  renderSelf();
  for (const p of app.participants.values()) grid.upsert(p);
  // Sound only and the tile sizes, said again to every session (the server may have forgotten).
  reception.start();
  const others = app.participants.size;
  announce(
    others === 0
      ? "You're in the meeting. No one else is here yet."
      : `You're in the meeting. ${others === 1 ? '1 other person is' : `${others} other people are`} here.`,
  );

  const peer = new PeerSession({
    send: (m) => app.sig?.send(m) ?? false,
    canSignal: () => !!app.sig?.open,
    iceServers: Array.isArray(msg.ice_servers) ? msg.ice_servers : [],
    onTrack,
    onConnectionState: (state) => {
      if (app.peer === peer) document.body.dataset.media = state;
    },
    // A failed media path is not announced as final: the peer restarts ICE by itself.
    onRestart: (phase) => {
      if (app.peer === peer) announce(RESTART_WORDS[phase], { visible: true });
    },
  });
  app.peer = peer;
  // Senders carry whatever is on right now; a device switched on later is put on its sender
  // by applyMedia(). A fresh join answers the server's first offer, which follows `joined`;
  // after a resume this new peer connection offers itself.
  const tracks = { audio: local.tracks.audio, video: local.tracks.video };
  if (msg.resumed) await peer.start(tracks, local.stream);
  else peer.expectOffer(tracks, local.stream);
  sendMediaState();
}

function onParticipant(participant, isNew) {
  if (app.you && participant.id === app.you.id) {
    onSelfUpdated(participant);
    return;
  }
  const known = app.participants.has(participant.id);
  app.participants.set(participant.id, { ...participant });
  grid.upsert(participant);
  const stream = app.streams.get(participant.id);
  if (stream) grid.attach(participant.id, stream);
  if (isNew && !known) announce(`${participant.name} joined.`);
  if (isStaff()) staff.renderPeople(others());
  renderChatTargets();
}

/** The server's truth about me: roles, hand, floor, and whether my mic/camera are on. */
function onSelfUpdated(participant) {
  const before = app.you;
  app.you = { ...participant };
  for (const kind of KINDS) {
    if (participant[kind]) app.pending[kind] = false;
    else if (app.want[kind] && !app.pending[kind]) forceOff(kind);
  }
  if (before && before.role !== participant.role) {
    announce(
      isStaffRole(participant.role)
        ? 'You are now a co-facilitator. The facilitator tools are open.'
        : 'You are no longer a co-facilitator.',
      { visible: true },
    );
    renderRoles();
  }
  if (before?.muted_by_facilitator && !participant.muted_by_facilitator && !participant.has_floor) {
    announce('A facilitator lets you speak again. You may unmute when you are ready.', { visible: true });
  } else if (before && !before.may_unmute && participant.may_unmute && !participant.audio && !app.you.has_floor) {
    announce('You may unmute now.');
  }
  renderSelf();
}

function others() {
  return [...app.participants.values()];
}

function onParticipantLeft(id, reason) {
  const participant = app.participants.get(id);
  app.participants.delete(id);
  app.streams.delete(id);
  grid.remove(id);
  if (participant) announce(reason === 'removed' ? `${participant.name} was removed.` : `${participant.name} left.`);
  if (isStaff()) staff.renderPeople(others());
  renderChatTargets();
}

/** Restore turns no one's mic or camera back on: members are told they may. */
function restoredSentence(room) {
  if (isStaff()) return 'The meeting is back to normal.';
  return room.members_may_unmute
    ? 'The meeting is back to normal. Your mic and camera stay off until you turn them on again.'
    : 'The meeting is back to normal. Your camera stays off until you turn it on again; raise your hand to share.';
}

function onRoomUpdated(room) {
  const before = app.roomInfo;
  app.roomInfo = room;
  renderRoomTitle();
  renderRoomState();
  if (!before) return;
  if (before.locked !== room.locked) announce(room.locked ? 'The room is now locked.' : 'The room is unlocked.');
  if (before.suspended !== room.suspended) {
    announce(room.suspended ? 'The meeting is paused for safety.' : restoredSentence(room), { visible: true });
  }
  if (before.chat_enabled !== room.chat_enabled) announce(room.chat_enabled ? 'Chat is on.' : 'Chat is off.');
  if (before.share_earlier_chat !== room.share_earlier_chat) {
    // It changes who may read what members already wrote: say it where everyone sees it.
    announce(
      room.share_earlier_chat
        ? 'People who come in from now on will also see the recent chat.'
        : 'People who come in from now on will see only what is said after they arrive.',
      { visible: true },
    );
  }
  if (before.members_may_unmute !== room.members_may_unmute && !isStaff()) {
    announce(room.members_may_unmute ? 'You may unmute yourself again.' : 'Only the person sharing can unmute now.');
  }
}

function onReaction(id, reaction) {
  const who = app.you && id === app.you.id ? 'You' : app.participants.get(id)?.name;
  grid.react(id, reaction);
  if (who) announce(`${who}: ${REACTIONS[reaction]?.words ?? reaction}.`);
}

function onTrack(event) {
  const [stream] = event.streams;
  if (!stream) {
    console.warn('haven: a remote track came without a stream id; cannot tell whose it is');
    return;
  }
  app.streams.set(stream.id, stream);
  grid.attach(stream.id, stream, { reload: true });
}

/** Switches a device off because the server says it is off (mute, stop camera, refusal). */
function forceOff(kind) {
  app.pending[kind] = false;
  return enqueueMedia(() => (app.want[kind] ? applyMedia(kind, false) : undefined));
}

const REFUSED_KIND = {
  cannot_unmute: ['audio'],
  muted_by_facilitator: ['audio'],
  camera_stopped: ['video'],
  room_suspended: ['audio', 'video'],
};

function onError(msg) {
  if (reception.handleError(msg)) return undefined;
  console.warn('haven: server error', msg.code, msg.message);
  if (msg.code === 'negotiation_in_progress' && app.peer) {
    // Our ICE restart met a server offer: the peer answers that first and offers again.
    return app.peer.handleOfferRefused();
  }
  if (msg.code === 'resume_failed' && app.state === 'connecting' && app.sig) {
    // The place was not kept (too long away, or removed meanwhile): join afresh.
    app.resumeKey = null;
    sendJoin(app.sig);
    return;
  }
  if (app.state === 'connecting' || app.state === 'waiting') {
    // Only `join` can fail before `joined`.
    endSession();
    if (msg.code === 'invalid_name' || msg.code === 'name_taken_by_staff') {
      setState('join');
      showNameError(msg.message || sentenceFor(msg.code));
    } else if (msg.code === 'guidelines_not_accepted') {
      showAgreementError();
    } else {
      showProblem(screenFor(msg.code, msg.message));
    }
    return;
  }
  for (const kind of REFUSED_KIND[msg.code] ?? []) {
    if (app.pending[kind] || app.want[kind]) forceOff(kind);
  }
  announce(sentenceFor(msg.code, msg.message), { visible: true });
}

function handleSocketClose({ byUs }) {
  if (byUs) return;
  if (app.state === 'joined' || app.state === 'waiting' || (app.state === 'connecting' && app.reconnecting)) {
    // Dropped without a `closed` message: the network, not a decision. Come back by ourselves.
    if (app.state === 'joined') announce('The connection dropped. Reconnecting…', { visible: true });
    endSession({ keepMedia: true });
    scheduleReconnect();
    return;
  }
  if (app.state === 'connecting') {
    endSession();
    showProblem(screenFor('connection_lost'));
  }
}

function handleFailure(err, msg) {
  console.error('haven: handling', msg?.type, 'failed:', err);
  if (msg?.type === 'offer' || msg?.type === 'answer') {
    announce(sentenceFor('bad_sdp'), { visible: true });
  }
}

// ---------------------------------------------------------------------------------------
// Microphone and camera

function enqueueMedia(step) {
  app.mediaChain = app.mediaChain.then(step).catch((err) => console.error('haven: media', err));
  return app.mediaChain;
}

/** A facilitator muted me and has not let me speak again (the floor would). */
function heldMuted() {
  return !!app.you?.muted_by_facilitator && !app.you.has_floor && app.state === 'joined';
}

function toggle(kind) {
  if (kind === 'audio' && !app.want.audio && heldMuted()) {
    // The server would refuse it: say why instead of opening the microphone for nothing.
    announce(sentenceFor('muted_by_facilitator'), { visible: true });
    return app.mediaChain;
  }
  // The target is read inside the chain, so two quick clicks turn it on and off again.
  return enqueueMedia(() => applyMedia(kind, !app.want[kind]));
}

async function applyMedia(kind, on) {
  if (on) {
    try {
      await local.enable(kind);
    } catch (err) {
      console.warn('haven: getUserMedia', err);
      announce(mediaErrorText(kind, err), { visible: true });
      on = false;
    }
  }
  app.want[kind] = on;
  const devicesListed = on ? refreshDevices(local.deviceIds) : null;
  // Never renegotiate: the sender exists since the first offer; only its track changes.
  await app.peer?.replaceTrack(kind, on ? local.tracks[kind] : null);
  if (!on) local.disable(kind);
  renderMedia();
  sendMediaState([kind]);
  // The device choice may appear on the join screen and move the Join button: the step
  // ends (and `settled()` resolves) only once the screen stands still.
  await devicesListed;
}

/**
 * One `media_state` per device: the server refuses a message as a whole, so a combined one
 * would keep the camera off for a member who may not unmute right now.
 */
function sendMediaState(kinds = KINDS) {
  if (app.state !== 'joined' || !app.sig) return;
  for (const kind of kinds) {
    app.pending[kind] = app.want[kind] && !app.you?.[kind];
    app.sig.send({ type: 'media_state', [kind]: app.want[kind] });
  }
}

/** A different microphone or camera was picked: reopen it if it is on. */
function chooseDevice(kind, deviceId) {
  local.deviceIds[kind] = deviceId;
  return enqueueMedia(async () => {
    if (!app.want[kind]) return;
    local.disable(kind);
    await applyMedia(kind, true);
  });
}

// ---------------------------------------------------------------------------------------
// Rendering

function renderMedia() {
  for (const kind of KINDS) {
    for (const button of document.querySelectorAll(`[data-toggle="${kind}"]`)) {
      button.setAttribute('aria-pressed', String(app.want[kind]));
      button.querySelector('.toggle-state').textContent = app.want[kind] ? 'on' : 'off';
    }
  }
  const preview = $('preview-video');
  const track = local.tracks.video;
  preview.srcObject = track ? new MediaStream([track]) : null;
  preview.closest('.preview').classList.toggle('is-on', !!track);
  if (track) preview.play().catch(() => {});
  renderSelf();
}

function renderSelf() {
  if (!app.you || app.state !== 'joined') return;
  const held = heldMuted();
  $('held-muted-banner').hidden = !held;
  for (const button of document.querySelectorAll('#screen-meeting [data-toggle="audio"]')) {
    // Not `disabled`: it stays focusable, and pressing it says why it does nothing.
    if (held) {
      button.setAttribute('aria-disabled', 'true');
      button.setAttribute('aria-describedby', 'held-muted-banner');
    } else {
      button.removeAttribute('aria-disabled');
      button.removeAttribute('aria-describedby');
    }
  }
  grid.upsert({ ...app.you, audio: app.want.audio, video: app.want.video }, { self: true });
  const hand = $('hand-button');
  hand.setAttribute('aria-pressed', String(!!app.you.hand_raised));
  hand.querySelector('.toggle-name').textContent = app.you.hand_raised ? 'Lower hand' : 'Raise hand';
  const track = local.tracks.video;
  grid.attach(app.you.id, track ? new MediaStream([track]) : null);
}

/** Shows or hides the facilitator tools for my role. */
function renderRoles() {
  const on = isStaff();
  $('staff-button').hidden = !on;
  $('staff-panel').hidden = !on || $('staff-button').getAttribute('aria-pressed') !== 'true';
  document.body.classList.toggle('is-staff', on);
  if (on) {
    staff.renderPeople(others());
    staff.renderWaiting();
    staff.renderRoom(app.roomInfo);
  }
  queue.render();
  chat.refreshControls();
  renderChatTargets();
}

function renderRoomState() {
  const room = app.roomInfo;
  if (!room) return;
  $('suspended-banner').hidden = !room.suspended;
  chat.setEnabled(!!room.chat_enabled, isStaff());
  chat.setSharing(!!room.share_earlier_chat);
  renderChatTargets();
  if (isStaff()) staff.renderRoom(room);
}

function renderChatTargets() {
  chat.renderTargets(others(), isStaff() || !!app.roomInfo?.member_private_messages);
}

function toggleHand() {
  if (app.state !== 'joined' || !app.you) return;
  send({ type: app.you.hand_raised ? 'lower_hand' : 'raise_hand' });
}

function togglePanel(buttonId, panelId, show) {
  const button = $(buttonId);
  const open = show ?? button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', String(open));
  $(panelId).hidden = !open;
  return open;
}

function toggleChat() {
  const open = togglePanel('chat-button', 'chat-panel');
  if (open) {
    chat.markRead();
    $('chat-input').focus();
  }
}

async function loadRoomInfo() {
  if (!app.room) return;
  const info = await fetchRoomInfo(app.room);
  if (info && !info.missing) {
    app.roomInfo = info;
    renderRoomTitle();
    renderRoomInfo(info);
  }
}

function renderRoomTitle() {
  const title = app.roomInfo?.title || '';
  $('room-title').textContent = title;
  document.title = title ? `${title} · Haven` : 'Haven meeting';
}

// ---------------------------------------------------------------------------------------
// Start

async function init() {
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
  $('leave-button').addEventListener('click', leave);
  $('waiting-leave-button').addEventListener('click', leave);
  $('hand-button').addEventListener('click', toggleHand);
  $('chat-button').addEventListener('click', toggleChat);
  $('staff-button').addEventListener('click', () => togglePanel('staff-button', 'staff-panel'));
  $('react-button').addEventListener('click', () => {
    const open = $('react-button').getAttribute('aria-pressed') !== 'true';
    $('react-button').setAttribute('aria-pressed', String(open));
    $('reactions').classList.toggle('is-open', open);
  });
  const networkChanged = () => {
    // A network change: retry at once rather than waiting for the next attempt.
    if (app.state === 'connecting' && app.reconnecting) {
      clearTimeout(app.reconnectTimer);
      connect();
    } else if (app.state === 'joined') {
      // The socket may have survived while the media path did not: restart ICE.
      app.peer?.networkChanged();
    }
  };
  window.addEventListener('online', networkChanged);
  navigator.connection?.addEventListener?.('change', networkChanged);
  watchSpeakers(
    () => (app.state === 'joined' ? app.peer?.pc ?? null : null),
    () => app.streams,
    (id) => grid.setSpeaking(id),
  );
  for (const button of document.querySelectorAll('[data-reaction]')) {
    button.addEventListener('click', () => send({ type: 'react', reaction: button.dataset.reaction }));
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
  setState('join');
  $('name-input').focus();
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

// A small, read-only window into the page for the browser tests, only where they ask for it
// before the page loads (tests/browser/lib/browsers.js): a production page exposes nothing.
if (window.__havenTestHooks === true) window.haven = {
  get state() {
    return app.state;
  },
  get pc() {
    return app.peer?.pc ?? null;
  },
  get you() {
    return app.you ? { ...app.you } : null;
  },
  get room() {
    return app.room;
  },
  get participants() {
    return [...app.participants.values()].map((p) => ({ ...p }));
  },
  get media() {
    return { ...app.want };
  },
  /** The open local tracks: which track and which device, to see a device being reopened. */
  get localTracks() {
    const about = (t) => (t ? { id: t.id, deviceId: t.getSettings?.().deviceId ?? '' } : null);
    return { audio: about(local.tracks.audio), video: about(local.tracks.video) };
  },
  get roomInfo() {
    return app.roomInfo ? { ...app.roomInfo } : null;
  },
  get queue() {
    return queue.queue.map((e) => ({ ...e }));
  },
  /** Staff: who waits, and this meeting's bans, as the server last said. */
  get waiting() {
    return app.waiting.map((w) => ({ ...w }));
  },
  get bans() {
    return app.bans.map((b) => ({ ...b }));
  },
  get floor() {
    return queue.floor ? { ...queue.floor } : null;
  },
  /** Remote streams: whose (participant id) and which track ids, to read getStats by person. */
  get streams() {
    return [...app.streams].map(([id, stream]) => ({
      id,
      tracks: stream.getTracks().map((t) => ({ id: t.id, kind: t.kind })),
    }));
  },
  get trace() {
    return app.trace.slice();
  },
  /** Resolves when every queued mic/camera change is done. */
  settled() {
    return app.mediaChain;
  },
  /** "Sound only", the link as shown, the tiles shown paused, and the tile report now. */
  get reception() {
    return { soundOnly: reception.soundOnly, link: reception.link, paused: reception.paused, tiles: reception.tiles() };
  },
  /** Hands the page a message as if the server had sent it (a `reception`, say). */
  deliver(msg) {
    return handleMessage(msg);
  },
};

init();
