// The person's own microphone and camera: switching them on and off one change at a time,
// telling the server, and switching them off when the server says they are off.

import { announce } from '../announce.js';
import { refreshDevices } from '../join-screen.js';
import { LocalMedia, mediaErrorText } from '../local-media.js';
import { sentenceFor } from '../messages.js';
import { KINDS } from '../peer.js';
import { app, heldMuted } from './state.js';
import { renderMedia as renderMediaView, renderSelf as renderSelfView } from './views.js';

export const local = new LocalMedia((kind) => {
  announce(`Your ${kind === 'audio' ? 'microphone' : 'camera'} stopped.`, { visible: true });
  enqueueMedia(() => applyMedia(kind, false));
});

export const renderMedia = () => renderMediaView(local.tracks);
export const renderSelf = () => renderSelfView(local.tracks);

export function enqueueMedia(step) {
  app.mediaChain = app.mediaChain.then(step).catch((err) => console.error('haven: media', err));
  return app.mediaChain;
}

export function toggle(kind) {
  if (kind === 'audio' && !app.want.audio && heldMuted()) {
    // The server would refuse it: say why instead of opening the microphone for nothing.
    announce(sentenceFor('muted_by_facilitator'), { visible: true });
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
export function sendMediaState(kinds = KINDS) {
  if (app.state !== 'joined' || !app.sig) return;
  for (const kind of kinds) {
    app.pending[kind] = app.want[kind] && !app.you?.[kind];
    app.sig.send({ type: 'media_state', [kind]: app.want[kind] });
  }
}

/** A different microphone or camera was picked: reopen it if it is on. */
export function chooseDevice(kind, deviceId) {
  local.deviceIds[kind] = deviceId;
  return enqueueMedia(async () => {
    if (!app.want[kind]) return;
    local.disable(kind);
    await applyMedia(kind, true);
  });
}

/** Switches a device off because the server says it is off (mute, stop camera, refusal). */
export function forceOff(kind) {
  app.pending[kind] = false;
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
