// A pseudo-locale for testing right-to-left layout only (`?lang=x-rtl`, never in the switcher):
// English forced to display right to left (each string wrapped in RIGHT-TO-LEFT OVERRIDE …
// POP DIRECTIONAL FORMATTING, so it shows mirrored), with `dir="rtl"` on the page. A string
// that shows unmirrored did not come from the catalogue.

import en from './en.js';

const wrap = (text) => `\u202e${text}\u202c`;

export default Object.fromEntries(
  Object.entries(en).map(([key, value]) => [
    key,
    typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([c, v]) => [c, wrap(v)])) : wrap(value),
  ]),
);
