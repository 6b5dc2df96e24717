// Single-key shortcuts for the meeting (m microphone, v camera, h hand, c chat). They never
// fire while someone types in a field, nor with a modifier key held, and the person can turn
// them off (WCAG 2.1.4: speech input and screen readers' keys would set them off by
// accident); the choice is kept in this browser (prefs.js).

import { pref, setPref } from './prefs.js';

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

export function isTyping(target) {
  return !!target && (TYPING.has(target.tagName) || target.isContentEditable);
}

/** On unless turned off in this browser (prefs.js; storage refused: for this page only). */
export const shortcutsOn = () => pref('shortcuts');

export function setShortcutsOn(value) {
  setPref('shortcuts', !!value);
}

/** @param {Record<string, () => void>} actions by lower-case key; @param {() => boolean} active */
export function installShortcuts(actions, active) {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.repeat) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || !active() || !shortcutsOn()) return;
    const action = actions[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
