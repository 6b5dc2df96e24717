// What the server-blindness test (tests/e2ee-blind.test.js) needs besides browsers: the
// webrtc-rs tap (tests/src/bin/tap.rs) run as a child process, a camera picture with a known
// marker for Chromium's fake capture, VP8 and SFrame header parsing, and, run inside a
// Chromium page, WebCodecs' real VP8 and Opus decoders with the marker and tone detectors.

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HAVEN_BIN } from './server.js';

export const TAP_BIN = process.env.TAP_BIN || path.join(path.dirname(HAVEN_BIN), 'tap');

/**
 * Runs the tap in `room` for `seconds`: resolves with its frames, each { from, kind, ssrc,
 * ts, seq, data: Buffer }, in arrival order, and its closing summary.
 */
export async function tap(serverUrl, room, seconds) {
  const out = path.join(os.tmpdir(), `haven-tap-${process.pid}-${Date.now()}.jsonl`);
  const child = spawn(TAP_BIN, ['--server', serverUrl, '--room', room, '--seconds', String(seconds), '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the tap did not finish in ${seconds + 60} s: ${stdout} ${stderr}`));
    }, (seconds + 60) * 1000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`the tap (${TAP_BIN}) did not start: ${err.message}; build it with cargo build -p haven-tests --bin tap`));
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`the tap exited ${code}: ${stdout} ${stderr}`);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
  const summary = lines.find((l) => l.done);
  const frames = (await readFile(out, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = JSON.parse(l);
      return { ...f, data: Buffer.from(f.data, 'hex') };
    });
  return { id: lines.find((l) => l.ready)?.id, summary, frames };
}

/** The marker: a 2×2 checkerboard of light and dark quadrants (luma), mid-grey chroma. */
export const MARKER = Object.freeze({ light: 200, dark: 56 });

/** A one-second 640×360 Y4M of the marker picture, for `--use-file-for-fake-video-capture`. */
export async function markerY4m() {
  const [w, h] = [640, 360];
  const frame = Buffer.alloc(w * h * 1.5, 128);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const light = x < w / 2 === y < h / 2;
      frame[y * w + x] = light ? MARKER.light : MARKER.dark;
    }
  }
  const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\n`)];
  for (let i = 0; i < 30; i++) parts.push(Buffer.from('FRAME\n'), frame);
  const file = path.join(os.tmpdir(), `haven-marker-${process.pid}.y4m`);
  await writeFile(file, Buffer.concat(parts));
  return file;
}

/**
 * A VP8 frame's uncompressed header (RFC 6386 §9.1): { key, version, show, firstPartition,
 * width, height, ok } where `ok` says the header is one an encoder writes: a version of 0–3,
 * shown, the first partition inside the frame, and on a keyframe the start code 9d 01 2a
 * and a size of at least 16×16.
 */
export function vp8Header(data) {
  if (data.length < 3) return { ok: false };
  const tag = data[0] | (data[1] << 8) | (data[2] << 16);
  const key = (tag & 1) === 0;
  const version = (tag >> 1) & 7;
  const show = (tag >> 4) & 1;
  const firstPartition = tag >> 5;
  const header = key ? 10 : 3;
  let ok = version <= 3 && show === 1 && header + firstPartition <= data.length;
  let width = null;
  let height = null;
  if (key) {
    ok &&= data.length >= 10 && data[3] === 0x9d && data[4] === 0x01 && data[5] === 0x2a;
    width = (data[6] | (data[7] << 8)) & 0x3fff;
    height = (data[8] | (data[9] << 8)) & 0x3fff;
    ok &&= width >= 16 && height >= 16;
  }
  return { key, version, show, firstPartition, width, height, ok };
}

/** Bytes an encrypted frame of `kind` keeps in clear before its SFrame header (docs/e2ee.md). */
export const clearBytes = (kind, data) => (kind === 'audio' ? 0 : (data[0] & 1) === 0 ? 10 : 3);

// ---- run in a Chromium page (WebCodecs): the functions below are passed to page.evaluate.

/**
 * Decodes VP8 frames (base64, in order) with WebCodecs, one fresh decoder per keyframe and
 * the frames after it; per frame: null (skipped: no keyframe before it) or { decoded, width,
 * height, marker } where `marker` says the picture shows the light/dark checkerboard.
 */
export async function decodeVp8InPage(frames, marker) {
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const analyse = async (frame) => {
    const buffer = new Uint8Array(frame.allocationSize());
    const layout = await frame.copyTo(buffer);
    const [w, h] = [frame.visibleRect?.width ?? frame.codedWidth, frame.visibleRect?.height ?? frame.codedHeight];
    const { offset, stride } = layout[0];
    // The mean luma of the middle half of each quadrant.
    const mean = (qx, qy) => {
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(h * (qy / 2 + 1 / 8)); y < h * (qy / 2 + 3 / 8); y += 2) {
        for (let x = Math.floor(w * (qx / 2 + 1 / 8)); x < w * (qx / 2 + 3 / 8); x += 2) {
          sum += buffer[offset + y * stride + x];
          n++;
        }
      }
      return sum / n;
    };
    const quads = [mean(0, 0), mean(1, 0), mean(0, 1), mean(1, 1)];
    const near = (v, want) => Math.abs(v - want) < 32;
    const shows = near(quads[0], marker.light) && near(quads[1], marker.dark) && near(quads[2], marker.dark) && near(quads[3], marker.light);
    return { decoded: true, width: w, height: h, marker: shows, quads: quads.map(Math.round), format: frame.format };
  };
  const results = frames.map(() => null);
  const keys = [];
  const data = frames.map(bytes);
  data.forEach((d, i) => (d[0] & 1) === 0 && keys.push(i));
  const errors = [];
  for (const [k, start] of keys.entries()) {
    const end = keys[k + 1] ?? data.length;
    const pending = [];
    const decoder = new VideoDecoder({
      output: (frame) => {
        const i = frame.timestamp;
        pending.push(
          analyse(frame)
            .then((r) => (results[i] = r))
            .finally(() => frame.close()),
        );
      },
      error: (e) => errors.push(String(e.message ?? e)),
    });
    decoder.configure({ codec: 'vp8' });
    try {
      for (let i = start; i < end; i++) {
        results[i] = { decoded: false };
        decoder.decode(new EncodedVideoChunk({ type: i === start ? 'key' : 'delta', timestamp: i, data: data[i] }));
      }
      await decoder.flush();
    } catch (e) {
      errors.push(String(e.message ?? e));
    }
    await Promise.all(pending);
    if (decoder.state !== 'closed') decoder.close();
  }
  return { results, errors: errors.slice(0, 5), errorCount: errors.length };
}

/**
 * Decodes Opus packets (base64, in order) with WebCodecs; per packet: null (the decoder
 * refused it) or { rms, peak (Hz), prominence, purity } of its first channel: the spectrum's
 * peak (Goertzel, 100–2000 Hz by 10 Hz, Hann window), its power over the median's, and its
 * share of the whole signal's energy.
 */
export async function decodeOpusInPage(packets) {
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const results = packets.map(() => null);
  const spectrum = (x, rate) => {
    const n = x.length;
    const w = Float32Array.from(x, (v, i) => v * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1))));
    const powers = [];
    for (let f = 100; f <= 2000; f += 10) {
      const c = 2 * Math.cos((2 * Math.PI * f) / rate);
      let [s1, s2] = [0, 0];
      for (let i = 0; i < n; i++) [s1, s2] = [w[i] + c * s1 - s2, s1];
      powers.push({ f, p: s1 * s1 + s2 * s2 - c * s1 * s2 });
    }
    const sorted = powers.map((p) => p.p).sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1] || 1e-12;
    const top = powers.reduce((a, b) => (b.p > a.p ? b : a));
    // The share of the windowed signal's energy (Parseval) at the peak: about 1/3 for a pure
    // tone (the Hann window spreads it over three bins), about 1/n for noise.
    let energy = 0;
    for (const v of w) energy += v * v;
    return { peak: top.f, prominence: top.p / median, purity: top.p / (n * energy || 1e-12) };
  };
  let errors = 0;
  let decoder = null;
  let current = -1;
  const fresh = () => {
    decoder = new AudioDecoder({
      output: (audio) => {
        const x = new Float32Array(audio.numberOfFrames);
        audio.copyTo(x, { planeIndex: 0, format: 'f32-planar' });
        let sum = 0;
        for (const v of x) sum += v * v;
        results[current] = { rms: Math.sqrt(sum / x.length), ...spectrum(x, audio.sampleRate) };
        audio.close();
      },
      error: () => errors++,
    });
    decoder.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: 2 });
  };
  for (const [i, b64] of packets.entries()) {
    if (!decoder || decoder.state === 'closed') fresh();
    current = i;
    try {
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: i * 20000, data: bytes(b64) }));
      await decoder.flush();
    } catch {
      // counted by the error callback; the decoder is closed and made again
    }
  }
  if (decoder && decoder.state !== 'closed') decoder.close();
  return { results, errors };
}
