// A steady tone as a WAV file, for Chromium's `--use-file-for-fake-audio-capture`: the
// built-in fake microphone is too quiet to register as speech.

import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Writes `seconds` of a 440 Hz tone at half scale (16-bit mono, 48 kHz); returns the path. */
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
  for (let i = 0; i < samples; i++) {
    data.writeInt16LE(Math.round(16_000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  }
  const file = path.join(os.tmpdir(), `haven-tone-${process.pid}.wav`);
  await writeFile(file, data);
  return file;
}
