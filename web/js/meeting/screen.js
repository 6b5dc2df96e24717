// Screen share on the meeting page (docs/protocol.md, "Screen share"): my own share (the
// display capture, the screen's sender, asking to start and stop) and whose screen the room
// shows now. The server decides who may share and forwards a screen only while its share is
// on; this asks, and shows what the server says.
//
// The capture goes on the screen's sender only once the server's `screen_share_started`
// names me: nothing is uploaded that the SFU would drop (a refused start sends no frame),
// and the first frame the others get is the encoder's first keyframe.
//
// Shared sound: off unless chosen on the page ("Include sound", before sharing); only then is
// the picker asked for sound, and the person may still leave it out there (Chromium offers a
// tab's sound, and the system's on some systems). Firefox captures no display sound and is
// not offered the choice (state.js canShareScreenSound). Sound chosen is mixed into my
// microphone's sender (media.js shareSound) from the same moment as the picture: heard only
// while I am, muted by the same mute.

import { announce } from '../announce.js';
import { t } from '../i18n.js';
import { sentenceFor } from '../messages.js';
import { shareSound } from './media.js';
import { app, canCaptureScreen, canShareScreenSound, isStaff, send } from './state.js';
import { grid, renderLayout, renderPeople, renderScreenShare } from './views.js';

/** A shared screen's stream id is `screen-<publisher id>` (a camera's and mic's: the id itself). */
const SCREEN_PREFIX = 'screen-';

/** The publisher of a screen stream, or null for a camera or mic stream. */
export const screenOwner = (streamId) => (streamId.startsWith(SCREEN_PREFIX) ? streamId.slice(SCREEN_PREFIX.length) : null);

/**
 * What the picker is asked for: a screen, and with "Include sound" its sound, unprocessed (a
 * voice's echo cancelling, noise suppression and gain control spoil music and videos).
 * Without it, no sound at all: the picker offers none.
 */
const CAPTURE = { video: true, audio: false };
const CAPTURE_WITH_SOUND = {
  video: true,
  audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  systemAudio: 'include',
};

/** "Include sound" pressed: the next share asks for its sound (or no longer does). */
export function toggleScreenSound() {
  if (!canShareScreenSound()) return;
  app.screen.withSound = !app.screen.withSound;
  announce(t(app.screen.withSound ? 'screenShare.includeSoundOn' : 'screenShare.includeSoundOff'));
  renderScreenShare();
}

/** Refusals of `start_screen_share`: the capture just opened is closed again. */
const START_REFUSALS = new Set(['screen_share_not_allowed', 'screen_share_busy', 'room_suspended', 'rate_limited']);

const nameOf = (id) => app.participants.get(id)?.name ?? '';
const mine = (id) => !!app.you && id === app.you.id;

/** "Share screen": the browser's picker, then `start_screen_share`. Must run in the click. */
export async function startScreenShare() {
  if (app.state !== 'joined' || app.screen.track || !canCaptureScreen()) return;
  // Said here without opening the picker; the server would refuse it anyway.
  const busy = app.screen.sharer && !mine(app.screen.sharer);
  if (busy || (app.roomInfo?.suspended && !isStaff())) {
    announce(sentenceFor(busy ? 'screen_share_busy' : 'room_suspended'), { visible: true });
    return;
  }
  // As chosen at the click (the toggle may change while the picker is open).
  const withSound = app.screen.withSound && canShareScreenSound();
  let stream;
  try {
    stream = await capture(withSound);
  } catch (err) {
    console.warn('haven: getDisplayMedia', err?.name);
    // Cancelling the browser's picker is a choice, said quietly; anything else is shown.
    const cancelled = err?.name === 'NotAllowedError' || err?.name === 'AbortError';
    announce(t(cancelled ? 'screenShare.cancelled' : 'screenShare.failed'), { visible: !cancelled });
    return;
  }
  const [track] = stream.getVideoTracks();
  // A sound not asked for is never shared, whatever the browser hands over.
  const [sound = null] = track && withSound ? stream.getAudioTracks() : [];
  for (const extra of stream.getTracks()) if (extra !== track && extra !== sound) extra.stop();
  if (!track) return;
  if (app.state !== 'joined' || app.screen.track) {
    track.stop();
    sound?.stop();
    return;
  }
  // Text and lines over motion: the encoder keeps edges sharp.
  if ('contentHint' in track) track.contentHint = 'detail';
  // The browser's own "Stop sharing" ends the track.
  track.addEventListener('ended', () => {
    if (app.screen.track === track) stopScreenShare();
  });
  sound?.addEventListener('ended', () => {
    if (app.screen.sound === sound) stopSound();
  });
  app.screen.track = track;
  app.screen.sound = sound;
  app.screen.starting = true;
  if (!send({ type: 'start_screen_share' })) dropCapture();
  renderScreenShare();
}

/**
 * The picker (called within the click: its user activation). A browser that takes none of
 * the sound constraints (TypeError, before any picker) is asked for the picture alone.
 */
async function capture(withSound) {
  try {
    return await navigator.mediaDevices.getDisplayMedia(withSound ? CAPTURE_WITH_SOUND : CAPTURE);
  } catch (err) {
    if (err?.name !== 'TypeError') throw err;
    return navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  }
}

/** "Stop sound": the share goes on without its sound; my microphone's sender carries the mic alone. */
export function stopSound() {
  const sound = app.screen.sound;
  if (!sound) return;
  app.screen.sound = null;
  sound.stop();
  shareSound(null);
  announce(t('screenShare.sound.stopped'));
  renderScreenShare();
}

/** "Stop sharing" (or the browser's own stop): the server is told, the capture closed. */
export function stopScreenShare() {
  const asked = app.screen.starting || mine(app.screen.sharer);
  dropCapture();
  if (asked) send({ type: 'stop_screen_share' });
  renderScreenShare();
}

/** Closes my capture and takes it off its sender; the server is not told. */
export function dropCapture() {
  const track = app.screen.track;
  const sound = app.screen.sound;
  app.screen.track = null;
  app.screen.sound = null;
  app.screen.starting = false;
  if (sound) {
    sound.stop();
    shareSound(null);
  }
  if (!track) return;
  track.stop();
  app.peer?.replaceTrack('screen', null).catch((err) => console.warn('haven: screen sender', err?.name));
}

/** `joined`: whose screen is on now (`joined.screen_share`; never mine, see session.js endSession). */
export function screenJoined(sharer) {
  app.screen.sharer = sharer ?? null;
  grid.setScreen(app.screen.sharer && !mine(app.screen.sharer) ? screenTile(app.screen.sharer) : null);
  attachScreen();
  renderScreenShare();
  renderLayout();
}

/** `screen_share_started`: someone's screen is on, mine included. */
export async function screenStarted(id) {
  app.screen.sharer = id;
  if (mine(id)) {
    app.screen.starting = false;
    if (!app.screen.track) {
      // Started by an earlier click whose capture is gone (stopped meanwhile): end it.
      send({ type: 'stop_screen_share' });
    } else {
      await app.peer?.replaceTrack('screen', app.screen.track);
      // A sound that could not be mixed is closed: the bar never says "Sharing sound" for nothing.
      const sound = app.screen.sound;
      if (sound && !(await shareSound(sound)) && app.screen.sound === sound) {
        sound.stop();
        app.screen.sound = null;
      }
      announce(t(app.screen.sound ? 'screenShare.youStartedSound' : 'screenShare.youStarted'));
    }
  } else {
    grid.setScreen(screenTile(id));
    attachScreen();
    announce(t('screenShare.started', { name: nameOf(id) }));
  }
  renderScreenShare();
  renderPeople();
}

/** `screen_share_ended`: back to the grid; my capture closes whoever ended it. */
export function screenEnded(id, reason) {
  if (app.screen.sharer === id) app.screen.sharer = null;
  app.streams.delete(`${SCREEN_PREFIX}${id}`);
  if (mine(id)) {
    dropCapture();
    const key = `screenShare.endedYou.${reason}`;
    announce(t(ENDED_YOU.has(reason) ? key : 'screenShare.endedYou.stopped'), { visible: reason !== 'stopped' });
  } else {
    grid.setScreen(null);
    // Someone who left or was removed is announced as such already.
    if (reason !== 'left' && reason !== 'removed') announce(t('screenShare.stopped', { name: nameOf(id) }));
  }
  renderScreenShare();
  renderPeople();
}

/** Why my share ended, each said in its own words (`screenShare.endedYou.<reason>`). */
const ENDED_YOU = new Set(['stopped', 'ended_by_staff', 'revoked', 'suspended', 'dropped']);

/** `screen_share_permission`: staff let me share, or took it back. */
export function screenPermission(allowed) {
  announce(t(allowed ? 'screenShare.allowed' : 'screenShare.revoked'), { visible: true });
  renderScreenShare();
}

/** A refusal of my `start_screen_share` closes the capture (the caller says the error's words). */
export function screenRefused(code) {
  if (!app.screen.starting || !START_REFUSALS.has(code)) return;
  dropCapture();
  renderScreenShare();
}

/** A remote track came: a screen's is played in the screen tile (while that share is on). */
export function screenTrack(stream) {
  const owner = screenOwner(stream.id);
  if (!owner) return false;
  app.streams.set(stream.id, stream);
  if (owner === app.screen.sharer) attachScreen();
  return true;
}

function attachScreen() {
  const id = app.screen.sharer;
  if (!id || mine(id)) return;
  grid.attachScreen(app.streams.get(`${SCREEN_PREFIX}${id}`) ?? null);
}

function screenTile(id) {
  const name = nameOf(id);
  return {
    id: `${SCREEN_PREFIX}${id}`,
    label: t('screenShare.tileLabel', { name }),
    waiting: t('screenShare.waiting', { name }),
    soundOnly: t('screenShare.soundOnly', { name }),
  };
}
