// A confirmation step for actions that cannot be taken back (remove, ban, deny everyone):
// a modal <dialog> the browser makes accessible (focus kept inside, Escape cancels, the
// page behind inert), with large buttons for phones. "Cancel" has the focus, so a stray
// Enter does nothing harmful.

const $ = (id) => document.getElementById(id);

/**
 * Asks before doing `action`. Resolves true only when the person confirmed.
 * @param {{title: string, text: string, action: string}} what
 */
export function confirmStep({ title, text, action }) {
  const dialog = $('confirm-dialog');
  if (dialog.open) return Promise.resolve(false);
  const before = document.activeElement;
  $('confirm-heading').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = action;
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
