// The meeting page's state: one object, written only by the server-message handlers
// (handlers.js) and the person's own actions (session.js, media.js), read by the views
// (views.js). Nothing here touches the DOM.

import { isStaffRole } from '../facilitator.js';

const MAX_NAME_CHARS = 32;

/** The room id from `/m/{id}`, or null. */
export function roomFromPath(pathname) {
  const match = /^\/m\/([^/]+)\/?$/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** The facilitator secret from `#key=…` (URL-decoded), or null. */
export function keyFromHash(hash) {
  const key = new URLSearchParams(hash.replace(/^#/, '')).get('key');
  return key ? key : null;
}

/**
 * The facilitator secret, taken out of the address bar as soon as it is read: a screen shared,
 * a photo of the screen or a history entry would otherwise carry it. Kept for this tab only
 * (sessionStorage), so a reload still opens the meeting as facilitator.
 */
function takeKey() {
  const room = roomFromPath(window.location.pathname);
  const stored = `haven.key.${room}`;
  const fromHash = keyFromHash(window.location.hash);
  try {
    if (fromHash) {
      window.sessionStorage.setItem(stored, fromHash);
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
      return fromHash;
    }
    return window.sessionStorage.getItem(stored);
  } catch {
    return fromHash;
  }
}

/** The rule the server applies to names: trimmed, 1–32 characters, no control characters. */
export function checkName(raw) {
  const name = raw.trim();
  const chars = Array.from(name).length;
  if (chars === 0) return { error: 'Please type a name. A first name or a nickname is fine.' };
  if (chars > MAX_NAME_CHARS) {
    return { error: `Please use a shorter name: at most ${MAX_NAME_CHARS} characters (now ${chars}).` };
  }
  if (/\p{Cc}/u.test(name)) return { error: 'Please use only letters, numbers, spaces and punctuation.' };
  return { name };
}

export const app = {
  /** join | connecting | waiting | joined | left | problem */
  state: 'join',
  room: roomFromPath(window.location.pathname),
  key: takeKey(),
  name: '',
  you: null,
  roomInfo: null,
  /** Everyone else, by participant id. */
  participants: new Map(),
  /** Remote MediaStreams by publisher id (the stream id is the participant id). */
  streams: new Map(),
  /** @type {import('../signaling.js').Signaling|null} */
  sig: null,
  /** @type {import('../peer.js').PeerSession|null} */
  peer: null,
  /** What the person switched on. Off by default: the safe default. */
  want: { audio: false, video: false },
  /** A switch-on sent to the server and not yet confirmed by `participant_updated`. */
  pending: { audio: false, video: false },
  /** Staff only: who is in the waiting room. */
  waiting: [],
  /** Staff only: this meeting's bans (`{id, name?, at}`). */
  bans: [],
  /** Device changes run one at a time, in click order. */
  mediaChain: Promise.resolve(),
  requestSeq: 0,
  /** Automatic reconnection after a dropped socket: the attempt number, 0 when not. */
  reconnecting: 0,
  reconnectTimer: 0,
  /** Shows the "Joining…" screen if a join is slow (see session.js connect). */
  connectingTimer: 0,
  /** The server's secret for taking our place back after a dropped connection. */
  resumeKey: null,
  /** Message types in and out, for tests and debugging (no SDP, no names). */
  trace: [],
};

export const isStaff = () => !!app.you && isStaffRole(app.you.role);
export const send = (msg) => app.sig?.send(msg) ?? false;
export const others = () => [...app.participants.values()];

/** A facilitator muted me and has not let me speak again (the floor would). */
export function heldMuted() {
  return !!app.you?.muted_by_facilitator && !app.you.has_floor && app.state === 'joined';
}

/**
 * localStorage key of this meeting's token (it lets a facilitator's ban stick). A token is
 * made only for a meeting this browser joined or waited for, and forgotten after a day: the
 * browser keeps no lasting trace of which groups someone attends.
 */
const TOKEN_PREFIX = 'haven.token.';
const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;
const tokenKey = () => `${TOKEN_PREFIX}${app.room}`;

/** The token if still fresh; stale ones (this meeting's or others') are removed. */
export function storedToken() {
  try {
    const now = Date.now();
    for (let i = window.localStorage.length - 1; i >= 0; i--) {
      const key = window.localStorage.key(i);
      if (!key?.startsWith(TOKEN_PREFIX)) continue;
      let saved = null;
      try {
        saved = JSON.parse(window.localStorage.getItem(key));
      } catch {
        // an old plain-text token: no date, so it is stale
      }
      if (!saved || typeof saved.token !== 'string' || !(now - saved.at < TOKEN_LIFETIME_MS)) {
        window.localStorage.removeItem(key);
      }
    }
    return JSON.parse(window.localStorage.getItem(tokenKey()) ?? 'null')?.token ?? null;
  } catch {
    return null;
  }
}

export function storeToken(token) {
  if (typeof token !== 'string' || !token) return;
  try {
    window.localStorage.setItem(tokenKey(), JSON.stringify({ token, at: Date.now() }));
  } catch {
    // private mode: the ban still holds through the hashed address
  }
}
