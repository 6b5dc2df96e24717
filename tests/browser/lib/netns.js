// A small internet in network namespaces, for the deployment tests (tests/deploy.test.js):
// Haven behind a cloud provider's 1:1 NAT, a TURN server, and members behind home routers
// that masquerade, one of which blocks UDP and one of which lets only TURN and HTTPS out.
// Every address is an RFC 5737 documentation address.
//
//                           hv-inet: bridge br0, 203.0.113.0/24 ("the internet")
//     ┌──────────────┬───────────────┬──────────────┬──────────────┬──────────────┐
//  hv-cloud .10    hv-turn .20      hv-ra .101     hv-rb .102     hv-rc .103
//  1:1 NAT         coturn           masquerade     masquerade,    masquerade, only
//     │ 192.0.2.1                      │           no UDP out     TURN + HTTPS out
//  hv-srv 192.0.2.10                hv-ma .2       hv-mb .66      hv-mc .130   (198.51.100.x)
//  Haven, nginx
//
// Needs root and `ip netns`; `up()` first removes whatever a crashed run left behind, and
// `down()` kills every process still inside the namespaces before deleting them (and their
// /etc/netns/<ns> files).

import { execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { chmod, mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { CHROMIUM_BIN, FIREFOX_BIN, launchChromium, launchFirefox } from './browsers.js';
import { ARTIFACTS } from './server.js';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const SERVER_PUBLIC = '203.0.113.10';
export const SERVER_PRIVATE = '192.0.2.10';
export const TURN_ADDR = '203.0.113.20';

/** The namespaces a browser can run in, by member network. */
export const MEMBER = {
  /** a plain home network */
  a: 'hv-ma',
  /** a network whose router drops all UDP */
  b: 'hv-mb',
  /** a network whose router lets out only TURN (udp/tcp 3478) and HTTPS to the server */
  c: 'hv-mc',
};
export const SERVER_NS = 'hv-srv';
export const TURN_NS = 'hv-turn';

const HOMES = [
  // router, member, public address, LAN prefix (a /26 each), what the router lets out
  { router: 'hv-ra', member: MEMBER.a, wan: '203.0.113.101', lan: '198.51.100.', base: 0, filter: '' },
  {
    router: 'hv-rb',
    member: MEMBER.b,
    wan: '203.0.113.102',
    lan: '198.51.100.',
    base: 64,
    filter: 'iifname "lan" meta l4proto udp drop',
  },
  {
    router: 'hv-rc',
    member: MEMBER.c,
    wan: '203.0.113.103',
    lan: '198.51.100.',
    base: 128,
    filter: `
      ct state established,related accept
      iifname "lan" ip daddr ${TURN_ADDR} meta l4proto { udp, tcp } th dport 3478 accept
      iifname "lan" ip daddr ${SERVER_PUBLIC} tcp dport 443 accept
      drop`,
  },
];

export const NAMESPACES = ['hv-inet', 'hv-cloud', SERVER_NS, TURN_NS, ...HOMES.flatMap((h) => [h.router, h.member])];

/** Why these tests cannot run here, or null when they can. */
export async function unavailable() {
  if (process.getuid?.() !== 0) return 'the deployment tests need root (network namespaces, nftables)';
  try {
    await run('ip', ['netns', 'list']);
    await run('nft', ['--version']);
  } catch (err) {
    return `ip netns / nft unavailable: ${err.message}`;
  }
  return null;
}

const ip = (...args) => run('ip', args);
/** Runs a command inside a namespace and returns its stdout. */
export async function inNs(ns, cmd, args = [], { input } = {}) {
  if (input === undefined) return (await run('ip', ['netns', 'exec', ns, cmd, ...args])).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', ns, cmd, ...args], (err, stdout, stderr) =>
      err ? reject(new Error(`${ns}: ${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin.end(input);
  });
}

/** Kills every process left in our namespaces and deletes them (idempotent). */
export async function down() {
  const existing = new Set(
    (await ip('netns', 'list')).stdout.split('\n').map((line) => line.split(' ')[0]).filter(Boolean),
  );
  for (const ns of NAMESPACES.filter((n) => existing.has(n))) {
    const pids = (await ip('netns', 'pids', ns).catch(() => ({ stdout: '' }))).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip('netns', 'del', ns).catch(() => {});
  }
  for (const ns of NAMESPACES) await rm(path.join('/etc/netns', ns), { recursive: true, force: true });
  await rmdir('/etc/netns').catch(() => {}); // when nothing else is in it
}

/** One veth pair between two namespaces, addressed (`addrA`/`addrB` may be null). */
async function link(nsA, nameA, addrA, nsB, nameB, addrB) {
  await ip('link', 'add', nameA, 'netns', nsA, 'type', 'veth', 'peer', 'name', nameB, 'netns', nsB);
  for (const [ns, name, addr] of [
    [nsA, nameA, addrA],
    [nsB, nameB, addrB],
  ]) {
    if (addr) await ip('-n', ns, 'addr', 'add', addr, 'dev', name);
    await ip('-n', ns, 'link', 'set', name, 'up');
  }
}

/** Joins `ns` to the internet bridge as `wan` with `addr`/24. */
async function onInternet(ns, short, addr) {
  await link(ns, 'wan', `${addr}/24`, 'hv-inet', short, null);
  await ip('-n', 'hv-inet', 'link', 'set', short, 'master', 'br0');
}

const forwarding = (ns) => inNs(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
const nft = (ns, ruleset) => inNs(ns, 'nft', ['-f', '-'], { input: ruleset });

/**
 * Builds the whole topology (after removing any leftover of an earlier run). `hosts` names
 * addresses for the members' namespaces (`ip netns exec` mounts /etc/netns/<ns>/hosts over
 * /etc/hosts): there is no DNS in here.
 */
export async function up({ hosts = {} } = {}) {
  await down();
  const lines = Object.entries(hosts).map(([name, addr]) => `${addr} ${name}\n`).join('');
  for (const ns of Object.values(MEMBER)) {
    await mkdir(path.join('/etc/netns', ns), { recursive: true });
    await writeFile(path.join('/etc/netns', ns, 'hosts'), `127.0.0.1 localhost\n${lines}`);
  }
  for (const ns of NAMESPACES) {
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  await ip('-n', 'hv-inet', 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', 'hv-inet', 'link', 'set', 'br0', 'up');

  // The cloud: the public address lives on the provider's router, which maps it 1:1 onto the
  // server's private address, both ways.
  await onInternet('hv-cloud', 'cloud', SERVER_PUBLIC);
  await link('hv-cloud', 'lan', '192.0.2.1/24', SERVER_NS, 'eth0', `${SERVER_PRIVATE}/24`);
  await ip('-n', SERVER_NS, 'route', 'add', 'default', 'via', '192.0.2.1');
  await forwarding('hv-cloud');
  await nft(
    'hv-cloud',
    `table ip cloud {
      chain pre { type nat hook prerouting priority dstnat; iifname "wan" ip daddr ${SERVER_PUBLIC} dnat to ${SERVER_PRIVATE}; }
      chain post { type nat hook postrouting priority srcnat; oifname "wan" ip saddr ${SERVER_PRIVATE} snat to ${SERVER_PUBLIC}; }
    }`,
  );

  await onInternet(TURN_NS, 'turn', TURN_ADDR);

  for (const home of HOMES) {
    const short = home.router.slice(3);
    await onInternet(home.router, short, home.wan);
    await link(home.router, 'lan', `${home.lan}${home.base + 1}/26`, home.member, 'eth0', `${home.lan}${home.base + 2}/26`);
    await ip('-n', home.member, 'route', 'add', 'default', 'via', `${home.lan}${home.base + 1}`);
    await forwarding(home.router);
    await nft(
      home.router,
      `table ip home {
        chain nat_out { type nat hook postrouting priority srcnat; oifname "wan" masquerade; }
        chain lan_out {
          type filter hook forward priority filter;
          ${home.filter}
        }
      }`,
    );
  }
}

/**
 * Writes an executable that runs `bin` inside `ns` with the arguments it is given (puppeteer
 * launches it as the browser; pipes and the process stay the same across `ip netns exec`).
 */
export async function wrapper(dir, ns, bin) {
  const file = path.join(dir, `${path.basename(bin)}-${ns}`);
  await writeFile(file, `#!/bin/sh\nexec ip netns exec ${ns} ${bin} "$@"\n`);
  await chmod(file, 0o755);
  return file;
}

/**
 * Makes a loopback port of `ns` reachable on the same port number of this process's loopback:
 * Firefox's WebDriver BiDi server listens on 127.0.0.1 inside its namespace, which nothing
 * outside can reach. A socat in the namespace serves a UNIX socket (file system paths are
 * shared across network namespaces) and a server here pipes each connection into it.
 * Returns { port, close() }; the port is free here and, the namespace being new, there too.
 */
export async function loopbackBridge(dir, ns) {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const socket = path.join(dir, `bridge-${ns}-${port}.sock`);
  const socat = spawn('ip', ['netns', 'exec', ns, 'socat', `UNIX-LISTEN:${socket},fork,unlink-early`, `TCP:127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  const conns = new Set();
  server.on('connection', (outside) => {
    const inside = net.connect(socket);
    conns.add(outside).add(inside);
    outside.pipe(inside).pipe(outside);
    const end = () => {
      outside.destroy();
      inside.destroy();
      conns.delete(outside);
      conns.delete(inside);
    };
    outside.on('error', end).on('close', end);
    inside.on('error', end).on('close', end);
  });
  // socat listens once its socket file exists.
  const ready = () =>
    new Promise((resolve) => {
      const probe = net.connect(socket);
      probe.on('connect', () => resolve(probe.destroy() && true)).on('error', () => resolve(false));
    });
  for (let i = 0; i < 100 && !(await ready()); i++) await sleep(50);
  return {
    port,
    close() {
      for (const c of conns) c.destroy();
      server.close();
      socat.kill('SIGKILL');
    },
  };
}

/** Chromium (DevTools over pipes, which cross namespaces) in the namespace `ns`. */
export async function chromiumIn(dir, ns, args = []) {
  return launchChromium({ executablePath: await wrapper(dir, ns, CHROMIUM_BIN), pipe: true, args });
}

/**
 * Firefox in the namespace `ns`: its WebDriver BiDi port is bridged out (`loopbackBridge`);
 * it accepts any certificate (the test CA's).
 */
export async function firefoxIn(dir, ns) {
  const bridge = await loopbackBridge(dir, ns);
  try {
    const firefox = await launchFirefox({
      executablePath: await wrapper(dir, ns, FIREFOX_BIN),
      debuggingPort: bridge.port,
      acceptInsecureCerts: true,
    });
    const close = firefox.close;
    firefox.close = () => close().finally(() => bridge.close());
    return firefox;
  } catch (err) {
    bridge.close();
    throw err;
  }
}

/**
 * A long-running program inside `ns` (nginx, coturn, caddy), its output kept and written to
 * artifacts/deploy-<name>.log. Returns { log(), exited(), stop() }.
 */
export function daemon(ns, name, cmd, args, { env = process.env } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = createWriteStream(path.join(ARTIFACTS, `deploy-${name}.log`));
  let output = '';
  let exited = null;
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk) => {
    output += chunk;
    file.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const gone = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve((exited = { code, signal })));
    child.once('error', (error) => resolve((exited = { error: String(error) })));
  });
  return {
    log: () => output,
    exited: () => exited,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
      }
      file.end();
    },
  };
}

/** Waits until something inside `ns` accepts TCP connections on host:port. */
export async function waitForTcp(ns, host, port, timeout = 10_000) {
  const script =
    'const net = require("node:net"); const [h, p, t] = process.argv.slice(1); const end = Date.now() + Number(t);' +
    '(function again() { net.connect(Number(p), h).on("connect", () => process.exit(0)).on("error", () =>' +
    ' Date.now() > end ? process.exit(1) : setTimeout(again, 50)); })()';
  try {
    await inNs(ns, process.execPath, ['-e', script, host, String(port), String(timeout)]);
  } catch {
    throw new Error(`nothing listens on ${host}:${port} in ${ns} after ${timeout} ms`);
  }
}
