// The documented deployment shapes, end to end, in network namespaces (lib/netns.js): Haven
// on a cloud server with a private address only, behind the provider's 1:1 NAT, bound to
// 0.0.0.0 and announcing its public address; nginx (and Caddy) in front terminating TLS with
// the config snippets of docs/deploy.md as written there; Haven serving HTTPS itself; coturn
// with production restrictions; real Chromium and Firefox behind home routers that NAT, one
// of which drops UDP and one of which lets out only TURN and HTTPS. Needs root (CI runs it);
// elsewhere it skips, unless CI is set.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  CONNECT_TIMEOUT,
  assertNoPageErrors,
  expectMediaFrom,
  joinMeeting,
  selectedServerCandidate,
  waitForTile,
  withBrowsers,
} from '../lib/meeting.js';
import {
  MEMBER,
  SERVER_NS,
  SERVER_PUBLIC,
  TURN_ADDR,
  TURN_NS,
  chromiumIn,
  daemon,
  down,
  firefoxIn,
  unavailable,
  up,
  waitForTcp,
} from '../lib/netns.js';
import { ARTIFACTS, REPO, startServer } from '../lib/server.js';

const run = promisify(execFile);
const TURN_SECRET = randomBytes(18).toString('base64url');
const TURN_URL = `turn:${TURN_ADDR}:3478?transport=udp`;
/** What every shape shares: the production media setting of docs/deploy.md, and TURN. */
const MEDIA_ENV = {
  HAVEN_UDP_ADDR: '0.0.0.0:10000',
  HAVEN_PUBLIC_IPS: SERVER_PUBLIC,
  HAVEN_TURN_URLS: TURN_URL,
  HAVEN_TURN_SECRET: TURN_SECRET,
};

/** The name of the Caddy shape's site: the members' namespaces resolve it (lib/netns.js). */
const SITE = 'meet.example.org';

const why = await unavailable();
const skip = why && !process.env.CI ? `${why} (skipped; with CI set this fails)` : false;

let dir; // certificates, configs, browser wrappers, sockets
let spki; // base64 SHA-256 of the server certificate's public key, for Chromium
let coturn;

/** A test CA and a certificate for the server's public address, signed by it. */
async function makeCertificates() {
  const openssl = (...args) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Haven test CA');
  await openssl('req', ...ec, '-keyout', 'privkey.pem', '-out', 'server.csr', '-subj', `/CN=${SERVER_PUBLIC}`);
  await writeFile(
    path.join(dir, 'server.ext'),
    `subjectAltName=IP:${SERVER_PUBLIC},DNS:${SITE}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem');
  const leaf = await readFile(path.join(dir, 'server.pem'), 'utf8');
  await writeFile(path.join(dir, 'fullchain.pem'), leaf + (await readFile(path.join(dir, 'ca.pem'), 'utf8')));
  const der = new X509Certificate(leaf).publicKey.export({ type: 'spki', format: 'der' });
  spki = createHash('sha256').update(der).digest('base64');
}

/** The fenced block between `<!-- name:begin -->` and `<!-- name:end -->` in docs/deploy.md. */
async function docSnippet(name) {
  const doc = await readFile(path.join(REPO, 'docs/deploy.md'), 'utf8');
  const found = doc.match(new RegExp(`<!-- ${name}:begin -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`));
  assert.ok(found, `docs/deploy.md has no ${name} snippet between <!-- ${name}:begin/end --> markers`);
  return found[1];
}

/** Replaces each `from` (which must occur) with its `to`. */
function substitute(text, pairs, what) {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `${what}: expected ${from} in the snippet of docs/deploy.md`);
    text = text.replaceAll(from, to);
  }
  return text;
}

async function startCoturn() {
  const conf = substitute(
    await docSnippet('coturn'),
    [
      ['static-auth-secret=replace-with-a-long-random-secret', `static-auth-secret=${TURN_SECRET}`],
      ['allowed-peer-ip=203.0.113.7', `allowed-peer-ip=${SERVER_PUBLIC}`],
    ],
    'coturn',
  );
  await writeFile(path.join(dir, 'turnserver.conf'), conf);
  // Line-buffered, so the test reads coturn's session log while it runs.
  coturn = daemon(TURN_NS, 'coturn', 'stdbuf', [
    '-oL', 'turnserver', '-c', path.join(dir, 'turnserver.conf'),
    `--listening-ip=${TURN_ADDR}`, `--relay-ip=${TURN_ADDR}`,
    `--pidfile=${path.join(dir, 'turnserver.pid')}`, `--userdb=${path.join(dir, 'turndb')}`,
    '--log-file=stdout', '--simple-log', '--verbose',
  ]);
  await waitForTcp(TURN_NS, TURN_ADDR, 3478);
}

/** nginx as root with its own prefix and config: docs/deploy.md's snippet in an http {} block. */
async function startNginx() {
  const snippet = await docSnippet('nginx');
  assert.equal(snippet, await readFile(path.join(REPO, 'config/nginx-haven.conf'), 'utf8'),
    'docs/deploy.md shows config/nginx-haven.conf as it is');
  const prefix = path.join(dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  const site = substitute(
    snippet,
    [
      ['/etc/letsencrypt/live/meet.example.org/fullchain.pem', path.join(dir, 'fullchain.pem')],
      ['/etc/letsencrypt/live/meet.example.org/privkey.pem', path.join(dir, 'privkey.pem')],
    ],
    'nginx',
  );
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${path.join(prefix, t)};`)
    .join('\n');
  await writeFile(
    path.join(prefix, 'nginx.conf'),
    `worker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log stderr info;\nevents { worker_connections 256; }\n` +
      `http {\n  access_log ${path.join(ARTIFACTS, 'deploy-nginx.access.log')};\n${temp}\n${site}\n}\n`,
  );
  const nginx = daemon(SERVER_NS, 'nginx', 'nginx', ['-p', `${prefix}/`, '-c', `${prefix}/nginx.conf`,
    '-e', 'stderr', '-g', 'daemon off;']);
  await waitForTcp(SERVER_NS, '127.0.0.1', 443).catch((err) => {
    throw new Error(`${err.message}\n${nginx.log()}`);
  });
  return nginx;
}

/** Caddy with docs/deploy.md's Caddyfile, its state kept in the test's directory. */
async function startCaddy() {
  const snippet = await docSnippet('caddy');
  assert.equal(snippet, await readFile(path.join(REPO, 'config/Caddyfile'), 'utf8'), 'docs/deploy.md shows config/Caddyfile as it is');
  const caddyfile = substitute(
    snippet,
    [
      ['/etc/ssl/haven/fullchain.pem', path.join(dir, 'fullchain.pem')],
      ['/etc/ssl/haven/privkey.pem', path.join(dir, 'privkey.pem')],
    ],
    'caddy',
  );
  const home = path.join(dir, 'caddy');
  await mkdir(home, { recursive: true });
  await writeFile(path.join(home, 'Caddyfile'), caddyfile);
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home };
  const caddy = daemon(SERVER_NS, 'caddy', 'caddy', ['run', '--config', path.join(home, 'Caddyfile'), '--adapter', 'caddyfile'], { env });
  await waitForTcp(SERVER_NS, '127.0.0.1', 443).catch((err) => {
    throw new Error(`${err.message}\n${caddy.log()}`);
  });
  return caddy;
}

/** Haven in the server namespace; `env` adds the shape's HTTP settings to MEDIA_ENV. */
function startHaven(name, env, localUrl) {
  return startServer(`deploy-${name}`, { netns: SERVER_NS, localUrl, env: { ...MEDIA_ENV, ...env } });
}

const chromium = (net) => () => chromiumIn(dir, MEMBER[net], [`--ignore-certificate-errors-spki-list=${spki}`]);
const firefox = (net) => () => firefoxIn(dir, MEMBER[net]);

/** Two pages join one meeting with mic and camera and each decodes and hears the other. */
async function meetBothWays(room, [pageA, pageB], [nameA, nameB]) {
  const a = await joinMeeting(pageA, room.join_url, nameA);
  const b = await joinMeeting(pageB, room.join_url, nameB);
  await Promise.all([waitForTile(pageA, b.id, nameB), waitForTile(pageB, a.id, nameA)]);
  await Promise.all([
    expectMediaFrom(pageA, b.id, `${nameA}'s page`, 30_000),
    expectMediaFrom(pageB, a.id, `${nameB}'s page`, 30_000),
  ]);
  assertNoPageErrors(pageA, nameA);
  assertNoPageErrors(pageB, nameB);
  return [a, b];
}

/** The local candidate types of the page's selected pair and of every pair that carried data. */
async function localCandidateTypes(page) {
  return page.evaluate(async () => {
    const stats = new Map();
    (await window.haven.pc.getStats()).forEach((s) => stats.set(s.id, s));
    const typeOf = (pair) => stats.get(pair?.localCandidateId)?.candidateType;
    const transport = [...stats.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    return {
      selected: typeOf(stats.get(transport?.selectedCandidatePairId)),
      carrying: [...stats.values()].filter((s) => s.type === 'candidate-pair' && s.bytesReceived > 0).map(typeOf),
    };
  });
}

const wait = (page, fn, ...args) => page.waitForFunction(fn, { timeout: CONNECT_TIMEOUT, polling: 200 }, ...args);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * In `page`, a relay-only peer connection with the TURN credentials Haven gave the page
 * gathers its relay candidate and then is given a remote candidate at `address`: the browser
 * asks the TURN server for a permission to send there.
 */
async function relayProbe(page, address) {
  await page.evaluate(async (address) => {
    const { iceServers } = window.haven.pc.getConfiguration();
    const offerer = new RTCPeerConnection();
    offerer.createDataChannel('probe');
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    const relayed = new Promise((resolve) => {
      pc.addEventListener('icecandidate', (e) => e.candidate?.type === 'relay' && resolve());
    });
    await pc.setRemoteDescription(await offerer.createOffer());
    await pc.setLocalDescription(await pc.createAnswer());
    await relayed;
    await pc.addIceCandidate({ candidate: `candidate:1 1 udp 2122260223 ${address} 10000 typ host`, sdpMid: '0' });
    window.probe = { offerer, pc }; // kept open until the browser closes
  }, address);
}

/** Presses the button labelled `label` in participant `id`'s row of the facilitator's list. */
async function pressForParticipant(page, id, label) {
  await page.bringToFront();
  const buttons = `#people-list li[data-participant-id="${id}"] button`;
  await wait(page, (sel) => document.querySelectorAll(sel).length > 0, buttons);
  await page.$$eval(buttons, (list, label) => list.find((b) => b.firstChild.textContent === label).click(), label);
  // Removing asks again first (web/js/confirm.js).
  if (/^Remove/.test(label)) {
    await wait(page, () => document.getElementById('confirm-dialog').open);
    await page.click('#confirm-ok');
  }
}

/**
 * Opens the link, types a name, presses Join with mic and camera off, and tells where the
 * page ends up: its state, the problem heading, the error codes the server sent, who it is.
 */
async function attemptJoin(page, url, name) {
  await page.bringToFront();
  await page.goto(url, { waitUntil: 'load' });
  await wait(page, () => window.haven?.state === 'join');
  await page.type('#name-input', name);
  await page.click('#join-button');
  await wait(page, () => ['joined', 'waiting', 'problem'].includes(window.haven.state));
  return page.evaluate(() => ({
    state: window.haven.state,
    heading: document.querySelector('#problem-heading')?.textContent,
    codes: window.haven.trace.filter((m) => m.dir === 'in' && m.code).map((m) => m.code),
    you: window.haven.you,
  }));
}

describe('deployment shapes in network namespaces', { skip }, () => {
  before(async () => {
    if (why) throw new Error(`${why}: CI must run the deployment tests (tests/run as root)`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'haven-deploy-'));
    // nginx's workers (nobody) reach their temp paths below it.
    await chmod(dir, 0o755);
    await up({ hosts: { [SITE]: SERVER_PUBLIC } });
    await makeCertificates();
    await startCoturn();
  });
  after(async () => {
    await coturn?.stop();
    await down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('behind a cloud 1:1 NAT and nginx', () => {
    let haven;
    let nginx;
    before(async () => {
      haven = await startHaven(
        'nginx',
        { HAVEN_HTTP_ADDR: '127.0.0.1:8080', HAVEN_PUBLIC_URL: `https://${SERVER_PUBLIC}`, HAVEN_TRUSTED_PROXIES: '127.0.0.1' },
        'http://127.0.0.1:8080',
      );
      nginx = await startNginx();
    });
    after(async () => {
      await nginx?.stop();
      await haven?.stop();
    });

    test('a_meeting_behind_a_cloud_nat_and_nginx_carries_media_both_ways', { timeout: 120_000 }, async () => {
      const room = await haven.createRoom();
      assert.equal(new URL(room.join_url).origin, `https://${SERVER_PUBLIC}`);
      // Firefox sits in the network without UDP: it reaches the media port over ICE-TCP.
      await withBrowsers(haven, [chromium('a'), firefox('b')], async (pages) => {
        await meetBothWays(room, pages, ['Ann', 'Fern']);
        assert.equal((await selectedServerCandidate(pages[1]))?.protocol, 'tcp', 'Firefox without UDP uses ICE-TCP');
      });
    });

    test('a_member_whose_network_blocks_udp_connects_over_ice_tcp', { timeout: 120_000 }, async () => {
      const room = await haven.createRoom();
      await withBrowsers(haven, [chromium('b'), chromium('a')], async (pages) => {
        await meetBothWays(room, pages, ['Tess', 'Uma']);
        assert.deepEqual(await selectedServerCandidate(pages[0]), { protocol: 'tcp', port: 10000 }, 'Tess, without UDP');
        assert.deepEqual(await selectedServerCandidate(pages[1]), { protocol: 'udp', port: 10000 }, 'Uma, with UDP');
      });
    });

    test('a_member_who_can_reach_only_turn_connects_through_coturn', { timeout: 120_000 }, async () => {
      const room = await haven.createRoom();
      await withBrowsers(haven, [chromium('c'), chromium('a')], async (pages) => {
        await meetBothWays(room, pages, ['Cleo', 'Dev']);
        const config = await pages[0].evaluate(() => window.haven.pc.getConfiguration());
        assert.equal(config.iceTransportPolicy, 'all', 'the page is not forced onto the relay');
        const turn = config.iceServers.find((s) => [s.urls].flat().includes(TURN_URL));
        assert.ok(turn?.username && turn?.credential, `REST credentials from Haven: ${JSON.stringify(config.iceServers)}`);
        const types = await localCandidateTypes(pages[0]);
        assert.equal(types.selected, 'relay', `Cleo's media goes through coturn: ${JSON.stringify(types)}`);
        assert.ok(types.carrying.length && types.carrying.every((t) => t === 'relay'), JSON.stringify(types));
        assert.notEqual((await localCandidateTypes(pages[1])).selected, 'relay', 'Dev, on an open network, goes direct');
      });
      assert.match(coturn.log(), /ALLOCATE processed, success/, 'coturn logged the allocation');
    });

    test('the_turn_server_relays_to_havens_media_address_only', { timeout: 60_000 }, async () => {
      const room = await haven.createRoom();
      await withBrowsers(haven, [chromium('c')], async ([page]) => {
        await joinMeeting(page, room.join_url, 'Mo', { audio: false, video: false });
        // Mo's credentials, asked to relay to another member's network.
        const before = coturn.log().length;
        await relayProbe(page, '203.0.113.101');
        const forbidden = /CREATE_PERMISSION processed, error 403: Forbidden IP/;
        for (let i = 0; i < 50 && !forbidden.test(coturn.log().slice(before)); i++) await sleep(100);
        assert.match(coturn.log().slice(before), forbidden, 'coturn refused to relay anywhere but to Haven');
      });
    });

    test('a_ban_through_the_proxy_keeps_out_the_banned_member_and_no_one_else', { timeout: 120_000 }, async () => {
      const room = await haven.createRoom();
      const launchers = [chromium('c'), chromium('a'), chromium('b'), chromium('a')];
      await withBrowsers(haven, launchers, async ([chair, memberA, memberB, freshA]) => {
        const you = await joinMeeting(chair, room.facilitator_url, 'Chair', { audio: false, video: false });
        assert.equal(you.role, 'facilitator');
        const rex = await joinMeeting(memberA, room.join_url, 'Rex', { audio: false, video: false });
        await waitForTile(chair, rex.id, 'Rex');
        await pressForParticipant(chair, rex.id, 'Remove and ban');
        await wait(memberA, () => window.haven.state === 'problem');
        assert.match(await memberA.$eval('#problem-heading', (el) => el.textContent), /removed|can't join/i);

        // Someone from another network is not caught by the ban: the server told members
        // apart by the address nginx forwarded, not by nginx's own.
        const sal = await attemptJoin(memberB, room.join_url, 'Sal');
        assert.equal(sal.state, 'joined', `Sal, from another network, gets in: ${JSON.stringify(sal)}`);
        await waitForTile(chair, sal.you.id, 'Sal');

        // A fresh browser profile (no ban token) from the banned member's network: the
        // address ban matches, which only makes them wait, flagged for the chair
        // (docs/protocol.md, "Bans"): a household may share the address.
        const again = await attemptJoin(freshA, room.join_url, 'Rex again');
        assert.equal(again.state, 'waiting', `not let in, but waiting: ${JSON.stringify(again)}`);
        await wait(chair, () => window.haven.waiting.some((w) => w.same_network_as_banned));
        assert.equal(await memberB.evaluate(() => window.haven.state), 'joined', 'Sal is still in');
      });
    });
  });

  describe('Haven serving HTTPS itself behind the NAT', () => {
    let haven;
    before(async () => {
      haven = await startHaven(
        'rustls',
        {
          HAVEN_HTTP_ADDR: '0.0.0.0:8443',
          HAVEN_PUBLIC_URL: `https://${SERVER_PUBLIC}:8443`,
          HAVEN_TLS_CERT: path.join(dir, 'fullchain.pem'),
          HAVEN_TLS_KEY: path.join(dir, 'privkey.pem'),
        },
        'https://127.0.0.1:8443',
      );
    });
    after(async () => {
      await haven?.stop();
    });

    test('haven_serving_https_itself_behind_the_nat_carries_media', { timeout: 120_000 }, async () => {
      const room = await haven.createRoom();
      assert.equal(new URL(room.join_url).origin, `https://${SERVER_PUBLIC}:8443`);
      await withBrowsers(haven, [chromium('b'), firefox('a')], async (pages) => {
        await meetBothWays(room, pages, ['Ivo', 'Jo']);
      });
    });
  });

  describe('behind a cloud 1:1 NAT and Caddy', () => {
    let haven;
    let caddy;
    before(async () => {
      haven = await startHaven(
        'caddy',
        { HAVEN_HTTP_ADDR: '127.0.0.1:8080', HAVEN_PUBLIC_URL: `https://${SITE}`, HAVEN_TRUSTED_PROXIES: '127.0.0.1' },
        'http://127.0.0.1:8080',
      );
      caddy = await startCaddy();
    });
    after(async () => {
      await caddy?.stop();
      await haven?.stop();
    });

    // By name, as Caddy is mostly run: it picks the certificate by the name browsers ask for.
    test('a_meeting_behind_caddy_carries_media_both_ways', { timeout: 120_000 }, async () => {
      const room = await haven.createRoom();
      assert.equal(new URL(room.join_url).origin, `https://${SITE}`);
      await withBrowsers(haven, [chromium('a'), chromium('b')], async (pages) => {
        await meetBothWays(room, pages, ['Kit', 'Lou']);
      });
    });
  });
});
