// Shared sound (docs/protocol.md "Screen share"): the sound captured with a screen (a tab's,
// or the system's where the browser offers it) mixed with Web Audio into the one track the
// microphone's sender carries. Nothing changes on the wire: the room hears it only as the
// sharer's microphone, so a facilitator's mute (the SFU drops that track) and the sharer's
// own mute (nothing on the sender) silence it as they silence the voice.

export class SoundMix {
  #ctx;
  #out;
  #shared;
  #mic = null;
  #micSource = null;

  /** Mixes `shared` (a live audio track) with whichever microphone `track()` is given. */
  constructor(shared) {
    this.#ctx = new AudioContext({ latencyHint: 'interactive' });
    this.#out = this.#ctx.createMediaStreamDestination();
    this.#shared = this.#ctx.createMediaStreamSource(new MediaStream([shared]));
    this.#shared.connect(this.#out);
    // Made once the server starts the share, after the click on "Share screen": a page that
    // has been clicked may start sound, but a context that still waits is asked again.
    this.#ctx.resume().catch(() => {});
  }

  /** The mixed track, with `mic` (the open microphone, or null) in it. */
  track(mic) {
    if (mic !== this.#mic) {
      this.#micSource?.disconnect();
      this.#micSource = mic ? this.#ctx.createMediaStreamSource(new MediaStream([mic])) : null;
      this.#micSource?.connect(this.#out);
      this.#mic = mic;
    }
    return this.#out.stream.getAudioTracks()[0];
  }

  /** Ends the mix: its track ends and the context closes (the shared track is the caller's). */
  close() {
    this.#micSource?.disconnect();
    this.#shared.disconnect();
    for (const track of this.#out.stream.getTracks()) track.stop();
    this.#ctx.close().catch(() => {});
  }
}
