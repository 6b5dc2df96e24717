// Copying a link from a read-only field, with a fallback where the clipboard API is missing
// (a plain-http address), said through the live region.

import { announce } from './announce.js';
import { t } from './i18n.js';

/** Copies the value of the field `inputId`; the button says "Copied" for a moment. */
export async function copyField(inputId, button) {
  const input = document.getElementById(inputId);
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    // No clipboard API: select the text and use the old command (a masked field shows it
    // first: browsers never copy from a password field).
    if (input.type === 'password') input.type = 'text';
    input.focus();
    input.select();
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
  }
  announce(copied ? t('copy.copied') : t('copy.failed'));
  if (copied) {
    const label = button.textContent;
    button.textContent = t('copy.copiedButton');
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  }
  return copied;
}
