// Server messages, handled strictly in order (see signaling.js): each handler updates the
// state (state.js), then asks the views to show it (views.js). One way only: a view never
// changes the state, and nothing here builds DOM.

import { announce } from '../announce.js';
import { isStaffRole } from '../facilitator.js';
import { REACTIONS } from '../grid.js';
import { t } from '../i18n.js';
import { screenFor, sentenceFor } from '../messages.js';
import { KINDS, PeerSession } from '../peer.js';
import { e2ee, openChat, peerHooks, protectTrack, refuseForRoom } from './e2ee.js';
import { forceOff, local, renderSelf, sendMediaState } from './media.js';
import { screenEnded, screenJoined, screenOwner, screenPermission, screenRefused, screenStarted, screenTrack } from './screen.js';
import { endSession, loadRoomInfo, scheduleReconnect, sendJoin, waitForOpening } from './session.js';
import { app, isStaff, storeToken } from './state.js';
import {
  chat,
  grid,
  queue,
  readings,
  reception,
  renderLayout,
  renderParticipant,
  renderPeople,
  renderRoles,
  renderE2ee,
  renderRoomState,
  renderRoomTitle,
  renderWaitingMessage,
  setState,
  showAgreementError,
  showNameError,
  showProblem,
  staff,
} from './views.js';

/** What an ICE restart (web/js/peer.js) tells the person. */
const RESTART_WORDS = {
  interrupted: 'restart.interrupted',
  network: 'restart.network',
  recovered: 'restart.recovered',
};

export async function handleMessage(msg) {
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
      app.queue = Array.isArray(msg.queue) ? msg.queue : [];
      queue.setQueue(msg.queue);
      // Its next people come first on the grid's pages.
      return renderLayout();
    case 'floor_given':
      return queue.setFloor(msg.floor);
    case 'floor_taken':
      return onFloorTaken(msg.id, msg.reason);
    case 'timer_extended':
      return queue.extend(msg.floor);
    case 'timer_warning':
      return queue.warning(msg.id, msg.seconds_left);
    case 'timer_expired':
      return queue.timeUp(msg.id);
    case 'room_updated':
      return onRoomUpdated(msg.room);
    case 'settings_saved':
      return announce(t('staff.settingsKept'), { visible: true });
    case 'waiting_list':
      app.waiting = msg.waiting;
      return staff.setWaiting(msg.waiting);
    case 'ban_list':
      app.bans = msg.bans;
      return staff.setBans(msg.bans);
    case 'muted':
      announce(msg.by === TIMER ? t('share.micOffTimer') : t('meeting.mutedByFacilitator'), { visible: true });
      return forceOff('audio');
    case 'camera_stopped':
      announce(t('meeting.cameraStopped'), { visible: true });
      return forceOff('video');
    case 'chat':
      // Encrypted meetings: opened first (handlers run in order, so the thread keeps its order).
      return e2ee.key ? openChat(msg.message).then((m) => chat.add(m)) : chat.add(msg.message);
    case 'chat_deleted':
      return chat.remove(msg.id);
    case 'private_message':
      return e2ee.key ? openChat(msg.message).then((m) => chat.private(m)) : chat.private(msg.message);
    case 'check_in_requested':
      return chat.checkIn(msg.id, msg.name);
    case 'reaction':
      return onReaction(msg.id, msg.reaction);
    case 'reading_saved':
      return onReadingSaved(msg.reading);
    case 'reading_removed':
      app.readings.list = app.readings.list.filter((r) => r.id !== msg.id);
      return readings.listChanged();
    case 'reading_shown':
      return onReadingShown(msg.shown);
    case 'reading_stopped':
      return onReadingStopped();
    case 'reception':
      return reception.handleReception(msg);
    case 'camera_layers':
      return app.peer?.setCameraLayers(msg.active);
    case 'screen_share_started':
      return screenStarted(msg.id);
    case 'screen_share_ended':
      return screenEnded(msg.id, msg.reason);
    case 'screen_share_permission':
      return screenPermission(!!msg.allowed);
    case 'answer':
      return app.peer?.handleAnswer(msg.sdp);
    case 'offer':
      return app.peer?.handleOffer(msg.sdp);
    case 'closed':
      return onClosed(msg);
    case 'error':
      return onError(msg);
    default:
      // Newer servers may say more than this client understands.
      console.debug('haven: ignoring message', msg.type);
      return undefined;
  }
}

/** `muted.by` when the share timer ended a share with auto-mute on (docs/protocol.md). */
const TIMER = 'the share timer';


/**
 * A share ended. The room turns a member's mic off with it (the `participant_updated` that
 * follows switches it off here): say so kindly. When the timer ended it, `muted` follows and
 * says it (share.micOffTimer).
 */
function onFloorTaken(id, reason) {
  const micGoesOff = !!app.you && id === app.you.id && !isStaff() && app.want.audio;
  queue.taken(id, reason, { quiet: micGoesOff });
  if (micGoesOff && reason !== 'time_up') announce(t('share.micOff'), { visible: true });
}

function onClosed(msg) {
  if (msg.code === 'connection_lost' && app.resumeKey) {
    // The media connection timed out; the server keeps our place: come back by ourselves.
    announce(t('meeting.reconnecting'), { visible: true });
    endSession({ keepMedia: true });
    scheduleReconnect();
    return;
  }
  app.resumeKey = null;
  // Banned from the waiting room: never in the meeting, so not "removed".
  const code = msg.code === 'banned' && app.state === 'waiting' ? 'banned_while_waiting' : msg.code;
  endSession();
  showProblem(screenFor(code, msg.message));
}

function onWaiting(msg) {
  if (app.state !== 'connecting') return;
  storeToken(msg.token);
  app.resumeKey = msg.resume_key ?? null;
  // The server's `message` is English; the waiting screen says it in the person's words.
  renderWaitingMessage(t('waiting.welcome'));
  setState('waiting');
  announce(t('waiting.announce'));
}

async function onJoined(msg) {
  if (app.state !== 'connecting' && app.state !== 'waiting') return;
  // An encrypted meeting and a link without its key, or with a key older than the meeting's
  // newest links (the join screen did not know in time): out at once, before any media, back
  // to the join screen and its refusal. A member already in keeps their place on a resume:
  // links changed during the meeting turn away arrivals, not those present.
  if (!app.reconnecting && refuseForRoom(msg.room)) {
    app.sig?.send({ type: 'leave' });
    endSession();
    app.roomInfo = msg.room;
    setState('join');
    renderE2ee();
    return;
  }
  storeToken(msg.token);
  app.resumeKey = msg.resume_key ?? null;
  if (app.reconnecting) announce(t('meeting.back'), { visible: true });
  app.reconnecting = 0;
  app.you = { ...msg.you };
  if (msg.room) app.roomInfo = msg.room;
  // The chat cap follows the room's own `e2ee` (meeting/e2ee.js chatMaxLength).
  renderE2ee();
  app.standing = !!msg.standing;
  app.participants = new Map(msg.participants.map((p) => [p.id, { ...p }]));
  app.waiting = Array.isArray(msg.waiting) ? msg.waiting : [];
  app.bans = Array.isArray(msg.bans) ? msg.bans : [];
  renderRoomTitle();
  setState('joined');
  app.queue = Array.isArray(msg.queue) ? msg.queue : [];
  queue.reset(msg.queue ?? [], msg.floor ?? null);
  chat.reset(e2ee.key ? await Promise.all((msg.chat ?? []).map(openChat)) : msg.chat ?? []);
  app.readings = { list: msg.readings ?? [], shown: msg.shown_reading ?? null };
  readings.reset();
  renderRoles();
  if (isStaff()) staff.setWaiting(app.waiting);
  staff.setBans(isStaff() ? app.bans : []);
  renderRoomState();

  grid.clear();
  renderSelf();
  for (const p of app.participants.values()) grid.upsert(p);
  // Someone's screen on already: shown large (this renders the layout again, with
  // everyone's tile in, as speaker view kept from last time (prefs.js) needs them).
  screenJoined(msg.screen_share);
  // Sound only and the tile sizes, said again to every session (the server may have forgotten).
  reception.start();
  const others = app.participants.size;
  announce(others === 0 ? t('meeting.inAlone') : t('meeting.inWith', { count: others }));

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
      if (app.peer === peer && RESTART_WORDS[phase]) announce(t(RESTART_WORDS[phase]), { visible: true });
    },
    // An encrypted meeting (meeting/e2ee.js): transforms on every sender, no RED.
    encrypt: peerHooks(app.you.id),
  });
  app.peer = peer;
  // Senders carry whatever is on right now; a device switched on later is put on its sender
  // by applyMedia(). A fresh join answers the server's first offer, which follows `joined`;
  // after a resume this new peer connection offers itself.
  const tracks = { audio: local.tracks.audio, video: local.tracks.video, screen: null };
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
  renderParticipant(participant);
  if (isNew && !known) announce(t('meeting.joined', { name: participant.name }));
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
        ? t('meeting.promoted')
        : t('meeting.demoted'),
      { visible: true },
    );
    renderRoles();
  }
  if (before?.muted_by_facilitator && !participant.muted_by_facilitator && !participant.has_floor) {
    announce(t('meeting.speakAgain'), { visible: true });
  } else if (before && !before.may_unmute && participant.may_unmute && !participant.audio && !app.you.has_floor) {
    announce(t('meeting.mayUnmuteNow'));
  }
  renderSelf();
}

/** The loudest voice now (speaker.js), or none: highlighted, and held large in speaker view. */
export function handleSpeaker(id) {
  app.speaking = id;
  if (id) app.lastSpeaker = id;
  grid.setSpeaking(id);
  renderLayout();
}

function onParticipantLeft(id, reason) {
  const participant = app.participants.get(id);
  app.participants.delete(id);
  app.streams.delete(id);
  if (app.view.pinned === id) app.view.pinned = null;
  if (app.lastSpeaker === id) app.lastSpeaker = null;
  grid.remove(id);
  if (participant) announce(t(reason === 'removed' ? 'meeting.wasRemoved' : 'meeting.left', { name: participant.name }));
  renderPeople();
}

/** Restore turns no one's mic or camera back on: members are told they may. */
function restoredSentence(room) {
  if (isStaff()) return t('room.restored');
  return room.members_may_unmute ? t('room.restoredMayUnmute') : t('room.restoredRaiseHand');
}

function onRoomUpdated(room) {
  const before = app.roomInfo;
  app.roomInfo = room;
  renderRoomTitle();
  renderRoomState();
  if (!before) return;
  if (before.locked !== room.locked) announce(room.locked ? t('room.locked') : t('room.unlocked'));
  if (before.suspended !== room.suspended) {
    announce(room.suspended ? t('room.paused') : restoredSentence(room), { visible: true });
  }
  if (before.chat_enabled !== room.chat_enabled) announce(room.chat_enabled ? t('room.chatOn') : t('room.chatOff'));
  if (before.share_earlier_chat !== room.share_earlier_chat) {
    // It changes who may read what members already wrote: say it where everyone sees it.
    announce(
      room.share_earlier_chat
        ? t('room.shareChatOn')
        : t('room.shareChatOff'),
      { visible: true },
    );
  }
  if (before.members_may_unmute !== room.members_may_unmute && !isStaff()) {
    announce(room.members_may_unmute ? t('room.mayUnmute') : t('room.onlySharerUnmutes'));
  }
}

/** Added, or edited in place. */
function onReadingSaved(reading) {
  const list = app.readings.list;
  const at = list.findIndex((r) => r.id === reading.id);
  if (at === -1) list.push(reading);
  else list[at] = reading;
  readings.listChanged();
}

function onReadingShown(shown) {
  const before = app.readings.shown;
  app.readings.shown = shown;
  readings.shownChanged(before);
}

function onReadingStopped() {
  const before = app.readings.shown;
  app.readings.shown = null;
  readings.stopped(before);
}

function onReaction(id, reaction) {
  const who = app.you && id === app.you.id ? t('chat.you') : app.participants.get(id)?.name;
  grid.react(id, reaction);
  const words = reaction in REACTIONS ? t(`reactions.words.${reaction}`) : reaction;
  if (who) announce(t('reactions.announce', { name: who, reaction: words }));
}

function onTrack(event) {
  const [stream] = event.streams;
  if (!stream) {
    console.warn('haven: a remote track came without a stream id; cannot tell whose it is');
    return;
  }
  // Before the track is played: its frames are decrypted as this participant's (a screen's
  // stream id is `screen-<id>`: its publisher's too).
  protectTrack(event, screenOwner(stream.id) ?? stream.id);
  if (screenTrack(stream)) return;
  app.streams.set(stream.id, stream);
  grid.attach(stream.id, stream, { reload: true });
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
    return undefined;
  }
  if (app.state === 'connecting' || app.state === 'waiting') {
    // Only `join` can fail before `joined`.
    endSession();
    if (msg.code === 'invalid_name' || msg.code === 'name_taken_by_staff') {
      setState('join');
      showNameError(sentenceFor(msg.code, msg.message));
    } else if (msg.code === 'meeting_closed') {
      // A scheduled meeting not open yet: stay on the join screen, name kept, and come in
      // by ourselves when it opens.
      setState('join');
      waitForOpening(msg.opens_at ? new Date(msg.opens_at) : null);
    } else if (msg.code === 'guidelines_not_accepted') {
      showAgreementError(undefined, loadRoomInfo);
    } else {
      showProblem(screenFor(msg.code, msg.message));
    }
    return undefined;
  }
  for (const kind of REFUSED_KIND[msg.code] ?? []) {
    if (app.pending[kind] || app.want[kind]) forceOff(kind);
  }
  screenRefused(msg.code);
  announce(sentenceFor(msg.code, msg.message), { visible: true });
  return undefined;
}

export function handleSocketClose({ byUs }) {
  if (byUs) return;
  if (app.state === 'joined' || app.state === 'waiting' || (app.state === 'connecting' && app.reconnecting)) {
    // Dropped without a `closed` message: the network, not a decision. Come back by ourselves.
    if (app.state === 'joined') announce(t('meeting.reconnecting'), { visible: true });
    endSession({ keepMedia: true });
    scheduleReconnect();
    return;
  }
  if (app.state === 'connecting') {
    endSession();
    showProblem(screenFor('connection_lost'));
  }
}

export function handleFailure(err, msg) {
  console.error('haven: handling', msg?.type, 'failed:', err);
  if (msg?.type === 'offer' || msg?.type === 'answer') {
    announce(sentenceFor('bad_sdp'), { visible: true });
  }
}
