// The meeting key: 32 random bytes that travel only in a link's fragment (`#e2ee=…`), never to
// the server, and the HKDF-SHA-256 schedule every other key comes from. Imports only bytes.js
// and errors.js; runs in a page, a worker and Node (globalThis.crypto.subtle).
//
// Never logged: a MeetingKey prints as "[MeetingKey]" whatever logs it (console, JSON, Node's
// inspect); its bytes come out only through fragmentValue() and bytes(), for a link and for
// posting to a worker.

import { concat, fromBase64url, toBase64url, utf8 } from './bytes.js';
import { E2eeError } from './errors.js';

export const KEY_BYTES = 32;
/** The fragment parameter holding the key. */
export const FRAGMENT_PARAM = 'e2ee';
/** HKDF salt for every derivation from a meeting key: domain separation from any other use. */
export const HKDF_SALT = utf8('haven e2ee v1');
/** HKDF info labels; each derived key has its own, so no two uses ever share key material. */
export const LABELS = Object.freeze({
  keyId: 'haven e2ee v1 key id',
  media: 'haven e2ee v1 media',
  chat: 'haven e2ee v1 chat',
  safetyCode: 'haven e2ee v1 safety code',
});

const subtle = () => globalThis.crypto.subtle;
const HIDDEN = '[MeetingKey]';

export class MeetingKey {
  #bytes;
  #hkdf;
  /** 16 bits telling this key from a rotated one, derived from the key (no extra link field). */
  keyId;

  /** Use MeetingKey.generate / fromBytes / fromFragment: they validate and derive the key id. */
  constructor(bytes, hkdf, keyId) {
    this.#bytes = bytes;
    this.#hkdf = hkdf;
    this.keyId = keyId;
    Object.freeze(this);
  }

  /** A fresh random key (for a new encrypted meeting, or a rotation). */
  static async generate() {
    return MeetingKey.fromBytes(globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
  }

  /** Exactly 32 bytes, else E2eeError('bad_key_length'). The bytes are copied. */
  static async fromBytes(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_BYTES) {
      throw new E2eeError('bad_key_length', `An encryption key is ${KEY_BYTES} bytes.`);
    }
    const copy = Uint8Array.from(bytes);
    const hkdf = await subtle().importKey('raw', copy, 'HKDF', false, ['deriveBits']);
    const id = await hkdfBits(hkdf, utf8(LABELS.keyId), 2);
    return new MeetingKey(copy, hkdf, (id[0] << 8) | id[1]);
  }

  /** The key from the base64url text after `e2ee=`; a clear E2eeError when it is not one. */
  static async fromText(text) {
    if (typeof text !== 'string' || text.length !== 43) {
      throw new E2eeError(
        'bad_key_length',
        'The encryption key in this link is incomplete: it should be 43 characters. Ask for the link again.',
      );
    }
    const bytes = fromBase64url(text);
    if (!bytes) {
      throw new E2eeError(
        'bad_key_characters',
        'The encryption key in this link has characters a key cannot have. Ask for the link again.',
      );
    }
    return MeetingKey.fromBytes(bytes);
  }

  /**
   * The key of a link's fragment (`location.hash`, with or without '#', among other
   * parameters such as the facilitator's `key=`), or null when the link has none: a meeting
   * without end-to-end encryption. A present but broken key throws, never reads as "none".
   */
  static async fromFragment(hash) {
    const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
    const values = params.getAll(FRAGMENT_PARAM);
    if (values.length === 0) return null;
    if (values.length > 1) {
      throw new E2eeError('bad_key_repeated', 'This link has more than one encryption key. Ask for the link again.');
    }
    return MeetingKey.fromText(values[0]);
  }

  /** `e2ee=<43 characters>`, for a link's fragment. */
  fragmentParam() {
    return `${FRAGMENT_PARAM}=${toBase64url(this.#bytes)}`;
  }

  /** A copy of the raw key, to post to a worker (which calls fromBytes). */
  bytes() {
    return Uint8Array.from(this.#bytes);
  }

  /** `length` bytes of HKDF-SHA-256(meeting key, HKDF_SALT, info). */
  derive(info, length) {
    return hkdfBits(this.#hkdf, info, length);
  }

  toString() {
    return HIDDEN;
  }

  toJSON() {
    return HIDDEN;
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return HIDDEN;
  }
}

/** `link` with the meeting key added to its fragment, keeping what the fragment had. */
export function linkWithKey(link, meetingKey) {
  const url = new URL(link);
  const params = new URLSearchParams(url.hash.replace(/^#/, ''));
  params.delete(FRAGMENT_PARAM);
  const rest = params.toString();
  url.hash = rest ? `${rest}&${meetingKey.fragmentParam()}` : meetingKey.fragmentParam();
  return url.href;
}

async function hkdfBits(hkdf, info, length) {
  const bits = await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info }, hkdf, length * 8);
  return new Uint8Array(bits);
}

/** The info for a label followed by binary fields (each length-prefixed: no two inputs collide). */
export function info(label, ...fields) {
  const parts = [utf8(label)];
  for (const f of fields) {
    if (f.length > 0xffff) throw new E2eeError('bad_field', 'A key derivation field is too long.');
    parts.push(Uint8Array.of(f.length >> 8, f.length & 0xff), f);
  }
  return concat(...parts);
}
