// The SFrame header (RFC 9605 §4.3): one config byte |X|K K K|Y|C C C|, then the key id (KID)
// and the counter (CTR) in as few big-endian bytes as they need. A value under 8 rides in
// the config byte itself (X or Y = 0); otherwise K or C holds its length minus one.
// KID is 8 bytes here (Uint8Array); CTR a safe integer (< 2^53). Imports nothing.

/** The most bytes a header can take: config, 8 of KID, 7 of CTR. */
export const MAX_HEADER = 16;

/** The minimal big-endian bytes of `kid` (8 bytes), without leading zeros. */
function trimmed(kid) {
  let start = 0;
  while (start < kid.length - 1 && kid[start] === 0) start++;
  return kid.subarray(start);
}

function counterBytes(ctr) {
  const out = [];
  for (let v = ctr; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return out.length ? out : [0];
}

/** The header bytes for `kid` (Uint8Array(8)) and `ctr`. */
export function encodeHeader(kid, ctr) {
  const k = trimmed(kid);
  const small = (bytes) => bytes.length === 1 && bytes[0] < 8;
  const c = counterBytes(ctr);
  let config = 0;
  const tail = [];
  if (small(k)) config |= k[0] << 4;
  else {
    config |= 0x80 | ((k.length - 1) << 4);
    tail.push(...k);
  }
  if (small(c)) config |= c[0];
  else {
    config |= 0x08 | (c.length - 1);
    tail.push(...c);
  }
  return Uint8Array.of(config, ...tail);
}

/**
 * The header at `offset` of `bytes`: { kid: Uint8Array(8), ctr, length }, or null when the
 * bytes end early or the counter is beyond 2^53 (never sent by this code: a forgery).
 */
export function decodeHeader(bytes, offset) {
  if (offset >= bytes.length) return null;
  const config = bytes[offset];
  let at = offset + 1;
  const kid = new Uint8Array(8);
  if (config & 0x80) {
    const n = ((config >> 4) & 7) + 1;
    if (at + n > bytes.length) return null;
    kid.set(bytes.subarray(at, at + n), 8 - n);
    at += n;
  } else {
    kid[7] = (config >> 4) & 7;
  }
  let ctr = 0;
  if (config & 0x08) {
    const n = (config & 7) + 1;
    if (at + n > bytes.length) return null;
    for (let i = 0; i < n; i++) ctr = ctr * 256 + bytes[at + i];
    at += n;
    if (!Number.isSafeInteger(ctr)) return null;
  } else {
    ctr = config & 7;
  }
  return { kid, ctr, length: at - offset };
}
