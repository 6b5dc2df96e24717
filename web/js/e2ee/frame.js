// End-to-end encryption of encoded media frames (what RTCRtpScriptTransform and
// createEncodedStreams hand over): RFC 9605 SFrame with AES_128_GCM_SHA256_128, per-sender
// keys from the meeting key, the few leading bytes the SFU and the receiving browser read left
// in clear and authenticated. Never throws on frame data: every failure is { ok: false, code }.
// Imports bytes.js, errors.js, header.js, meeting-key.js (for LABELS and info), replay.js.
//
//   frame out = clear prefix | SFrame header (KID, CTR) | AES-GCM(plaintext rest) | 16-byte tag
//   AAD       = SFrame header | clear prefix
//   KID       = key id of the meeting key (2 bytes) | stream id (6 random bytes per sender)
//   nonce     = sframe_salt XOR CTR (RFC 9605 §4.4.3); CTR counts from 0 per stream

import { asBytes, concat, utf8 } from './bytes.js';
import { failure } from './errors.js';
import { decodeHeader, encodeHeader } from './header.js';
import { LABELS, info } from './meeting-key.js';
import { ReplayWindow } from './replay.js';

/** RFC 9605 §8.1: AES_128_GCM_SHA256_128. */
export const CIPHER_SUITE = 0x0004;
const KEY_BYTES = 16;
const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const STREAM_BYTES = 6;

/**
 * VP8 (RFC 6386 §9.1): the 3-byte frame tag of every frame (P, the inverse keyframe bit the
 * SFU reads in `starts_vp8_keyframe`, is its lowest bit), and on a keyframe also the start
 * code and the 14-bit width and height, which both browsers' VP8 depacketizers read before
 * the frame reaches the receiving transform. Opus: nothing; the SFU reads no byte of it.
 */
export const CLEAR_BYTES = Object.freeze({ vp8Key: 10, vp8Delta: 3, opus: 0 });

/** How many leading bytes of `bytes` (a clear frame, or an encrypted one: same prefix) stay clear. */
export function clearByteCount(codec, bytes) {
  if (codec === 'opus') return CLEAR_BYTES.opus;
  if (codec === 'vp8') {
    if (bytes.length === 0) return null;
    return (bytes[0] & 0x01) === 0 ? CLEAR_BYTES.vp8Key : CLEAR_BYTES.vp8Delta;
  }
  return null;
}

const subtle = () => globalThis.crypto.subtle;

/** The stream's base key (RFC 9605's base_key): the meeting key, the sender's id, the KID. */
async function streamKeys(meetingKey, senderId, kid) {
  const baseKey = await meetingKey.derive(info(LABELS.media, kid, utf8(String(senderId))), 32);
  return sframeKeys(baseKey, kid);
}

/** RFC 9605 §4.4.2: the AES key (CryptoKey) and the 12-byte salt of `baseKey` under `kid` (8 bytes). */
export async function sframeKeys(baseKey, kid) {
  const secret = await subtle().importKey('raw', baseKey, 'HKDF', false, ['deriveBits']);
  const label = (text) => concat(utf8(text), kid, Uint8Array.of(CIPHER_SUITE >> 8, CIPHER_SUITE & 0xff));
  const expand = async (text, n) =>
    new Uint8Array(
      await subtle().deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: label(text) },
        secret,
        n * 8,
      ),
    );
  const keyBytes = await expand('SFrame 1.0 Secret key ', KEY_BYTES);
  const salt = await expand('SFrame 1.0 Secret salt ', NONCE_BYTES);
  const key = await subtle().importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { key, salt };
}

/** RFC 9605 §4.4.3: the salt XOR the counter, big-endian, right-aligned. */
export function nonce(salt, ctr) {
  const iv = Uint8Array.from(salt);
  let v = ctr;
  for (let i = NONCE_BYTES - 1; v > 0 && i >= 0; i--) {
    iv[i] ^= v % 256;
    v = Math.floor(v / 256);
  }
  return iv;
}

function kidOf(keyId, stream) {
  return Uint8Array.of(keyId >> 8, keyId & 0xff, ...stream);
}

/**
 * One sending stream (one RTCRtpSender: its simulcast layers share it). Its stream id is
 * random, so a page that reloads, or two senders the server gave the same participant id,
 * never reuse a (key, nonce) pair; its counter only goes up.
 */
export class FrameSender {
  #meetingKey;
  #keys;
  #kid;
  #ctr = 0;

  constructor(meetingKey, kid, keys) {
    this.#meetingKey = meetingKey;
    this.#kid = kid;
    this.#keys = keys;
  }

  /** A sender for participant `senderId` (the id the server gave this page: `joined.you.id`). */
  static async create(meetingKey, senderId) {
    const stream = globalThis.crypto.getRandomValues(new Uint8Array(STREAM_BYTES));
    const kid = kidOf(meetingKey.keyId, stream);
    return new FrameSender(meetingKey, kid, await streamKeys(meetingKey, senderId, kid));
  }

  /** The next counter to be used (for tests and stats). */
  get counter() {
    return this.#ctr;
  }

  /**
   * The encrypted frame (an ArrayBuffer for RTCEncodedVideoFrame.data) or a failure:
   * 'unsupported_codec', 'too_short' (a VP8 frame shorter than its clear bytes: not VP8),
   * 'not_bytes', 'exhausted'. A failed frame is to be dropped, never sent in clear.
   */
  async encrypt(data, codec) {
    const bytes = asBytes(data);
    if (!bytes) return failure('not_bytes');
    const clear = clearByteCount(codec, bytes);
    if (clear === null) return failure(codec === 'vp8' ? 'too_short' : 'unsupported_codec');
    if (bytes.length < clear) return failure('too_short');
    if (!Number.isSafeInteger(this.#ctr + 1)) return failure('exhausted');
    // Taken before the first await: frames encrypted concurrently never share a counter.
    const ctr = this.#ctr++;
    const header = encodeHeader(this.#kid, ctr);
    const prefix = bytes.subarray(0, clear);
    try {
      const sealed = await subtle().encrypt(
        { name: 'AES-GCM', iv: nonce(this.#keys.salt, ctr), additionalData: concat(header, prefix), tagLength: 128 },
        this.#keys.key,
        bytes.subarray(clear),
      );
      return { ok: true, data: concat(prefix, header, new Uint8Array(sealed)).buffer };
    } catch {
      return failure('encrypt_failed');
    }
  }
}

/** Authenticated streams a receiver keeps a replay window for (a sender's audio, camera, screen, and their successors after a reload). */
const MAX_WINDOWS = 16;
/** Derived keys kept, for any KID seen (forged ones too: a derivation is a pure function of the KID). */
const MAX_KEYS = 32;
/** Streams whose window was dropped, remembered so their old frames cannot be replayed. */
const MAX_RETIRED = 4096;

const hexOf = (kid) => Array.from(kid, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The receiving side of one remote participant's streams. `meetingKeys` may hold more than
 * one key while a rotation settles; a frame picks its key by the key id in its KID.
 * A stream gets a replay window only once one of its frames authenticates, so forged frames
 * with made-up KIDs can never push a real stream's window out and reopen it to replays.
 */
export class FrameReceiver {
  #senderId;
  #meetingKeys;
  /** KID (hex) → Promise<{ key, salt }>, oldest first. */
  #keys = new Map();
  /** KID (hex) → ReplayWindow, least recently used first. */
  #windows = new Map();
  /** KIDs (hex) whose window was dropped: their frames are too old. */
  #retired = new Set();

  constructor(senderId, meetingKeys) {
    this.#senderId = String(senderId);
    this.#meetingKeys = [...meetingKeys];
  }

  /** Replace the meeting keys this receiver accepts (a rotation). Replay windows stay. */
  setKeys(meetingKeys) {
    this.#meetingKeys = [...meetingKeys];
    this.#keys.clear();
  }

  #keysFor(id, kid, meetingKey) {
    let keys = this.#keys.get(id);
    if (!keys) {
      if (this.#keys.size >= MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value);
      keys = streamKeys(meetingKey, this.#senderId, kid);
      this.#keys.set(id, keys);
    }
    return keys;
  }

  /** The window of an authenticated stream, made (and the least used one retired) if new. */
  #windowFor(id) {
    let window = this.#windows.get(id);
    if (window) {
      this.#windows.delete(id);
    } else {
      window = new ReplayWindow();
      if (this.#windows.size >= MAX_WINDOWS) {
        const oldest = this.#windows.keys().next().value;
        this.#windows.delete(oldest);
        if (this.#retired.size >= MAX_RETIRED) this.#retired.delete(this.#retired.values().next().value);
        this.#retired.add(oldest);
      }
    }
    this.#windows.set(id, window);
    return window;
  }

  /**
   * The clear frame (ArrayBuffer) or a failure: 'unsupported_codec', 'not_bytes',
   * 'malformed' (no SFrame header or too short: a frame sent in clear among them),
   * 'unknown_key' (no key with this key id: another meeting key), 'auth_failed' (wrong key,
   * altered bytes, or another participant's frame), 'replayed', 'too_old'.
   */
  async decrypt(data, codec) {
    const bytes = asBytes(data);
    if (!bytes) return failure('not_bytes');
    if (codec !== 'vp8' && codec !== 'opus') return failure('unsupported_codec');
    const clear = clearByteCount(codec, bytes);
    if (clear === null || bytes.length < clear) return failure('malformed');
    const header = decodeHeader(bytes, clear);
    if (!header || bytes.length < clear + header.length + TAG_BYTES) return failure('malformed');
    const id = hexOf(header.kid);
    const seen = this.#seen(id, header.ctr);
    if (seen !== 'new') return failure(seen);
    const keyId = (header.kid[0] << 8) | header.kid[1];
    const meetingKey = this.#meetingKeys.find((k) => k.keyId === keyId);
    if (!meetingKey) return failure('unknown_key');
    const headerBytes = bytes.subarray(clear, clear + header.length);
    const prefix = bytes.subarray(0, clear);
    let opened;
    try {
      const keys = await this.#keysFor(id, header.kid, meetingKey);
      opened = await subtle().decrypt(
        {
          name: 'AES-GCM',
          iv: nonce(keys.salt, header.ctr),
          additionalData: concat(headerBytes, prefix),
          tagLength: 128,
        },
        keys.key,
        bytes.subarray(clear + header.length),
      );
    } catch {
      return failure('auth_failed');
    }
    // Checked again: the same frame may have been opened meanwhile, or the stream retired.
    const again = this.#seen(id, header.ctr);
    if (again !== 'new') return failure(again);
    this.#windowFor(id).accept(header.ctr);
    return { ok: true, data: concat(prefix, new Uint8Array(opened)).buffer };
  }

  #seen(id, ctr) {
    if (this.#retired.has(id)) return 'too_old';
    return this.#windows.get(id)?.check(ctr) ?? 'new';
  }
}
