// Facilitator tools (shown when `you.role` is facilitator or co_facilitator): room settings,
// the waiting room, the participant list with per-person actions, suspend / restore, end.
// The server decides every one of these; this only sends the commands and shows the state.

import { announce } from './announce.js';
import { actionButton, keepingFocus } from './ui.js';

const $ = (id) => document.getElementById(id);
export const isStaffRole = (role) => role === 'facilitator' || role === 'co_facilitator';

export class StaffPanel {
  /** @param {{send: (m: object) => boolean, you: () => object|null, roomId: string}} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.waiting = [];
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
      actions.append(
        actionButton('Admit', w.name, () => this.ctx.send({ type: 'admit', id: w.id })),
        actionButton('Deny', w.name, () => this.ctx.send({ type: 'deny', id: w.id })),
      );
      li.append(name, actions);
      list.append(li);
    }
    $('waiting-empty').hidden = this.waiting.length > 0;
    $('admit-all-button').hidden = this.waiting.length < 2;
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
        actions.append(actionButton('Remove', p.name, send({ type: 'remove' }), { suffix: ' from the meeting' }));
        actions.append(
          actionButton('Remove and ban', p.name, send({ type: 'remove', ban: true }), { danger: true }),
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
