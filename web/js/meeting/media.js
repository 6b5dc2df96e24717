// The person's own microphone and camera: switching them on and off one change at a time,
// telling the server, and switching them off when the server says they are off.
//
// In the meeting a microphone once switched on stays open when muted, with nothing on its
// sender (nothing is sent, and the server drops audio of a muted person anyway): unmuting is
// instant, and the page can tell the person they are talking while muted (mic.js). A
// microphone the person never switched on is never opened; leaving closes everything.

import { announce } from '../announce.js';
import { refreshDevices } from '../join-screen.js';
import { LocalMedia, mediaErrorText } from '../local-media.js';
import { sentenceFor } from '../messages.js';
import { KINDS } from '../peer.js';
import { micFailed, watchMic } from './mic.js';
import { app, MIC_REFUSAL_CODE, micRefusal } from './state.js';
import { renderMedia as renderMediaView, renderSelf as renderSelfView } from './views.js';


export const local = new LocalMedia((kind) => {
  announce(`Your ${kind === 'audio' ? 'microphone' : 'camera'} stopped.`, { visible: true });
  enqueueMedia(() => applyMedia(kind, false));
});

export const renderMedia = () => {
  watchMic(local.tracks.audio);
  renderMediaView(local.tracks);
};
export const renderSelf = () => renderSelfView(local.tracks);

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
  const devicesListed = on ? refreshDevices(local.deviceIds) : null;
  // Never renegotiate: the sender exists since the first offer; only its track changes.
  await app.peer?.replaceTrack(kind, on ? local.tracks[kind] : null);
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

/** A different microphone or camera was picked: reopen it if it is on. */
export function chooseDevice(kind, deviceId) {
  local.deviceIds[kind] = deviceId;
  return enqueueMedia(async () => {
    if (!local.isOn(kind)) return;
    local.disable(kind);
    if (app.want[kind]) {
      await applyMedia(kind, true);
      return;
    }
    // An open but muted microphone is reopened muted: measured, not sent.
    try {
      await local.enable(kind);
    } catch (err) {
      console.warn('haven: getUserMedia', err?.name);
    }
    renderMedia();
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
