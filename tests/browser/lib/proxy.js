// A plain TCP relay in front of the server's HTTP port, so a test can cut every open
// connection (the WebSocket included) the way a network drop would, and let new ones through,
// or hold new connections for a while, as a slow server would. With `delayMs` every chunk
// waits that long each way (order kept), as over a long network path (bench/browser-join.mjs).

import net from 'node:net';

/**
 * @param {string} target e.g. "http://127.0.0.1:8080"
 * @param {{delayMs?: number}} [options]
 */
export async function startRelay(target, { delayMs = 0 } = {}) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const track = (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const forward = (from, to) => {
    if (delayMs <= 0) {
      from.pipe(to);
      return;
    }
    from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
    from.on('end', () => setTimeout(() => to.end(), delayMs));
  };
  /** Connections waiting while the relay is held (see hold()). */
  let held = null;
  const server = net.createServer((client) => {
    track(client);
    if (held) {
      client.pause();
      held.push(client);
    } else {
      connect(client);
    }
  });
  function connect(client) {
    const upstream = net.connect(Number(port), hostname);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
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
