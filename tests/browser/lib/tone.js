// A speech-like tone as a WAV file, for Chromium's `--use-file-for-fake-audio-capture`: the
// built-in fake microphone is too quiet to register as speech. A steady tone is not enough:
// Chromium's noise suppression and gain control learn it within ~2 s (its level fell from
// 0.14 to 0.035, under the page's 0.05 speaking threshold), so a slower page missed it. The
// pitch here changes every 120 ms and the loudness swells three times a second, as a voice
// does.

import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Writes `seconds` of the tone, peaking at half scale (16-bit mono, 48 kHz); returns the path. */
export async function toneWav(seconds = 10) {
  const rate = 48_000;
  const samples = rate * seconds;
  const data = Buffer.alloc(44 + samples * 2);
  data.write('RIFF', 0);
  data.writeUInt32LE(36 + samples * 2, 4);
  data.write('WAVEfmt ', 8);
  data.writeUInt32LE(16, 16); // fmt chunk size
  data.writeUInt16LE(1, 20); // PCM
  data.writeUInt16LE(1, 22); // mono
  data.writeUInt32LE(rate, 24);
  data.writeUInt32LE(rate * 2, 28); // bytes per second
  data.writeUInt16LE(2, 32); // bytes per frame
  data.writeUInt16LE(16, 34); // bits per sample
  data.write('data', 36);
  data.writeUInt32LE(samples * 2, 40);
  const pitches = [220, 330, 440, 550, 660, 880];
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * pitches[Math.floor(t / 0.12) % pitches.length]) / rate;
    const loudness = 0.3 + 0.7 * Math.abs(Math.sin(Math.PI * 3 * t));
    data.writeInt16LE(Math.round(16_000 * loudness * Math.sin(phase)), 44 + i * 2);
  }
  const file = path.join(os.tmpdir(), `haven-tone-${process.pid}.wav`);
  await writeFile(file, data);
  return file;
}
