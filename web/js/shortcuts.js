// Single-key shortcuts for the meeting (m microphone, v camera, h hand, c chat). They never
// fire while someone types in a field, nor with a modifier key held.

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

export function isTyping(target) {
  return !!target && (TYPING.has(target.tagName) || target.isContentEditable);
}

/** @param {Record<string, () => void>} actions by lower-case key; @param {() => boolean} active */
export function installShortcuts(actions, active) {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.repeat) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || !active()) return;
    const action = actions[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
