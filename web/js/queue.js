// The speaking queue panel, the same for everyone: who holds the floor, the share timer
// counting down, the raised hands in order, and my own position. Staff get the queue
// controls (call next, call someone, move, remove, clear, add time, stop the share).

import { announce } from './announce.js';
import { actionButton, keepingFocus } from './ui.js';
import { setText, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** "2:05" for 125 seconds. */
export function formatSeconds(total) {
  const s = Math.max(0, Math.ceil(total));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class QueuePanel {
  /** @param {{send: (m: object) => boolean, you: () => object|null, isStaff: () => boolean}} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.queue = [];
    this.floor = null;
    /** Date.now() at which the share's time is up, or null when untimed. */
    this.deadline = null;
    this.warned = false;
    this.expired = false;
    this.ticker = 0;
    $('done-button').addEventListener('click', () => ctx.send({ type: 'done' }));
    for (const button of $('queue-staff').querySelectorAll('[data-cmd]')) {
      button.addEventListener('click', () => {
        const msg = { type: button.dataset.cmd };
        if (msg.type === 'add_time') msg.seconds = 60;
        ctx.send(msg);
      });
    }
  }

  reset(queue = [], floor = null) {
    this.queue = queue;
    this.setFloor(floor, { quiet: true });
    this.render();
  }

  setQueue(queue) {
    this.queue = queue;
    this.render();
  }

  /** A new floor (or null); `seconds_left` starts the countdown. */
  setFloor(floor, { quiet = false } = {}) {
    const previous = this.floor;
    this.floor = floor ? { ...floor } : null;
    this.warned = false;
    this.expired = !!floor?.expired;
    this.#startClock(floor);
    this.render();
    if (quiet || !floor) return;
    const you = this.ctx.you();
    if (you && floor.id === you.id) {
      announce(t('queue.yourTurn'), { visible: true });
    } else if (previous?.id !== floor.id) {
      announce(t('queue.hasFloor', { name: floor.name }));
    }
  }

  extend(floor) {
    if (!this.floor || floor.id !== this.floor.id) return this.setFloor(floor, { quiet: true });
    this.floor = { ...floor };
    this.warned = false;
    this.expired = false;
    this.#startClock(floor);
    this.render();
    announce(t('queue.timeAdded', { time: formatSeconds(floor.seconds_left ?? 0) }));
    return undefined;
  }

  warning(id, secondsLeft) {
    if (!this.floor || this.floor.id !== id) return;
    this.warned = true;
    if (typeof secondsLeft === 'number') this.deadline = Date.now() + secondsLeft * 1000;
    this.render();
    const you = this.ctx.you();
    announce(you && id === you.id ? t('queue.oneMinuteYou') : t('queue.oneMinute', { name: this.floor.name }), {
      visible: !!you && id === you.id,
    });
  }

  timeUp(id) {
    if (!this.floor || this.floor.id !== id) return;
    this.expired = true;
    this.deadline = Date.now();
    this.render();
    const you = this.ctx.you();
    announce(you && id === you.id ? t('queue.timeUpYou') : t('queue.timeUpFor', { name: this.floor.name }), {
      visible: !!you && id === you.id,
    });
  }

  /** The share of `id` ended; `quiet`: the page says it in other words (my mic going off). */
  taken(id, reason, { quiet = false } = {}) {
    if (!this.floor || this.floor.id !== id) return;
    const name = this.floor.name;
    const you = this.ctx.you();
    this.setFloor(null);
    const mine = you && id === you.id;
    if (mine && quiet) return;
    if (mine && reason !== 'done') announce(t('queue.shareEnded'), { visible: true });
    else if (!mine && reason !== 'left') announce(t('queue.finished', { name }));
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = 0;
  }

  #startClock(floor) {
    this.stop();
    const left = floor?.seconds_left;
    this.deadline = typeof left === 'number' ? Date.now() + left * 1000 : null;
    if (this.deadline !== null) this.ticker = setInterval(() => this.#renderTimer(), 1000);
  }

  /** The countdown in the sharing panel (for everyone) and in the bar (mine, while I share). */
  #renderTimer() {
    const you = this.ctx.you();
    const mine = !!(this.floor && you && this.floor.id === you.id);
    for (const timer of [$('floor-timer'), $('my-timer')]) {
      if (!this.floor || this.deadline === null || (timer.id === 'my-timer' && !mine)) {
        timer.hidden = true;
        continue;
      }
      const left = (this.deadline - Date.now()) / 1000;
      timer.hidden = false;
      timer.textContent = this.expired || left <= 0 ? t('queue.timeIsUp') : t('queue.left', { time: formatSeconds(left) });
      timer.classList.toggle('is-warning', this.warned || (left <= 60 && left > 0));
      timer.classList.toggle('is-expired', this.expired || left <= 0);
    }
  }

  render() {
    const you = this.ctx.you();
    const staff = this.ctx.isStaff();
    const floor = this.floor;
    const mine = !!(floor && you && floor.id === you.id);
    $('floor-box').hidden = !floor;
    $('floor-none').hidden = !!floor;
    $('floor-name').textContent = floor ? (mine ? t('queue.floorYou') : floor.name) : '';
    setText($('floor-status'), mine ? 'queue.youHaveFloor' : 'queue.isSharing');
    $('done-button').hidden = !mine;
    $('my-turn').hidden = !mine;
    this.#renderTimer();

    keepingFocus($('queue-list'), () => this.#renderList(you, staff));

    const me = you ? this.queue.find((e) => e.id === you.id) : null;
    const position = $('my-position');
    position.hidden = !me;
    position.textContent = me
      ? me.position === 1
        ? t('queue.next')
        : t('queue.position', { position: me.position })
      : '';

    $('queue-staff').hidden = !staff;
    $('add-time-button').disabled = !floor;
    $('stop-share-button').disabled = !floor;
  }

  #renderList(you, staff) {
    const list = $('queue-list');
    list.replaceChildren();
    for (const [index, entry] of this.queue.entries()) {
      const li = document.createElement('li');
      li.dataset.participantId = entry.id;
      const name = document.createElement('span');
      name.className = 'queue-name';
      const isMe = you && entry.id === you.id;
      name.textContent = isMe ? t('common.nameYou', { name: entry.name }) : entry.name;
      li.append(name);
      if (staff) {
        const row = document.createElement('span');
        row.className = 'queue-actions';
        row.append(
          actionButton(t('queue.call'), entry.name, () => this.ctx.send({ type: 'call', id: entry.id })),
          actionButton(t('queue.moveUp'), entry.name, () =>
            this.ctx.send({ type: 'move_in_queue', id: entry.id, position: Math.max(1, entry.position - 1) }),
          { disabled: index === 0 }),
          actionButton(t('queue.moveDown'), entry.name, () =>
            this.ctx.send({ type: 'move_in_queue', id: entry.id, position: entry.position + 1 }),
          { disabled: index === this.queue.length - 1 }),
          actionButton(t('queue.remove'), entry.name, () => this.ctx.send({ type: 'remove_from_queue', id: entry.id }), {
            suffix: t('queue.removeSuffix'),
          }),
        );
        li.append(row);
      }
      list.append(li);
    }
    $('queue-empty').hidden = this.queue.length > 0;
  }
}
