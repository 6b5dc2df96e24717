// Facilitator tools (shown when `you.role` is facilitator or co_facilitator): room settings,
// the waiting room, the participant list with per-person actions, the meeting's bans,
// suspend / restore, end. The server decides every one of these; this only sends the
// commands and shows the state. Removing, banning and turning everyone away are asked
// again in a confirmation step first.

import { announce } from './announce.js';
import { confirmStep } from './confirm.js';
import { actionButton, keepingFocus } from './ui.js';

const $ = (id) => document.getElementById(id);
export const isStaffRole = (role) => role === 'facilitator' || role === 'co_facilitator';

export class StaffPanel {
  /** @param {{send: (m: object) => boolean, you: () => object|null, roomId: string}} ctx */
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
      if (window.confirm('End the meeting for everyone?')) ctx.send({ type: 'end_meeting' });
    });
    $('deny-all-button').addEventListener('click', () =>
      this.#confirmed(
        {
          title: 'Turn everyone waiting away?',
          text: `All ${this.waiting.length} people in the waiting room will be told they were not let in. No one is banned.`,
          action: 'Turn everyone away',
        },
        { type: 'deny_all' },
      ),
    );
    $('copy-link-button').addEventListener('click', () => this.#copyLink());
    $('save-guidelines').addEventListener('click', () => {
      if (ctx.send({ type: 'update_settings', settings: { guidelines: $('set-guidelines').value.trim() } })) {
        this.guidelinesEdited = false;
      }
    });
    $('set-guidelines').addEventListener('input', () => {
      this.guidelinesEdited = true;
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
      announce('The member link was copied.', { visible: true });
    } catch {
      announce(`Copy this member link: ${link}`, { visible: true });
    }
  }

  setWaiting(waiting) {
    const grew = waiting.length > this.waiting.length;
    this.waiting = waiting;
    this.renderWaiting();
    if (grew) announce(`${waiting[waiting.length - 1].name} is in the waiting room.`, { visible: true });
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
        title: `Turn ${w.name} away and ban them?`,
        text: `${w.name} will not be let in and cannot come back to this meeting from this browser.`,
        action: 'Turn away and ban',
      };
      actions.append(
        actionButton('Admit', w.name, () => this.ctx.send({ type: 'admit', id: w.id })),
        actionButton('Deny', w.name, () => this.ctx.send({ type: 'deny', id: w.id })),
        actionButton('Deny and ban', w.name, () => this.#confirmed(denyAndBan, { type: 'deny', id: w.id, ban: true }), {
          danger: true,
        }),
      );
      li.append(name);
      if (w.same_network_as_banned) {
        li.classList.add('is-flagged');
        const flag = document.createElement('span');
        flag.className = 'waiting-flag';
        flag.textContent = 'Joins from the same network as someone removed earlier. It may be someone else in their home, or them again.';
        li.append(flag);
      }
      li.append(actions);
      list.append(li);
    }
    $('waiting-empty').hidden = this.waiting.length > 0;
    $('admit-all-button').hidden = this.waiting.length < 2;
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
      const who = ban.name ?? 'Someone from an earlier meeting';
      const time = new Date(ban.at * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      const text = document.createElement('span');
      text.className = 'person-name';
      text.textContent = `${who}, ${time}`;
      const actions = document.createElement('span');
      actions.className = 'person-actions';
      actions.append(actionButton('Lift ban', `for ${who}`, () => this.ctx.send({ type: 'lift_ban', id: ban.id })));
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
      option.textContent = `${room.share_seconds} seconds`;
      share.append(option);
    }
    share.value = value;
    if (!this.guidelinesEdited) $('set-guidelines').value = room.guidelines ?? '';
    $('suspend-button').hidden = !!room.suspended;
    $('restore-button').hidden = !room.suspended;
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
      const facts = [p.audio ? 'mic on' : p.muted_by_facilitator ? 'muted by a facilitator' : 'muted', p.camera_stopped ? 'camera stopped' : p.video ? 'camera on' : null];
      if (p.role === 'facilitator') facts.unshift('facilitator');
      if (p.role === 'co_facilitator') facts.unshift('co-facilitator');
      name.textContent = `${p.name} (${facts.filter(Boolean).join(', ')})`;
      const actions = document.createElement('span');
      actions.className = 'person-actions';
      const send = (msg) => () => this.ctx.send({ ...msg, id: p.id });
      if (p.role !== 'facilitator') {
        // A silent member may be muted too: the mute holds until a facilitator allows unmute.
        actions.append(actionButton('Mute', p.name, send({ type: 'mute' }), { disabled: p.muted_by_facilitator }));
        actions.append(
          p.camera_stopped
            ? actionButton('Allow camera', `for ${p.name}`, send({ type: 'allow_camera' }))
            : actionButton('Stop camera', `of ${p.name}`, send({ type: 'stop_camera' })),
        );
        const allowed = p.unmute_permission === 'allowed';
        if (p.muted_by_facilitator) {
          // Lifts the mute's hold; where members may not unmute, this person may.
          const allow = () =>
            this.ctx.send({
              type: 'set_unmute_permission',
              id: p.id,
              permission: this.room?.members_may_unmute ? 'follow_room' : 'allowed',
            });
          actions.append(actionButton('Allow to unmute', p.name, allow));
        } else {
          actions.append(
            actionButton(allowed ? 'Follow room rule' : 'Let speak', allowed ? `for ${p.name}` : p.name, send({
              type: 'set_unmute_permission',
              permission: allowed ? 'follow_room' : 'allowed',
            })),
          );
        }
        actions.append(
          p.role === 'co_facilitator'
            ? actionButton('Make member', `${p.name} (remove co-facilitator)`, send({ type: 'demote' }))
            : actionButton('Make co-facilitator', p.name, send({ type: 'promote' })),
        );
        const remove = {
          title: `Remove ${p.name}?`,
          text: `${p.name} will be taken out of the meeting. They can join again.`,
          action: 'Remove',
        };
        const removeAndBan = {
          title: `Remove and ban ${p.name}?`,
          text: `${p.name} will be taken out of the meeting and cannot come back to it from this browser. Someone new from the same network will wait for you to let them in.`,
          action: 'Remove and ban',
        };
        actions.append(
          actionButton('Remove', p.name, () => this.#confirmed(remove, { type: 'remove', id: p.id }), {
            suffix: ' from the meeting',
          }),
        );
        actions.append(
          actionButton('Remove and ban', p.name, () => this.#confirmed(removeAndBan, { type: 'remove', id: p.id, ban: true }), {
            danger: true,
          }),
        );
      }
      li.append(name, actions);
      list.append(li);
    }
    if (!people.length) {
      const li = document.createElement('li');
      li.className = 'hint';
      li.textContent = you ? 'No one else is here yet.' : '';
      list.append(li);
    }
  }
}
