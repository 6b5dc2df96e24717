// A short, soft tone for an arrival in the waiting room, made with WebAudio (no audio
// file). Off unless the facilitator ticks "Chime when someone is waiting"; the choice is
// kept in this browser only (prefs.js).

import { pref, setPref } from './prefs.js';

let context = null;

export const chimeOn = () => pref('chime');

export function setChime(on) {
  setPref('chime', !!on);
}

/** Two gentle notes, under half a second, quiet. */
export function chime() {
  try {
    context ??= new AudioContext();
    if (context.state === 'suspended') context.resume();
    const now = context.currentTime;
    for (const [i, freq] of [660, 880].entries()) {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const start = now + i * 0.18;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.08, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.3);
      osc.connect(gain).connect(context.destination);
      osc.start(start);
      osc.stop(start + 0.32);
    }
  } catch {
    // No WebAudio: the toast and the badge still say it.
  }
}
