// The grid's pages (last-N): which tiles share a page, in what order, and which page is shown.
// Pure functions of ids, no DOM: views.js feeds them the meeting's state, the grid hides the
// tiles off the page, and reception.js then reports those `visible: false`, so the server
// sends no video for them (their sound always plays).

/** How many of the speaking queue's next people come first, after the floor holder. */
export const QUEUE_FIRST = 2;

/**
 * Everyone's tile in page order: myself, the floor holder, the queue's next people, then the
 * rest as they came (`joined`: ids in arrival order). Nobody moves when someone merely speaks,
 * and a newcomer goes last. Ids not in `joined` (someone who left) are dropped; `self` may be
 * null (my tile hidden).
 */
export function pageOrder({ self = null, floor = null, next = [], joined = [] }) {
  const present = new Set(joined);
  const first = [floor, ...next.slice(0, QUEUE_FIRST)].filter((id) => id && id !== self && present.has(id));
  return [...new Set([...(self ? [self] : []), ...first, ...joined])];
}

/**
 * Splits `order` into pages of `size` and clamps `page` (0-based) to those there are: when the
 * last page empties (people left), the one before is shown. Returns the page shown, how many
 * there are, and the ids on it.
 */
export function paginate(order, size, page) {
  const perPage = Math.max(1, Math.floor(size) || 1);
  const pages = Math.max(1, Math.ceil(order.length / perPage));
  const shown = Math.min(Math.max(0, Math.floor(page) || 0), pages - 1);
  return { page: shown, pages, ids: order.slice(shown * perPage, (shown + 1) * perPage) };
}
