// The one RTCPeerConnection of a session and its negotiation rule (docs/protocol.md):
// the browser offers exactly once, with an audio and a video transceiver, both sendonly;
// after that only the server offers and the browser answers. Mic and camera are switched
// with replaceTrack, never by renegotiating. Candidates are not trickled: the server is
// ICE-lite and learns our address from the first connectivity check.

export const KINDS = ['audio', 'video'];

export class PeerSession {
  #pc;
  #send;
  #senders = {};

  /**
   * @param {object} o
   * @param {(msg: object) => boolean} o.send sends a signaling message
   * @param {RTCIceServer[]} [o.iceServers] from `joined.ice_servers`, when the server sends them
   * @param {(event: RTCTrackEvent) => void} o.onTrack a remote track arrived
   * @param {(state: string) => void} [o.onConnectionState]
   */
  constructor({ send, iceServers = [], onTrack, onConnectionState = () => {} }) {
    this.#send = send;
    this.#pc = new RTCPeerConnection({
      iceServers,
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
    });
    this.#pc.addEventListener('track', onTrack);
    this.#pc.addEventListener('connectionstatechange', () =>
      onConnectionState(this.#pc.connectionState),
    );
  }

  get pc() {
    return this.#pc;
  }

  /**
   * Adds the two sendonly transceivers (with a track only for what is switched on) and sends
   * the browser's one and only offer.
   * @param {{audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} tracks
   * @param {MediaStream} stream
   */
  async start(tracks, stream) {
    for (const kind of KINDS) {
      const transceiver = this.#pc.addTransceiver(tracks[kind] ?? kind, {
        direction: 'sendonly',
        streams: [stream],
      });
      this.#senders[kind] = transceiver.sender;
    }
    const offer = await this.#pc.createOffer();
    await this.#pc.setLocalDescription(offer);
    this.#send({ type: 'offer', sdp: this.#pc.localDescription.sdp });
  }

  /** The server's answer to our offer. */
  async handleAnswer(sdp) {
    await this.#pc.setRemoteDescription({ type: 'answer', sdp });
  }

  /** A server renegotiation: tracks came or went. We are the polite side and always accept. */
  async handleOffer(sdp) {
    await this.#pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.#pc.createAnswer();
    await this.#pc.setLocalDescription(answer);
    this.#send({ type: 'answer', sdp: this.#pc.localDescription.sdp });
  }

  /** Puts `track` (or nothing) on the existing sender of `kind`. */
  async replaceTrack(kind, track) {
    const sender = this.#senders[kind];
    if (sender && this.#pc.signalingState !== 'closed') await sender.replaceTrack(track);
  }

  close() {
    this.#pc.close();
  }
}
