// The meeting page: join screen → meeting → left / problem screens. This module owns the
// page's state and wires the signaling socket, the peer connection, local media and the grid
// together; each of those knows nothing of the others.

import { announce } from './announce.js';
import { Grid } from './grid.js';
import { LocalMedia, mediaErrorText } from './local-media.js';
import { screenFor, sentenceFor } from './messages.js';
import { KINDS, PeerSession } from './peer.js';
import { Signaling } from './signaling.js';

const MAX_NAME_CHARS = 32;
const SCREENS = ['join', 'connecting', 'meeting', 'left', 'problem'];
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
  /** join | connecting | joined | left | problem */
  state: 'join',
  room: roomFromPath(window.location.pathname),
  key: keyFromHash(window.location.hash),
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
  /** Device changes run one at a time, in click order. */
  mediaChain: Promise.resolve(),
  requestSeq: 0,
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
  show(state === 'joined' ? 'meeting' : state);
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
  app.name = checked.name;
  setState('connecting');

  const sig = new Signaling({
    onMessage: (msg) => (app.sig === sig ? handleMessage(msg) : undefined),
    onClose: (info) => (app.sig === sig ? handleSocketClose(info) : undefined),
    onHandlerError: (err, msg) => handleFailure(err, msg),
    onTrace: (dir, msg) => {
      app.trace.push({ dir, type: msg.type, ...(msg.code ? { code: msg.code } : {}) });
      if (app.trace.length > 500) app.trace.shift();
    },
  });
  app.sig = sig;
  try {
    await sig.connect();
  } catch (err) {
    console.warn('haven:', err.message);
    if (app.sig === sig) {
      endSession();
      showProblem(screenFor('cannot_connect'));
    }
    return;
  }
  if (app.sig !== sig) return;
  const request = {
    type: 'join',
    room: app.room,
    name: app.name,
    request_id: String(++app.requestSeq),
  };
  if (app.key) request.key = app.key;
  sig.send(request);
}

function leave() {
  if (app.state !== 'joined' && app.state !== 'connecting') return;
  app.sig?.send({ type: 'leave' });
  endSession();
  setState('left');
  announce('You left the meeting.');
}

/** Closes the socket and the peer connection and turns the devices off. */
function endSession() {
  const { sig, peer } = app;
  app.sig = null;
  app.peer = null;
  peer?.close();
  sig?.close();
  grid.clear();
  app.participants.clear();
  app.streams.clear();
  app.you = null;
  $('sound-button').hidden = true;
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
    case 'participant_joined':
      return onParticipant(msg.participant, true);
    case 'participant_updated':
      return onParticipant(msg.participant, false);
    case 'participant_left':
      return onParticipantLeft(msg.id);
    case 'answer':
      return app.peer?.handleAnswer(msg.sdp);
    case 'offer':
      return app.peer?.handleOffer(msg.sdp);
    case 'closed':
      endSession();
      showProblem(screenFor(msg.code, msg.message));
      return undefined;
    case 'error':
      return onError(msg);
    default:
      // Newer servers may say more than this client understands.
      console.debug('haven: ignoring message', msg.type);
      return undefined;
  }
}

async function onJoined(msg) {
  if (app.state !== 'connecting') return;
  app.you = { ...msg.you };
  app.roomInfo = msg.room;
  app.participants = new Map(msg.participants.map((p) => [p.id, { ...p }]));
  renderRoomTitle();
  setState('joined');

  grid.clear();
  renderSelf();
  for (const p of app.participants.values()) grid.upsert(p);
  const others = app.participants.size;
  announce(
    others === 0
      ? "You're in the meeting. No one else is here yet."
      : `You're in the meeting. ${others === 1 ? '1 other person is' : `${others} other people are`} here.`,
  );

  const peer = new PeerSession({
    send: (m) => app.sig?.send(m) ?? false,
    iceServers: Array.isArray(msg.ice_servers) ? msg.ice_servers : [],
    onTrack,
    onConnectionState: (state) => {
      if (app.peer !== peer) return;
      document.body.dataset.media = state;
      if (state === 'failed') {
        announce('The sound and video connection failed. Try leaving and joining again.', { visible: true });
      }
    },
  });
  app.peer = peer;
  // The transceivers are created synchronously here with whatever is on right now; a device
  // switched on later is put on its sender by applyMedia().
  await peer.start({ audio: local.tracks.audio, video: local.tracks.video }, local.stream);
  sendMediaState();
}

function onParticipant(participant, isNew) {
  if (app.you && participant.id === app.you.id) {
    app.you = { ...participant };
    return;
  }
  const known = app.participants.has(participant.id);
  app.participants.set(participant.id, { ...participant });
  grid.upsert(participant);
  const stream = app.streams.get(participant.id);
  if (stream) grid.attach(participant.id, stream);
  if (isNew && !known) announce(`${participant.name} joined.`);
}

function onParticipantLeft(id) {
  const participant = app.participants.get(id);
  app.participants.delete(id);
  app.streams.delete(id);
  grid.remove(id);
  if (participant) announce(`${participant.name} left.`);
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

function onError(msg) {
  console.warn('haven: server error', msg.code, msg.message);
  if (app.state === 'connecting') {
    // Only `join` can fail before `joined`.
    endSession();
    if (msg.code === 'invalid_name') {
      setState('join');
      showNameError(msg.message || sentenceFor(msg.code));
    } else {
      showProblem(screenFor(msg.code, msg.message));
    }
    return;
  }
  announce(sentenceFor(msg.code, msg.message), { visible: true });
}

function handleSocketClose({ byUs }) {
  if (byUs) return;
  if (app.state === 'joined' || app.state === 'connecting') {
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

function toggle(kind) {
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
  // Never renegotiate: the sender exists since the first offer; only its track changes.
  await app.peer?.replaceTrack(kind, on ? local.tracks[kind] : null);
  if (!on) local.disable(kind);
  renderMedia();
  sendMediaState();
}

function sendMediaState() {
  if (app.state !== 'joined' || !app.sig) return;
  app.sig.send({ type: 'media_state', audio: app.want.audio, video: app.want.video });
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
  grid.upsert(
    { id: app.you.id, name: app.you.name, audio: app.want.audio, video: app.want.video },
    { self: true },
  );
  const track = local.tracks.video;
  grid.attach(app.you.id, track ? new MediaStream([track]) : null);
}

function renderRoomTitle() {
  const title = app.roomInfo?.title || '';
  $('room-title').textContent = title;
  document.title = title ? `${title} · Haven` : 'Haven meeting';
}

// ---------------------------------------------------------------------------------------
// Start

function init() {
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
  setState('join');
  $('name-input').focus();
}

// A small, read-only window into the page for the browser tests.
window.haven = {
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
};

init();
