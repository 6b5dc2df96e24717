// Small DOM helpers shared by the panels. Text only ever goes in through textContent.

/**
 * A button whose visible text is `verb` and whose accessible name says whom it acts on:
 * "Mute" + hidden " Sam" reads "Mute Sam". `action` (default: the verb) names it for code and
 * tests in `data-action`, the same in every language where the page gives one.
 */
export function actionButton(verb, name, onClick, { disabled = false, suffix = '', danger = false, action = verb } = {}) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = danger ? 'button small danger' : 'button small';
  button.append(verb);
  const who = document.createElement('span');
  who.className = 'visually-hidden';
  who.textContent = ` ${name}${suffix}`;
  button.append(who);
  button.dataset.action = action;
  button.disabled = disabled;
  button.addEventListener('click', onClick);
  return button;
}

/**
 * Re-renders `list` with `render()` without losing keyboard focus: when a row's button had
 * focus, the same button of the same person's row gets it back (or the list's first button
 * when that row is gone), so a facilitator working by keyboard stays in place.
 */
export function keepingFocus(list, render) {
  const active = document.activeElement;
  const row = active && list.contains(active) ? active.closest('li[data-participant-id]') : null;
  const id = row?.dataset.participantId;
  const action = active?.dataset?.action;
  render();
  if (!row) return;
  const sameRow = [...list.querySelectorAll('li[data-participant-id]')].find((li) => li.dataset.participantId === id);
  const target =
    [...(sameRow?.querySelectorAll('button') ?? [])].find((b) => b.dataset.action === action && !b.disabled) ??
    sameRow?.querySelector('button:not(:disabled)') ??
    list.querySelector('button:not(:disabled)');
  target?.focus();
}
