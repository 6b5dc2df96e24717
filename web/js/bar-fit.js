// Keeps the meeting's control bar on one row on wider screens, whatever the language's words:
// when the full words wrap, the bar takes the phone's short words, then icons alone (each
// button's full words shown as a tooltip on hover and keyboard focus, and always its name for
// screen readers), then the reactions move behind "More". Measured, not guessed from the
// width: a longer language or a facilitator's extra buttons fold only as far as they must.
// Phones have their own one-row layout (style.css). Imports only i18n.js.

import { onLanguageChange } from './i18n.js';

/** From the fullest words to the most folded, each a class on the bar (style.css). */
const LEVELS = ['', 'bar-short', 'bar-icons', 'bar-fold'];
const PHONE = window.matchMedia('(max-width: 700px)');

/** Whether the bar's visible controls all sit on one row (what opens from "More" aside). */
function oneRow(bar) {
  const folded = bar.classList.contains('bar-fold');
  const rects = [...bar.querySelectorAll('button, .my-turn')]
    .filter((el) => !el.closest('.view-options') && !(folded && el.closest('.more-menu')))
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0);
  if (!rects.length) return true;
  // A control on a second row starts below the bottom of every control on the first.
  const bottom = Math.min(...rects.map((r) => r.bottom));
  return rects.every((r) => r.top < bottom - 1);
}

/**
 * Fits `bar` now and whenever its size, its words, the shown controls or the language change.
 * Returns the fit, to call when the bar is shown.
 */
export function installBarFit(bar) {
  let level = '';
  bar.dataset.fit = 'full';
  const set = (next) => {
    if (next === level) return;
    if (level) bar.classList.remove(level);
    if (next) bar.classList.add(next);
    level = next;
    bar.dataset.fit = next || 'full';
  };
  const fit = () => {
    if (!bar.getClientRects().length) return; // not shown: measured when it is
    if (PHONE.matches) return set('');
    for (const next of LEVELS) {
      set(next);
      if (oneRow(bar)) return;
    }
  };
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fit();
    });
  };
  // A wrap changes the bar's height; a wider window its width.
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(soon).observe(bar);
  // Shorter words ("Lower hand" back to "Raise hand") or a control hidden may unfold it again.
  new MutationObserver(soon).observe(bar, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['hidden'] });
  onLanguageChange(soon);
  PHONE.addEventListener?.('change', soon);
  soon();
  return fit;
}
