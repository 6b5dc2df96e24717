// Faces fill the screen: the grid's columns and tile width are chosen so that every tile
// fits the space the meeting has for them, as large as it can be. Pure arithmetic in
// `fitTiles`; `installTileFit` measures and applies it whenever the space or the number
// of tiles changes.

/**
 * The column count and tile width that make `n` tiles of aspect `ratio` (width/height) as
 * large as possible in `width`×`height`, `gap` apart; never narrower than `minWidth` (then
 * the tiles take the columns that fit, and the rest scrolls).
 */
export function fitTiles(n, width, height, { gap = 8, ratio = 16 / 9, minWidth = 140 } = {}) {
  const count = Math.max(1, n);
  let best = { columns: 1, tileWidth: 0 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const byWidth = (width - gap * (columns - 1)) / columns;
    const byHeight = ((height - gap * (rows - 1)) / rows) * ratio;
    const tileWidth = Math.floor(Math.min(byWidth, byHeight));
    if (tileWidth > best.tileWidth) best = { columns, tileWidth };
  }
  if (best.tileWidth < minWidth) {
    const columns = Math.max(1, Math.min(count, Math.floor((width + gap) / (minWidth + gap))));
    return { columns, tileWidth: Math.floor((width - gap * (columns - 1)) / columns) };
  }
  return best;
}

/**
 * How many tiles one page of the grid holds in `width`×`height`: the most whose best fit
 * keeps every tile at least `minWidth` wide (a face stays recognisable), at most `cap`.
 */
export function pageSize(width, height, { gap = 8, ratio = 16 / 9, minWidth = 200, cap = 25 } = {}) {
  let n = 1;
  // The best fit only shrinks as tiles are added: stop at the first that is too small.
  while (n < cap && fitTiles(n + 1, width, height, { gap, ratio, minWidth: 0 }).tileWidth >= minWidth) n++;
  return n;
}

/**
 * Speaker view: one large tile above a strip of `strip` small ones `stripWidth` wide (rows of
 * them as the width allows). The large tile keeps at least 55 % of the height; a longer strip
 * scrolls under it.
 */
export function fitSpeaker(strip, width, height, { gap = 8, ratio = 16 / 9, stripWidth = 192 } = {}) {
  const small = Math.floor(Math.min(stripWidth, width));
  const perRow = Math.max(1, Math.floor((width + gap) / (small + gap)));
  const rows = Math.ceil(strip / perRow);
  // Each strip row, its gap, and the gap of the line break after the large tile.
  const stripHeight = rows ? rows * (small / ratio + gap) + gap : 0;
  const mainHeight = Math.max(height - stripHeight, height * 0.55);
  return { mainWidth: Math.floor(Math.min(width, mainHeight * ratio)), stripWidth: small, rows };
}

/**
 * The smallest tile a page may have, and the most tiles on a page: on a phone 104 px wide at
 * 4:3 (the speaker view's strip) and at most 3×3; elsewhere 200 px at 16:9 and at most 5×5.
 */
const PAGE_PHONE = { minWidth: 104, cap: 9 };
const PAGE_WIDE = { minWidth: 200, cap: 25 };
/** Room kept under the grid for the page controls, shown or not (a 44 px button and a gap). */
const PAGER_RESERVE = 56;

/**
 * Keeps `list` (the grid) fitted. On wide screens the grid has its own box; on narrower
 * ones the page scrolls, and the tiles fit what is left of the window between the grid's
 * top and the control bar. `onPageSize(n)` hears how many tiles a page holds whenever that
 * changes; it is measured as if `pager` (the page controls under the grid) were shown, so
 * that showing or hiding them never changes it.
 */
export function installTileFit(list, bar, { pager = null, onPageSize = () => {} } = {}) {
  const wide = window.matchMedia('(min-width: 900px)');
  const phone = window.matchMedia('(max-width: 700px)');
  let queued = 0;
  let perPage = 0;
  const apply = () => {
    queued = 0;
    if (list.offsetParent === null) return;
    const style = getComputedStyle(list);
    const gap = parseFloat(style.columnGap) || 8;
    const width = list.clientWidth;
    const pagerHeight = pager && !pager.hidden ? pager.offsetHeight + gap : 0;
    // The height the tiles would have without page controls.
    let full;
    if (wide.matches) {
      full = list.clientHeight + pagerHeight;
    } else {
      const top = list.getBoundingClientRect().top + window.scrollY;
      full = window.innerHeight - top - (bar?.offsetHeight ?? 0) - 12;
    }
    const height = Math.max(full - pagerHeight, 120);
    const ratio = phone.matches ? 4 / 3 : 16 / 9;
    const size = pageSize(width, Math.max(full - PAGER_RESERVE, 120), { gap, ratio, ...(phone.matches ? PAGE_PHONE : PAGE_WIDE) });
    if (size !== perPage) {
      perPage = size;
      onPageSize(size);
    }
    // A hidden tile (my own, "Hide my video", or one on another page) takes no place.
    const n = [...list.children].filter((li) => !li.hidden).length;
    if (!n) return;
    if (list.classList.contains('is-speaker')) {
      const fit = fitSpeaker(n - 1, width, height, { gap, ratio, stripWidth: phone.matches ? 104 : 192 });
      list.style.setProperty('--main-width', `${fit.mainWidth}px`);
      list.style.setProperty('--strip-width', `${fit.stripWidth}px`);
      list.dataset.columns = '';
      return;
    }
    // A page's tiles fit at the smallest size a page allows (a longer list scrolls).
    const { columns, tileWidth } = fitTiles(n, width, height, {
      gap,
      ratio,
      minWidth: (phone.matches ? PAGE_PHONE : PAGE_WIDE).minWidth,
    });
    list.style.gridTemplateColumns = `repeat(${columns}, ${tileWidth}px)`;
    list.dataset.columns = String(columns);
  };
  const schedule = () => {
    if (!queued) queued = requestAnimationFrame(apply);
  };
  new ResizeObserver(schedule).observe(list);
  if (bar) new ResizeObserver(schedule).observe(bar);
  if (pager) new MutationObserver(schedule).observe(pager, { attributes: true, attributeFilter: ['hidden'] });
  // Tiles come and go, and the layout changes by class (speaker view) or `hidden` (my tile).
  new MutationObserver(schedule).observe(list, { childList: true, attributes: true, subtree: true, attributeFilter: ['class', 'hidden'] });
  window.addEventListener('resize', schedule);
  return apply;
}
