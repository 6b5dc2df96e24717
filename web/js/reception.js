// Sound first (docs/protocol.md, "Sound first: what each member receives"): what this member
// asks the server to send (`receive`: "Sound only", and each other person's tile as rendered)
// and what the server says it can carry (`reception`: the link, and whose video it paused).
// It owns that state and the `receive` messages; the grid draws the tiles, and the page
// (meeting.js) tells it when the meeting starts and ends and hands it the server's words.
// It knows nothing of the socket, the peer connection or the room.

import { setAttr, setText, t } from './i18n.js';

/** Tile reports wait this long for the layout to settle: at most ~3 a second. */
const REPORT_DELAY_MS = 300;
/** A `bad_message` this soon after a `receive` is taken as a server that does not know it. */
const REFUSAL_WINDOW_MS = 3000;
/** The protocol's bounds for a tile's size in device pixels. */
const MAX_PIXELS = 8192;
/** A weak link is said once; flapping within this long is not said again. */
const REANNOUNCE_MS = 60_000;
const STORE_KEY = 'haven.soundOnly';
/** The link's words: `reception.link.<link>` ("Connection: good") and `reception.word.<link>` ("Good"). */
const LINKS = ['good', 'poor', 'sound_only'];

function storedSoundOnly() {
  try {
    return window.sessionStorage.getItem(STORE_KEY) === 'true';
  } catch {
    return false;
  }
}

function storeSoundOnly(on) {
  try {
    if (on) window.sessionStorage.setItem(STORE_KEY, 'true');
    else window.sessionStorage.removeItem(STORE_KEY);
  } catch {
    // private mode: the choice holds until the page goes
  }
}

export class Reception {
  #send;
  #grid;
  #isOther;
  #announce;
  #button;
  #indicator;
  /** "Sound only": chosen by the person, kept for the tab. */
  #soundOnly = storedSoundOnly();
  /** What the server last said (`reception`), reset for every meeting session. */
  #link = 'good';
  #paused = new Set();
  /** In a meeting with an open socket: only then do reports go out. */
  #active = false;
  /** The last tile report sent (its JSON), to send on change only; null: send the next. */
  #lastTiles = null;
  #timer = 0;
  #lastReceiveAt = -Infinity;
  #poorSaidAt = -Infinity;
  #poorSaid = false;
  /** Tiles on screen, by element, from the IntersectionObserver (absent: not known yet). */
  #onScreen = new WeakMap();
  #intersections = null;
  #resizes = null;

  /**
   * @param {object} o
   * @param {(msg: object) => boolean} o.send sends a signaling message
   * @param {import('./grid.js').Grid} o.grid
   * @param {(id: string) => boolean} o.isOther whether `id` is another participant now
   * @param {(text: string) => void} o.announce says something through the polite live region
   * @param {HTMLButtonElement} o.button the "Sound only" toggle
   * @param {HTMLElement} o.indicator the connection indicator
   */
  constructor({ send, grid, isOther, announce, button, indicator }) {
    this.#send = send;
    this.#grid = grid;
    this.#isOther = isOther;
    this.#announce = announce;
    this.#button = button;
    this.#indicator = indicator;
    button.addEventListener('click', () => this.toggleSoundOnly());
    const schedule = () => this.#schedule();
    if (typeof IntersectionObserver === 'function') {
      this.#intersections = new IntersectionObserver((entries) => {
        for (const e of entries) this.#onScreen.set(e.target, e.isIntersecting);
        schedule();
      });
    }
    if (typeof ResizeObserver === 'function') this.#resizes = new ResizeObserver(schedule);
    // Tiles come and go with people: watch the grid rather than every place that changes it.
    new MutationObserver((records) => {
      for (const r of records) {
        for (const node of r.addedNodes) this.#observe(node, true);
        for (const node of r.removedNodes) this.#observe(node, false);
      }
      schedule();
    }).observe(grid.list, { childList: true });
    // A tile shown or hidden (another page of the grid, "Hide my video"): what the observer
    // last saw of it is stale, and the server hears at once, so a new page's videos start now.
    new MutationObserver((records) => {
      let changed = false;
      for (const r of records) {
        if (r.target.parentElement !== grid.list || !r.target.classList.contains('tile')) continue;
        this.#onScreen.delete(r.target);
        changed = true;
      }
      if (changed) this.#flush();
    }).observe(grid.list, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
    // Away from the tab: stop the videos now; back: ask for them at once, not after the delay.
    document.addEventListener('visibilitychange', () => this.#flush());
    window.addEventListener('resize', schedule);
    this.#render();
  }

  get soundOnly() {
    return this.#soundOnly;
  }

  /** The link as shown: the person's own choice first, then the server's word. */
  get link() {
    if (this.#soundOnly) return 'sound_only';
    return this.#link === 'sound_only' ? 'good' : this.#link;
  }

  /** Test hook: what is shown paused. */
  get paused() {
    return [...this.#paused];
  }

  /**
   * A meeting session began (every `joined`, a resumed one too): the server may have
   * forgotten what this page asked for, so say it all again.
   */
  start() {
    this.#active = true;
    this.#link = 'good';
    this.#paused = new Set();
    this.#poorSaid = false;
    this.#lastTiles = null;
    if (this.#soundOnly) this.#sendReceive({ video: false });
    this.#render();
    this.#schedule();
  }

  /** The session ended (left, dropped, removed): nothing goes out until the next `joined`. */
  stop() {
    this.#active = false;
    clearTimeout(this.#timer);
    this.#timer = 0;
    this.#link = 'good';
    this.#paused = new Set();
    this.#render();
  }

  toggleSoundOnly() {
    this.#soundOnly = !this.#soundOnly;
    storeSoundOnly(this.#soundOnly);
    if (this.#active) this.#sendReceive({ video: !this.#soundOnly });
    this.#render();
  }

  /** The server's `reception`: how well the link carries what this member wants. */
  handleReception(msg) {
    const before = this.link;
    if (['good', 'poor', 'sound_only'].includes(msg.link)) this.#link = msg.link;
    this.#paused = new Set(Array.isArray(msg.paused) ? msg.paused.filter((id) => typeof id === 'string') : []);
    const now = this.link;
    if (now === 'poor' && before !== 'poor') {
      if (!this.#poorSaid || performance.now() - this.#poorSaidAt > REANNOUNCE_MS) {
        this.#announce(t('reception.poor'));
        this.#poorSaidAt = performance.now();
      }
      this.#poorSaid = true;
    } else if (now === 'good' && before === 'poor' && this.#poorSaid) {
      this.#announce(t('reception.recovered'));
    }
    this.#render();
  }

  /**
   * An error the server sent: true when it is about a `receive` and handled here, quietly.
   * `unknown_track`: a tile reported for someone who had just left (the report crossed their
   * `participant_left`); the whole report was refused, so send the current one. `bad_message`
   * right after a `receive`: a server that does not know it yet; sound and video go on as before.
   */
  handleError(msg) {
    if (msg.code === 'unknown_track') {
      console.debug('haven: a tile report named someone who had left; reporting again');
      this.#lastTiles = null;
      this.#schedule();
      return true;
    }
    if (msg.code === 'bad_message' && performance.now() - this.#lastReceiveAt < REFUSAL_WINDOW_MS) {
      console.debug('haven: the server refused a receive message (bad_message)');
      return true;
    }
    return false;
  }

  /** The tile report as it stands: every other participant's tile, its size and whether seen. */
  tiles() {
    const dpr = window.devicePixelRatio || 1;
    const size = (css) => Math.min(MAX_PIXELS, Math.max(0, Math.round(css * dpr)));
    const hidden = document.hidden;
    const tiles = [];
    for (const [id, li] of this.#grid.remoteTiles()) {
      if (!this.#isOther(id)) continue;
      const rect = li.getBoundingClientRect();
      const width = size(rect.width);
      const height = size(rect.height);
      const visible = !hidden && width > 0 && height > 0 && this.#onScreen.get(li) !== false;
      tiles.push({ id, width, height, visible });
    }
    return tiles;
  }

  #observe(node, on) {
    if (!(node instanceof Element) || !node.classList.contains('tile')) return;
    for (const observer of [this.#intersections, this.#resizes]) {
      if (!observer) continue;
      if (on) observer.observe(node);
      else observer.unobserve(node);
    }
    if (!on) this.#onScreen.delete(node);
  }

  #schedule() {
    if (!this.#active || this.#timer) return;
    this.#timer = setTimeout(() => this.#flush(), REPORT_DELAY_MS);
  }

  #flush() {
    clearTimeout(this.#timer);
    this.#timer = 0;
    if (!this.#active) return;
    const tiles = this.tiles();
    const json = JSON.stringify(tiles);
    if (json === this.#lastTiles) return;
    if (this.#sendReceive({ tiles })) this.#lastTiles = json;
  }

  #sendReceive(fields) {
    const sent = this.#send({ type: 'receive', ...fields });
    if (sent) this.#lastReceiveAt = performance.now();
    return sent;
  }

  #render() {
    const on = this.#soundOnly;
    this.#button.setAttribute('aria-pressed', String(on));
    this.#grid.setSoundOnly(on);
    // Chosen "sound only": every video is off by choice, none is paused for the link.
    this.#grid.setPaused(on ? [] : this.#paused);
    const link = this.link;
    this.#indicator.dataset.link = link;
    const known = LINKS.includes(link) ? link : 'good';
    setAttr(this.#indicator, 'aria-label', `reception.link.${known}`);
    setAttr(this.#indicator, 'title', `reception.link.${known}`);
    const word = this.#indicator.querySelector('.link-word');
    if (word) setText(word, `reception.word.${known}`);
  }
}
