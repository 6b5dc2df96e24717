// The readings panel: the texts a group reads together, the one staff show to everyone with
// its highlighted paragraph, and the staff's tools to show, move, add and edit them. The
// room's readings come from the state (meeting/state.js: app.readings, written by
// handlers.js); this panel keeps only what this person looks at. Text is set with
// textContent only, never as HTML.

import { announce } from './announce.js';
import { confirmStep } from './confirm.js';
import { setText, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/**
 * The paragraphs of a reading: runs of non-blank lines, as the server counts them
 * (server/src/room/readings.rs). Lines inside a paragraph keep their breaks (a poem, a list).
 */
export function paragraphs(text) {
  const out = [];
  let current = null;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') {
      current = null;
    } else if (current) {
      current.push(line);
    } else {
      current = [line];
      out.push(current);
    }
  }
  return out.map((lines) => lines.join('\n'));
}

export class ReadingsPanel {
  /**
   * @param {{send: (m: object) => boolean, isStaff: () => boolean,
   *          readings: () => {list: object[], shown: object|null},
   *          names: () => string[], onOpen: (open: boolean) => void}} ctx
   */
  constructor(ctx) {
    this.ctx = ctx;
    /** The reading on screen (its id), or null for the list. */
    this.openId = null;
    /** The panel opened because staff showed a reading (so their "stop" may close it). */
    this.openedByShow = false;
    /** null, 'new', or the id of the reading being edited. */
    this.editing = null;
    this.#wire();
    /**
     * Whether the text keeps the highlighted paragraph in view as it moves. The person's own
     * scrolling stops it; "Back to where we are", or scrolling back to it, starts it again.
     */
    this.following = true;
    this.currentVisible = true;
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        this.currentVisible = entry.isIntersecting;
        if (entry.isIntersecting) this.following = true;
      }
      this.#renderFollow();
    });
  }

  get isOpen() {
    return !$('reading-panel').hidden;
  }

  #wire() {
    $('reading-close').addEventListener('click', () => this.close());
    $('reading-back').addEventListener('click', () => this.open(null));
    $('reading-follow').addEventListener('click', () => {
      this.following = true;
      this.#scrollToCurrent();
    });
    // Only the person's own gestures stop following, not the scrolling this panel does.
    const scrolledAway = () => {
      this.following = false;
    };
    for (const type of ['wheel', 'touchmove', 'keydown']) $('reading-text').addEventListener(type, scrolledAway, { passive: true });
    $('reading-text').addEventListener('pointerdown', (event) => {
      if (event.offsetX > event.currentTarget.clientWidth) scrolledAway(); // on the scrollbar
    });
    $('reading-show').addEventListener('click', () => this.#show(this.openId, 0));
    $('reading-prev').addEventListener('click', () => this.#step(-1));
    $('reading-next').addEventListener('click', () => this.#step(1));
    $('reading-stop').addEventListener('click', () => this.ctx.send({ type: 'stop_reading' }));
    $('reading-reader-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const shown = this.#shown();
      if (shown) this.#show(shown.id, shown.paragraph);
    });
    $('reading-add').addEventListener('click', () => this.#edit('new'));
    $('reading-edit').addEventListener('click', () => this.#edit(this.openId));
    $('reading-remove').addEventListener('click', () => this.#remove());
    $('reading-cancel').addEventListener('click', () => this.#edit(null));
    $('reading-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.#save();
    });
    $('reading-panel').addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.editing) this.close();
    });
    window.addEventListener('resize', () => {
      if (this.isOpen) this.#fitAboveBar();
    });
  }

  /**
   * Ends the panel above the control bar, however many rows the bar wraps to, so the bar's
   * buttons and the panel's own stay reachable (the stylesheet's `bottom` is the fallback).
   */
  #fitAboveBar() {
    const bar = document.querySelector('#screen-meeting .controls');
    const top = bar?.getBoundingClientRect().top ?? 0;
    const panel = $('reading-panel');
    panel.style.bottom = top > window.innerHeight / 3 && top < window.innerHeight ? `${window.innerHeight - top + 6}px` : '';
  }

  /** Opens the panel at reading `id`, or at the list when `id` is null. */
  open(id, { byShow = false } = {}) {
    this.openId = id;
    this.openedByShow = byShow;
    this.editing = null;
    this.following = true;
    $('reading-panel').hidden = false;
    this.#fitAboveBar();
    this.ctx.onOpen(true);
    this.render();
    if (id !== null && this.#shown()?.id === id) this.#scrollToCurrent({ smooth: false });
    else $('reading-text').scrollTop = 0;
    // Opened by staff, it takes no one's focus (a member may be typing in the chat); the
    // announcement says it.
    if (!byShow) $('reading-heading').focus({ preventScroll: true });
  }

  close() {
    $('reading-panel').hidden = true;
    this.editing = null;
    this.observer.disconnect();
    this.ctx.onOpen(false);
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open(this.#shown()?.id ?? null);
  }

  // -------------------------------------------------------------------------------------
  // From the server (through handlers.js, after the state changed)

  /** Everything anew: a join, a reconnection. */
  reset() {
    const shown = this.#shown();
    if (shown) this.open(shown.id, { byShow: true });
    else if (this.isOpen && this.openId !== null && !this.#reading(this.openId)) this.open(null);
    else this.render();
  }

  /** Staff showed a reading, or moved its highlight or reader. */
  shownChanged(before) {
    const shown = this.#shown();
    const reading = this.#reading(shown.id);
    if (!before || before.id !== shown.id) {
      // A new reading on show opens for everyone, whatever they were looking at.
      this.open(shown.id, { byShow: true });
      announce(t('readings.nowReading', { title: reading?.title ?? t('readings.aReading') }), { visible: !this.ctx.isStaff() });
      return;
    }
    this.render();
    if (this.isOpen && this.openId === shown.id && this.following) this.#scrollToCurrent();
    if (before.reader !== shown.reader && shown.reader) announce(t('readings.isReading', { name: shown.reader }));
  }

  /** Staff stopped showing (or the meeting was paused). */
  stopped(before) {
    if (this.isOpen && this.openedByShow && this.openId === before?.id && !this.editing) this.close();
    else this.render();
    announce(t('readings.stopped'));
  }

  /** A reading was added, edited or removed. */
  listChanged() {
    if (this.openId !== null && !this.#reading(this.openId)) {
      this.openId = null;
      if (this.editing !== 'new') this.editing = null;
    }
    if (!this.editing) this.render();
  }

  // -------------------------------------------------------------------------------------
  // Rendering

  render() {
    const { list } = this.ctx.readings();
    const shown = this.#shown();
    const staff = this.ctx.isStaff();
    const reading = this.openId === null ? null : this.#reading(this.openId);
    $('readings-live').hidden = !shown;

    $('reading-form').hidden = !this.editing;
    $('reading-index').hidden = !!this.editing || !!reading;
    $('reading-view').hidden = !!this.editing || !reading;
    if (this.editing) setText($('reading-heading'), this.editing === 'new' ? 'readings.add' : 'readings.editHeading');
    else if (reading) {
      delete $('reading-heading').dataset.i18n;
      $('reading-heading').textContent = reading.title;
    } else setText($('reading-heading'), 'readings.heading');

    const isShown = !!reading && shown?.id === reading.id;
    const status = $('reading-status');
    status.hidden = !isShown || !!this.editing;
    status.textContent = isShown ? (shown.reader ? t('readings.readBy', { name: shown.reader }) : t('readings.shownToEveryone')) : '';

    if (!reading) this.#renderList(list, shown, staff);
    else this.#renderText(reading, isShown ? shown.paragraph : null);
    this.#renderStaff(staff && !this.editing, reading, isShown);
  }

  #renderList(list, shown, staff) {
    const items = list.map((r) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button reading-open';
      button.textContent = r.title;
      if (shown?.id === r.id) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = t('readings.shownNow');
        button.append(' ', badge);
      }
      button.addEventListener('click', () => this.open(r.id));
      li.append(button);
      return li;
    });
    $('reading-list').replaceChildren(...items);
    $('reading-none').hidden = list.length > 0;
    $('reading-add').hidden = !staff;
  }

  #renderText(reading, current) {
    this.observer.disconnect();
    const box = $('reading-text');
    const parts = paragraphs(reading.text).map((text, i) => {
      const p = document.createElement('p');
      p.textContent = text;
      p.dataset.paragraph = String(i);
      if (i === current) {
        p.className = 'is-current';
        p.setAttribute('aria-current', 'true');
      }
      return p;
    });
    box.replaceChildren(...parts);
    const currentP = current === null ? null : parts[current];
    this.currentVisible = true;
    if (currentP) this.observer.observe(currentP);
    this.#renderFollow();
  }

  #renderStaff(staff, reading, isShown) {
    $('reading-staff').hidden = !staff || !reading;
    if (!staff || !reading) return;
    const shown = this.#shown();
    const count = paragraphs(reading.text).length;
    $('reading-show').hidden = isShown;
    setText($('reading-show'), shown && !isShown ? 'readings.showInstead' : 'readings.show');
    for (const id of ['reading-prev', 'reading-next', 'reading-stop', 'reading-reader-form']) $(id).hidden = !isShown;
    $('reading-prev').disabled = !isShown || shown.paragraph === 0;
    $('reading-next').disabled = !isShown || shown.paragraph >= count - 1;
    const input = $('reading-reader');
    if (document.activeElement !== input) input.value = isShown ? shown.reader ?? '' : '';
    const names = this.ctx.names().map((name) => {
      const option = document.createElement('option');
      option.value = name;
      return option;
    });
    $('reading-names').replaceChildren(...names);
  }

  /** "Back to where we are": for a member who scrolled away from the highlight. */
  #renderFollow() {
    const shown = this.#shown();
    $('reading-follow').hidden = this.following || this.currentVisible || shown?.id !== this.openId;
  }

  #scrollToCurrent({ smooth = true } = {}) {
    const p = $('reading-text').querySelector('p.is-current');
    if (!p) return;
    // A tab in the background may never finish a smooth scroll: it jumps there instead.
    const calm = smooth && document.visibilityState === 'visible' && !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    p.scrollIntoView({ block: 'center', behavior: calm ? 'smooth' : 'auto' });
  }

  // -------------------------------------------------------------------------------------
  // Staff actions: sent to the server; the panel changes when its answer comes back.

  #show(id, paragraph) {
    if (id === null) return;
    const reader = $('reading-reader').value.trim();
    this.ctx.send({ type: 'show_reading', id, paragraph, ...(reader ? { reader } : {}) });
  }

  #step(delta) {
    const shown = this.#shown();
    if (shown) this.#show(shown.id, Math.max(0, shown.paragraph + delta));
  }

  #edit(which) {
    this.editing = which;
    const reading = typeof which === 'number' ? this.#reading(which) : null;
    $('reading-title-input').value = reading?.title ?? '';
    $('reading-text-input').value = reading?.text ?? '';
    $('reading-form-error').hidden = true;
    this.render();
    if (which) $('reading-title-input').focus();
    else $('reading-heading').focus({ preventScroll: true });
  }

  #save() {
    const title = $('reading-title-input').value.trim();
    const text = $('reading-text-input').value;
    if (!title || !text.trim()) {
      $('reading-form-error').textContent = t('readings.formError');
      $('reading-form-error').hidden = false;
      return;
    }
    const sent =
      this.editing === 'new'
        ? this.ctx.send({ type: 'add_reading', title, text })
        : this.ctx.send({ type: 'edit_reading', id: this.editing, title, text });
    if (sent) this.#edit(null);
  }

  async #remove() {
    const reading = this.#reading(this.openId);
    if (!reading) return;
    const ok = await confirmStep({
      title: t('readings.removeTitle'),
      text: t('readings.removeText', { title: reading.title }),
      action: t('readings.remove'),
    });
    if (ok) this.ctx.send({ type: 'remove_reading', id: reading.id });
  }

  #shown() {
    return this.ctx.readings().shown;
  }

  #reading(id) {
    return this.ctx.readings().list.find((r) => r.id === id) ?? null;
  }
}
