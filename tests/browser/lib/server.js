// Starts the real Haven binary on free ports for one test file, and stops it afterwards.

import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
export const ARTIFACTS = path.resolve(here, '../artifacts');
export const HAVEN_BIN = process.env.HAVEN_BIN || path.join(REPO, 'target/debug/haven');
export const WEB_DIR = path.join(REPO, 'web');

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tcpPortIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function udpPortIsFree(port) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns Haven and waits for `GET /healthz` to answer 200.
 * @param {string} name used for the log file in artifacts/
 * @returns {Promise<{url: string, log: () => string, stop: () => Promise<void>, createRoom: () => Promise<object>}>}
 */
export async function startServer(name = 'haven', options = {}) {
  if (options.netns) return startServerInNetns(name, options);
  const { env: extraEnv = {}, webDir = WEB_DIR, mediaWorkers = 1 } = options;
  const httpPort = await freeTcpPort();
  // Media uses one port for UDP and ICE-TCP alike, one per media worker from `udpPort` on:
  // each must be free for both.
  const mediaPortsFree = async (first) => {
    for (let port = first; port < first + mediaWorkers; port++) {
      if (port === httpPort || port > 65535 || !(await tcpPortIsFree(port))) return false;
      if (port > first && !(await udpPortIsFree(port))) return false;
    }
    return true;
  };
  let udpPort = await freeUdpPort();
  while (!(await mediaPortsFree(udpPort))) udpPort = await freeUdpPort();
  const env = havenEnv(webDir, {
    HAVEN_HTTP_ADDR: `127.0.0.1:${httpPort}`,
    HAVEN_UDP_ADDR: `127.0.0.1:${udpPort}`,
    HAVEN_MEDIA_WORKERS: String(mediaWorkers),
    ...extraEnv,
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const request = async (method, route) => {
    const res = await fetch(`${url}${route}`, { method });
    return { status: res.status, body: await res.text() };
  };
  return { ...(await spawnHaven(name, HAVEN_BIN, [], env, url, request)), udpPort };
}

/** The environment Haven runs with: ours but no stray HAVEN_* variable, then `vars`. */
function havenEnv(webDir, vars) {
  // Haven refuses unknown HAVEN_* variables (typo protection), so pass only ours.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HAVEN_')));
  return Object.assign(env, {
    HAVEN_LOG: process.env.HAVEN_LOG || 'haven=debug',
    // Every test starts meetings from loopback: more than one address's hourly share.
    HAVEN_ROOMS_PER_ADDRESS_PER_HOUR: '1000',
    NO_COLOR: '1',
    // HAVEN_TEST_EMBEDDED=1 tests the copy of web/ built into the binary instead.
    ...(webDir && process.env.HAVEN_TEST_EMBEDDED !== '1' ? { HAVEN_WEB_DIR: webDir } : {}),
    ...vars,
  });
}

/**
 * Haven inside network namespace `netns` (`ip netns exec`, root only), configured by `env`
 * alone (give it HAVEN_HTTP_ADDR and HAVEN_UDP_ADDR). `localUrl` is its HTTP(S) address as
 * seen from inside the namespace: health check and room creation are made from in there.
 */
async function startServerInNetns(name, { netns, localUrl, env: extraEnv = {}, webDir = WEB_DIR }) {
  const env = havenEnv(webDir, extraEnv);
  // A one-line client run inside the namespace; the test CA is not this process's concern.
  const client =
    'const [u, m] = process.argv.slice(1); fetch(u, { method: m }).then(async (r) => ' +
    'console.log(JSON.stringify({ status: r.status, body: await r.text() })), ' +
    '(e) => console.log(JSON.stringify({ error: String(e.cause ?? e) })))';
  const request = (method, route) =>
    new Promise((resolve, reject) => {
      const args = ['netns', 'exec', netns, process.execPath, '-e', client, `${localUrl}${route}`, method];
      const childEnv = { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' };
      execFile('ip', args, { env: childEnv }, (err, stdout) => {
        if (err) return reject(err);
        const answer = JSON.parse(stdout);
        if (answer.error) reject(new Error(answer.error));
        else resolve(answer);
      });
    });
  return spawnHaven(name, 'ip', ['netns', 'exec', netns, HAVEN_BIN], env, localUrl, request);
}

/** Spawns Haven, waits for `GET /healthz` (through `request`), and returns its handle. */
async function spawnHaven(name, command, args, env, url, request) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = createWriteStream(path.join(ARTIFACTS, `${name}.server.log`));
  let output = '';
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk) => {
    output += chunk;
    logFile.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = null;
  const exitedPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      exited = { error: err };
      resolve();
    });
  });

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      throw new Error(`haven exited before it was healthy (${JSON.stringify(exited)}):\n${output}`);
    }
    try {
      const res = await request('GET', '/healthz');
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haven did not answer /healthz within 20 s:\n${output}`);
    }
    await sleep(100);
  }

  return {
    name,
    url,
    log: () => output,
    async createRoom() {
      const res = await request('POST', '/api/rooms');
      const body = JSON.parse(res.body);
      if (res.status !== 201) throw new Error(`POST /api/rooms: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitedPromise;
        clearTimeout(timer);
      }
      logFile.end();
    },
  };
}
