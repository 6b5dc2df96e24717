// End-to-end encryption's crypto core (web/js/e2ee/, docs/e2ee.md; issue 23), checked without
// a browser: WebCrypto in Node is the same API a page's worker uses. Frames round-trip with
// their clear bytes kept and authenticated; every failure is a typed { ok: false, code };
// counters and nonces never repeat; a link's key is parsed strictly and never printed; the
// safety code and the frame format are checked against an independent implementation of the
// derivations in docs/e2ee.md with node:crypto.

import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { WEB_DIR } from '../lib/server.js';

const DIR = path.join(WEB_DIR, 'js/e2ee');
const load = async (name) => import(pathToFileURL(path.join(DIR, name)).href);
const { MeetingKey, linkWithKey } = await load('meeting-key.js');
const { FrameSender, FrameReceiver, CLEAR_BYTES, sframeKeys, nonce } = await load('frame.js');
const { decodeHeader, encodeHeader } = await load('header.js');
const { WINDOW } = await load('replay.js');
const { safetyCode, EMOJI } = await load('safety-code.js');
const { encryptChat, decryptChat, encryptedChatLength } = await load('chat.js');

const fixedKey = (fill) => MeetingKey.fromBytes(Uint8Array.from({ length: 32 }, fill));
/** A VP8 keyframe as an encoder writes it: frame tag (P=0), start code, 640x360, then data. */
const vp8Key = (n = 200) =>
  Uint8Array.from({ length: n }, (_, i) => [0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01][i] ?? (i * 7) & 0xff);
/** A VP8 delta frame: P=1. */
const vp8Delta = (n = 80) => Uint8Array.from({ length: n }, (_, i) => [0x31, 0x04, 0x00][i] ?? (i * 13) & 0xff);
const opus = (n = 60) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x78 : (i * 5) & 0xff));
const bytesOf = (buffer) => new Uint8Array(buffer);

// ---- The derivations of docs/e2ee.md, written again with node:crypto ----

const SALT = Buffer.from('haven e2ee v1');
const lp = (b) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), Buffer.from(b)]);
const hkdf = (ikm, salt, infoBytes, n) => Buffer.from(hkdfSync('sha256', ikm, salt, infoBytes, n));
const spec = {
  keyId: (mk) => hkdf(mk, SALT, Buffer.from('haven e2ee v1 key id'), 2).readUInt16BE(0),
  safety: (mk) => hkdf(mk, SALT, Buffer.from('haven e2ee v1 safety code'), 6),
  stream(mk, senderId, kid) {
    const base = hkdf(mk, SALT, Buffer.concat([Buffer.from('haven e2ee v1 media'), lp(kid), lp(Buffer.from(senderId))]), 32);
    const label = (t) => Buffer.concat([Buffer.from(t), Buffer.from(kid), Buffer.from([0x00, 0x04])]);
    return {
      key: hkdf(base, Buffer.alloc(0), label('SFrame 1.0 Secret key '), 16),
      salt: hkdf(base, Buffer.alloc(0), label('SFrame 1.0 Secret salt '), 12),
    };
  },
  nonce(salt, ctr) {
    const iv = Buffer.from(salt);
    const c = Buffer.alloc(12);
    c.writeBigUInt64BE(BigInt(ctr), 4);
    for (let i = 0; i < 12; i++) iv[i] ^= c[i];
    return iv;
  },
};

/** Parse an encrypted frame as docs/e2ee.md lays it out. */
function layout(frame, codec) {
  const clear = codec === 'opus' ? 0 : (frame[0] & 1) === 0 ? 10 : 3;
  const header = decodeHeader(frame, clear);
  return { clear, header, headerBytes: frame.subarray(clear, clear + header.length), body: frame.subarray(clear + header.length) };
}

// ---- The meeting key and its link ----

test('a_generated_key_travels_in_the_fragment_beside_the_facilitator_secret', async () => {
  const key = await MeetingKey.generate();
  const link = linkWithKey('https://haven.example/r/tuesday#key=s3cret', key);
  const hash = new URL(link).hash;
  assert.match(hash, /^#key=s3cret&e2ee=[A-Za-z0-9_-]{43}$/);
  const back = await MeetingKey.fromFragment(hash);
  assert.equal(back.keyId, key.keyId);
  assert.deepEqual(back.bytes(), key.bytes());
  assert.deepEqual(await safetyCode(back), await safetyCode(key));
  // A member link: the key alone; a link without one is a meeting without encryption.
  assert.match(new URL(linkWithKey('https://haven.example/r/tuesday', key)).hash, /^#e2ee=[A-Za-z0-9_-]{43}$/);
  assert.equal(await MeetingKey.fromFragment('#key=s3cret'), null);
  assert.equal(await MeetingKey.fromFragment(''), null);
});

test('a_broken_key_in_a_link_is_a_clear_error_never_no_key', async () => {
  const good = (await fixedKey((_, i) => i)).fragmentParam().slice(5);
  const cases = [
    [`#e2ee=${good.slice(0, 42)}`, 'bad_key_length'],
    [`#e2ee=${good}A`, 'bad_key_length'],
    ['#e2ee=', 'bad_key_length'],
    [`#e2ee=${good.slice(0, 42)}=`, 'bad_key_characters'],
    [`#e2ee=${good.slice(0, 42)}+`, 'bad_key_characters'],
    [`#e2ee=${good.slice(0, 42)}/`, 'bad_key_characters'],
    [`#e2ee=${good.slice(0, 42)}%21`, 'bad_key_characters'],
    [`#e2ee=${good.slice(0, 42)}é`, 'bad_key_characters'],
    // The last character carries 2 unused bits: set, they spell the same key a second way.
    [`#e2ee=${good.slice(0, 42)}B`, 'bad_key_characters'],
    [`#e2ee=${good}&e2ee=${good}`, 'bad_key_repeated'],
  ];
  assert.equal(good.length, 43);
  assert.ok('AEIMQUYcgkosw048'.includes(good.at(-1)), 'a canonical last character: its 2 unused bits clear');
  for (const [hash, code] of cases) {
    await assert.rejects(MeetingKey.fromFragment(hash), (e) => {
      assert.equal(e.name, 'E2eeError', hash);
      assert.equal(e.code, code, hash);
      assert.match(e.message, /link/, 'a sentence a person can act on');
      assert.ok(!e.message.includes(good), 'the error does not repeat the key');
      return true;
    });
  }
  await assert.rejects(MeetingKey.fromBytes(new Uint8Array(31)), { code: 'bad_key_length' });
  await assert.rejects(MeetingKey.fromBytes('x'.repeat(32)), { code: 'bad_key_length' });
});

test('a_meeting_key_never_prints_its_bytes', async () => {
  const key = await MeetingKey.generate();
  const secret = key.fragmentParam().slice(5);
  const hex = Buffer.from(key.bytes()).toString('hex');
  for (const shown of [String(key), `${key}`, JSON.stringify({ key }), inspect(key), inspect({ key }, { depth: 5 })]) {
    assert.ok(!shown.includes(secret) && !shown.includes(hex), shown);
    assert.ok(shown.includes('[MeetingKey]'), shown);
  }
  assert.ok(Object.isFrozen(key));
  // The modules have no console call at all: nothing of a key or a frame can reach a log.
  for (const file of readdirSync(DIR)) {
    const source = readFileSync(path.join(DIR, file), 'utf8');
    assert.ok(!/\bconsole\./.test(source), `${file} logs`);
    for (const m of source.matchAll(/^import .* from '([^']+)';$/gm)) assert.match(m[1], /^\.\/[a-z-]+\.js$/, `${file} imports only its siblings`);
  }
});

// ---- Frames ----

test('audio_and_video_frames_round_trip_with_exactly_their_clear_bytes_in_clear', async () => {
  const key = await MeetingKey.generate();
  const sender = await FrameSender.create(key, 'p7f3a');
  const receiver = new FrameReceiver('p7f3a', [key]);
  for (const [codec, frame, clear] of [
    ['vp8', vp8Key(), CLEAR_BYTES.vp8Key],
    ['vp8', vp8Delta(), CLEAR_BYTES.vp8Delta],
    ['opus', opus(), CLEAR_BYTES.opus],
    ['opus', new Uint8Array(0), 0], // an empty (DTX) frame is encrypted too
    ['vp8', vp8Delta(3), 3],
  ]) {
    const sealed = await sender.encrypt(frame.buffer, codec);
    assert.equal(sealed.ok, true, codec);
    assert.ok(sealed.data instanceof ArrayBuffer, 'what RTCEncodedVideoFrame.data takes');
    const out = bytesOf(sealed.data);
    assert.deepEqual(out.subarray(0, clear), frame.subarray(0, clear), `${codec}: the clear bytes`);
    const { header, body } = layout(out, codec);
    assert.ok(header, `${codec}: an SFrame header right after them`);
    assert.equal(body.length, frame.length - clear + 16, `${codec}: ciphertext and a 16-byte tag`);
    if (frame.length > clear + 8) {
      assert.ok(!Buffer.from(out).includes(Buffer.from(frame.subarray(clear + 4, clear + 12))), `${codec}: the rest is not in clear`);
    }
    const opened = await receiver.decrypt(sealed.data, codec);
    assert.equal(opened.ok, true, `${codec}: ${opened.code}`);
    assert.deepEqual(bytesOf(opened.data), frame);
  }
  // The SFU's keyframe test (packet.rs: the VP8 payload header's low bit) reads the same on
  // the encrypted frame as on the clear one.
  const key1 = bytesOf((await sender.encrypt(vp8Key(), 'vp8')).data);
  const delta1 = bytesOf((await sender.encrypt(vp8Delta(), 'vp8')).data);
  assert.equal(key1[0] & 1, 0);
  assert.equal(delta1[0] & 1, 1);
  // A VP8 frame too short to be VP8 is refused (dropped by the caller), never sent in clear.
  assert.deepEqual(await sender.encrypt(vp8Key(9), 'vp8'), { ok: false, code: 'too_short' });
  assert.deepEqual(await sender.encrypt(new Uint8Array(0), 'vp8'), { ok: false, code: 'too_short' });
  assert.deepEqual(await sender.encrypt(opus(), 'h264'), { ok: false, code: 'unsupported_codec' });
  assert.deepEqual(await sender.encrypt('text', 'opus'), { ok: false, code: 'not_bytes' });
});

test('the_frame_format_is_what_the_design_says_checked_with_node_crypto', async () => {
  const mk = Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i));
  const key = await MeetingKey.fromBytes(Uint8Array.from(mk));
  assert.equal(key.keyId, spec.keyId(mk));
  const sender = await FrameSender.create(key, 'q2b9c');
  for (let i = 0; i < 3; i++) await sender.encrypt(opus(), 'opus');
  for (const [codec, frame] of [['vp8', vp8Key()], ['vp8', vp8Delta()], ['opus', opus()]]) {
    const out = bytesOf((await sender.encrypt(frame, codec)).data);
    const { clear, header, headerBytes, body } = layout(out, codec);
    assert.equal(header.kid.length, 8);
    assert.equal((header.kid[0] << 8) | header.kid[1], key.keyId, 'KID starts with the key id');
    const { key: k, salt } = spec.stream(mk, 'q2b9c', header.kid);
    const decipher = createDecipheriv('aes-128-gcm', k, spec.nonce(salt, header.ctr));
    decipher.setAAD(Buffer.concat([headerBytes, out.subarray(0, clear)]));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    assert.deepEqual(Buffer.concat([out.subarray(0, clear), plain]), Buffer.from(frame));
  }
});

test('the_sframe_layer_matches_rfc_9605s_test_vector_for_aes_128_gcm_sha256_128', async () => {
  // RFC 9605 Appendix C.4, cipher suite 0x0004 (the SFrame working group's test-vectors/sframe.md).
  const hex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
  const kid = hex('0000000000000123');
  const ctr = 0x4567;
  const header = encodeHeader(kid, ctr);
  assert.deepEqual(header, hex('9901234567'));
  assert.deepEqual(decodeHeader(header, 0), { kid, ctr, length: 5 });
  const keys = await sframeKeys(hex('000102030405060708090a0b0c0d0e0f'), kid);
  assert.deepEqual(keys.salt, hex('75234edefe07819026751816'));
  assert.deepEqual(nonce(keys.salt, ctr), hex('75234edefe07819026755d71'));
  const metadata = hex('4945544620534672616d65205747');
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce(keys.salt, ctr), additionalData: Buffer.concat([header, metadata]), tagLength: 128 },
    keys.key,
    hex('64726166742d696574662d736672616d652d656e63'),
  );
  assert.equal(
    Buffer.concat([header, new Uint8Array(sealed)]).toString('hex'),
    '9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb',
  );
});

test('every_altered_byte_clear_or_not_fails_typed', async () => {
  const key = await MeetingKey.generate();
  const sender = await FrameSender.create(key, 'p1');
  for (const [codec, frame] of [['vp8', vp8Key(40)], ['vp8', vp8Delta(30)], ['opus', opus(20)]]) {
    const sealed = bytesOf((await sender.encrypt(frame, codec)).data);
    for (let at = 0; at < sealed.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const receiver = new FrameReceiver('p1', [key]);
        const bad = Uint8Array.from(sealed);
        bad[at] ^= bit;
        const result = await receiver.decrypt(bad, codec);
        assert.equal(result.ok, false, `${codec}: byte ${at} bit ${bit} altered went through`);
        assert.ok(['auth_failed', 'malformed', 'unknown_key'].includes(result.code), `${codec} byte ${at}: ${result.code}`);
        assert.deepEqual(Object.keys(result), ['ok', 'code'], 'no bytes come back');
      }
    }
    // Cut short, or lengthened.
    const receiver = new FrameReceiver('p1', [key]);
    for (const cut of [0, 1, 3, 10, sealed.length - 1]) {
      const result = await receiver.decrypt(sealed.subarray(0, cut), codec);
      assert.equal(result.ok, false, `${codec} cut to ${cut}`);
    }
    assert.equal((await receiver.decrypt(Buffer.concat([sealed, Buffer.from([0])]), codec)).code, 'auth_failed');
    assert.equal((await receiver.decrypt(sealed, codec)).ok, true, 'the failures poisoned nothing');
  }
});

test('a_wrong_key_or_another_sender_fails_typed', async () => {
  const right = await fixedKey((_, i) => i);
  const wrong = await fixedKey((_, i) => i + 1);
  assert.notEqual(right.keyId, wrong.keyId);
  const sender = await FrameSender.create(right, 'p1');
  const frame = (await sender.encrypt(vp8Delta(), 'vp8')).data;
  assert.deepEqual(await new FrameReceiver('p1', [wrong]).decrypt(frame, 'vp8'), { ok: false, code: 'unknown_key' });
  // The server said the frame came from someone else: their key is not the sender's.
  assert.deepEqual(await new FrameReceiver('p2', [right]).decrypt(frame, 'vp8'), { ok: false, code: 'auth_failed' });
  // Audio read as video, video as audio: the clear bytes differ, so the tag does not match.
  const sound = (await sender.encrypt(opus(), 'opus')).data;
  assert.equal((await new FrameReceiver('p1', [right]).decrypt(sound, 'vp8')).ok, false);
  assert.equal((await new FrameReceiver('p1', [right]).decrypt(frame, 'opus')).ok, false);
  // During a rotation a receiver holds both keys and reads either.
  const both = new FrameReceiver('p1', [wrong, right]);
  assert.equal((await both.decrypt(frame, 'vp8')).ok, true);
  const later = await FrameSender.create(wrong, 'p1');
  assert.equal((await both.decrypt((await later.encrypt(opus(), 'opus')).data, 'opus')).ok, true);
  both.setKeys([wrong]);
  assert.equal((await both.decrypt((await sender.encrypt(opus(), 'opus')).data, 'opus')).code, 'unknown_key');
  // A frame sent in clear (a peer without encryption) is refused, never played.
  for (const [codec, clear] of [['vp8', vp8Key()], ['vp8', vp8Delta()], ['opus', opus()]]) {
    const result = await new FrameReceiver('p1', [right]).decrypt(clear, codec);
    assert.equal(result.ok, false, codec);
  }
  assert.deepEqual(await new FrameReceiver('p1', [right]).decrypt(null, 'vp8'), { ok: false, code: 'not_bytes' });
  assert.deepEqual(await new FrameReceiver('p1', [right]).decrypt(frame, 'av1'), { ok: false, code: 'unsupported_codec' });
});

test('a_replayed_or_too_old_frame_fails_typed_and_interleaved_layers_pass', async () => {
  const key = await MeetingKey.generate();
  const sender = await FrameSender.create(key, 'p1');
  const receiver = new FrameReceiver('p1', [key]);
  const frames = [];
  for (let i = 0; i < WINDOW + 20; i++) frames.push((await sender.encrypt(vp8Delta(20), 'vp8')).data);
  // Simulcast: the SFU switches layers at a keyframe, so counters arrive a little out of order.
  for (const i of [0, 2, 1, 5, 3, 4]) assert.equal((await receiver.decrypt(frames[i], 'vp8')).ok, true, `frame ${i}`);
  assert.deepEqual(await receiver.decrypt(frames[2], 'vp8'), { ok: false, code: 'replayed' });
  assert.equal((await receiver.decrypt(frames[WINDOW + 10], 'vp8')).ok, true);
  assert.deepEqual(await receiver.decrypt(frames[8], 'vp8'), { ok: false, code: 'too_old' });
  assert.equal((await receiver.decrypt(frames[WINDOW + 9], 'vp8')).ok, true, 'within the window, late is fine');
  // The same frame opened twice at once: only one passes.
  const [a, b] = await Promise.all([receiver.decrypt(frames[WINDOW + 15], 'vp8'), receiver.decrypt(frames[WINDOW + 15], 'vp8')]);
  assert.deepEqual([a.ok, b.ok].sort(), [false, true]);
  assert.equal((a.ok ? b : a).code, 'replayed');
});

test('forged_frames_cannot_push_a_stream_out_of_its_replay_window', async () => {
  const key = await fixedKey((_, i) => i); // key id 0x18e8: an 8-byte KID right after the config byte
  assert.ok(key.keyId > 0xff);
  const sender = await FrameSender.create(key, 'p1');
  const receiver = new FrameReceiver('p1', [key]);
  const first = (await sender.encrypt(opus(), 'opus')).data;
  assert.equal((await receiver.decrypt(first, 'opus')).ok, true);
  // The server makes up 40 streams under the right key id: none authenticates.
  for (let i = 0; i < 40; i++) {
    const forged = Uint8Array.from(bytesOf(first));
    const { header } = layout(forged, 'opus');
    forged.set([...header.kid.subarray(0, 2), 0, 0, 0, 0, i >> 8, i & 0xff], 1);
    assert.equal(layout(forged, 'opus').header.kid[7], i & 0xff, 'a made-up KID');
    assert.deepEqual(await receiver.decrypt(forged, 'opus'), { ok: false, code: 'auth_failed' });
  }
  assert.deepEqual(await receiver.decrypt(first, 'opus'), { ok: false, code: 'replayed' }, 'the window held');
  // Real streams beyond the 16 kept: the oldest is retired, and its old frames stay refused.
  for (let i = 0; i < 16; i++) {
    const other = await FrameSender.create(key, 'p1');
    assert.equal((await receiver.decrypt((await other.encrypt(opus(), 'opus')).data, 'opus')).ok, true);
  }
  assert.deepEqual(await receiver.decrypt(first, 'opus'), { ok: false, code: 'too_old' });
  // The retired stream's sender started afresh under a new stream id, as a reload does.
  const again = await FrameSender.create(key, 'p1');
  assert.equal((await receiver.decrypt((await again.encrypt(opus(), 'opus')).data, 'opus')).ok, true);
});

test('counters_and_nonces_never_repeat_across_10000_frames_and_across_senders', async () => {
  const mk = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 3));
  const key = await MeetingKey.fromBytes(Uint8Array.from(mk));
  // Two senders with the same participant id (a page reloaded in its grace period, or a
  // server that lies) and one with another id.
  const senders = [
    ['p1', await FrameSender.create(key, 'p1')],
    ['p1', await FrameSender.create(key, 'p1')],
    ['p2', await FrameSender.create(key, 'p2')],
  ];
  const nonces = new Set();
  const keysByKid = new Map();
  for (const [id, sender] of senders) {
    let last = -1;
    let kid = null;
    // Frames encrypted concurrently, as a transform's stream may do.
    for (let batch = 0; batch < 100; batch++) {
      const outs = await Promise.all(Array.from({ length: 100 }, (_, i) => sender.encrypt(i % 10 ? vp8Delta(12) : opus(8), i % 10 ? 'vp8' : 'opus')));
      const ctrs = outs.map((o, i) => layout(bytesOf(o.data), i % 10 ? 'vp8' : 'opus').header);
      for (const h of ctrs) {
        assert.ok(h.ctr > last, 'the counter only goes up');
        last = h.ctr;
        kid ??= Buffer.from(h.kid).toString('hex');
        assert.equal(Buffer.from(h.kid).toString('hex'), kid, 'one stream, one KID');
      }
    }
    assert.equal(last, 9999);
    assert.equal(sender.counter, 10000);
    const stream = spec.stream(mk, id, Buffer.from(kid, 'hex'));
    keysByKid.set(kid, stream.key.toString('hex'));
    for (let c = 0; c <= last; c++) nonces.add(`${stream.key.toString('hex')}:${spec.nonce(stream.salt, c).toString('hex')}`);
  }
  assert.equal(keysByKid.size, 3, 'every sender draws its own stream id');
  assert.equal(new Set(keysByKid.values()).size, 3, 'and so its own key, even under the same participant id');
  assert.equal(nonces.size, 30000, 'no (key, nonce) pair is used twice');
});

// ---- The safety code ----

test('the_safety_code_is_a_fixed_function_of_the_key', async () => {
  assert.equal(EMOJI.length, 64);
  assert.equal(new Set(EMOJI.map((e) => e.emoji)).size, 64);
  assert.equal(new Set(EMOJI.map((e) => e.name)).size, 64);
  const vectors = [
    [(_, i) => i, [17, 38, 18, 62, 24, 50, 2], '🌵 ⌛ 🍄 📁 🍎 🏁 🦁'],
    [() => 0, null, null],
    [() => 0xff, null, null],
  ];
  const ZERO_KEY_CODE = [19, 37, 21, 60, 5, 28, 41];
  const FF_KEY_CODE = [52, 58, 60, 56, 54, 54, 10];
  for (const [fill, indices, emoji] of vectors) {
    const mk = Buffer.from(Array.from({ length: 32 }, fill));
    const code = await safetyCode(await MeetingKey.fromBytes(Uint8Array.from(mk)));
    // Independently: 42 bits of HKDF-SHA-256(key, "haven e2ee v1", "haven e2ee v1 safety code"), 6 at a time.
    const bits = spec.safety(mk).readUIntBE(0, 6);
    const expected = Array.from({ length: 7 }, (_, i) => Math.floor(bits / 2 ** (48 - 6 * (i + 1))) & 63);
    assert.deepEqual(code.indices, expected);
    if (indices) {
      assert.deepEqual(code.indices, indices);
      assert.equal(code.emoji, emoji);
      assert.deepEqual(code.names, ['cactus', 'hourglass', 'mushroom', 'folder', 'apple', 'flag', 'lion']);
    }
  }
  // Pinned for the all-zero and all-0xff keys too, so the code cannot drift between releases.
  assert.deepEqual((await safetyCode(await fixedKey(() => 0))).indices, ZERO_KEY_CODE);
  assert.deepEqual((await safetyCode(await fixedKey(() => 0xff))).indices, FF_KEY_CODE);
  // Different keys: different codes (a collision is 1 in 2^42).
  const seen = new Set();
  for (let i = 0; i < 200; i++) seen.add((await safetyCode(await MeetingKey.generate())).emoji);
  assert.equal(seen.size, 200);
});

// ---- Chat ----

test('chat_text_round_trips_as_base64url_bound_to_its_writer', async () => {
  const key = await MeetingKey.generate();
  for (const text of ['hi all', '', 'día ✓ 🙂', 'x'.repeat(1000), 'a\nb\u0000c']) {
    const sealed = await encryptChat(key, 'p7f3a', text);
    assert.match(sealed, /^[A-Za-z0-9_-]+$/, 'text the server relays as is');
    assert.equal(sealed.length, encryptedChatLength(text));
    assert.ok(!sealed.includes(Buffer.from(text).toString('base64url').slice(0, 8)) || text.length < 6);
    assert.deepEqual(await decryptChat([key], 'p7f3a', sealed), { ok: true, text });
  }
  // Two encryptions of one text differ (a random nonce each).
  assert.notEqual(await encryptChat(key, 'p1', 'same'), await encryptChat(key, 'p1', 'same'));
  // Padding: the server learns a message's size to within 32 bytes only.
  assert.equal((await encryptChat(key, 'p1', 'a')).length, (await encryptChat(key, 'p1', 'a'.repeat(31))).length);
  assert.ok((await encryptChat(key, 'p1', 'a'.repeat(32))).length > (await encryptChat(key, 'p1', 'a')).length);
});

test('chat_with_a_wrong_key_writer_or_byte_fails_typed', async () => {
  const key = await MeetingKey.generate();
  const other = await MeetingKey.generate();
  const sealed = await encryptChat(key, 'p1', 'what is said here stays here');
  assert.deepEqual(await decryptChat([other], 'p1', sealed), { ok: false, code: 'unknown_key' });
  assert.deepEqual(await decryptChat([key], 'p2', sealed), { ok: false, code: 'auth_failed' }, 'the server moved it to another name');
  assert.deepEqual(await decryptChat([other, key], 'p1', sealed), { ok: true, text: 'what is said here stays here' });
  const raw = Buffer.from(sealed, 'base64url');
  for (let at = 0; at < raw.length; at++) {
    const bad = Buffer.from(raw);
    bad[at] ^= 0x10;
    const result = await decryptChat([key], 'p1', bad.toString('base64url'));
    assert.equal(result.ok, false, `byte ${at}`);
    assert.ok(['auth_failed', 'malformed', 'unknown_key'].includes(result.code));
  }
  for (const text of ['hello everyone', '', 'AAAA', `${sealed}=`, sealed.slice(0, -1), sealed.replace(/.$/, '+'), null, 42]) {
    const result = await decryptChat([key], 'p1', text);
    assert.equal(result.ok, false, String(text));
    assert.ok(['malformed', 'auth_failed'].includes(result.code), `${text}: ${result.code}`);
  }
});
