// The page's side of media encryption: one module worker (worker.js) holding the meeting key,
// and an RTCRtpScriptTransform on every sender (set before any track is put on it, so no
// frame ever leaves in clear) and every receiver. No DOM. Imports nothing (the worker
// imports the crypto modules itself).

/** Whether this browser can encrypt frames in script (Chromium and Firefox both can). */
export function encryptionSupported() {
  return typeof globalThis.RTCRtpScriptTransform === 'function';
}

export class MediaCrypto {
  #worker;
  #senderId;
  /** RTCRtpReceiver → the participant id its transform was made for. */
  #receivers = new WeakMap();
  /** The worker's counts of frames (see worker.js), as last posted. */
  counts = [];

  /**
   * @param {import('./meeting-key.js').MeetingKey} meetingKey
   * @param {(counts: object[]) => void} onCounts the worker's frame counts, about once a second
   */
  constructor(meetingKey, onCounts = () => {}) {
    this.#worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'haven-e2ee' });
    this.#worker.addEventListener('message', (event) => {
      if (event.data?.type !== 'counts') return;
      this.counts = event.data.counts;
      onCounts(this.counts);
    });
    const bytes = meetingKey.bytes();
    this.#worker.postMessage({ type: 'key', bytes }, [bytes.buffer]);
  }

  /** Our participant id (`joined.you.id`): every sender's key is derived with it. */
  setSenderId(id) {
    this.#senderId = id;
  }

  /** Encrypts what `sender` sends from now on: call it before a track is put on the sender. */
  protectSender(sender, kind) {
    if (!this.#senderId) throw new Error('e2ee: no participant id to send as');
    sender.transform = new RTCRtpScriptTransform(this.#worker, { side: 'send', kind, senderId: this.#senderId });
  }

  /**
   * The keys every receiver accepts from now on (MeetingKeys: during a rotation, old and new).
   * Our own frames keep the link's key.
   */
  setReceiveKeys(meetingKeys) {
    const keys = meetingKeys.map((k) => k.bytes());
    this.#worker.postMessage({ type: 'keys', keys }, keys.map((b) => b.buffer));
  }

  /** Whether a receiver asks for a keyframe when video decrypts again after failures (on). */
  setKeyframeRequests(on) {
    this.#worker.postMessage({ type: 'keyframe-requests', on });
  }

  /** Decrypts what `receiver` gets from participant `senderId` (again only when that changes). */
  protectReceiver(receiver, kind, senderId) {
    if (this.#receivers.get(receiver) === senderId) return;
    this.#receivers.set(receiver, senderId);
    receiver.transform = new RTCRtpScriptTransform(this.#worker, { side: 'receive', kind, senderId });
  }
}

/**
 * Takes `audio/red` out of an audio transceiver's codecs: the SFU then never wraps what it
 * sends us in RED (RFC 2198), which our receive transform could not decrypt (docs/e2ee.md).
 * False when the browser cannot set codec preferences.
 */
export function withoutRed(transceiver) {
  const codecs = globalThis.RTCRtpReceiver?.getCapabilities?.('audio')?.codecs;
  if (!codecs || typeof transceiver.setCodecPreferences !== 'function') return false;
  transceiver.setCodecPreferences(codecs.filter((c) => c.mimeType.toLowerCase() !== 'audio/red'));
  return true;
}
