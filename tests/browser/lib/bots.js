// Signaling-only people in a meeting: WebSockets opened from a page of the server's own origin
// (no media), for a full room (11 people on a phone) or knocks at the door. Open them from
// Chromium: Firefox opens one WebSocket to a host at a time.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The server lets one address make 60 join attempts a minute: stay under it (per file). */
const joinTimes = [];
export async function joinBudget(n) {
  for (;;) {
    const now = Date.now();
    while (joinTimes.length && now - joinTimes[0] > 61_000) joinTimes.shift();
    if (joinTimes.length + n <= 50) break;
    await sleep(Math.max(200, joinTimes[0] + 61_000 - now));
  }
  for (let i = 0; i < n; i++) joinTimes.push(Date.now());
}

/**
 * `count` people joining `room` from `page`, a tab of its own: it is sent to `serverUrl`, so
 * people an earlier call opened from the same tab leave. Resolves
 * once each is in, or waits (`until: 'waiting'`, a room with a waiting room); with `key` they
 * join as facilitators. `states()`: the last state the server gave each; `send(i, msg)`: a
 * message from bot i; closing the page makes them all leave.
 */
export async function bots(page, serverUrl, room, count, { prefix = 'Guest', until = 'joined', key = null } = {}) {
  await joinBudget(count);
  await page.goto(`${serverUrl}/`);
  const ids = await page.evaluate(
    async (roomId, count, prefix, until, key) => {
      window.bots ??= [];
      window.botState ??= [];
      const one = (i) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
          const n = window.bots.push(ws) - 1;
          ws.onmessage = (event) => {
            const msg = JSON.parse(event.data);
            if (msg.type === 'hello') {
              ws.send(JSON.stringify({ type: 'join', room: roomId, name: `${prefix} ${i + 1}`, ...(key ? { key } : {}) }));
            } else if (msg.type === 'joined' || msg.type === 'waiting') {
              window.botState[n] = msg.type;
              if (msg.type === until) resolve(msg.you?.id ?? null);
              else if (until === 'waiting') reject(new Error(`${prefix} ${i + 1} was let in without waiting`));
            } else if (msg.type === 'error' || msg.type === 'closed') {
              reject(new Error(`${prefix} ${i + 1}: ${msg.code}`));
            }
          };
        });
      const ids = [];
      for (let i = 0; i < count; i++) ids.push(await one(i));
      return ids;
    },
    room.id,
    count,
    prefix,
    until,
    key,
  );
  return {
    page,
    ids,
    states: () => page.evaluate(() => window.botState.slice()),
    send: (i, msg) => page.evaluate((i, m) => window.bots[i].send(JSON.stringify(m)), i, msg),
  };
}
