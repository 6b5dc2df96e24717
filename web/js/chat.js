// The chat panel: room chat, private messages to and from the facilitators, and "please
// check in with me". Chat text is shown with textContent only, never as HTML.

import { announce } from './announce.js';
import { actionButton } from './ui.js';
import { setText, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const KEEP = 200;
/** Badges next to a staff author's name: the server says who wrote as staff. */
const ROLE_BADGES = { facilitator: 'chat.badge.facilitator', co_facilitator: 'chat.badge.co_facilitator' };

export class ChatPanel {
  /**
   * @param {{send: (m: object) => boolean, you: () => object|null, isStaff: () => boolean,
   *          onUnread: (n: number) => void, seal?: (text: string) => string|Promise<string>,
   *          tooLong?: (text: string) => string|null}} ctx `seal` and `tooLong`: an
   *   encrypted meeting's text goes out sealed, and must fit the server's limit once sealed
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.unread = 0;
    $('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    $('chat-input').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.#submit();
      }
    });
    $('chat-input').addEventListener('input', () => this.#setError(null));
    $('chat-private').addEventListener('change', () => {
      this.tickedForOff = false;
    });
    $('check-in-button').addEventListener('click', () => {
      if (this.ctx.send({ type: 'request_check_in' })) {
        this.#line({ kind: 'system', text: t('chat.checkInAsked') });
        announce(t('chat.checkInAnnounced'));
      }
    });
  }

  get open() {
    return !$('chat-panel').hidden;
  }

  reset(messages = []) {
    $('chat-list').replaceChildren();
    this.unread = 0;
    this.ctx.onUnread(0);
    for (const m of messages) this.#chat(m, false);
  }

  add(message) {
    this.#chat(message, true);
  }

  remove(id) {
    const li = $('chat-list').querySelector(`li[data-message-id="${CSS.escape(String(id))}"]`);
    li?.remove();
  }

  private(message) {
    const you = this.ctx.you();
    const fromMe = you && message.from === you.id;
    let label;
    if (fromMe) label = message.to ? t('chat.fromYouPrivately') : t('chat.fromYouToStaff');
    else label = message.to ? t('chat.fromPrivately', { name: message.from_name }) : t('chat.fromToStaff', { name: message.from_name });
    this.#line({
      kind: 'private',
      label,
      role: fromMe ? null : message.from_role,
      text: message.text,
      replyTo: !fromMe && this.ctx.isStaff() ? message : null,
    });
    if (!fromMe) {
      announce(t('chat.privateFrom', { name: message.from_name }), { visible: !this.open });
      this.#bump();
    }
  }

  checkIn(id, name) {
    this.#line({ kind: 'system', text: `${name} asked a facilitator to check in with them.`, replyTo: { from: id, from_name: name } });
    announce(`${name} asked a facilitator to check in with them.`, { visible: true });
    this.#bump();
  }

  /** Says who reads what: by default a newcomer sees only what is said after they arrive. */
  setSharing(sharesEarlierChat) {
    setText($('chat-since'), sharesEarlierChat ? 'chat.sinceEarlier' : 'chat.sinceArrival');
  }

  /**
   * Chat off (or the meeting suspended): a member can still write to the facilitators, so the
   * box is ticked for them. Back on, the page unticks what it ticked: otherwise the member's
   * next messages would silently reach only the staff. A box the person ticked stays ticked.
   */
  setEnabled(enabled, staff) {
    const box = $('chat-private');
    $('chat-off').hidden = enabled;
    box.disabled = false;
    if (!enabled && !staff && !box.checked) {
      box.checked = true;
      this.tickedForOff = true;
    } else if (enabled && this.tickedForOff) {
      box.checked = false;
      this.tickedForOff = false;
    }
    this.enabled = enabled;
  }

  /**
   * Who a private message can go to: anyone else, when the room allows member-to-member
   * messages or I am staff. Hidden otherwise, so a member is never offered what the server
   * refuses.
   */
  renderTargets(people, allowed) {
    const select = $('chat-to');
    const chosen = select.value;
    $('chat-to-row').hidden = !allowed;
    const options = [new Option(t('chat.toNoOne'), '')];
    if (allowed) for (const p of people) options.push(new Option(p.name, p.id));
    select.replaceChildren(...options);
    select.value = options.some((o) => o.value === chosen) ? chosen : '';
  }

  /** Staff: show delete buttons on every message; members on their own. */
  refreshControls() {
    for (const li of $('chat-list').querySelectorAll('li[data-message-id]')) {
      li.querySelector('.chat-delete')?.remove();
      this.#deleteButton(li);
    }
  }

  async #submit() {
    const input = $('chat-input');
    const typed = input.value;
    const text = typed.trim();
    if (!text) return;
    const tooLong = this.ctx.tooLong?.(text);
    if (tooLong) {
      this.#setError(tooLong);
      return;
    }
    const toStaff = $('chat-private').checked;
    const to = $('chat-to').value;
    let msg;
    if (this.replyTo) msg = { type: 'private_message', to: this.replyTo.from };
    else if (to) msg = { type: 'private_message', to };
    else msg = { type: toStaff ? 'message_facilitators' : 'chat' };
    let out = this.ctx.seal ? this.ctx.seal(text) : text;
    // Sealing (an encrypted meeting) takes a moment; a plain text goes at once, as always.
    if (typeof out !== 'string') out = await out;
    msg.text = out;
    if (this.ctx.send(msg)) {
      if (input.value === typed) input.value = '';
      this.#setReply(null);
    }
  }

  /** The reason a message was not sent (too long to encrypt), under the box; null clears it. */
  #setError(text) {
    const error = $('chat-error');
    if (!error || (!text && error.hidden)) return;
    error.textContent = text ?? '';
    error.hidden = !text;
    if (text) $('chat-input').setAttribute('aria-describedby', 'chat-error');
    else $('chat-input').removeAttribute('aria-describedby');
  }

  #setReply(message) {
    this.replyTo = message;
    const input = $('chat-input');
    const label = document.querySelector('label[for="chat-input"]');
    if (message) setText(label, 'chat.replyTo', { name: message.from_name });
    else setText(label, 'chat.message');
    if (message) input.focus();
  }

  #chat(message, live) {
    const you = this.ctx.you();
    const mine = you && message.from === you.id;
    this.#line({
      kind: 'chat',
      id: message.id,
      from: message.from,
      label: mine ? t('chat.you') : message.name,
      role: message.role,
      text: message.text,
    });
    if (live && !mine) {
      if (!this.open) announce(t('chat.newFrom', { name: message.name }));
      this.#bump();
    }
  }

  #line({ kind, id, from, label, role, text, replyTo }) {
    const li = document.createElement('li');
    li.className = `chat-line is-${kind}`;
    if (id !== undefined) li.dataset.messageId = String(id);
    if (from) li.dataset.from = from;
    if (label) {
      const who = document.createElement('span');
      who.className = 'chat-from';
      li.dataset.label = label;
      who.append(label);
      if (ROLE_BADGES[role]) {
        const badge = document.createElement('span');
        badge.className = 'role-badge';
        badge.textContent = t(ROLE_BADGES[role]);
        who.append(' ', badge);
      }
      who.append(': ');
      li.append(who);
    }
    const body = document.createElement('span');
    body.className = 'chat-text';
    body.textContent = text;
    li.append(body);
    if (replyTo) {
      li.append(actionButton(t('chat.reply'), t('chat.replyToName', { name: replyTo.from_name }), () => this.#setReply(replyTo)));
    }
    if (id !== undefined) this.#deleteButton(li);
    const list = $('chat-list');
    list.append(li);
    while (list.childElementCount > KEEP) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  #deleteButton(li) {
    const you = this.ctx.you();
    const mine = you && li.dataset.from === you.id;
    if (!this.ctx.isStaff() && !mine) return;
    const label = li.dataset.label ?? '';
    const button = actionButton(t('chat.delete'), t('chat.deleteFrom', { name: label }), () =>
      this.ctx.send({ type: 'delete_chat', id: Number(li.dataset.messageId) }),
    );
    button.classList.add('chat-delete');
    li.append(button);
  }

  #bump() {
    if (this.open) return;
    this.unread += 1;
    this.ctx.onUnread(this.unread);
  }

  markRead() {
    this.unread = 0;
    this.ctx.onUnread(0);
  }
}
