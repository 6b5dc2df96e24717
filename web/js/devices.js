// Which microphone, camera and speaker to use: the browser's lists, shown in every
// `select[data-device]` (the join screen's and the meeting's settings), and the person's
// choice kept in this browser for the next meeting (in `haven.prefs`, prefs.js's `devices`).
// Only device ids are kept: the browser makes them up for this site alone, and they never
// leave the page. It knows nothing of the meeting; meeting/media.js opens the devices.

import { t } from './i18n.js';
import { pref, setPref } from './prefs.js';
/** enumerateDevices' kind for each of ours (`output`: the speaker). */
const BROWSER_KIND = { audio: 'audioinput', video: 'videoinput', output: 'audiooutput' };
const WORDS = { audio: 'devices.numbered.audio', video: 'devices.numbered.video', output: 'devices.numbered.output' };

/** Whether this browser can play the meeting on a chosen speaker (Chromium, Firefox 116+). */
export const canChooseOutput = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

/** The devices chosen in this browser before (`{audio?, video?, output?}` device ids). */
export function storedDevices() {
  return { ...pref('devices') };
}

/** Keeps `deviceId` as the device of `kind` for next time ('' forgets it). */
export function rememberDevice(kind, deviceId) {
  // Refused storage (private mode): prefs.js keeps the choice for this page only.
  const saved = storedDevices();
  if (deviceId) saved[kind] = deviceId;
  else delete saved[kind];
  setPref('devices', saved);
}

/**
 * Fills the device selects from the browser's lists; `current` marks the device in use of
 * each kind. A field shows only when its list has `data-device-min` devices (1 if not said).
 * The browser names its devices only once one was allowed: before that the lists are empty.
 * Returns the device ids of each kind, or null when the browser cannot list them.
 * @param {{audio: string, video: string, output: string}} current
 */
export async function listDevices(current) {
  if (!navigator.mediaDevices?.enumerateDevices) return null;
  let devices;
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return null;
  }
  const lists = {};
  for (const kind of Object.keys(BROWSER_KIND)) {
    const list = kind === 'output' && !canChooseOutput ? [] : devices.filter((d) => d.kind === BROWSER_KIND[kind] && d.deviceId);
    lists[kind] = list.map((d) => d.deviceId);
    for (const select of document.querySelectorAll(`select[data-device="${kind}"]`)) {
      select.replaceChildren(
        ...list.map((d, i) => Object.assign(document.createElement('option'), { value: d.deviceId, textContent: d.label || t(WORDS[kind], { n: i + 1 }) })),
      );
      // The speaker in use by default is the browser's `default` entry, when it lists one.
      const using = current[kind] || (kind === 'output' ? 'default' : '');
      if (lists[kind].includes(using)) select.value = using;
    }
    for (const field of document.querySelectorAll(`[data-device-field="${kind}"]`)) {
      field.hidden = list.length < Number(field.dataset.deviceMin ?? 1);
    }
  }
  for (const group of document.querySelectorAll('[data-device-group]')) {
    group.hidden = !group.querySelector('[data-device-field]:not([hidden])');
  }
  // "Switch your microphone or camera on to choose": only while the browser names none.
  for (const note of document.querySelectorAll('[data-devices-unlisted]')) {
    note.hidden = lists.audio.length + lists.video.length > 0;
  }
  return lists;
}
