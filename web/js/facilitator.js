// Facilitator tools (shown when `you.role` is facilitator or co_facilitator), people first:
// the waiting room (with its count), the people with one "…" menu of actions each (menu.js),
// the meeting's bans, then the settings, suspend / restore and end. Screen share is in each
// person's menu: let a member share, take it back, stop the share that is on. An arrival shows a toast
// with "Admit", a count on the facilitator button, and an optional chime (chime.js). The
// server decides every one of these; this only sends the commands and shows the state.
// Removing, banning and turning everyone away are asked again in a confirmation step first.

import { announce } from './announce.js';
import { confirmStep } from './confirm.js';
import { chime, chimeOn, setChime } from './chime.js';
import { menuButton } from './menu.js';
import { actionButton, keepingFocus } from './ui.js';
import { locale, t } from './i18n.js';

/** Said of someone waiting whose address matches a ban (the room's `same_network_as_banned`). */
const flagged = (name) => t('staff.flagged', { name });

const $ = (id) => document.getElementById(id);
/** How many of `waiting` "Admit all" lets in: the room leaves the flagged at the door. */
const admittable = (waiting) => waiting.filter((w) => !w.same_network_as_banned).length;
export const isStaffRole = (role) => role === 'facilitator' || role === 'co_facilitator';

export class StaffPanel {
  /**
   * @param {{send: (m: object) => boolean, you: () => object|null, roomId: string,
   *          screenSharer?: () => string|null}} ctx `screenSharer`: whose screen is on now
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.waiting = [];
    this.bans = [];
    for (const button of $('staff-panel').querySelectorAll('[data-cmd]')) {
      button.addEventListener('click', () => ctx.send({ type: button.dataset.cmd }));
    }
    for (const input of $('staff-panel').querySelectorAll('input[data-setting]')) {
      input.addEventListener('change', () =>
        ctx.send({ type: 'update_settings', settings: { [input.dataset.setting]: input.checked } }),
      );
    }
    $('set-locked').addEventListener('change', (event) => ctx.send({ type: event.target.checked ? 'lock' : 'unlock' }));
    $('set-share').addEventListener('change', (event) =>
      ctx.send({ type: 'update_settings', settings: { share_seconds: Number(event.target.value) } }),
    );
    $('end-button').addEventListener('click', () => {
      // eslint-disable-next-line no-alert
      if (window.confirm(t('staff.endConfirm'))) ctx.send({ type: 'end_meeting' });
    });
    $('deny-all-button').addEventListener('click', () =>
      this.#confirmed(
        {
          title: t('staff.denyAll.title'),
          text: t('staff.denyAll.text', { count: this.waiting.length }),
          action: t('staff.denyAll.action'),
        },
        { type: 'deny_all' },
      ),
    );
    $('copy-link-button').addEventListener('click', () => this.#copyLink());
    $('arrival-admit').addEventListener('click', () => {
      if (this.toastFor) ctx.send({ type: 'admit', id: this.toastFor });
      this.#hideArrival();
    });
    $('arrival-admit-all').addEventListener('click', () => {
      ctx.send({ type: 'admit_all' });
      // Whoever joins from a removed person's network stays at the door (the room admits
      // only the others): the toast goes on to them, so they are not forgotten there.
      const flagged = this.waiting.filter((w) => w.same_network_as_banned);
      if (!flagged.length) return this.#hideArrival();
      this.#showArrival(flagged.at(-1), flagged);
      $('arrival-admit').focus();
    });
    $('arrival-dismiss').addEventListener('click', () => this.#hideArrival());
    $('set-chime').checked = chimeOn();
    $('set-chime').addEventListener('change', (event) => {
      setChime(event.target.checked);
      if (event.target.checked) chime();
    });
    $('save-guidelines').addEventListener('click', () => {
      if (ctx.send({ type: 'update_settings', settings: { guidelines: $('set-guidelines').value.trim() } })) {
        this.guidelinesEdited = false;
      }
    });
    $('set-guidelines').addEventListener('input', () => {
      this.guidelinesEdited = true;
    });
    $('keep-settings-button').addEventListener('click', () => {
      // Guidelines typed but not saved yet go first: the server handles both in order.
      if (this.guidelinesEdited) $('save-guidelines').click();
      ctx.send({ type: 'save_settings' });
    });
  }

  /** Sends `msg` once the person confirms `what` (see confirm.js). */
  async #confirmed(what, msg) {
    if (await confirmStep(what)) this.ctx.send(msg);
  }

  memberLink() {
    return `${window.location.origin}/m/${encodeURIComponent(this.ctx.roomId)}`;
  }

  async #copyLink() {
    const link = this.memberLink();
    try {
      await navigator.clipboard.writeText(link);
      announce(t('staff.linkCopied'), { visible: true });
    } catch {
      announce(t('staff.copyThisLink', { link }), { visible: true });
    }
  }

  setWaiting(waiting) {
    const known = new Set(this.waiting.map((w) => w.id));
    const arrived = waiting.filter((w) => !known.has(w.id));
    this.waiting = waiting;
    this.renderWaiting();
    this.#renderBadges();
    if (arrived.length) {
      const last = arrived[arrived.length - 1];
      announce(t('staff.inWaitingRoom', { name: last.name }));
      this.#showArrival(last);
      if (chimeOn()) chime();
    } else if (this.toastFor && !waiting.some((w) => w.id === this.toastFor)) {
      this.#hideArrival();
    }
  }

  /** The count of people waiting, on the facilitator button and on "More" that holds it. */
  #renderBadges() {
    const n = this.waiting.length;
    for (const id of ['staff-waiting-badge', 'more-waiting-badge']) {
      $(id).hidden = n === 0;
      $(id).textContent = n ? t('staff.waitingBadge', { count: n }) : '';
    }
    $('waiting-count').textContent = n ? `(${n})` : '';
  }

  /**
   * A toast with the newest arrival's name and an Admit button; stays until acted on. Says so
   * when they join from the network of someone removed, whom "Admit all" never lets in.
   */
  #showArrival(w, waiting = this.waiting) {
    this.toastFor = w.id;
    const more = waiting.length - 1;
    const who = more > 0 ? t('arrival.waitingMore', { name: w.name, count: more }) : t('arrival.waiting', { name: w.name });
    $('arrival-text').textContent = w.same_network_as_banned ? `${who} ${flagged(w.name)}` : who;
    $('arrival-admit').setAttribute('aria-label', t('arrival.admitName', { name: w.name }));
    // With more than one at the door, all of them at once (the room lets them in in arrival
    // order while there is room), except anyone flagged: each of those is let in by name.
    const all = admittable(waiting);
    $('arrival-admit-all').hidden = all < 2;
    $('arrival-admit-all').textContent = t('arrival.admitAllCount', { count: all });
    $('arrival-toast').hidden = false;
  }

  #hideArrival() {
    const hadFocus = $('arrival-toast').contains(document.activeElement);
    this.toastFor = null;
    $('arrival-toast').hidden = true;
    if (hadFocus) ($('staff-panel').hidden ? $('more-button') : $('staff-heading')).focus();
  }

  renderWaiting() {
    keepingFocus($('waiting-list'), () => this.#renderWaiting());
  }

  #renderWaiting() {
    const list = $('waiting-list');
    list.replaceChildren();
    for (const w of this.waiting) {
      const li = document.createElement('li');
      li.dataset.participantId = w.id;
      const name = document.createElement('span');
      name.className = 'person-name';
      name.textContent = w.name;
      const actions = document.createElement('span');
      actions.className = 'person-actions';
      const denyAndBan = {
        title: t('staff.denyBan.title', { name: w.name }),
        text: t('staff.denyBan.text', { name: w.name }),
        action: t('staff.denyBan.action'),
      };
      const { button, menu } = menuButton(t('staff.moreFor', { name: w.name }), [
        { verb: t('staff.deny'), onClick: () => this.ctx.send({ type: 'deny', id: w.id }) },
        { verb: t('staff.denyBan.action'), onClick: () => this.#confirmed(denyAndBan, { type: 'deny', id: w.id, ban: true }), danger: true },
      ], {
        open: this.openMenu === `waiting-${w.id}`,
        onToggle: (open) => {
          if (open) this.openMenu = `waiting-${w.id}`;
          else if (this.openMenu === `waiting-${w.id}`) this.openMenu = null;
        },
      });
      const admit = actionButton(t('arrival.admit'), w.name, () => this.ctx.send({ type: 'admit', id: w.id }));
      admit.classList.add('primary');
      actions.append(admit, button);
      li.append(name);
      if (w.same_network_as_banned) {
        li.classList.add('is-flagged');
        const flag = document.createElement('span');
        flag.className = 'waiting-flag';
        flag.textContent = flagged(w.name);
        li.append(flag);
      }
      li.append(actions, menu);
      list.append(li);
    }
    $('waiting-empty').hidden = this.waiting.length > 0;
    $('admit-all-button').hidden = admittable(this.waiting) < 2;
    $('deny-all-button').hidden = this.waiting.length < 2;
  }

  /** This meeting's bans, as the server keeps them in memory. */
  setBans(bans) {
    this.bans = Array.isArray(bans) ? bans : [];
    keepingFocus($('ban-list'), () => this.#renderBans());
  }

  #renderBans() {
    const list = $('ban-list');
    list.replaceChildren();
    for (const ban of this.bans) {
      const li = document.createElement('li');
      li.dataset.participantId = `ban-${ban.id}`;
      const who = ban.name ?? t('staff.banSomeone');
      const time = new Date(ban.at * 1000).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
      const text = document.createElement('span');
      text.className = 'person-name';
      text.textContent = `${who}, ${time}`;
      const actions = document.createElement('span');
      actions.className = 'person-actions';
      actions.append(actionButton(t('staff.liftBan'), t('staff.liftBanFor', { name: who }), () => this.ctx.send({ type: 'lift_ban', id: ban.id })));
      li.append(text, actions);
      list.append(li);
    }
    $('bans').hidden = this.bans.length === 0;
  }

  /** The settings checkboxes follow the room's state as the server tells it. */
  renderRoom(room) {
    if (!room) return;
    this.room = room;
    $('set-locked').checked = !!room.locked;
    $('set-waiting').checked = !!room.waiting_room;
    $('set-unmute').checked = !!room.members_may_unmute;
    $('set-chat').checked = !!room.chat_enabled;
    $('set-share-chat').checked = !!room.share_earlier_chat;
    $('set-member-pm').checked = !!room.member_private_messages;
    $('set-automute').checked = !!room.auto_mute_on_expiry;
    const share = $('set-share');
    const value = String(room.share_seconds ?? 0);
    if (![...share.options].some((o) => o.value === value)) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = t('staff.set.timerSeconds', { count: room.share_seconds });
      share.append(option);
    }
    share.value = value;
    if (!this.guidelinesEdited) $('set-guidelines').value = room.guidelines ?? '';
    // Only the organisation's facilitators keep settings, and only for a meeting it keeps.
    $('keep-settings').hidden = !(this.ctx.standing?.() && this.ctx.you()?.role === 'facilitator');
    $('suspend-button').hidden = !!room.suspended;
    $('restore-button').hidden = !room.suspended;
  }

  /** What a facilitator can do to `p`, in plain words, for the person's menu. */
  #personActions(p) {
    const send = (msg) => () => this.ctx.send({ ...msg, id: p.id });
    const allowed = p.unmute_permission === 'allowed';
    const remove = {
      title: t('staff.remove.title', { name: p.name }),
      text: t('staff.remove.text', { name: p.name }),
      action: t('staff.remove.action'),
    };
    const removeAndBan = {
      title: t('staff.removeBan.title', { name: p.name }),
      text: t('staff.removeBan.text', { name: p.name }),
      action: t('staff.removeBan.action'),
    };
    const items = [
      // A silent member may be muted too: the mute holds until a facilitator allows unmute.
      { verb: t('staff.mute'), onClick: send({ type: 'mute' }), disabled: p.muted_by_facilitator },
      p.camera_stopped
        ? { verb: t('staff.allowCamera'), onClick: send({ type: 'allow_camera' }) }
        : { verb: t('staff.stopCamera'), onClick: send({ type: 'stop_camera' }) },
    ];
    if (p.muted_by_facilitator) {
      // Lifts the mute's hold; where members may not unmute, this person may.
      const permission = this.room?.members_may_unmute ? 'follow_room' : 'allowed';
      items.push({ verb: t('staff.allowUnmute'), onClick: send({ type: 'set_unmute_permission', permission }) });
    } else if (allowed) {
      items.push({ verb: t('staff.followRoom'), onClick: send({ type: 'set_unmute_permission', permission: 'follow_room' }) });
    } else {
      items.push({ verb: t('staff.allowUnmute'), onClick: send({ type: 'set_unmute_permission', permission: 'allowed' }) });
    }
    items.push(...this.#screenActions(p));
    items.push(
      p.role === 'co_facilitator'
        ? { verb: t('staff.demote'), onClick: send({ type: 'demote' }) }
        : { verb: t('staff.promote'), onClick: send({ type: 'promote' }) },
      { verb: t('staff.remove.action'), onClick: () => this.#confirmed(remove, { type: 'remove', id: p.id }) },
      { verb: t('staff.removeBan.action'), onClick: () => this.#confirmed(removeAndBan, { type: 'remove', id: p.id, ban: true }), danger: true },
    );
    return items;
  }

  /**
   * Screen share for `p`: stop their share while it is on; for a member, let them share or
   * take it back (staff may share anyway).
   */
  #screenActions(p) {
    const items = [];
    if (this.ctx.screenSharer?.() === p.id) {
      items.push({ verb: t('staff.endScreen', { name: p.name }), onClick: () => this.ctx.send({ type: 'end_screen_share', id: p.id }) });
    }
    if (!isStaffRole(p.role)) {
      items.push(
        p.may_share_screen
          ? { verb: t('staff.revokeScreen'), onClick: () => this.ctx.send({ type: 'revoke_screen_share', id: p.id }) }
          : { verb: t('staff.allowScreen', { name: p.name }), onClick: () => this.ctx.send({ type: 'allow_screen_share', id: p.id }) },
      );
    }
    return items;
  }

  /** @param {object[]} people everyone else */
  renderPeople(people) {
    keepingFocus($('people-list'), () => this.#renderPeople(people));
  }

  #renderPeople(people) {
    const you = this.ctx.you();
    const list = $('people-list');
    list.replaceChildren();
    for (const p of people) {
      const li = document.createElement('li');
      li.dataset.participantId = p.id;
      const name = document.createElement('span');
      name.className = 'person-name';
      const facts = [
        t(p.audio ? 'staff.fact.micOn' : p.muted_by_facilitator ? 'staff.fact.mutedByFacilitator' : 'staff.fact.muted'),
        p.camera_stopped ? t('staff.fact.cameraStopped') : p.video ? t('staff.fact.cameraOn') : null,
        this.ctx.screenSharer?.() === p.id
          ? t('staff.fact.sharingScreen')
          : p.may_share_screen && !isStaffRole(p.role)
            ? t('staff.fact.mayShareScreen')
            : null,
      ];
      if (p.role === 'facilitator') facts.unshift(t('role.facilitator'));
      if (p.role === 'co_facilitator') facts.unshift(t('role.co_facilitator'));
      name.textContent = t('staff.personFacts', { name: p.name, facts: facts.filter(Boolean).join(t('common.listSeparator')) });
      li.append(name);
      // A facilitator's menu holds only "Stop their screen share", while it is on.
      const items = p.role === 'facilitator' ? this.#screenActions(p) : this.#personActions(p);
      if (items.length) {
        const { button, menu } = menuButton(t('staff.actionsFor', { name: p.name }), items, {
          open: this.openMenu === p.id,
          onToggle: (open) => {
            if (open) this.openMenu = p.id;
            else if (this.openMenu === p.id) this.openMenu = null;
          },
        });
        const actions = document.createElement('span');
        actions.className = 'person-actions';
        actions.append(button);
        li.append(actions, menu);
      }
      list.append(li);
    }
    if (!people.length) {
      const li = document.createElement('li');
      li.className = 'hint';
      li.textContent = you ? t('staff.noOneElse') : '';
      list.append(li);
    }
  }
}
