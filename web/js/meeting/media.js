// The person's own microphone and camera: switching them on and off one change at a time,
// telling the server, and switching them off when the server says they are off.
//
// In the meeting a microphone once switched on stays open when muted, with nothing on its
// sender (nothing is sent, and the server drops audio of a muted person anyway): unmuting is
// instant, and the page can tell the person they are talking while muted (mic.js). A
// microphone the person never switched on is never opened; leaving closes everything.

import { announce } from '../announce.js';
import { listDevices, rememberDevice, storedDevices } from '../devices.js';
import { t } from '../i18n.js';
import { LocalMedia, mediaErrorText } from '../local-media.js';
import { sentenceFor } from '../messages.js';
import { KINDS } from '../peer.js';
import { micFailed, watchMic } from './mic.js';
import { SoundMix } from './sound-mix.js';
import { app, MIC_REFUSAL_CODE, micRefusal } from './state.js';
import { grid, renderMedia as renderMediaView, renderSelf as renderSelfView } from './views.js';


/** The devices chosen in an earlier meeting are the ones opened (the default if they are gone). */
export const local = new LocalMedia((kind) => enqueueMedia(() => deviceLost(kind)), storedDevices());
grid.setSink(storedDevices().output ?? '').catch(() => {});

/** Fills the device lists, the devices in use selected; resolves to the lists (or null). */
export const refreshDevices = () => listDevices({ ...local.deviceIds, output: grid.sink });

export const renderMedia = () => {
  watchMic(local.tracks.audio);
  renderMediaView(local.tracks);
};
export const renderSelf = () => renderSelfView(local.tracks);

/** My shared screen's sound mixed into my microphone's sender (sound-mix.js), while I share it. */
let soundMix = null;

/** What the sender of `kind` carries while I am heard or seen: the device, or for the mic the mix. */
const outgoing = (kind) => (kind === 'audio' && soundMix ? soundMix.track(local.tracks.audio) : local.tracks[kind]);

/**
 * My screen's sound (`track`, from getDisplayMedia) joins my microphone's sender, heard only
 * while I am (muted, the sender carries nothing); null takes it off again. In the media chain,
 * after any device change already asked for. Resolves to whether the sound is mixed in (a
 * browser that cannot mix leaves the microphone alone).
 */
export async function shareSound(track) {
  let mixed = false;
  await enqueueMedia(async () => {
    soundMix?.close();
    soundMix = null;
    try {
      soundMix = track ? new SoundMix(track) : null;
      mixed = !!soundMix;
    } catch (err) {
      console.warn('haven: screen sound not mixed', err?.name);
    }
    if (app.want.audio) await app.peer?.replaceTrack('audio', outgoing('audio'));
  });
  return mixed;
}

export function enqueueMedia(step) {
  app.mediaChain = app.mediaChain.then(step).catch((err) => console.error('haven: media', err));
  return app.mediaChain;
}

export function toggle(kind) {
  const refusal = kind === 'audio' ? micRefusal() : null;
  if (refusal) {
    // The server would refuse it: say why instead of opening the microphone for nothing.
    announce(sentenceFor(MIC_REFUSAL_CODE[refusal]), { visible: true });
    return app.mediaChain;
  }
  // The target is read inside the chain, so two quick clicks turn it on and off again.
  return enqueueMedia(() => applyMedia(kind, !app.want[kind]));
}

export async function applyMedia(kind, on) {
  if (on) {
    try {
      await local.enable(kind);
    } catch (err) {
      console.warn('haven: getUserMedia', err?.name);
      announce(mediaErrorText(kind, err), { visible: true });
      if (kind === 'audio') micFailed(mediaErrorText(kind, err));
      on = false;
    }
  }
  app.want[kind] = on;
  const devicesListed = on ? refreshDevices() : null;
  // Never renegotiate: the sender exists since the first offer; only its track changes.
  await app.peer?.replaceTrack(kind, on ? outgoing(kind) : null);
  if (!on && !(kind === 'audio' && app.state === 'joined')) local.disable(kind);
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
export function sendMediaState(kinds = KINDS) {
  if (app.state !== 'joined' || !app.sig) return;
  for (const kind of kinds) {
    app.pending[kind] = app.want[kind] && !app.you?.[kind];
    app.sig.send({ type: 'media_state', [kind]: app.want[kind] });
  }
}

/** A microphone, camera or speaker was picked (join screen or settings): used now, and next time. */
export function chooseDevice(kind, deviceId) {
  rememberDevice(kind, deviceId);
  if (kind === 'output') return enqueueMedia(() => setSpeaker(deviceId));
  return enqueueMedia(() => switchDevice(kind, deviceId));
}

/**
 * Opens device `deviceId` ('' = the default) of `kind` in place of the open one, if one is
 * open (`open`: a track that has just ended was). The new track goes on the sender only while
 * the person is heard or seen: a muted microphone stays muted (measured here, never sent),
 * and the camera keeps its simulcast layers (replaceTrack leaves the sender's encodings as
 * they are). The old track stops once the new one is on the sender, so the others lose no
 * sound or picture, or first when a device cannot be opened twice (a phone's camera). False
 * when the new device could not be opened: the person is told, and the old one, if still
 * working, stays.
 */
async function switchDevice(kind, deviceId, open = local.isOn(kind)) {
  local.deviceIds[kind] = deviceId;
  if (!open) return true;
  const old = local.detach(kind);
  try {
    try {
      await local.enable(kind);
    } catch (err) {
      if (err?.name !== 'NotReadableError' || !old) throw err;
      old.stop();
      await local.enable(kind);
    }
  } catch (err) {
    console.warn('haven: getUserMedia', err?.name);
    announce(mediaErrorText(kind, err), { visible: true });
    if (old?.readyState === 'live') local.attach(kind, old);
    else await applyMedia(kind, false);
    await refreshDevices();
    return false;
  }
  if (app.want[kind]) await app.peer?.replaceTrack(kind, outgoing(kind));
  old?.stop();
  renderMedia();
  await refreshDevices();
  return true;
}

/** The meeting's sound on speaker `deviceId` ('' = the default), or the default if refused. */
async function setSpeaker(deviceId) {
  try {
    await grid.setSink(deviceId);
  } catch (err) {
    console.warn('haven: speaker', err?.name);
    announce(t('devices.speakerRefused'), { visible: true });
    await grid.setSink('').catch(() => {});
  }
  await refreshDevices();
}

/**
 * A device in use stopped by itself (unplugged, or taken by another app): the default one
 * instead, or, when there is none, off with the reason.
 */
async function deviceLost(kind) {
  if (await switchDevice(kind, '', true)) announce(t(`devices.lost.${kind}`), { visible: true });
}

/** A device came or went (`devicechange`): the lists follow, and a device in use that went is replaced. */
export function devicesChanged() {
  return enqueueMedia(async () => {
    const lists = await refreshDevices();
    if (!lists) return;
    for (const kind of KINDS) {
      const id = local.deviceIds[kind];
      if (local.isOn(kind) && id && !lists[kind].includes(id)) await deviceLost(kind);
    }
    if (grid.sink && !lists.output.includes(grid.sink)) {
      await setSpeaker('');
      announce(t('devices.speakerLost'), { visible: true });
    }
  });
}

/** Switches a device off because the server says it is off (mute, stop camera, refusal). */
export function forceOff(kind) {
  app.pending[kind] = false;
  // Told why already (a mute, the end of a share): no "talking while muted" on top of it for a while.
  if (kind === 'audio') app.mic.hintAt = performance.now();
  return enqueueMedia(() => (app.want[kind] ? applyMedia(kind, false) : undefined));
}

/** Back to the safe default: nothing stays switched on after a meeting. */
export function allOff() {
  return enqueueMedia(async () => {
    local.stopAll();
    app.want = { audio: false, video: false };
    renderMedia();
  });
}
