// End-to-end encryption in real browsers (docs/e2ee.md, issue 23 part 2a): pages whose link
// carries `#e2ee=<key>` encrypt every frame in a worker and decrypt the others'; two Chromium
// pages and a Firefox page with one key see and hear each other and read each other's chat,
// while nothing they send the server holds the key or the chat's words; a page with another
// key decodes no picture and shows another safety code; a broken key or a browser that
// cannot encrypt is refused on the join screen.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import { assertNoPageErrors, CONNECT_TIMEOUT, expectMediaFrom, inbound, joinMeeting, screenshot, withBrowsers } from '../lib/meeting.js';
import { startRelay } from '../lib/proxy.js';
import { startServer } from '../lib/server.js';
import { toneWav } from '../lib/tone.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MEDIA_TIMEOUT = 60_000;

let server;
let tone;
before(async () => {
  server = await startServer('e2ee');
  tone = await toneWav(120);
});
after(async () => {
  await server?.stop();
});

/** Chromium whose fake microphone plays a speech-like tone (the built-in beep is faint). */
const chromium = () => launchChromium({ args: [`--use-file-for-fake-audio-capture=${tone}`] });

/** Records, before the page loads, every WebSocket message and every request the page sends. */
async function capture(page) {
  const sent = { requests: [] };
  page.on('request', (r) => {
    let body = '';
    try {
      body = r.postData() ?? '';
    } catch {
      // Firefox (WebDriver BiDi) cannot read request bodies; the page sends none but the socket's.
    }
    // What goes on the wire: the address without its fragment (puppeteer's url() adds the
    // fragment the page knows; a browser never sends it) and the headers (Referer among them).
    sent.requests.push(`${r.url().replace(/#.*$/, '')} ${JSON.stringify(r.headers())} ${body}`);
  });
  await page.evaluateOnNewDocument(() => {
    // The server's offers as the page is given them (its first one lists RED when it offers it).
    window.__offers = [];
    const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
    RTCPeerConnection.prototype.setRemoteDescription = function (description, ...rest) {
      if (description?.type === 'offer') window.__offers.push(description.sdp);
      return setRemote.call(this, description, ...rest);
    };
    window.__wsSent = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      window.__wsSent.push(typeof data === 'string' ? data : `[binary ${data?.byteLength ?? data?.size}]`);
      return send.call(this, data);
    };
  });
  return sent;
}

/** Audio energy (totalAudioEnergy) `page` received from `from` over a second, until it is above silence. */
async function expectSound(page, from, label) {
  await page.bringToFront();
  const energy = () =>
    page.evaluate(async (from) => {
      const owner = new Map();
      for (const stream of window.haven.streams) for (const t of stream.tracks) owner.set(t.id, stream.id);
      const byMid = new Map();
      for (const t of window.haven.pc.getTransceivers()) if (t.mid != null) byMid.set(t.mid, t.receiver.track?.id);
      let sum = 0;
      (await window.haven.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && (s.kind ?? s.mediaType) === 'audio' && owner.get(s.trackIdentifier ?? byMid.get(s.mid)) === from) {
          sum += s.totalAudioEnergy ?? 0;
        }
      });
      return sum;
    }, from);
  const deadline = Date.now() + MEDIA_TIMEOUT;
  for (;;) {
    const a = await energy();
    await sleep(1000);
    const b = await energy();
    if (b - a > 1e-3) return b - a;
    if (Date.now() > deadline) throw new Error(`${label}: no sound above silence: energy ${a} → ${b}`);
  }
}

/** The audio codecs in the page's own SDP (`local`: what it answered) or in every offer the server made it (`offers`). */
const audioCodecs = (page, which = 'local') =>
  page.evaluate((which) => {
    const names = new Set();
    const sdps = which === 'local' ? [window.haven.pc.localDescription.sdp] : window.__offers;
    for (const section of sdps.flatMap((sdp) => sdp.split(/\r?\nm=/).slice(1))) {
      if (!section.startsWith('audio')) continue;
      for (const m of section.matchAll(/a=rtpmap:\d+ ([^/\s]+)/g)) names.add(m[1].toLowerCase());
    }
    return [...names];
  }, which);

const chatLines = (page) => page.$$eval('#chat-list .chat-line', (lines) => lines.map((l) => l.querySelector('.chat-text')?.textContent ?? ''));

async function openChat(page) {
  await page.bringToFront();
  if ((await page.$eval('#chat-button', (b) => b.getAttribute('aria-pressed'))) !== 'true') await page.click('#chat-button');
}

async function say(page, text) {
  await openChat(page);
  await page.type('#chat-input', text);
  await page.keyboard.press('Enter');
}

test('pages_with_the_key_see_hear_and_read_each_other_and_a_wrong_key_decodes_nothing', async (t) => {
  const launchers = [chromium, chromium, process.env.HAVEN_SKIP_FIREFOX === '1' ? chromium : launchFirefox, launchChromium];
  await withBrowsers(server, launchers, async (pages) => {
    const room = await server.createRoom();
    const keyBytes = randomBytes(32);
    const key = keyBytes.toString('base64url');
    const wrongKey = randomBytes(32).toString('base64url');
    const captured = [];
    for (const page of pages) captured.push(await capture(page));
    const [ana, ben, cy] = pages;
    const names = ['Ana', 'Ben', 'Cy'];
    const people = [];
    for (const [i, page] of [ana, ben, cy].entries()) {
      people.push(await joinMeeting(page, `${room.join_url}#e2ee=${key}`, names[i], { audio: true, video: true }));
      // The key left the address bar as soon as the page read it.
      assert.equal(await page.evaluate(() => window.location.href), room.join_url, `${names[i]}'s address bar`);
    }

    // Everyone decodes everyone's picture and hears their sound.
    const checks = [];
    for (const [i, page] of [ana, ben, cy].entries()) {
      for (const [j, other] of people.entries()) {
        if (i === j) continue;
        checks.push(
          (async () => {
            // Longer than the default wait: three encrypting pages (and a fourth browser) on a
            // 2-core machine make the allocator pause a video for a while now and then.
            await expectMediaFrom(page, other.id, `${names[i]}'s page, from ${names[j]}`, MEDIA_TIMEOUT);
            await expectSound(page, other.id, `${names[i]}'s page, from ${names[j]}`);
          })(),
        );
      }
    }
    const failed = (await Promise.allSettled(checks)).filter((r) => r.status === 'rejected');
    if (failed.length) {
      const counts = await Promise.all([ana, ben, cy].map((p) => p.evaluate(() => window.haven.e2ee.counts)));
      throw new Error(`${failed.map((r) => r.reason.message.split('\npage:')[0]).join('\n')}\ncounts: ${JSON.stringify(counts)}`);
    }

    // Every frame went through the worker: decrypted ones counted, no failure.
    for (const [i, page] of [ana, ben, cy].entries()) {
      const { counts, code } = await page.evaluate(() => window.haven.e2ee);
      const sent = counts.filter((c) => c.side === 'send');
      assert.ok(sent.some((c) => c.kind === 'video' && c.ok > 0) && sent.some((c) => c.kind === 'audio' && c.ok > 0), `${names[i]} encrypts: ${JSON.stringify(sent)}`);
      for (const [j, other] of people.entries()) {
        if (i === j) continue;
        const from = counts.filter((c) => c.side === 'receive' && c.senderId === other.id);
        assert.ok(from.some((c) => c.kind === 'video' && c.ok > 0), `${names[i]} decrypts ${names[j]}'s video: ${JSON.stringify(from)}`);
      }
      assert.equal(code.length, 7);
    }

    // The same safety code on every page with the key, shown in the meeting with its words.
    const codes = await Promise.all([ana, ben, cy].map((p) => p.$eval('#e2ee-badge-code', (e) => e.textContent)));
    assert.equal(new Set(codes).size, 1, `safety codes: ${codes}`);
    const label = await ana.$eval('#e2ee-badge', (e) => ({ hidden: e.hidden, label: e.getAttribute('aria-label') }));
    assert.equal(label.hidden, false);
    assert.match(label.label, /^End-to-end encrypted\. Safety code: [a-z ]+(, [a-z ]+){6}$/);

    // The server is never offered RED for their audio: the codecs they negotiate lack it.
    for (const [i, page] of [ana, ben, cy].entries()) {
      const codecs = await audioCodecs(page);
      assert.ok(codecs.includes('opus') && !codecs.includes('red'), `${names[i]}'s audio codecs: ${codecs}`);
      // The server did offer it (media.audio_red is on): the page is what turned it down.
      const offered = await audioCodecs(page, 'offers');
      if (i < 2) assert.ok(offered.includes('red'), `the server offered ${names[i]} ${offered}`);
      t.diagnostic(`${names[i]}: offered ${offered.join(' ')}; answered ${codecs.join(' ')}`);
      const received = (await inbound(page)).filter((r) => r.kind === 'audio');
      assert.ok(received.every((r) => r.codec === null || r.codec.toLowerCase() === 'audio/opus'), `${names[i]} receives ${JSON.stringify(received)}`);
    }

    // Chat reads as text between key holders.
    const words = `the river is quiet tonight ${randomBytes(4).toString('hex')}`;
    await say(ana, words);
    for (const [i, page] of [ana, ben, cy].entries()) {
      await page.waitForFunction((w) => [...document.querySelectorAll('#chat-list .chat-text')].some((e) => e.textContent === w), { timeout: CONNECT_TIMEOUT, polling: 200 }, words);
      t.diagnostic(`${names[i]} reads Ana's message`);
    }

    // A page with another key: another safety code, no picture, and the chat unreadable.
    const dee = pages[3];
    const deeYou = await joinMeeting(dee, `${room.join_url}#e2ee=${wrongKey}`, 'Dee', { audio: false, video: false });
    const deeCode = await dee.$eval('#e2ee-badge-code', (e) => e.textContent);
    assert.notEqual(deeCode, codes[0], 'another key, another safety code');
    await sleep(6000);
    const atDee = await inbound(dee);
    const deeFrames = atDee.filter((r) => r.kind === 'video').reduce((n, r) => n + r.framesDecoded, 0);
    const deeCounts = (await dee.evaluate(() => window.haven.e2ee)).counts.filter((c) => c.side === 'receive');
    const deeFailed = deeCounts.reduce((n, c) => n + Object.values(c.failed).reduce((a, b) => a + b, 0), 0);
    assert.equal(deeFrames, 0, `Dee decodes no picture: ${JSON.stringify(atDee)}`);
    assert.ok(deeFailed > 0 && deeCounts.every((c) => c.ok === 0), `Dee's frames all fail: ${JSON.stringify(deeCounts)}`);
    // And is told so, in words, once per member and medium (the sound at least: on this busy
    // machine the allocator may pause a video before any of its frames reaches Dee).
    const said = await dee.$$eval('#announcer p', (lines) => lines.map((l) => l.textContent).join(' | '));
    assert.match(said, /Cannot decrypt (Ana|Ben|Cy)'s (sound|video)/, `Dee's page says: ${said}`);
    const more = `still here ${randomBytes(4).toString('hex')}`;
    await say(ben, more);
    await dee.bringToFront();
    await openChat(dee);
    await dee.waitForFunction(() => document.querySelectorAll('#chat-list .chat-line').length > 0, { timeout: CONNECT_TIMEOUT, polling: 200 });
    const deeLines = await chatLines(dee);
    assert.deepEqual(deeLines, ['This message could not be read.'], 'Dee reads no ciphertext, only that it could not be read');

    // Nothing any page sent the server holds the key or the chat's words.
    for (const [i, page] of pages.entries()) {
      const frames = await page.evaluate(() => window.__wsSent);
      const everything = [...frames, ...captured[i].requests].join('\n');
      for (const secret of [key, wrongKey, keyBytes.toString('hex'), keyBytes.toString('base64')]) {
        assert.ok(!everything.includes(secret), `page ${i} sent a key: ${everything.slice(Math.max(0, everything.indexOf(secret) - 200), everything.indexOf(secret) + 50)}`);
      }
      // No run of 8 characters of the key either (base64url of any of its bytes).
      for (let at = 0; at + 8 <= key.length; at++) assert.ok(!everything.includes(key.slice(at, at + 8)), `page ${i} sent part of the key`);
      assert.ok(!everything.includes(words) && !everything.includes(more), `page ${i} sent chat words in clear`);
      if (i === 0) assert.ok(frames.some((f) => JSON.parse(f).type === 'chat'), 'Ana sent her chat (sealed)');
    }

    for (const [i, page] of pages.entries()) {
      await screenshot(page, `e2ee-page${i}`);
      assertNoPageErrors(page, `page ${i}`);
    }
    t.diagnostic(`safety code ${codes[0]}; Dee's ${deeCode}; Dee's failures ${deeFailed}`);
  });
});

test('a_broken_key_or_a_browser_that_cannot_encrypt_is_refused_on_the_join_screen', async () => {
  await withBrowsers(server, [launchChromium], async ([page]) => {
    const room = await server.createRoom();
    const refusal = async () => {
      await page.waitForSelector('#e2ee-refused', { visible: true, timeout: CONNECT_TIMEOUT });
      return page.evaluate(() => ({
        refused: window.haven.e2ee.refused,
        text: document.querySelector('#e2ee-refused-text').textContent,
        formHidden: document.querySelector('#join-form').hidden,
        state: window.haven.state,
        href: window.location.href,
      }));
    };
    await page.goto(`${room.join_url}#e2ee=tooShort`, { waitUntil: 'load' });
    const broken = await refusal();
    assert.equal(broken.refused, 'bad_key_length');
    assert.match(broken.text, /incomplete/);
    assert.equal(broken.formHidden, true);
    assert.equal(broken.href, room.join_url, 'the broken key left the address bar too');

    // A reload keeps what the link said (the tab's copy): refused again, never joined in clear.
    await page.reload({ waitUntil: 'load' });
    assert.equal((await refusal()).refused, 'bad_key_length');

    // A browser without encoded transforms, with a good key.
    const other = await server.createRoom();
    await page.evaluateOnNewDocument(() => {
      delete window.RTCRtpScriptTransform;
      delete window.RTCRtpSender?.prototype.createEncodedStreams;
    });
    await page.goto(`${other.join_url}#e2ee=${randomBytes(32).toString('base64url')}`, { waitUntil: 'load' });
    const unsupported = await refusal();
    assert.equal(unsupported.refused, 'unsupported');
    assert.match(unsupported.text, /cannot encrypt/);
    assert.equal(unsupported.state, 'join');
    assertNoPageErrors(page, 'refused page');
  });
});

test('a_reload_keeps_the_key_of_the_tab_and_the_same_safety_code', async () => {
  await withBrowsers(server, [launchChromium], async ([page]) => {
    const room = await server.createRoom();
    await page.goto(`${room.join_url}#e2ee=${randomBytes(32).toString('base64url')}`, { waitUntil: 'load' });
    await page.waitForSelector('#e2ee-join', { visible: true, timeout: CONNECT_TIMEOUT });
    const code = await page.$eval('#e2ee-join-code', (e) => e.textContent);
    assert.equal(await page.evaluate(() => window.location.href), room.join_url);
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#e2ee-join', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal(await page.$eval('#e2ee-join-code', (e) => e.textContent), code);
    // A link without a key to another meeting is not encrypted: the key is this meeting's.
    const plain = await server.createRoom();
    await page.goto(plain.join_url, { waitUntil: 'load' });
    await page.waitForSelector('#name-input', { visible: true, timeout: CONNECT_TIMEOUT });
    assert.equal((await page.evaluate(() => window.haven.e2ee)).on, false);
    assert.equal(await page.$eval('#e2ee-join', (e) => e.hidden), true);
    assertNoPageErrors(page, 'reloaded page');
  });
});

// After a dropped socket the page takes its place back (`resume`) with a new peer connection
// that it offers itself: its senders are made empty, encrypted, and only then given the
// tracks, each with a fresh stream id (a new FrameSender), and the others decrypt it again.
test('a_page_that_resumes_after_a_dropped_socket_sends_encrypted_again', async () => {
  const relay = await startRelay(server.url);
  try {
    await withBrowsers(server, [chromium, chromium], async ([ana, ben]) => {
      const room = await server.createRoom();
      const fragment = `#e2ee=${randomBytes(32).toString('base64url')}`;
      // Ana reaches the server through a relay that can cut her socket as a network would.
      const a = await joinMeeting(ana, `${relay.url}${new URL(room.join_url).pathname}${fragment}`, 'Ana', { audio: true, video: true });
      const b = await joinMeeting(ben, `${room.join_url}${fragment}`, 'Ben', { audio: true, video: true });
      await expectMediaFrom(ben, a.id, "Ben's page, from Ana", MEDIA_TIMEOUT);
      await ana.evaluate(() => {
        window.__oldPc = window.haven.pc;
      });
      relay.dropAll();
      await ana.waitForFunction(
        () => window.haven.state === 'joined' && window.haven.pc !== window.__oldPc && window.haven.trace.some((m) => m.dir === 'out' && m.type === 'resume'),
        { timeout: MEDIA_TIMEOUT, polling: 200 },
      );
      const trace = await ana.evaluate(() => window.haven.trace);
      assert.equal(trace.filter((m) => m.dir === 'out' && m.type === 'join').length, 1, 'resumed, not joined again');
      assert.equal((await ana.evaluate(() => window.haven.you)).id, a.id, 'the same participant');
      const sent = async () => (await ana.evaluate(() => window.haven.e2ee)).counts.find((c) => c.side === 'send' && c.kind === 'video')?.ok ?? 0;
      const first = await sent();
      await expectMediaFrom(ben, a.id, "Ben's page, from Ana after her resume", MEDIA_TIMEOUT);
      await expectMediaFrom(ana, b.id, "Ana's page after her resume, from Ben", MEDIA_TIMEOUT);
      assert.ok((await sent()) > first, 'Ana still encrypts what she sends');
      const atBen = (await ben.evaluate(() => window.haven.e2ee)).counts.filter((c) => c.side === 'receive' && c.senderId === a.id && c.kind === 'video');
      assert.ok(atBen[0]?.ok > 0, `Ben decrypts Ana: ${JSON.stringify(atBen)}`);

      // A text too long to fit the server's limit once sealed is kept back, and the page says why.
      await openChat(ana);
      assert.equal(await ana.$eval('#chat-input', (e) => e.maxLength), 703);
      await ana.$eval('#chat-input', (e) => {
        e.value = 'é'.repeat(400); // 800 bytes of UTF-8: its ciphertext would pass 1000 characters
      });
      await ana.focus('#chat-input');
      await ana.keyboard.press('Enter');
      await ana.waitForSelector('#chat-error', { visible: true, timeout: CONNECT_TIMEOUT });
      assert.match(await ana.$eval('#chat-error', (e) => e.textContent), /up to about 700 letters/);
      assert.equal((await ana.evaluate(() => window.haven.trace)).filter((m) => m.dir === 'out' && m.type === 'chat').length, 0, 'nothing sent');
      assert.equal(await ana.$eval('#chat-input', (e) => e.value.length), 400, 'the text is kept to shorten');
      assertNoPageErrors(ana, 'Ana');
      assertNoPageErrors(ben, 'Ben');
    });
  } finally {
    await relay.close();
  }
});

/**
 * One recovery on `page` (receiving only Ana's video): its receivers take a wrong key for a
 * while (every frame fails and is dropped, so the decoder loses its references), then the
 * right one again. Returns the milliseconds from the first frame decrypted again (the worker's
 * `recoveredAt`) to framesDecoded rising, or null if it did not within 20 s, and the keyframe
 * requests the worker made.
 */
async function recoverOnce(page, rightKey, wrongKey, withRequests) {
  await page.evaluate((on) => window.haven.e2eeKeyframeRequests(on), withRequests);
  await page.evaluate((k) => window.haven.e2eeReceiveKeys([k]), wrongKey);
  await sleep(2500);
  const video = () => window.haven.e2ee.counts.find((c) => c.side === 'receive' && c.kind === 'video');
  const requestsBefore = (await page.evaluate(video))?.keyframeRequests ?? 0;
  const switched = await page.evaluate(async (key, limit) => {
    const decoded = async () => {
      let n = 0;
      (await window.haven.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && (s.kind ?? s.mediaType) === 'video') n += s.framesDecoded ?? 0;
      });
      return n;
    };
    const base = await decoded();
    const at = Date.now();
    await window.haven.e2eeReceiveKeys([key]);
    while (Date.now() - at < limit) {
      if ((await decoded()) > base) return { at, decodedAt: Date.now() };
      await new Promise((r) => setTimeout(r, 10));
    }
    return { at, decodedAt: null };
  }, rightKey, 20_000);
  await page.waitForFunction((at) => window.haven.e2ee.counts.some((c) => c.side === 'receive' && c.kind === 'video' && c.recoveredAt >= at), { timeout: 10_000, polling: 100 }, switched.at);
  const entry = await page.evaluate(video);
  return {
    ms: switched.decodedAt === null ? null : switched.decodedAt - entry.recoveredAt,
    requests: (entry.keyframeRequests ?? 0) - requestsBefore,
    supported: entry.keyframeRequestSupported,
  };
}

// Frames that failed to decrypt were dropped, so a receiver's decoder may wait for a keyframe
// once they decrypt again: the worker asks for one on the first good frame (at most once a
// second). Measured in Chromium and Firefox, with and without the request: the time from the
// first decrypted frame to framesDecoded rising.
test('video_decrypting_again_after_failures_asks_for_a_keyframe_and_the_picture_comes_back', async (t) => {
  await withBrowsers(server, [chromium, chromium, launchFirefox], async ([ana, ben, cy]) => {
    const room = await server.createRoom();
    const key = randomBytes(32).toString('base64url');
    const wrong = randomBytes(32).toString('base64url');
    const a = await joinMeeting(ana, `${room.join_url}#e2ee=${key}`, 'Ana', { audio: true, video: true });
    await joinMeeting(ben, `${room.join_url}#e2ee=${key}`, 'Ben', { audio: false, video: false });
    await joinMeeting(cy, `${room.join_url}#e2ee=${key}`, 'Cy', { audio: false, video: false });
    await expectMediaFrom(ben, a.id, "Ben's page, from Ana", MEDIA_TIMEOUT);
    await expectMediaFrom(cy, a.id, "Cy's page, from Ana", MEDIA_TIMEOUT);
    const figures = {};
    for (const [name, page] of [['chromium', ben], ['firefox', cy]]) {
      figures[name] = { with: [], without: [], requests: 0, supported: null };
      // A background tab asks the server for no video: measure the page in front.
      await page.bringToFront();
      for (const withRequests of [true, false, true, false, true, false]) {
        const r = await recoverOnce(page, key, wrong, withRequests);
        figures[name][withRequests ? 'with' : 'without'].push(r.ms);
        figures[name].supported = r.supported;
        if (withRequests) {
          figures[name].requests += r.requests;
        } else {
          assert.equal(r.requests, 0, 'none asked for when turned off');
        }
      }
      t.diagnostic(`${name}: sendKeyFrameRequest ${figures[name].supported ? 'present' : 'absent'}; ms from first decrypted frame to framesDecoded rising, with the request ${JSON.stringify(figures[name].with)}, without ${JSON.stringify(figures[name].without)}`);
      if (figures[name].supported) {
        assert.equal(figures[name].requests, 3, `one request per recovery: ${JSON.stringify(figures[name])}`);
      }
      // With the request (or, without the method, by the browser itself) the picture comes back.
      assert.ok(figures[name].with.every((ms) => ms !== null && ms < 5000), JSON.stringify(figures[name]));
    }
    for (const page of [ana, ben, cy]) assertNoPageErrors(page, 'keyframe after failures');
  });
});
