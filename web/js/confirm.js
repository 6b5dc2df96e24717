// A confirmation step for actions that cannot be taken back (remove, ban, deny everyone):
// a modal <dialog> the browser makes accessible (focus kept inside, Escape cancels, the
// page behind inert), with large buttons for phones. "Cancel" has the focus, so a stray
// Enter does nothing harmful.

import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** The page's one confirmation dialog, made on first use (every page that asks shares it). */
function dialogElement() {
  const made = $('confirm-dialog');
  if (made) return made;
  const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
  const dialog = el('dialog', { id: 'confirm-dialog', className: 'confirm-dialog' });
  dialog.setAttribute('aria-labelledby', 'confirm-heading');
  dialog.setAttribute('aria-describedby', 'confirm-text');
  const form = el('form', { method: 'dialog' });
  const actions = el('div', { className: 'actions' });
  actions.append(
    el('button', { type: 'submit', value: 'cancel', className: 'button', id: 'confirm-cancel', textContent: t('common.cancel') }),
    el('button', { type: 'submit', value: 'ok', id: 'confirm-ok' }),
  );
  actions.firstChild.dataset.i18n = 'common.cancel';
  form.append(el('h2', { id: 'confirm-heading' }), el('p', { id: 'confirm-text' }), actions);
  dialog.append(form);
  document.body.append(dialog);
  return dialog;
}

/**
 * Asks before doing `action`. Resolves true only when the person confirmed.
 * `danger` (the default) colours the action as one that cannot be taken back.
 * @param {{title: string, text: string, action: string, danger?: boolean}} what
 */
export function confirmStep({ title, text, action, danger = true }) {
  const dialog = dialogElement();
  if (dialog.open) return Promise.resolve(false);
  const before = document.activeElement;
  $('confirm-heading').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = action;
  $('confirm-ok').className = danger ? 'button danger' : 'button primary';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        resolve(dialog.returnValue === 'ok');
        // The row may have been redrawn meanwhile; give focus back if it is still there.
        if (before?.isConnected) before.focus();
      },
      { once: true },
    );
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}
