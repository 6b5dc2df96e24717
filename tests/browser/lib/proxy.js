// A plain TCP relay in front of the server's HTTP port, so a test can cut every open
// connection (the WebSocket included) the way a network drop would, and let new ones through,
// or hold new connections for a while, as a slow server would.

import net from 'node:net';

/** @param {string} target e.g. "http://127.0.0.1:8080" */
export async function startRelay(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  /** Connections waiting while the relay is held (see hold()). */
  let held = null;
  const server = net.createServer((client) => {
    if (held) {
      client.pause();
      held.push(client);
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => {});
      return;
    }
    connect(client);
  });
  function connect(client) {
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    /** New connections wait (accepted, nothing passed on) until release(): a slow server. */
    hold() {
      held ??= [];
    },
    /** Lets the waiting connections through, and new ones at once. */
    release() {
      const waiting = held ?? [];
      held = null;
      for (const client of waiting) if (!client.destroyed) connect(client);
    },
    /** Cuts every open connection at once. */
    dropAll() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
