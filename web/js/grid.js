// The video grid: one tile per person, labelled with their name, a microphone indicator and
// a placeholder when the camera is off, and while someone shares their screen a tile for it,
// shown large (the presentation layout). Names only ever go in through textContent.

import { t } from './i18n.js';

/** Each reaction's emoji; its words are `reactions.words.<name>` in the catalogue. */
export const REACTIONS = {
  heart: { emoji: '❤️' },
  me_too: { emoji: '🙋' },
  clap: { emoji: '👏' },
  wave: { emoji: '👋' },
  thumbs_up: { emoji: '👍' },
};
const REACTION_MS = 4000;
/** Shown on a tile whose video the server paused for this member's link (reception.js). */
export const pausedWords = () => t('grid.paused');
/** A pin, drawn (fixed markup: no name ever goes in here). */
const PIN_ICON =
  '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M9 4h6l-1 6 3 3H7l3-3z"/><path d="M12 13v7"/></svg>';
const ROLE_NAMES = { facilitator: 'chat.badge.facilitator', co_facilitator: 'chat.badge.co_facilitator' };
const roleName = (role) => (ROLE_NAMES[role] ? t(ROLE_NAMES[role]) : '');
/** `setLayout`'s `main` for the shared screen's tile. */
export const SCREEN_TILE = 'screen';

export class Grid {
  /** @type {Map<string, {li: HTMLLIElement, video: HTMLVideoElement, name: HTMLElement, mic: HTMLElement, initial: HTMLElement, paused: HTMLElement, self: boolean, participant: object}>} */
  #tiles = new Map();
  /** Whose video the server paused for our link: their tiles say so. */
  #paused = new Set();
  /** Who is large (speaker view or a pin), who is pinned, and whether my own tile is hidden. */
  #arrangement = { main: null, pinned: null, hideSelf: false };
  /** The tiles' order (id → place) and, when the grid is paged, the ids on the page shown. */
  #pages = { order: new Map(), shown: null };
  /** The speaker the meeting plays on ('' = the browser's default; see `setSink`). */
  #sink = '';
  /** A tile's pin button was pressed: `(id) => void`, set by the page. */
  onPin = () => {};
  /** The shared screen's tile, or null: `{li, video, waiting, soundOnly}`. */
  #screen = null;

  /**
   * @param {HTMLUListElement} list
   * @param {(err: Error) => void} onPlayBlocked autoplay with sound was refused
   */
  constructor(list, onPlayBlocked = () => {}) {
    this.list = list;
    this.onPlayBlocked = onPlayBlocked;
  }

  /** Creates or updates the tile of `participant` ({id, name, audio, video}). */
  upsert(participant, { self = false } = {}) {
    let tile = this.#tiles.get(participant.id);
    if (!tile) {
      tile = this.#create(participant.id, self);
      this.#tiles.set(participant.id, tile);
      if (self) this.list.prepend(tile.li);
      else this.list.append(tile.li);
    }
    tile.participant = { ...participant };
    const label = self ? t('common.nameYou', { name: participant.name }) : participant.name;
    tile.name.textContent = label;
    tile.initial.textContent = initialOf(participant.name);
    tile.li.classList.toggle('is-muted', !participant.audio);
    tile.li.classList.toggle('is-camera-off', !participant.video);
    tile.mic.hidden = !!participant.audio;
    tile.hand.hidden = !participant.hand_raised;
    tile.sharing.hidden = !participant.has_floor;
    tile.li.classList.toggle('has-floor', !!participant.has_floor);
    tile.li.classList.toggle('hand-raised', !!participant.hand_raised);
    const role = roleName(participant.role);
    tile.role.textContent = role;
    tile.role.hidden = !role;
    if (tile.pin) tile.pin.setAttribute('aria-label', t('grid.pin', { name: participant.name }));
    this.#applyPaused(tile);
    this.#applyLayout(tile);
    this.#label(tile);
    this.#layout();
  }

  /**
   * One tile large (`main`, or none: the plain grid) and the others in a strip; `pinned`
   * shows its pin pressed; `hideSelf` hides my own tile (my camera is still sent).
   */
  setLayout({ main = null, pinned = null, hideSelf = false }) {
    this.#arrangement = { main, pinned, hideSelf };
    const screen = main === SCREEN_TILE && !!this.#screen;
    const large = screen || (!!main && this.#tiles.has(main));
    this.list.classList.toggle('is-speaker', large);
    this.list.classList.toggle('is-presenting', screen);
    this.#screen?.li.classList.toggle('is-main', screen);
    for (const tile of this.#tiles.values()) this.#applyLayout(tile);
  }

  /**
   * Shows the tile of a shared screen (`{id, label, waiting, soundOnly}`: its stream id, its
   * name for screen readers, the words shown until its picture comes and those shown instead
   * of it while "Sound only" is on), or removes it (null). Laid
   * out large by `setLayout({main: SCREEN_TILE})`. Never cropped (contain) and never
   * mirrored; a phone may pinch-zoom it (no touch handling here).
   */
  setScreen(screen) {
    if (!screen) {
      if (this.#screen) {
        this.#screen.video.srcObject = null;
        this.#screen.li.remove();
        this.#screen = null;
        this.list.classList.remove('is-presenting');
        this.#layout();
      }
      return;
    }
    if (!this.#screen) {
      const li = document.createElement('li');
      li.className = 'tile is-screen';
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true; // a screen carries no sound here
      video.setAttribute('aria-hidden', 'true');
      const waiting = document.createElement('p');
      waiting.className = 'screen-waiting';
      // In "Sound only" no picture comes: say why instead of a black tile.
      const soundOnly = document.createElement('p');
      soundOnly.className = 'screen-sound-only';
      li.append(video, waiting, soundOnly);
      this.#screen = { li, video, waiting, soundOnly };
      this.list.prepend(li);
    }
    this.#screen.li.dataset.participantId = screen.id;
    this.#screen.li.setAttribute('aria-label', screen.label);
    this.#screen.waiting.textContent = screen.waiting;
    this.#screen.soundOnly.textContent = screen.soundOnly;
    this.#layout();
  }

  /** Plays the shared screen's stream (or nothing yet) in its tile. */
  attachScreen(stream) {
    const tile = this.#screen;
    if (!tile) return;
    tile.li.classList.toggle('has-picture', !!stream);
    if (!stream) {
      tile.video.srcObject = null;
      return;
    }
    // Always set again: a screen shared a second time may come on the same stream.
    tile.video.srcObject = stream;
    tile.video.play().catch(() => {});
  }

  /**
   * Lays the tiles out in `order` (ids; pages.js pageOrder) and shows only those of `shown`
   * (the page: an array of ids), or every tile when `shown` is null. A tile off the page is
   * hidden, so reception.js reports it not visible and no video comes for it; its sound
   * plays on.
   */
  setPage({ order = [], shown = null }) {
    this.#pages = { order: new Map(order.map((id, i) => [id, i])), shown: shown ? new Set(shown) : null };
    for (const tile of this.#tiles.values()) this.#applyLayout(tile);
  }

  #applyLayout(tile) {
    const id = tile.participant?.id;
    tile.li.classList.toggle('is-main', id === this.#arrangement.main);
    const offPage = !!this.#pages.shown && !this.#pages.shown.has(id);
    const hidden = (tile.self && this.#arrangement.hideSelf) || offPage;
    if (tile.li.hidden !== hidden) tile.li.hidden = hidden;
    const place = String(this.#pages.order.get(id) ?? this.#pages.order.size);
    if (tile.li.style.getPropertyValue('--page-order') !== place) tile.li.style.setProperty('--page-order', place);
    if (tile.pin) tile.pin.setAttribute('aria-pressed', String(id === this.#arrangement.pinned));
  }

  /** Marks the tiles of `ids` paused ("Video is paused to keep the sound clear"), no others. */
  setPaused(ids) {
    this.#paused = new Set(ids);
    for (const tile of this.#tiles.values()) if (this.#applyPaused(tile)) this.#label(tile);
  }

  /** "Sound only": other people's tiles show their name and initial, never a frozen frame. */
  setSoundOnly(on) {
    this.list.classList.toggle('is-sound-only', on);
  }

  /** Every other person's tile element, by participant id. */
  *remoteTiles() {
    for (const [id, tile] of this.#tiles) if (!tile.self) yield [id, tile.li];
  }

  /** Shows or hides the tile's "paused" line; true when it changed. */
  #applyPaused(tile) {
    const paused = !tile.self && this.#paused.has(tile.participant?.id);
    if (paused === (tile.li.dataset.videoPaused === 'true')) return false;
    if (paused) tile.li.dataset.videoPaused = 'true';
    else delete tile.li.dataset.videoPaused;
    tile.paused.hidden = !paused;
    return true;
  }

  #label(tile) {
    const participant = tile.participant;
    const label = tile.self ? t('common.nameYou', { name: participant.name }) : participant.name;
    const facts = [
      t(participant.audio ? 'grid.fact.micOn' : 'grid.fact.micOff'),
      t(participant.video ? 'grid.fact.cameraOn' : 'grid.fact.cameraOff'),
      participant.hand_raised ? t('grid.fact.hand') : '',
      participant.has_floor ? t('grid.fact.sharing') : '',
      roleName(participant.role),
      tile.li.dataset.videoPaused === 'true' ? pausedWords().toLocaleLowerCase() : '',
    ].filter(Boolean);
    tile.li.setAttribute('aria-label', t('grid.tileLabel', { name: label, facts: facts.join(t('common.listSeparator')) }));
  }

  /**
   * Plays `stream` (or nothing) in the tile of participant `id`. `reload` re-reads a stream
   * whose tracks changed, since not every browser follows tracks added to a playing stream.
   */
  attach(id, stream, { reload = false } = {}) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    if (!stream) {
      tile.video.srcObject = null;
      return;
    }
    if (reload || tile.video.srcObject !== stream) tile.video.srcObject = stream;
    this.#play(tile.video);
  }

  /** The chosen speaker's device id ('' = the default). */
  get sink() {
    return this.#sink;
  }

  /**
   * Plays everyone's sound on the speaker `deviceId` ('' = the browser's default), tiles made
   * later too. Rejects when the browser refuses that speaker (the tiles may be split then:
   * set the default again).
   */
  async setSink(deviceId) {
    this.#sink = deviceId;
    const others = [...this.#tiles.values()].filter((tile) => !tile.self);
    await Promise.all(others.map((tile) => tile.video.setSinkId?.(deviceId)));
  }

  /** Shows a reaction on the tile of `id` for a few seconds. */
  react(id, reaction) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.reaction.textContent = REACTIONS[reaction]?.emoji ?? '';
    tile.reaction.classList.add('is-on');
    clearTimeout(tile.timer);
    tile.timer = setTimeout(() => {
      tile.reaction.classList.remove('is-on');
      tile.reaction.textContent = '';
    }, REACTION_MS);
  }

  /** Marks the person currently speaking (by audio level), or nobody. */
  setSpeaking(id) {
    for (const [pid, tile] of this.#tiles) tile.li.classList.toggle('is-speaking', pid === id);
  }

  remove(id) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.li.remove();
    this.#tiles.delete(id);
    this.#layout();
  }

  clear() {
    for (const id of [...this.#tiles.keys()]) this.remove(id);
    this.setScreen(null);
  }

  /** After a click on "Turn on sound": retry every tile that autoplay refused. */
  resumeAll() {
    for (const { video } of this.#tiles.values()) {
      if (video.srcObject) {
        video.muted = video.dataset.self === 'true';
        this.#play(video);
      }
    }
  }

  #play(video) {
    const started = video.play();
    if (!started) return;
    started.catch((err) => {
      if (err?.name === 'NotAllowedError') {
        // Keep the picture going without sound until the person allows it.
        video.muted = true;
        video.play().catch(() => {});
        this.onPlayBlocked(err);
      }
    });
  }

  #create(id, self) {
    const li = document.createElement('li');
    li.className = 'tile';
    li.dataset.participantId = id;
    if (self) li.classList.add('is-self');

    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = self; // never play our own microphone back
    video.dataset.self = String(self);
    video.setAttribute('aria-hidden', 'true');
    if (!self && this.#sink) video.setSinkId?.(this.#sink).catch((err) => console.warn('haven: speaker', err?.name));

    const placeholder = document.createElement('div');
    placeholder.className = 'tile-placeholder';
    placeholder.setAttribute('aria-hidden', 'true');
    const initial = document.createElement('span');
    initial.className = 'tile-initial';
    placeholder.append(initial);

    const caption = document.createElement('div');
    caption.className = 'tile-label';
    caption.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = 'tile-name';
    const mic = document.createElement('span');
    mic.className = 'tile-mic';
    mic.textContent = t('grid.muted');
    const hand = document.createElement('span');
    hand.className = 'tile-hand';
    hand.textContent = t('grid.handUp');
    hand.hidden = true;
    const role = document.createElement('span');
    role.className = 'tile-role';
    role.hidden = true;
    const sharing = document.createElement('span');
    sharing.className = 'tile-sharing';
    sharing.textContent = t('grid.sharing');
    sharing.hidden = true;
    caption.append(mic, hand, sharing, name, role);

    const reaction = document.createElement('div');
    reaction.className = 'tile-reaction';
    reaction.setAttribute('aria-hidden', 'true');

    // Read out as it shows: the one line on a tile that is not hidden from screen readers.
    const paused = document.createElement('p');
    paused.className = 'tile-paused';
    paused.textContent = pausedWords();
    paused.hidden = true;

    li.append(video, placeholder, paused, caption, reaction);
    // Pin: this person large, whatever the layout (not on my own tile).
    let pin = null;
    if (!self) {
      pin = document.createElement('button');
      pin.type = 'button';
      pin.className = 'tile-pin';
      pin.setAttribute('aria-pressed', 'false');
      pin.innerHTML = PIN_ICON;
      pin.addEventListener('click', () => this.onPin(id));
      li.append(pin);
    }
    return { li, video, name, mic, hand, sharing, role, initial, reaction, paused, pin, self, timer: 0, participant: null };
  }

  #layout() {
    this.list.dataset.count = String(this.#tiles.size + (this.#screen ? 1 : 0));
  }
}

/** The first letter of a name (a whole character, even outside the BMP). */
function initialOf(name) {
  const [first = '?'] = Array.from(name.trim());
  return first.toUpperCase();
}
