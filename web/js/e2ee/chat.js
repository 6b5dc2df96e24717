// End-to-end encrypted chat text: AES-256-GCM under a key derived from the meeting key with
// its own label, a random nonce per message (many senders, no shared counter: 96 random bits
// are safe far beyond any meeting's message count), the sender's participant id bound as
// associated data (the server cannot re-attribute a message), the text padded to a multiple
// of 32 bytes (the server sees a message's size only roughly). The result is one base64url
// string the server relays as a chat message's `text`. Never throws on message data.
// Imports bytes.js, errors.js, meeting-key.js.

import { concat, fromBase64url, fromUtf8, toBase64url, utf8 } from './bytes.js';
import { failure } from './errors.js';
import { LABELS, info } from './meeting-key.js';

export const CHAT_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const PAD_TO = 32;
/** version (1) | key id (2) | nonce (12). */
const PREFIX_BYTES = 3 + NONCE_BYTES;

const subtle = () => globalThis.crypto.subtle;
const chatKeys = new WeakMap();

/** The chat key of a meeting key (derived once per MeetingKey). */
function chatKey(meetingKey) {
  let key = chatKeys.get(meetingKey);
  if (!key) {
    key = meetingKey
      .derive(info(LABELS.chat), 32)
      .then((bytes) => subtle().importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']));
    chatKeys.set(meetingKey, key);
  }
  return key;
}

function aad(prefix, senderId) {
  return concat(prefix.subarray(0, 3), info('', utf8(String(senderId))));
}

/** ISO/IEC 7816-4 padding: 0x80, then zeros up to a multiple of PAD_TO. */
function pad(bytes) {
  const out = new Uint8Array(Math.ceil((bytes.length + 1) / PAD_TO) * PAD_TO);
  out.set(bytes);
  out[bytes.length] = 0x80;
  return out;
}

function unpad(bytes) {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  return end >= 0 && bytes[end] === 0x80 ? bytes.subarray(0, end) : null;
}

/** The base64url ciphertext of `text` written by participant `senderId`. */
export async function encryptChat(meetingKey, senderId, text) {
  const prefix = new Uint8Array(PREFIX_BYTES);
  prefix[0] = CHAT_VERSION;
  prefix[1] = meetingKey.keyId >> 8;
  prefix[2] = meetingKey.keyId & 0xff;
  prefix.set(globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES)), 3);
  const sealed = await subtle().encrypt(
    { name: 'AES-GCM', iv: prefix.subarray(3), additionalData: aad(prefix, senderId), tagLength: 128 },
    await chatKey(meetingKey),
    pad(utf8(String(text))),
  );
  return toBase64url(concat(prefix, new Uint8Array(sealed)));
}

/**
 * { ok: true, text } or a failure: 'malformed' (not this format: a clear message among
 * them), 'unknown_key' (written with another meeting key), 'auth_failed' (wrong key, altered,
 * or not written by `senderId`).
 */
export async function decryptChat(meetingKeys, senderId, message) {
  const bytes = fromBase64url(message);
  if (!bytes || bytes.length < PREFIX_BYTES + PAD_TO + TAG_BYTES || bytes[0] !== CHAT_VERSION) {
    return failure('malformed');
  }
  const keyId = (bytes[1] << 8) | bytes[2];
  const meetingKey = [...meetingKeys].find((k) => k.keyId === keyId);
  if (!meetingKey) return failure('unknown_key');
  const prefix = bytes.subarray(0, PREFIX_BYTES);
  try {
    const opened = await subtle().decrypt(
      { name: 'AES-GCM', iv: prefix.subarray(3), additionalData: aad(prefix, senderId), tagLength: 128 },
      await chatKey(meetingKey),
      bytes.subarray(PREFIX_BYTES),
    );
    const text = unpad(new Uint8Array(opened));
    // Authenticated yet badly padded or not UTF-8: only a key holder could write it; refused.
    if (!text) return failure('malformed');
    return { ok: true, text: fromUtf8(text) };
  } catch (e) {
    return failure(e instanceof TypeError ? 'malformed' : 'auth_failed');
  }
}

/** The length of the base64url string encryptChat gives for `text` (the server's limit is in characters). */
export function encryptedChatLength(text) {
  const padded = Math.ceil((utf8(String(text)).length + 1) / PAD_TO) * PAD_TO;
  return Math.ceil(((PREFIX_BYTES + padded + TAG_BYTES) * 4) / 3);
}
