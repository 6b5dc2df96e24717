// A sliding replay window over one stream's frame counters, as SRTP keeps for sequence
// numbers (RFC 3711 §3.3.2): a counter seen before is refused, one older than the window too.
// Not a strict "greater than the last": the SFU switches a subscriber between simulcast
// layers of one sender, whose frames share the sender's counter and interleave, so a frame
// of the new layer may carry a slightly lower counter than the old layer's last one.
// Imports nothing.

/** Counters this far below the highest seen are refused as too old (11 s of three layers at 30 fps). */
export const WINDOW = 1024;

export class ReplayWindow {
  #seen = new Uint8Array(WINDOW);
  #highest = -1;

  /** 'new', 'replayed' or 'too_old': what `ctr` would be. Changes nothing. */
  check(ctr) {
    if (ctr > this.#highest) return 'new';
    if (ctr <= this.#highest - WINDOW) return 'too_old';
    return this.#seen[ctr % WINDOW] ? 'replayed' : 'new';
  }

  /** Record `ctr`, which check() called 'new' and which authenticated. */
  accept(ctr) {
    if (ctr > this.#highest) {
      const gap = ctr - this.#highest;
      if (gap >= WINDOW) this.#seen.fill(0);
      else for (let c = this.#highest + 1; c < ctr; c++) this.#seen[c % WINDOW] = 0;
      this.#highest = ctr;
    }
    this.#seen[ctr % WINDOW] = 1;
  }
}
