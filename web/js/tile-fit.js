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
 * Keeps `list` (the grid) fitted. On wide screens the grid has its own box; on narrower
 * ones the page scrolls, and the tiles fit what is left of the window between the grid's
 * top and the control bar.
 */
export function installTileFit(list, bar) {
  const wide = window.matchMedia('(min-width: 900px)');
  const phone = window.matchMedia('(max-width: 700px)');
  let queued = 0;
  const apply = () => {
    queued = 0;
    // A hidden tile (my own, "Hide my video") takes no place.
    const n = [...list.children].filter((li) => !li.hidden).length;
    if (!n || list.offsetParent === null) return;
    const style = getComputedStyle(list);
    const gap = parseFloat(style.columnGap) || 8;
    const width = list.clientWidth;
    let height;
    if (wide.matches) {
      height = list.clientHeight;
    } else {
      const top = list.getBoundingClientRect().top + window.scrollY;
      height = window.innerHeight - top - (bar?.offsetHeight ?? 0) - 12;
    }
    height = Math.max(height, 120);
    const ratio = phone.matches ? 4 / 3 : 16 / 9;
    if (list.classList.contains('is-speaker')) {
      const fit = fitSpeaker(n - 1, width, height, { gap, ratio, stripWidth: phone.matches ? 104 : 192 });
      list.style.setProperty('--main-width', `${fit.mainWidth}px`);
      list.style.setProperty('--strip-width', `${fit.stripWidth}px`);
      list.dataset.columns = '';
      return;
    }
    const { columns, tileWidth } = fitTiles(n, width, height, {
      gap,
      ratio,
      minWidth: phone.matches ? 140 : 200,
    });
    list.style.gridTemplateColumns = `repeat(${columns}, ${tileWidth}px)`;
    list.dataset.columns = String(columns);
  };
  const schedule = () => {
    if (!queued) queued = requestAnimationFrame(apply);
  };
  new ResizeObserver(schedule).observe(list);
  if (bar) new ResizeObserver(schedule).observe(bar);
  // Tiles come and go, and the layout changes by class (speaker view) or `hidden` (my tile).
  new MutationObserver(schedule).observe(list, { childList: true, attributes: true, subtree: true, attributeFilter: ['class', 'hidden'] });
  window.addEventListener('resize', schedule);
  return apply;
}
