// The meeting page's state: one object, written only by the server-message handlers
// (handlers.js) and the person's own actions (session.js, media.js), read by the views
// (views.js). Nothing here touches the DOM.

import { isStaffRole } from '../facilitator.js';
import { t } from '../i18n.js';
import { paginate, pageOrder } from '../pages.js';
import { pref } from '../prefs.js';

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
 * The link's secrets, taken out of the address bar as soon as they are read: a screen shared,
 * a photo of the screen or a history entry would otherwise carry them. The facilitator
 * secret (`#key=`) and the meeting's encryption key (`#e2ee=`, docs/e2ee.md) are kept for
 * this tab only (sessionStorage, as the link itself is kept in the tab's history), so a
 * reload still opens the meeting as it was; the rest of the fragment stays in the address.
 * The encryption key is returned as the link's text, checked later (meeting/e2ee.js): every
 * `e2ee=` value is kept, so a link with two keys is refused, not half-read.
 */
function takeSecrets() {
  const room = roomFromPath(window.location.pathname);
  const stored = { key: `haven.key.${room}`, e2ee: `haven.e2ee.${room}` };
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const fromHash = { key: keyFromHash(window.location.hash), e2ee: params.getAll('e2ee') };
  if (fromHash.key || fromHash.e2ee.length) {
    params.delete('key');
    params.delete('e2ee');
    const rest = params.toString();
    window.history.replaceState(null, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''));
  }
  const secrets = { key: fromHash.key, e2ee: fromHash.e2ee.length ? fromHash.e2ee : null };
  try {
    if (fromHash.key) window.sessionStorage.setItem(stored.key, fromHash.key);
    else secrets.key = window.sessionStorage.getItem(stored.key);
    if (secrets.e2ee) window.sessionStorage.setItem(stored.e2ee, JSON.stringify(secrets.e2ee));
    else {
      const saved = JSON.parse(window.sessionStorage.getItem(stored.e2ee) ?? 'null');
      secrets.e2ee = Array.isArray(saved) ? saved.map(String) : null;
    }
  } catch {
    // private mode, or storage refused: the secrets hold for this page only
  }
  return secrets;
}

const secrets = takeSecrets();

/** The rule the server applies to names: trimmed, 1–32 characters, no control characters. */
export function checkName(raw) {
  const name = raw.trim();
  const chars = Array.from(name).length;
  if (chars === 0) return { error: t('name.empty') };
  if (chars > MAX_NAME_CHARS) {
    return { error: t('name.tooLong', { max: MAX_NAME_CHARS, count: chars }) };
  }
  if (/\p{Cc}/u.test(name)) return { error: t('name.controlChars') };
  return { name };
}

export const app = {
  /** join | connecting | waiting | joined | left | problem */
  state: 'join',
  room: roomFromPath(window.location.pathname),
  key: secrets.key,
  /**
   * The `e2ee=` values of the link (or of this tab's earlier load), null without: an
   * encrypted meeting when set (meeting/e2ee.js checks and holds the key itself).
   */
  e2eeLink: secrets.e2ee,
  name: '',
  you: null,
  roomInfo: null,
  /** A meeting the organisation keeps (`joined.standing`): its facilitators may keep settings. */
  standing: false,
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
  /** The meeting's readings (`{id, title, text}`) and the one staff show now (`{id, paragraph, reader?}`). */
  readings: { list: [], shown: null },
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
  /**
   * A scheduled meeting refused us (`meeting_closed`): when members may enter (a Date, or
   * null when it has no more dates), the timer that joins by itself then and the one that
   * keeps "in 25 minutes" current.
   */
  closed: null,
  /** Message types in and out, for tests and debugging (no SDP, no names). */
  trace: [],
  /**
   * The microphone check (meeting/mic.js): the meter's level (0–1), whether a voice was heard
   * on this track, since when it has been silent, the last readings' voice flags, when the
   * "talking while muted" hint was last given, why the mic could not be opened, and whether
   * this browser cannot measure at all (no running audio context).
   */
  mic: { level: 0, measuring: false, unavailable: false, heard: false, silentSince: null, voiced: [], hintAt: -Infinity, error: null },
  /**
   * How the tiles are laid out (views.js renderLayout): `grid` or `speaker` (one person large,
   * the others in a strip), whom the person pinned, and whether they hid their own tile.
   * The layout and "hide my video" are the person's kept choices (prefs.js); a pin is about
   * someone else in this meeting, so it is never kept. The grid is paged (gridPage): the page
   * shown (0-based) and how many tiles a page holds (tile-fit.js measures it; 0 = not yet).
   */
  view: { layout: pref('layout'), pinned: null, hideSelf: pref('hideSelf'), page: 0, pageSize: 0 },
  /**
   * Screen share (screen.js): whose screen is on now (the server's word), my own capture
   * while I share or ask to, its sound if I chose to share it (mixed into my microphone's
   * sender once the share is on), and whether my `start_screen_share` awaits its answer.
   * `withSound`: "Include sound", off unless chosen, for the meeting only: the next share asks
   * for its sound.
   */
  screen: { sharer: null, track: null, sound: null, starting: false, withSound: false },
  /** The loudest remote voice now (speaker.js), and the last one heard (held in speaker view). */
  speaking: null,
  lastSpeaker: null,
  /** The speaking queue (`queue`: `[{id, name, position}]`), first to last: the grid's pages put its next people first. */
  queue: [],
};

export const isStaff = () => !!app.you && isStaffRole(app.you.role);
/** Whether this browser can capture a screen at all (most phones cannot). */
export const canCaptureScreen = () => typeof navigator.mediaDevices?.getDisplayMedia === 'function';
/**
 * Whether this browser can share a screen's sound: it knows `suppressLocalAudioPlayback`, the
 * constraint only for a captured display's sound (Chromium 109 on; Firefox and Safari capture
 * no display sound and know none of it).
 */
export const canShareScreenSound = () =>
  canCaptureScreen() && !!navigator.mediaDevices.getSupportedConstraints?.().suppressLocalAudioPlayback;
/** Whether I may share my screen: staff, or a member staff let (`may_share_screen`). */
export const mayShareScreen = () => !!app.you && (isStaff() || !!app.you.may_share_screen);
/** Someone else's screen is on: the room shows it large (the presentation layout). */
export const viewingScreen = () => !!app.screen.sharer && app.screen.sharer !== app.you?.id && app.participants.has(app.screen.sharer);
export const send = (msg) => app.sig?.send(msg) ?? false;
export const others = () => [...app.participants.values()];

/** A facilitator muted me and has not let me speak again (the floor would). */
export function heldMuted() {
  return !!app.you?.muted_by_facilitator && !app.you.has_floor && app.state === 'joined';
}

/**
 * Why I may not turn my microphone on right now, or null when I may (or it is on): the
 * server's `may_unmute`, told apart as `held` (a facilitator's mute), `suspended` (the
 * meeting is paused) or `room` (only the person sharing may unmute).
 */
export function micRefusal() {
  if (app.state !== 'joined' || !app.you || app.you.may_unmute !== false || app.want.audio) return null;
  if (app.roomInfo?.suspended) return 'suspended';
  if (app.you.muted_by_facilitator && !app.you.has_floor) return 'held';
  return 'room';
}

/** The server's error code for each reason of micRefusal(): its sentence says why. */
export const MIC_REFUSAL_CODE = { held: 'muted_by_facilitator', suspended: 'room_suspended', room: 'cannot_unmute' };

/** No sound at all from the open microphone for this long: "we can't hear anything". */
const SILENT_AFTER_MS = 4000;

/** Whether the open microphone has been silent (no signal at all) long enough to say so. */
export function micSilent(now = performance.now()) {
  return app.mic.silentSince !== null && now - app.mic.silentSince >= SILENT_AFTER_MS;
}

/** What the join screen's microphone check says: `off`, `error`, `silent`, `heard` or `listening`. */
export function micStatus() {
  if (app.mic.error) return 'error';
  if (!app.mic.measuring) return 'off';
  if (micSilent()) return 'silent';
  return app.mic.heard ? 'heard' : 'listening';
}

/**
 * Who is shown large, or null for the plain grid: a pinned person first (pinning shows them
 * large in either layout), then in speaker view the person sharing, the last voice heard,
 * anyone else, and myself when alone.
 */
export function mainTile() {
  const present = (id) => !!id && app.participants.has(id);
  if (present(app.view.pinned)) return app.view.pinned;
  if (app.view.layout !== 'speaker' || !app.you) return null;
  const sharing = others().find((p) => p.has_floor)?.id ?? (app.you.has_floor && !app.view.hideSelf ? app.you.id : null);
  if (sharing) return sharing;
  if (present(app.lastSpeaker)) return app.lastSpeaker;
  return others()[0]?.id ?? (app.view.hideSelf ? null : app.you.id);
}

/**
 * The grid's pages (pages.js): every tile in page order, the page shown (clamped, and kept so:
 * when the last page empties the one before is shown), how many there are, and the ids on it.
 * One page while the page size is not measured yet.
 */
export function gridPage() {
  const self = app.you && !app.view.hideSelf ? app.you.id : null;
  const floor = others().find((p) => p.has_floor)?.id ?? null;
  const next = app.queue.map((entry) => entry.id);
  const order = pageOrder({ self, floor, next, joined: [...app.participants.keys()] });
  const size = app.view.pageSize || order.length;
  const { page, pages, ids } = paginate(order, size, app.view.page);
  app.view.page = page;
  return { order, page, pages, ids };
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
