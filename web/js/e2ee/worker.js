// The media worker of an encrypted page (docs/e2ee.md, "Worker wiring"): one per page, given
// the meeting key's bytes by postMessage, then handed every sender's and receiver's encoded
// frames by RTCRtpScriptTransform. Each frame is encrypted or decrypted (frame.js) or, when
// that fails, dropped: never passed on in clear. Failures are counted by code and posted to
// the page about once a second (the page says "cannot decrypt X's video", never per frame).
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
/**
 * What happened to frames, by `${side} ${senderId} ${kind}`: { ok, failed: { code: n } }.
 * `send` entries are this page's own senders (senderId: our participant id).
 */
const counts = new Map();
let dirty = false;

self.addEventListener('message', (event) => {
  if (event.data?.type === 'key') gotKey(MeetingKey.fromBytes(new Uint8Array(event.data.bytes)));
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
async function pipe(readable, writable, { side, kind, senderId }) {
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
      receiver = new FrameReceiver(senderId, [key]);
      receivers.set(senderId, receiver);
    }
    crypt = (data, codec) => receiver.decrypt(data, codec);
  }
  await readable
    .pipeThrough(
      new TransformStream({
        async transform(frame, controller) {
          const result = await crypt(frame.data, codecOf(frame, kind));
          count(side, senderId, kind, result.ok ? null : result.code);
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

self.addEventListener('rtctransform', (event) => {
  const { readable, writable, options } = event.transformer;
  pipe(readable, writable, options);
});
