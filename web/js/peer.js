// The one RTCPeerConnection of a session and its negotiation rule (docs/protocol.md):
// the server offers and the browser answers. Its first offer (sent right after `joined`)
// carries three m-lines it receives, our microphone, camera and screen, and every live
// track of the meeting, so one round brings media both ways; the browser sends on those
// three, sendonly, and only ever receives on the others. After a resume the browser, with a
// new peer connection, offers once itself instead (three sendonly transceivers); later
// offers are the server's again. Mic, camera and screen are switched with replaceTrack,
// never by renegotiating.
// The browser offers again only to restart ICE (rule 4) when the media path breaks or the
// network changes. Candidates are not trickled: the server learns our address from our
// first connectivity check (and ignores any candidates in our SDP).

export const KINDS = ['audio', 'video'];
/**
 * What we send, in the order of the m-lines: the screen is a second video line right after
 * the camera's, told apart by its place (docs/protocol.md, "Screen share").
 */
export const SLOTS = ['audio', 'video', 'screen'];
const SLOT_KIND = { audio: 'audio', video: 'video', screen: 'video' };

/**
 * A shared screen is mostly text: a rate that keeps letters sharp, and the resolution kept
 * when the link is short (fewer frames rather than blurred words). `maxBitrate` is the full
 * size's, and the one layer's of a browser that sends no simulcast.
 */
export const SCREEN_SENDING = { maxBitrate: 1_500_000, degradationPreference: 'maintain-resolution' };

/**
 * The screen's simulcast layers, as the server asks for them (`a=simulcast:recv sh;sf`):
 * half size for a weak link (it gets the screen before anyone's camera), full size for
 * everyone else. Set by rid, like the camera's.
 */
export const SCREEN_LAYERS = [
  { rid: 'sh', scaleResolutionDownBy: 2, maxBitrate: 200_000 },
  { rid: 'sf', scaleResolutionDownBy: 1, maxBitrate: SCREEN_SENDING.maxBitrate },
];

/**
 * The camera's simulcast layers, as the server asks for them (`a=simulcast:recv q;h;f`,
 * smallest first): each member's link gets the one it can carry. Set by rid, never by
 * position (a browser fills in defaults by position). From a 640×360 camera: 160×90,
 * 320×180 and 640×360 in Firefox; Chromium encodes only q and h from it (libwebrtc allows
 * two simulcast layers below 960×540 and drops the last encoding; tests/simulcast.test.js).
 */
export const CAMERA_LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 120_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 300_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 900_000 },
];

/** Waits before trying the next ICE restart when the last one has not brought media back. */
const RESTART_BACKOFF_MS = [2000, 4000, 8000, 16000, 30000];
/**
 * `disconnected` often heals by itself (a lost packet burst): give it this long first. Short,
 * because browsers report `disconnected` only ~5 s into an outage and the server drops a peer
 * silent for 12 s: the restart must reach it well before then.
 */
const DISCONNECTED_GRACE_MS = 1500;

const isUp = (state) => state === 'connected' || state === 'completed';

export class PeerSession {
  #pc;
  #send;
  #canSignal;
  #onRestart;
  /** Our senders by slot (SLOTS), once their transceivers exist. */
  #senders = {};
  /** What each sender should carry (kept until the server's first offer makes the senders). */
  #local = { audio: null, video: null, screen: null };
  #stream = null;
  /** The camera's simulcast layers have their sizes (see `#layerCamera`). */
  #layered = false;
  /** The rids of the camera layers somebody receives (`camera_layers`); null: every one. */
  #cameraActive = null;
  /** SDP steps run one at a time, so a restart offer never interleaves with a server offer. */
  #sdp = Promise.resolve();
  #closed = false;
  /** Media was up at least once: only then is a network change worth a restart. */
  #wasUp = false;
  /** Restarts in the current outage; 0 while media is fine. */
  #attempts = 0;
  /** The next restart (grace period, backoff, or retry after a refusal). */
  #timer = 0;
  /** Our offer awaits the server's answer or refusal: at most one in flight. */
  #offerOut = false;
  /** Restart offers we rolled back for a server offer: the server refuses each of them. */
  #refusalsOwed = 0;
  /** Offer again as soon as the server's pending offer is answered. */
  #retryAfterAnswer = false;
  /** An encrypted meeting's hooks (docs/e2ee.md), or null. */
  #encrypt = null;
  /** Audio transceivers whose codecs were already set for encryption. */
  #prepared = new WeakSet();

  /**
   * @param {object} o
   * @param {(msg: object) => boolean} o.send sends a signaling message
   * @param {() => boolean} [o.canSignal] whether the signaling socket is open
   * @param {RTCIceServer[]} [o.iceServers] from `joined.ice_servers`, when the server sends them
   * @param {(event: RTCTrackEvent) => void} o.onTrack a remote track arrived
   * @param {(state: string) => void} [o.onConnectionState]
   * @param {(phase: 'interrupted'|'network'|'recovered') => void} [o.onRestart] an ICE restart
   *   began (after a broken media path or a network change), or media came back after one
   * @param {{sender: (sender: RTCRtpSender, kind: string) => void,
   *          audio: (transceiver: RTCRtpTransceiver) => void}|null} [o.encrypt] an encrypted
   *   meeting: `sender` puts the encrypting transform on each of our senders before any track
   *   goes on it; `audio` sets each audio transceiver's codecs (no RED) before we answer or offer
   */
  constructor({
    send,
    canSignal = () => true,
    iceServers = [],
    onTrack,
    onConnectionState = () => {},
    onRestart = () => {},
    encrypt = null,
  }) {
    this.#send = send;
    this.#encrypt = encrypt;
    this.#canSignal = canSignal;
    this.#onRestart = onRestart;
    this.#pc = new RTCPeerConnection({
      iceServers,
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
    });
    this.#pc.addEventListener('track', onTrack);
    this.#pc.addEventListener('connectionstatechange', () =>
      onConnectionState(this.#pc.connectionState),
    );
    this.#pc.addEventListener('iceconnectionstatechange', () => this.#onIceState());
  }

  get pc() {
    return this.#pc;
  }

  /**
   * Waits for the server's first offer (a fresh join): its three receive m-lines get our
   * senders, with a track only for what is switched on.
   * @param {{audio: MediaStreamTrack|null, video: MediaStreamTrack|null, screen?: MediaStreamTrack|null}} tracks
   * @param {MediaStream} stream
   */
  expectOffer(tracks, stream) {
    this.#local = { screen: null, ...tracks };
    this.#stream = stream;
  }

  /**
   * Adds the three sendonly transceivers (with a track only for what is switched on; the
   * camera's and the screen's with their simulcast layers) and sends the browser's own
   * offer: a new peer connection after a resume.
   * @param {{audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} tracks
   * @param {MediaStream} stream
   */
  start(tracks, stream) {
    this.expectOffer(tracks, stream);
    return this.#step(async () => {
      for (const slot of SLOTS) {
        const kind = SLOT_KIND[slot];
        // Encrypted: the transceiver is made empty, its transform set, and only then the track.
        // The screen's track always comes later (replaceTrack), once its share is on.
        const track = slot === 'screen' ? null : tracks[slot];
        const transceiver = this.#pc.addTransceiver(this.#encrypt ? kind : track ?? kind, {
          direction: 'sendonly',
          streams: [stream],
          ...(slot === 'video' ? { sendEncodings: CAMERA_LAYERS.map((l) => ({ ...l })) } : {}),
          ...(slot === 'screen' ? { sendEncodings: SCREEN_LAYERS.map((l) => ({ ...l })) } : {}),
        });
        this.#senders[slot] = transceiver.sender;
        if (this.#encrypt) {
          this.#encrypt.sender(transceiver.sender, kind);
          // What is on now (a device may have been switched since `start` was called).
          if (this.#local[slot] && slot !== 'screen') await transceiver.sender.replaceTrack(this.#local[slot]);
        }
      }
      this.#prepareAudio();
      const offer = await this.#pc.createOffer();
      await this.#pc.setLocalDescription(offer);
      this.#offerOut = this.#send({ type: 'offer', sdp: this.#pc.localDescription.sdp });
    });
  }

  /** The server's answer to our offer (the first one, or an ICE restart). */
  handleAnswer(sdp) {
    return this.#step(async () => {
      if (this.#pc.signalingState !== 'have-local-offer') {
        console.warn('haven: an answer with no offer of ours out; ignored');
        return;
      }
      await this.#pc.setRemoteDescription({ type: 'answer', sdp });
      this.#offerOut = false;
      // After a network change the old path may still be up: then media never stopped.
      if (this.#attempts && isUp(this.#pc.iceConnectionState)) this.#recovered();
    });
  }

  /** A server renegotiation: tracks came or went. We are the polite side and always accept. */
  handleOffer(sdp) {
    return this.#step(async () => {
      if (this.#pc.signalingState === 'have-local-offer') {
        // Glare: the server offered before it saw our restart offer and will refuse that
        // one (negotiation_in_progress). Drop ours, answer theirs, then offer again.
        await this.#pc.setLocalDescription({ type: 'rollback' });
        this.#offerOut = false;
        this.#refusalsOwed += 1;
        this.#retryAfterAnswer = true;
      }
      await this.#pc.setRemoteDescription({ type: 'offer', sdp });
      this.#prepareAudio();
      const attached = this.#adoptSendLines(sdp);
      await this.#layerCamera();
      await this.#switchCameraLayers();
      const answer = await this.#pc.createAnswer();
      await this.#pc.setLocalDescription(answer);
      this.#send({ type: 'answer', sdp: this.#pc.localDescription.sdp });
      // Not awaited: the answer is out, the tracks reach their senders meanwhile.
      attached.catch((err) => console.warn('haven: a device could not be put on its sender', err));
      if (this.#retryAfterAnswer) {
        this.#retryAfterAnswer = false;
        this.#later(0);
      }
    });
  }

  /**
   * The server refused our offer with `negotiation_in_progress`: it has an offer of its own
   * out, which comes (or came) on this socket. Answer that one first, then offer again.
   */
  handleOfferRefused() {
    return this.#step(async () => {
      if (this.#refusalsOwed > 0) {
        // Already rolled back when the server's offer overtook ours.
        this.#refusalsOwed -= 1;
        return;
      }
      if (!this.#offerOut) return;
      this.#offerOut = false;
      if (this.#pc.signalingState === 'have-local-offer') {
        await this.#pc.setLocalDescription({ type: 'rollback' });
      }
      this.#retryAfterAnswer = true;
    });
  }

  /** The network changed (`online`, `navigator.connection` change): the old path may be gone. */
  networkChanged() {
    if (this.#wasUp) this.restart('network');
  }

  /**
   * Restarts ICE on this peer connection: new credentials, new connectivity checks, same
   * tracks and same participant. Does nothing while an offer of ours is out.
   * @param {'interrupted'|'network'} reason
   */
  restart(reason = 'interrupted') {
    if (this.#closed || this.#offerOut) return;
    clearTimeout(this.#timer);
    this.#timer = 0;
    // Without signaling the socket's own reconnection rebuilds everything.
    if (!this.#canSignal()) return;
    if (this.#attempts === 0) this.#onRestart(reason);
    const wait = RESTART_BACKOFF_MS[Math.min(this.#attempts, RESTART_BACKOFF_MS.length - 1)];
    this.#attempts += 1;
    // Not back by then (no answer, or ICE still down): try again, waiting longer each time.
    this.#later(wait);
    this.#step(async () => {
      if (this.#closed || this.#offerOut) return;
      if (this.#pc.signalingState !== 'stable') {
        this.#retryAfterAnswer = true;
        return;
      }
      this.#pc.restartIce();
      const offer = await this.#pc.createOffer();
      await this.#pc.setLocalDescription(offer);
      this.#offerOut = this.#send({ type: 'offer', sdp: this.#pc.localDescription.sdp });
      if (!this.#offerOut) await this.#pc.setLocalDescription({ type: 'rollback' });
    }).catch((err) => console.warn('haven: ICE restart', err));
  }

  /**
   * The server's first offer asks for our microphone, camera and screen on the m-lines it
   * receives (`a=recvonly` in its SDP), in that order: those transceivers become our
   * senders (the second video line is the screen's). Their tracks are put on without
   * waiting (a track on a sender changes nothing in the answer), so the answer goes out at
   * once; the returned promise settles when they are on. An encrypted page sets the
   * transform on each before any track, the screen's too.
   */
  #adoptSendLines(sdp) {
    if (SLOTS.every((slot) => this.#senders[slot])) return Promise.resolve();
    const receiving = receiveMids(sdp);
    const attached = [];
    for (const t of this.#pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      if (!receiving.has(t.mid) || Object.values(this.#senders).includes(t.sender)) continue;
      const slot = SLOTS.find((s) => SLOT_KIND[s] === kind && !this.#senders[s]);
      if (!slot) continue;
      t.direction = 'sendonly';
      if (this.#stream && t.sender.setStreams && slot !== 'screen') t.sender.setStreams(this.#stream);
      // A device switched meanwhile goes to this sender too: the browser applies
      // replaceTrack calls in order.
      this.#senders[slot] = t.sender;
      this.#encrypt?.sender(t.sender, kind);
      attached.push(this.#put(slot, this.#local[slot]));
    }
    return Promise.all(attached);
  }

  /**
   * Sizes and rates of the camera's simulcast layers, once the server's offer made them
   * (a browser that sends one layer has one encoding, left as it is). A refusal costs only
   * the sizes: the layers still flow with the browser's defaults.
   */
  async #layerCamera() {
    const sender = this.#senders.video;
    if (!sender || this.#layered) return;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length < 2) return;
    for (const encoding of params.encodings) {
      const layer = CAMERA_LAYERS.find((l) => l.rid === encoding.rid);
      if (layer) Object.assign(encoding, { scaleResolutionDownBy: layer.scaleResolutionDownBy, maxBitrate: layer.maxBitrate });
    }
    try {
      await sender.setParameters(params);
      this.#layered = true;
    } catch (err) {
      console.warn('haven: camera layers not set', err);
    }
  }

  /**
   * The server says which of the camera's layers somebody receives (`camera_layers`): the
   * others are switched off (nothing encoded, nothing on the uplink) until it asks for them
   * again. A browser that refuses keeps sending them all, which costs only its own uplink.
   * @param {string[]} active rids
   */
  setCameraLayers(active) {
    if (!Array.isArray(active)) return undefined;
    this.#cameraActive = active;
    return this.#step(() => this.#switchCameraLayers());
  }

  async #switchCameraLayers() {
    const sender = this.#senders.video;
    if (!sender || !this.#cameraActive || this.#pc.signalingState === 'closed') return;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length < 2) return;
    let changed = false;
    for (const encoding of params.encodings) {
      const on = !encoding.rid || this.#cameraActive.includes(encoding.rid);
      if (encoding.active !== on) {
        encoding.active = on;
        changed = true;
      }
    }
    if (!changed) return;
    try {
      await sender.setParameters(params);
    } catch (err) {
      console.warn('haven: camera layers not switched', err?.name);
    }
  }

  /** Encrypted meetings: every audio transceiver not yet seen gets its codecs set (no RED). */
  #prepareAudio() {
    if (!this.#encrypt) return;
    for (const t of this.#pc.getTransceivers()) {
      if (this.#prepared.has(t) || t.receiver.track.kind !== 'audio') continue;
      this.#prepared.add(t);
      this.#encrypt.audio(t);
    }
  }

  /** Puts `track` (or nothing) on the sender of `slot` (SLOTS; now, or when it exists). */
  async replaceTrack(slot, track) {
    this.#local[slot] = track;
    if (this.#senders[slot] && this.#pc.signalingState !== 'closed') await this.#put(slot, track);
  }

  /** Whether the server's offer gave us a screen line (an older server's has none). */
  get canSendScreen() {
    return !!this.#senders.screen;
  }

  async #put(slot, track) {
    const sender = this.#senders[slot];
    await sender.replaceTrack(track);
    if (slot === 'screen' && track) await tuneScreen(sender);
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#pc.close();
  }

  #onIceState() {
    const state = this.#pc.iceConnectionState;
    if (isUp(state)) {
      this.#wasUp = true;
      if (this.#attempts === 0) {
        clearTimeout(this.#timer); // a short disconnection healed by itself
        this.#timer = 0;
      } else if (!this.#offerOut) {
        this.#recovered();
      }
    } else if (state === 'failed') {
      this.#later(this.#attempts ? RESTART_BACKOFF_MS[0] : 0);
    } else if (state === 'disconnected') {
      this.#later(this.#attempts ? RESTART_BACKOFF_MS[0] : DISCONNECTED_GRACE_MS);
    }
  }

  /** Schedules a restart in `ms` unless one is scheduled already (or sooner, for 0). */
  #later(ms) {
    if (this.#closed || (this.#timer && ms > 0)) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = 0;
      if (this.#offerOut) this.#later(RESTART_BACKOFF_MS[0]);
      else this.restart('interrupted');
    }, ms);
  }

  #recovered() {
    clearTimeout(this.#timer);
    this.#timer = 0;
    this.#attempts = 0;
    this.#retryAfterAnswer = false;
    this.#onRestart('recovered');
  }

  #step(fn) {
    const run = this.#sdp.then(fn);
    this.#sdp = run.catch(() => {});
    return run;
  }
}

/**
 * The screen's layers at SCREEN_LAYERS (by rid; one layer without rid at SCREEN_SENDING's
 * rate), resolution kept. A browser that refuses the degradation preference (or knows none)
 * gets the sizes and rates alone; one that refuses both sends with its defaults, which still
 * works.
 */
async function tuneScreen(sender) {
  // Nothing to change (set when the line was adopted, and kept): the encoder is left alone.
  const now = sender.getParameters();
  const settled = now.degradationPreference === SCREEN_SENDING.degradationPreference && (now.encodings ?? []).every((e) => {
    const layer = SCREEN_LAYERS.find((l) => l.rid === e.rid);
    return layer ? e.scaleResolutionDownBy === layer.scaleResolutionDownBy && e.maxBitrate === layer.maxBitrate : e.maxBitrate === SCREEN_SENDING.maxBitrate;
  });
  if (settled) return;
  // Read afresh for each try: a browser accepts only the parameters it handed out last.
  const params = () => {
    const p = sender.getParameters();
    for (const encoding of p.encodings ?? []) {
      const layer = SCREEN_LAYERS.find((l) => l.rid === encoding.rid);
      if (layer) Object.assign(encoding, { scaleResolutionDownBy: layer.scaleResolutionDownBy, maxBitrate: layer.maxBitrate });
      else encoding.maxBitrate = SCREEN_SENDING.maxBitrate;
    }
    return p;
  };
  try {
    await sender.setParameters({ ...params(), degradationPreference: SCREEN_SENDING.degradationPreference });
  } catch {
    try {
      await sender.setParameters(params());
    } catch (err) {
      console.warn('haven: screen sending parameters not set', err?.name);
    }
  }
}

/** The mids of the m-lines an SDP's writer only receives on (`a=recvonly`). */
function receiveMids(sdp) {
  const mids = new Set();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const lines = section.split(/\r?\n/);
    const mid = lines.find((l) => l.startsWith('a=mid:'))?.slice('a=mid:'.length).trim();
    if (mid && lines.some((l) => l.trim() === 'a=recvonly')) mids.add(mid);
  }
  return mids;
}
