// A microphone you can trust: the level meter (the join screen's check and the bar's Mic
// button), what the join screen concludes ("We can hear you", no sound, not allowed), and the
// "You're talking while muted" hint. Readings (mic-level.js) change the state; the views show it.

import { announce } from '../announce.js';
import { t } from '../i18n.js';
import { MicLevel } from '../mic-level.js';
import { sentenceFor } from '../messages.js';
import { app, MIC_REFUSAL_CODE, micRefusal } from './state.js';
import { renderMicCheck, renderMicLevel } from './views.js';

/** The hint comes at most this often. */
const HINT_EVERY_MS = 30_000;
/** A voice in this many of the last twenty readings (two seconds) is someone talking. */
const VOICED_NEEDED = 4;
const VOICED_WINDOW = 20;

const meter = new MicLevel(onReading);

/** Measures `track` (the open microphone, or null); a new track starts the check afresh. */
export function watchMic(track) {
  if (track !== meter.track) {
    Object.assign(app.mic, { level: 0, heard: false, silentSince: null, voiced: [] });
    if (track) app.mic.error = null;
  }
  meter.watch(track);
  app.mic.measuring = !!meter.track && !app.mic.unavailable;
  renderMicCheck();
}

/** The microphone could not be opened: the join screen says why (`text`), until it opens. */
export function micFailed(text) {
  app.mic.error = text;
  renderMicCheck();
}

function onReading(reading) {
  const mic = app.mic;
  if (!reading) {
    mic.level = 0;
    mic.voiced = [];
    renderMicLevel();
    return;
  }
  if (reading.unavailable) {
    mic.unavailable = true;
    mic.measuring = false;
    renderMicLevel();
    renderMicCheck();
    return;
  }
  const now = performance.now();
  mic.measuring = true;
  mic.unavailable = false;
  mic.level = reading.level;
  mic.voiced.push(reading.speech);
  if (mic.voiced.length > VOICED_WINDOW) mic.voiced.shift();
  if (reading.speech) mic.heard = true;
  mic.silentSince = reading.silent ? (mic.silentSince ?? now) : null;
  renderMicLevel();
  // The check's sentence changes with time too (silent for long enough): it writes only on change.
  renderMicCheck();
  maybeHintMuted(now);
}

/** Talking into an open but muted microphone: say so, at most every 30 s. */
function maybeHintMuted(now) {
  const mic = app.mic;
  if (app.state !== 'joined' || app.want.audio || now - mic.hintAt < HINT_EVERY_MS) return;
  if (mic.voiced.filter(Boolean).length < VOICED_NEEDED) return;
  mic.hintAt = now;
  const refusal = micRefusal();
  const how = refusal ? sentenceFor(MIC_REFUSAL_CODE[refusal]) : t('mic.pressToBeHeard');
  announce(t('mic.talkingWhileMuted', { how }), { visible: true });
}
