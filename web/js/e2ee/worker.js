// The media worker of an encrypted page (docs/e2ee.md, "Worker wiring"): one per page, given
// the meeting key's bytes by postMessage, then handed every sender's and receiver's encoded
// frames by RTCRtpScriptTransform. Each frame is encrypted or decrypted (frame.js) or, when
// that fails, dropped: never passed on in clear. Failures are counted by code and posted to
// the page about once a second (the page says "cannot decrypt X's video", never per frame).
// When a receiver's video decrypts again after failing (a key arrives, the sender reloads with
// the right one), the decoder may be left waiting for a keyframe: the first good frame asks
// the sender for one (`sendKeyFrameRequest`, at most once a second per receiver).
// Imports frame.js and meeting-key.js; runs only in a dedicated module worker.

import { FrameReceiver, FrameSender } from './frame.js';
import { MeetingKey } from './meeting-key.js';

let gotKey;
/** The meeting key, once the page has posted it (transforms may start first: they wait). */
const meetingKey = new Promise((resolve) => {
  gotKey = resolve;
});
/** One FrameReceiver per remote participant, shared by their audio and video. */
const receivers = new Map();
/** The keys receivers accept, when the page replaced them (`keys`); else the link's key. */
let receiveKeys = null;
/** Ask for a keyframe when video decrypts again after failures (off only to measure without). */
let keyframeRequests = true;
/** The least time between two keyframe requests of one receiver. */
const KEYFRAME_REQUEST_GAP_MS = 1000;
/**
 * What happened to frames, by `${side} ${senderId} ${kind}`: { ok, failed: { code: n } }.
 * `send` entries are this page's own senders (senderId: our participant id).
 */
const counts = new Map();
let dirty = false;

self.addEventListener('message', async (event) => {
  const data = event.data;
  if (data?.type === 'key') gotKey(MeetingKey.fromBytes(new Uint8Array(data.bytes)));
  if (data?.type === 'keys') {
    // The keys every receiver accepts from now on (a rotation: old and new during a change).
    receiveKeys = await Promise.all(data.keys.map((bytes) => MeetingKey.fromBytes(new Uint8Array(bytes))));
    for (const receiver of receivers.values()) receiver.setKeys(receiveKeys);
  }
  if (data?.type === 'keyframe-requests') keyframeRequests = data.on === true;
});

function count(side, senderId, kind, code) {
  const id = `${side} ${senderId} ${kind}`;
  let entry = counts.get(id);
  if (!entry) {
    entry = { side, senderId, kind, ok: 0, failed: {} };
    counts.set(id, entry);
  }
  if (code) entry.failed[code] = (entry.failed[code] ?? 0) + 1;
  else entry.ok += 1;
  dirty = true;
  return entry;
}

setInterval(() => {
  if (!dirty) return;
  dirty = false;
  self.postMessage({ type: 'counts', counts: [...counts.values()] });
}, 1000);

/** 'vp8' or 'opus' from the frame's own codec, else from the track's kind (the only two the server negotiates). */
function codecOf(frame, kind) {
  const mime = frame.getMetadata?.().mimeType?.toLowerCase();
  if (mime) return mime.replace(/^(audio|video)\//, '');
  return kind === 'audio' ? 'opus' : 'vp8';
}

/**
 * Pipes `readable` through encryption (`side` send) or decryption (receive) into `writable`.
 * Frames are handled one at a time, in order; a failed one is counted and dropped.
 */
async function pipe(transformer, { side, kind, senderId }) {
  const { readable, writable } = transformer;
  const key = await meetingKey;
  let crypt;
  if (side === 'send') {
    // A fresh stream id (and counter) for every sender this page makes: no nonce reuse after
    // a renegotiation, a new peer connection or a reload.
    const sender = await FrameSender.create(key, senderId);
    crypt = (data, codec) => sender.encrypt(data, codec);
  } else {
    let receiver = receivers.get(senderId);
    if (!receiver) {
      receiver = new FrameReceiver(senderId, receiveKeys ?? [key]);
      receivers.set(senderId, receiver);
    }
    crypt = (data, codec) => receiver.decrypt(data, codec);
  }
  const recover = side === 'receive' && kind === 'video' ? keyframeAfterFailures(transformer) : () => {};
  await readable
    .pipeThrough(
      new TransformStream({
        async transform(frame, controller) {
          const result = await crypt(frame.data, codecOf(frame, kind));
          const entry = count(side, senderId, kind, result.ok ? null : result.code);
          recover(result, entry);
          if (!result.ok) return;
          frame.data = result.data;
          controller.enqueue(frame);
        },
      }),
    )
    .pipeTo(writable)
    .catch(() => {
      // The sender or receiver went away (a closed peer connection, a replaced transform).
    });
}

/**
 * For one video receiver: after frames failed (dropped, so the decoder lost its references),
 * the first one that decrypts asks the sender for a keyframe, at most once a second. A
 * `replayed` copy is not a failure: nothing the decoder needed was lost. The entry keeps
 * when it last recovered (`recoveredAt`, ms since the epoch) and how many it asked for.
 */
function keyframeAfterFailures(transformer) {
  const supported = typeof transformer.sendKeyFrameRequest === 'function';
  let failing = false;
  let lastRequest = -Infinity;
  return (result, entry) => {
    entry.keyframeRequestSupported = supported;
    entry.keyframeRequests ??= 0;
    if (!result.ok) {
      if (result.code !== 'replayed') failing = true;
      return;
    }
    if (!failing) return;
    failing = false;
    entry.recoveredAt = Date.now();
    const now = performance.now();
    if (!supported || !keyframeRequests || now - lastRequest < KEYFRAME_REQUEST_GAP_MS) return;
    lastRequest = now;
    entry.keyframeRequests += 1;
    // Refused when the sender is gone or the receiver not yet running: the next frames tell.
    transformer.sendKeyFrameRequest().catch(() => {});
  };
}

self.addEventListener('rtctransform', (event) => {
  pipe(event.transformer, event.transformer.options);
});
