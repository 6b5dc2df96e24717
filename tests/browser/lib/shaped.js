// A member behind a weak downlink, for the "sound first" tests (tests/weak-link.test.js):
// a network namespace joined to this host by a veth pair, whose host end shapes what flows
// toward the member with `tc` (an HTB class at the link's rate feeding a short packet FIFO,
// as a DSL line or a congested cell would; `netem` and `tbf` do not exist on these kernels).
// Everything else (the server, the other members) stays on this host's loopback side.
//
//    this host                                      hw-<name> namespace
//    Haven: HTTP 127.0.0.1, media on HOST_ADDR       Chromium or Firefox
//    hw-<name>0 HOST_ADDR ── htb rate + pfifo ──▶ eth0 MEMBER_ADDR
//    HTTP relay HOST_ADDR:n ◀──────────────────── socat 127.0.0.1:<http port>
//
// The member opens the meeting link unchanged (http://127.0.0.1:<port>/…, a secure context):
// a socat inside the namespace carries it over the shaped link to a relay here in front of
// the server's loopback HTTP port. Addresses are RFC 5737 documentation addresses.
// Needs root; `shapedLink()` first removes what a crashed run left, `down()` removes it all.

import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Why a shaped link cannot be made here, or null when it can. */
export async function shapingUnavailable() {
  if (process.getuid?.() !== 0) return 'shaped links need root (network namespaces, tc)';
  try {
    await run('ip', ['netns', 'list']);
    await run('tc', ['-V']);
    await run('socat', ['-V']);
  } catch (err) {
    return `ip netns / tc / socat unavailable: ${err.message}`;
  }
  return null;
}

const ip = (...args) => run('ip', args);
const tc = (...args) => run('tc', args);

/** Removes namespace `ns` and every process still in it, and the host's end `hostIf`. */
async function removeLink(ns, hostIf) {
  const names = (await ip('netns', 'list')).stdout.split('\n').map((l) => l.split(' ')[0]);
  if (names.includes(ns)) {
    const pids = (await ip('netns', 'pids', ns).catch(() => ({ stdout: '' }))).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Killed processes leave the namespace a moment later; deleting it removes the veth pair.
    for (let i = 0; i < 20; i++) {
      if (!(await ip('netns', 'pids', ns).catch(() => ({ stdout: '' }))).stdout.trim()) break;
      await sleep(50);
    }
    await ip('netns', 'del', ns).catch(() => {});
  }
  await ip('link', 'del', hostIf).catch(() => {});
}

/** A TCP relay listening on `host` (any free port) to `target` ("127.0.0.1:8080"). */
async function tcpRelay(host, target) {
  const [toHost, toPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(toPort, toHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return {
    port: server.address().port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Makes namespace `hw-<name>` with a veth to this host: `hostAddr` here, `memberAddr` there
 * (a /30 between them), the link toward the member shaped to `kbit` with a `queue`-packet FIFO.
 * Returns { ns, hostIf, hostAddr, memberAddr, setRate(kbit), counters(), forwardHttp(url),
 * down() }.
 */
export async function shapedLink({ name, hostAddr, memberAddr, kbit, queue = 30 }) {
  const ns = `hw-${name}`;
  const hostIf = `hw-${name}0`.slice(0, 15);
  await removeLink(ns, hostIf);
  const closers = [];
  const link = {
    ns,
    hostIf,
    hostAddr,
    memberAddr,
    kbit,
    /** Changes the downlink's rate at once (`tc class change`); the queue stays as it is. */
    async setRate(newKbit) {
      await tc('class', 'change', 'dev', hostIf, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${newKbit}kbit`, 'ceil', `${newKbit}kbit`);
      link.kbit = newKbit;
    },
    /** What the shaper has sent and dropped so far toward the member. */
    async counters() {
      const { stdout } = await tc('-s', 'qdisc', 'show', 'dev', hostIf, 'parent', '1:10');
      const m = stdout.match(/Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/);
      return m ? { bytes: Number(m[1]), packets: Number(m[2]), dropped: Number(m[3]) } : null;
    },
    /**
     * The server's loopback HTTP `url`, reachable at the same address inside the namespace,
     * through the shaped link (the signaling socket shares the member's downlink).
     */
    async forwardHttp(url) {
      const { hostname, port } = new URL(url);
      const relay = await tcpRelay(hostAddr, `${hostname}:${port}`);
      closers.push(() => relay.close());
      const socat = spawn(
        'ip',
        ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${port},bind=${hostname},fork,reuseaddr`, `TCP:${hostAddr}:${relay.port}`],
        { stdio: 'ignore' },
      );
      closers.push(() => socat.kill('SIGKILL'));
      const script =
        'const net = require("node:net"); const [h, p] = process.argv.slice(1); const end = Date.now() + 5000;' +
        '(function again() { net.connect(Number(p), h).on("connect", () => process.exit(0)).on("error", () =>' +
        ' Date.now() > end ? process.exit(1) : setTimeout(again, 50)); })()';
      await run('ip', ['netns', 'exec', ns, process.execPath, '-e', script, hostname, port]).catch(() => {
        throw new Error(`${ns}: the HTTP forward to ${url} did not start`);
      });
    },
    /** Stops the relays, kills what runs in the namespace and deletes it (idempotent). */
    async down() {
      for (const close of closers.splice(0)) {
        try {
          close();
        } catch {
          // already closed
        }
      }
      await removeLink(ns, hostIf);
    },
  };
  try {
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    await ip('-n', ns, 'addr', 'add', `${memberAddr}/30`, 'dev', 'eth0');
    await ip('link', 'set', hostIf, 'up');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'route', 'add', 'default', 'via', hostAddr);
    // The downlink: everything this host sends toward the member goes through one HTB class
    // and its short FIFO, so a burst beyond the rate is dropped, not buffered for seconds.
    await tc('qdisc', 'add', 'dev', hostIf, 'root', 'handle', '1:', 'htb', 'default', '10');
    await tc('class', 'add', 'dev', hostIf, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${kbit}kbit`, 'ceil', `${kbit}kbit`);
    await tc('qdisc', 'add', 'dev', hostIf, 'parent', '1:10', 'handle', '10:', 'pfifo', 'limit', String(queue));
  } catch (err) {
    await link.down();
    throw err;
  }
  return link;
}

/** A free port on `host` for both UDP and TCP (Haven's media port serves ICE-TCP too). */
export async function freeMediaPort(host) {
  const { default: dgram } = await import('node:dgram');
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, host, () => {
        const { port } = socket.address();
        socket.close(() => resolve(port));
      });
    });
    const tcpFree = await new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (tcpFree) return port;
  }
}
