// A member behind a weak downlink, for the "sound first" tests (tests/weak-link.test.js):
// a network namespace joined to this host by a veth pair, whose host end shapes what flows
// toward the member with `tc` (an HTB class at the link's rate feeding a short packet FIFO,
// as a DSL line or a congested cell would; `netem` and `tbf` do not exist on these kernels).
// Everything else (the server, the other members) stays on this host's loopback side.
//
//    this host                                      hw-<name>-<pid> namespace
//    Haven: HTTP 127.0.0.1, media on HOST            Chromium or Firefox
//    hw-<name>-<pid>h HOST ─ htb rate + pfifo ──▶ eth0 MEMBER
//    HTTP relay HOST:n ◀─────────────────────────── socat 127.0.0.1:<http port>
//
// The member opens the meeting link unchanged (http://127.0.0.1:<port>/…, a secure context):
// a socat inside the namespace carries it over the shaped link to a relay here in front of
// the server's loopback HTTP port. HOST and MEMBER are a free /30 of 198.51.100.0/24 (RFC 5737).
// Names carry the test's pid, so two runs on one machine do not meet. Needs root;
// `shapedLink()` first removes what runs that are gone left, `down()` removes it all.

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

/** Our links are named after the test process (`hw-<name>-<pid>`): runs never collide. */
const OURS = /^hw-[a-z]+-(\d+)h?$/;

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

/** Removes the links of test processes that are gone (a crashed or killed run). */
async function removeOrphans() {
  const names = (await ip('netns', 'list')).stdout.split('\n').map((l) => l.split(' ')[0]);
  const links = (await ip('-o', 'link', 'show')).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]);
  for (const ns of names) {
    const pid = Number(ns.match(OURS)?.[1]);
    if (pid && !ns.endsWith('h') && !alive(pid)) await removeLink(ns, `${ns}h`);
  }
  for (const hostIf of links) {
    const pid = Number(hostIf?.match(OURS)?.[1]);
    if (pid && hostIf.endsWith('h') && !alive(pid)) await ip('link', 'del', hostIf).catch(() => {});
  }
}

/** A /30 of 198.51.100.0/24 (RFC 5737) that no address on this host is in yet. */
async function freeSubnet() {
  const used = new Set(
    [...(await ip('-4', '-o', 'addr', 'show')).stdout.matchAll(/inet 198\.51\.100\.(\d+)/g)].map((m) => Number(m[1]) >> 2),
  );
  for (let i = 0; i < 64; i++) {
    const net = (process.pid + i) % 64;
    if (!used.has(net)) return { hostAddr: `198.51.100.${net * 4 + 1}`, memberAddr: `198.51.100.${net * 4 + 2}` };
  }
  throw new Error('no free /30 left in 198.51.100.0/24');
}

/**
 * Makes namespace `hw-<name>-<pid>` with a veth to this host (a free /30 of 198.51.100.0/24:
 * `hostAddr` here, `memberAddr` there), the link toward the member shaped to `kbit` with a
 * `queue`-packet FIFO. Returns { ns, hostIf, hostAddr, memberAddr, kbit, setRate(kbit),
 * setLoss(percent), counters(), forwardHttp(url), down() }.
 */
export async function shapedLink({ name, kbit, queue = 30 }) {
  const ns = `hw-${name}-${process.pid}`;
  const hostIf = `${ns}h`;
  if (!/^[a-z]+$/.test(name) || hostIf.length > 15) throw new Error(`link name too long for an interface: ${hostIf}`);
  await removeOrphans();
  await removeLink(ns, hostIf);
  const { hostAddr, memberAddr } = await freeSubnet();
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
    /**
     * Drops `percent` % of the UDP datagrams that reach the member, at random (nftables in
     * the namespace: `numgen random`; 0 removes the rule). Media only: the signaling (TCP)
     * and everything the member sends stay whole.
     */
    async setLoss(percent) {
      const nft = (...args) => run('ip', ['netns', 'exec', ns, 'nft', ...args]);
      await nft('delete', 'table', 'inet', 'lossy').catch(() => {});
      if (percent > 0) {
        await nft('add', 'table', 'inet', 'lossy');
        await nft('add', 'chain', 'inet', 'lossy', 'in', '{ type filter hook input priority 0 ; }');
        await nft('add', 'rule', 'inet', 'lossy', 'in', 'meta', 'l4proto', 'udp', 'numgen', 'random', 'mod', '100', '<', String(percent), 'counter', 'drop');
      }
    },
    /** What the member's loss rule has dropped so far ({ packets }; null without one). */
    async lossCounter() {
      const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'lossy']).catch(() => ({ stdout: '' }));
      const m = stdout.match(/counter packets (\d+)/);
      return m ? { packets: Number(m[1]) } : null;
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
    // No IPv6 link-local address on either end: the kernel adds one a second or two after
    // the link comes up (once duplicate address detection is done), and a Chromium on this
    // host takes a new address for a network change and fails every request in flight
    // (net::ERR_NETWORK_CHANGED): a page loading its modules then never started (the
    // lossy-link and weak-link "join screen not shown" failures).
    await ip('link', 'set', hostIf, 'addrgenmode', 'none');
    await ip('-n', ns, 'link', 'set', 'eth0', 'addrgenmode', 'none');
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
