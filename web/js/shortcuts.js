// Single-key shortcuts for the meeting (m microphone, v camera, h hand, c chat). They never
// fire while someone types in a field, nor with a modifier key held, and the person can turn
// them off (WCAG 2.1.4: speech input and screen readers' keys would set them off by
// accident); the choice is kept in this browser.

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);
const KEY = 'haven.shortcuts';

export function isTyping(target) {
  return !!target && (TYPING.has(target.tagName) || target.isContentEditable);
}

/** On unless turned off in this browser (storage refused: for this page only). */
let on = (() => {
  try {
    return localStorage.getItem(KEY) !== 'off';
  } catch {
    return true;
  }
})();

export const shortcutsOn = () => on;

export function setShortcutsOn(value) {
  on = value;
  try {
    localStorage.setItem(KEY, on ? 'on' : 'off');
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** @param {Record<string, () => void>} actions by lower-case key; @param {() => boolean} active */
export function installShortcuts(actions, active) {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.repeat) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || !active() || !on) return;
    const action = actions[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
