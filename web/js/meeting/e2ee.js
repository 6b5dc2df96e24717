// End-to-end encryption on the meeting page (docs/e2ee.md), on when the link carries
// `#e2ee=<key>` (state.js takes it out of the address bar): the key checked, the safety code,
// the media worker, chat sealed before it is sent and opened when it comes, and the failures
// said in words. A page whose link has a key either encrypts or does not join: a broken key or
// a browser that cannot encrypt is refused on the join screen, and so is a link without a key
// to a meeting the server says is encrypted (`room.e2ee`), and a link whose key is older than
// the meeting's newest links (`room.key_id`). The key stays in this module's memory; only the
// worker gets a copy of its bytes.

import { announce } from '../announce.js';
import { decryptChat, encryptChat, encryptedChatLength } from '../e2ee/chat.js';
import { MeetingKey } from '../e2ee/meeting-key.js';
import { safetyCode } from '../e2ee/safety-code.js';
import { encryptionSupported, MediaCrypto, withoutRed } from '../e2ee/transforms.js';
import { t } from '../i18n.js';
import { app } from './state.js';

/** The server's chat limit, in characters; an encrypted message's text is its base64url. */
const SERVER_CHAT_CHARS = 1000;
/**
 * The longest text (UTF-8 bytes) whose ciphertext fits the server's plain limit: 703. Only for
 * a key on a meeting the server does not know is encrypted; in an `e2ee` meeting the server
 * takes the ciphertext of any 1000 characters, the normal cap.
 */
export const MAX_CHAT_BYTES = 703;
/** Seconds a member's frames must fail (and none decrypt) before the page says so. */
const FAILING_POSTS = 3;

export const e2ee = {
  /** The link asks for encryption: this page encrypts, or does not join. */
  on: false,
  /** Why it may not join: `unsupported`, or the key's E2eeError code; null when it may. */
  refused: null,
  /** @type {MeetingKey|null} */
  key: null,
  /** { emoji, names, indices } of the key (e2ee/safety-code.js). */
  code: null,
  /** @type {MediaCrypto|null} */
  media: null,
  /** `${senderId} ${kind}` → { ok, failed, failing (posts in a row), told }. */
  watch: new Map(),
};

/**
 * What the server says of the meeting (`room`, from GET /api/rooms/{id} or `joined`) may keep
 * this page out. An encrypted meeting (`room.e2ee`): a page whose link has no key may not join,
 * and never joins in clear. Its newest links' key id (`room.key_id`, when the server knows it):
 * a page whose key has another holds a link from before the links were changed, and would
 * decode no one who uses the new ones. True when this page is refused for either.
 */
export function refuseForRoom(room) {
  if (e2ee.refused === 'no_key' || e2ee.refused === 'stale_key') return true;
  if (room?.e2ee && !app.e2eeLink) {
    e2ee.on = true;
    e2ee.refused = 'no_key';
    return true;
  }
  // The key is checked asynchronously: prepareE2ee asks again once it is.
  if (room?.e2ee && Number.isInteger(room.key_id) && e2ee.key && !e2ee.refused && e2ee.key.keyId !== room.key_id) {
    e2ee.refused = 'stale_key';
    return true;
  }
  return false;
}

/** The chat box's cap: the server's own in an encrypted meeting it knows of, else 703 bytes of text. */
export function chatMaxLength() {
  return e2ee.key && !app.roomInfo?.e2ee ? MAX_CHAT_BYTES : SERVER_CHAT_CHARS;
}

/** Checks the link's key (async: deriving the key id and the safety code) and starts the worker. */
export async function prepareE2ee() {
  if (!app.e2eeLink) return;
  e2ee.on = true;
  if (!encryptionSupported()) {
    e2ee.refused = 'unsupported';
    return;
  }
  try {
    e2ee.key = await MeetingKey.fromFragment(new URLSearchParams(app.e2eeLink.map((v) => ['e2ee', v])).toString());
  } catch (err) {
    e2ee.refused = err?.code ?? 'bad_key_length';
    return;
  }
  e2ee.code = await safetyCode(e2ee.key);
  // The room may have come first: a stale link is refused before a worker is started.
  if (refuseForRoom(app.roomInfo)) return;
  try {
    e2ee.media = new MediaCrypto(e2ee.key, watchFailures);
  } catch (err) {
    // No module worker (or a policy forbids it): no way to encrypt, so no way in.
    console.warn('haven: e2ee worker', err?.name);
    e2ee.refused = 'unsupported';
  }
}

/** The safety code as a person hears it: the emoji's names in the page's language. */
export function safetyCodeWords() {
  return e2ee.code ? e2ee.code.names.map((name) => t(`e2ee.emoji.${name.replace(/ /g, '_')}`)).join(', ') : '';
}

/** PeerSession's `encrypt` hooks (peer.js), for our participant id; null when not encrypted. */
export function peerHooks(you) {
  if (!e2ee.media) return null;
  e2ee.media.setSenderId(you);
  return { sender: (sender, kind) => e2ee.media.protectSender(sender, kind), audio: withoutRed };
}

/** A remote track arrived (before it is played): its frames are decrypted as `senderId`'s. */
export function protectTrack(event, senderId) {
  e2ee.media?.protectReceiver(event.receiver, event.track.kind, senderId);
}

/**
 * Why `text` cannot be sent in this meeting, or null. In a meeting the server knows is
 * encrypted it checks the ciphertext against the bound for 1000 characters, so the normal cap
 * holds; with a key on a meeting it does not, the ciphertext must fit its 1000 characters
 * (703 bytes of text: about 700 letters, fewer with accents or emoji).
 */
export function chatTooLong(text) {
  if (!e2ee.key || app.roomInfo?.e2ee || encryptedChatLength(text) <= SERVER_CHAT_CHARS) return null;
  return t('e2ee.chatTooLong', { max: MAX_CHAT_BYTES - 3 });
}

/** `text` as it goes to the server: sealed in an encrypted meeting. */
export function sealChat(text) {
  if (!e2ee.key) return text;
  return encryptChat(e2ee.key, app.you.id, text);
}

/**
 * A chat or private message as the page shows it: opened with the key (its writer is `from`),
 * or, when it does not open, a plain "could not be read" line, never ciphertext.
 */
export async function openChat(message) {
  if (!e2ee.key) return message;
  const opened = await decryptChat([e2ee.key], message.from, String(message.text ?? ''));
  return opened.ok ? { ...message, text: opened.text } : { ...message, text: t('e2ee.chatUnreadable'), unreadable: opened.code };
}

/**
 * The worker's counts (about once a second): a member whose frames keep failing and none
 * decrypt for a few seconds is named once ("cannot decrypt Ana's video"), never per frame.
 */
function watchFailures(counts) {
  for (const c of counts) {
    if (c.side !== 'receive') continue;
    const id = `${c.senderId} ${c.kind}`;
    const failed = Object.values(c.failed).reduce((n, v) => n + v, 0);
    const seen = e2ee.watch.get(id) ?? { ok: 0, failed: 0, failing: 0, told: false };
    if (c.ok > seen.ok) Object.assign(seen, { failing: 0, told: false });
    else if (failed > seen.failed) seen.failing += 1;
    Object.assign(seen, { ok: c.ok, failed });
    e2ee.watch.set(id, seen);
    const name = app.participants.get(c.senderId)?.name;
    if (seen.failing >= FAILING_POSTS && !seen.told && name && app.state === 'joined') {
      seen.told = true;
      announce(t(c.kind === 'audio' ? 'e2ee.cannotDecryptAudio' : 'e2ee.cannotDecryptVideo', { name }), { visible: true });
    }
  }
}
